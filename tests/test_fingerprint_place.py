"""The place a fixed camera films: other takes of a flat place are `same_scene`, others nothing.

Generated footage only: asphalt seen from above with a car crossing it (each take its own
car, path and speed), the same camera panning, and a bare gradient sky.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from testament.fingerprint import HashIndex, fingerprint_file, match
from testament.fingerprint.matcher import PLACE_LINKS
from testament.fingerprint.place import background, describe, likeness, place_of
from testament.fingerprint.query import query_from_fingerprint
from testament.footage.packing import pack, unpack
from tests.media import room_frame, write_frames

W, H, FPS = 640, 480, 25


def _asphalt(place: int) -> np.ndarray:
    """A car park's ground: fine grain, faint bay lines and a stain, drawn from its seed."""
    rng = np.random.default_rng(place)
    grain = Image.fromarray(rng.normal(128, 40, (H, W)).clip(0, 255).astype(np.uint8))
    fine = np.asarray(grain.filter(ImageFilter.GaussianBlur(0.8)), dtype=np.float32) - 128
    ground = 100 + fine / fine.std() * 3
    for x in range(int(rng.integers(30, 90)), W, 150):
        ground[:, x : x + 5] += 20
    top, left = int(rng.integers(100, 380)), int(rng.integers(100, 500))
    ground[top : top + 35, left : left + 60] -= 12
    return ground


def _car_park(place: int, take: int, t: float) -> np.ndarray:
    """One frame of a take: the place's ground, this take's car, this frame's sensor noise."""
    picture = _asphalt(place).copy()
    rng = np.random.default_rng((place, take))
    y, speed, x0 = int(rng.uniform(120, 300)), rng.choice([-1, 1]) * rng.uniform(40, 90), 250
    x = int(x0 + speed * t)
    picture[y : y + 80, max(0, x) : max(0, x + 170)] = float(rng.integers(30, 200))
    picture += np.random.default_rng((place, take, int(t * FPS))).normal(0, 2.0, (H, W))
    return np.repeat(picture.clip(0, 255).astype(np.uint8)[:, :, None], 3, axis=2)


def _take(folder: Path, place: int, take: int, seconds: float = 2.5) -> Path:
    frames = (_car_park(place, take, i / FPS) for i in range(round(seconds * FPS)))
    return write_frames(folder / f"carpark{place}-take{take}.mp4", frames)


@pytest.fixture(scope="module")
def car_parks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("places")
    made = {
        name: _take(folder, place, take)
        for name, place, take in (("a1", 1, 1), ("a2", 1, 2), ("b1", 2, 1))
    }
    Image.fromarray(_car_park(1, 3, 1.0)).save(folder / "a3.jpg", quality=80)
    made["still"] = folder / "a3.jpg"
    return made


def test_another_take_of_a_flat_place_is_the_same_scene_by_its_background(car_parks) -> None:
    """The car is most of what the frame hashes hold, so they do not find the other take;
    the asphalt under it is the same picture in both."""
    first = fingerprint_file(car_parks["a1"])
    assert first.place is not None
    other = fingerprint_file(car_parks["b1"])
    index = HashIndex.build([(1, first), (2, other)])
    stored = {1: first, 2: other}
    found = match(car_parks["a2"], index, stored)
    assert [(m.asset_id, m.relation) for m in found] == [(1, "same_scene")]
    assert found[0].score >= 0.7
    still = match(car_parks["still"], index, stored)
    assert [(m.asset_id, m.relation) for m in still] == [(1, "same_scene")]


def test_another_place_alike_in_kind_shares_no_detail(car_parks) -> None:
    first, other = (fingerprint_file(car_parks[name]) for name in ("a1", "b1"))
    assert likeness(first.place, first.place) == pytest.approx(1.0, abs=0.01)
    assert likeness(first.place, other.place) < 0.3


def test_a_moving_camera_has_no_place() -> None:
    """Panning over a detailed view, few pixels stand still; over asphalt, they stay within a
    few levels, but their median is a blur with no detail left."""
    room = room_frame(3, 1, 0.0, W, H).mean(axis=2)
    panned = [np.roll(room, 12 * i, axis=1)[::3, ::4] for i in range(16)]
    assert background(panned) is None
    assert background([room[::3, ::4]] * 16) is not None
    ground = _asphalt(1)
    assert place_of([np.roll(ground, 12 * i, axis=1)[::3, ::4] for i in range(16)]) is None
    assert place_of([ground[::3, ::4]] * 16) is not None


def test_a_bare_sky_tells_no_place() -> None:
    """A smooth gradient has no detail: every clear sky would look like every other."""
    sky = np.linspace(90, 200, 160, dtype=np.float32)[:, None].repeat(160, axis=1)
    assert place_of([sky] * 8) is None
    assert describe(sky) is None


def test_the_place_is_kept_by_the_catalog_and_the_index_on_disk(car_parks, tmp_path) -> None:
    fingerprint = fingerprint_file(car_parks["a1"])
    again = unpack(pack(fingerprint))
    assert np.array_equal(again.place, fingerprint.place)
    index = HashIndex.build([(7, fingerprint)])
    index.save(tmp_path / "index")
    loaded = HashIndex.load(tmp_path / "index")
    assert loaded.places_like(fingerprint.place).tolist() == [7]


def test_two_images_are_not_linked_by_place(car_parks, tmp_path) -> None:
    """Two screenshots of one app share their chrome, not a place: images meet places of
    videos only."""
    picture = fingerprint_file(car_parks["still"])
    index = HashIndex.build([(1, picture)])
    Image.fromarray(_car_park(1, 4, 2.0)).save(tmp_path / "other.jpg", quality=80)
    assert match(tmp_path / "other.jpg", index, {1: picture}) == []


def test_a_camera_s_many_clips_link_each_new_one_to_its_likest_few(car_parks) -> None:
    """A thousand clips of one CCTV camera would otherwise link each new one to them all."""
    take = fingerprint_file(car_parks["a1"])
    placed_only = replace(
        take,
        times=take.times[:0],
        hashes=take.hashes[:0],
        quality=take.quality[:0],
        inner=take.inner[:0],
    )
    stored = {asset_id: placed_only for asset_id in range(1, 3 * PLACE_LINKS)}
    index = HashIndex.build(stored.items())
    found = match(query_from_fingerprint(take), index, stored)
    assert len(found) == PLACE_LINKS
    assert {m.relation for m in found} == {"same_scene"}
