"""Dark and low-texture footage under the transforms people apply: tilted, bannered,
cropped, re-encoded, posted as a still in a player or cut unevenly.

Such footage hashes below PDQ quality 50 at every frame; its query-side variants (reshaped
and tilted pictures, a painted-over banner) are made at the quality it has and counted
only closely. Generated media only: a dim noisy room (tests.media.room_frame) and asphalt.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from testament.fingerprint import HashIndex, analyze_file, fingerprint_file, match
from testament.fingerprint.borders import grain_box, static_band, trim_fill, video_box
from testament.fingerprint.index import FAINT_QUALITY, LOW_QUALITY, quality_floor
from testament.fingerprint.model import Fingerprint
from testament.fingerprint.reframe import Reframing, best_shift, unlogoed, untilted
from tests.media import room_frame, write_frames

ROOM, W, H, FPS = 3, 640, 480, 25
SECONDS = 3.0


def night(t: float) -> np.ndarray:
    """A dim room with sensor noise: PDQ quality about 30 at every frame."""
    frame = room_frame(ROOM, 1, t, W, H).astype(np.float32) * 0.3 + 8
    frame += np.random.default_rng(int(t * 1000)).normal(0.0, 4.0, (H, W))[:, :, None]
    return frame.clip(0, 255).astype(np.uint8)


def frames(transform=lambda frame: frame):
    return (transform(night(i / FPS)) for i in range(round(SECONDS * FPS)))


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, HashIndex, Fingerprint]:
    folder = tmp_path_factory.mktemp("night")
    path = write_frames(folder / "night.mp4", frames())
    fingerprint = fingerprint_file(path)
    assert fingerprint.quality.max() < 50  # all the footage has is low quality
    return folder, HashIndex.build([(1, fingerprint)]), fingerprint


def tilted(frame: np.ndarray, degrees: float = 3.0) -> np.ndarray:
    """Turned by `degrees` and cut to the largest upright rectangle (as augly's rotate)."""
    angle = math.radians(abs(degrees))
    cos, sin = math.cos(angle), math.sin(angle)
    width = (W * cos - H * sin) / (cos * cos - sin * sin)
    height = (H * cos - W * sin) / (cos * cos - sin * sin)
    turned = Image.fromarray(frame).rotate(degrees, resample=Image.Resampling.BILINEAR)
    box = ((W - width) / 2, (H - height) / 2, (W + width) / 2, (H + height) / 2)
    cut = turned.crop(tuple(round(v) for v in box))
    return np.asarray(cut.resize((round(width) // 2 * 2, round(height) // 2 * 2)))


def test_a_tilted_copy_of_a_dark_scene_is_turned_back(stored) -> None:
    """As it is, a 3-degree tilt of a dark frame lies 45-55 bits from it, beyond the 32 a
    low-quality hash may be off; turned back and cut to the stored centre, within 25."""
    folder, index, fingerprint = stored
    copy = write_frames(folder / "tilted.mp4", frames(tilted))
    [found] = match(copy, index, {1: fingerprint})
    assert found.relation == "same_footage"
    assert found.offset == pytest.approx(0.0, abs=0.5)


def test_turning_back_undoes_a_tilt() -> None:
    frame = np.asarray(Image.fromarray(room_frame(ROOM, 1, 1.0, W, H)).convert("L"))
    copy = np.asarray(Image.fromarray(tilted(np.repeat(frame[:, :, None], 3, axis=2))).convert("L"))
    back = untilted(copy, 3.0, copy.shape[1] / copy.shape[0])
    centre = frame[round(H * 0.053) : H - round(H * 0.053), round(W * 0.053) : W - round(W * 0.053)]
    small = np.asarray(Image.fromarray(back).resize(centre.shape[::-1]), np.float32)
    wrong = untilted(copy, -3.0, copy.shape[1] / copy.shape[0])
    worse = np.asarray(Image.fromarray(wrong).resize(centre.shape[::-1]), np.float32)
    assert np.abs(small - centre).mean() < 0.5 * np.abs(worse - centre).mean()


def logoed(frame: np.ndarray) -> np.ndarray:
    """A bright channel logo covering 15% of the frame, pasted near its top-left corner."""
    out = frame.copy()
    side, pad = round((W * H * 0.15) ** 0.5), round(H / 30)
    out[pad : pad + side, pad : pad + side] = (200, 170, 40)
    out[pad + side // 3 : pad + 2 * side // 3, pad + side // 4 : pad + 3 * side // 4] = 255
    return out


def car_park(t: float) -> np.ndarray:
    """Asphalt seen from above (static grain, sensor noise), a dark car crossing it."""
    grain = np.random.default_rng(7).normal(0.0, 1.0, (H // 4, W // 4)).repeat(4, 0).repeat(4, 1)
    frame = 100 + grain * 3 + np.random.default_rng(int(t * 1000)).normal(0.0, 2.0, (H, W))
    left = round(60 + t * 150)
    frame[200:290, left : left + 150] = 45
    return np.repeat(frame.clip(0, 255).astype(np.uint8)[:, :, None], 3, axis=2)


def test_a_logo_over_low_texture_footage_is_painted_over(tmp_path: Path) -> None:
    """Nothing but the car moves, so the logo cannot be told by its stillness, and its
    tile lies far from every frame; with that corner painted over, the copy matches."""
    times = [i / FPS for i in range(round(SECONDS * FPS))]
    fingerprint = fingerprint_file(write_frames(tmp_path / "car-park.mp4", map(car_park, times)))
    assert quality_floor(fingerprint.quality) < 50
    copy = write_frames(tmp_path / "logo.mp4", (logoed(car_park(t)) for t in times))
    [found] = match(copy, HashIndex.build([(1, fingerprint)]), {1: fingerprint})
    assert found.relation in ("same_footage", "overlaps")  # the car's frames may stay apart
    assert found.offset == pytest.approx(0.0, abs=0.5)


def test_painting_over_a_corner_continues_the_light_of_the_rest() -> None:
    """The corner is filled by the plane fitted to the rest (a gradient stays a gradient),
    and the rest of the picture is untouched."""
    y, x = np.mgrid[0:160, 0:160]
    ramp = (40 + x * 0.5 + y * 0.25).astype(np.uint8)
    pasted = ramp.copy()
    pasted[:60, 100:] = 250
    painted = unlogoed(pasted, 1, 0.16, 4 / 3)
    assert np.abs(painted.astype(int) - ramp).max() <= 1
    assert (painted[80:, :] == ramp[80:, :]).all()


def bannered(frame: np.ndarray) -> np.ndarray:
    """A bright ticker with text-like blocks pasted over the bottom sixth."""
    out = frame.copy()
    top = H - H // 6
    out[top:] = (220, 60, 40)
    for x in range(20, W - 40, 60):
        out[top + 25 : top + 50, x : x + 35] = 255
    return out


def test_a_banner_over_a_still_dark_scene_is_found_by_its_top_edge() -> None:
    """Nothing in the room moves but a dim figure, so the banner cannot be told by its
    stillness; its top edge runs across the whole width, which the room's lines do not."""
    pictures = [Image.fromarray(bannered(night(t))).convert("L") for t in (0.0, 1.0, 2.0)]
    thumbs = np.stack([np.asarray(p.resize((160, 160), Image.Resampling.BOX)) for p in pictures])
    band = static_band(thumbs, None)
    assert band is not None and abs(band - 160 * 5 / 6) <= 2
    plain = [Image.fromarray(night(t)).convert("L") for t in (0.0, 1.0, 2.0)]
    unbannered = np.stack([np.asarray(p.resize((160, 160), Image.Resampling.BOX)) for p in plain])
    assert static_band(unbannered, None) is None  # the floor line is no band's edge


def asphalt(rng: np.random.Generator) -> np.ndarray:
    """Re-encoded asphalt: grain and a bay line, flat and still column by column."""
    grain = rng.normal(0.0, 1.0, (160, 20)).repeat(8, axis=1)
    picture = 105 + grain * 1.2
    picture[:, 40:43] += 8  # a faint bay line
    return picture


def test_flat_still_asphalt_is_not_a_bar_but_a_black_bar_beside_it_is() -> None:
    """Every column of re-encoded asphalt is as flat and still as a bar's, but together they
    are no one fill: the copy is not cut to the stretch its car crossed."""
    rng = np.random.default_rng(4)
    ground = asphalt(rng)
    thumbs = np.repeat(ground[None], 12, axis=0)
    for i, frame in enumerate(thumbs):  # a car crosses the right half
        frame[60:100, 80 + 4 * i : 110 + 4 * i] = 40 + rng.normal(0, 20, (40, 30))
    clipped = thumbs.clip(0, 255).astype(np.uint8)
    times = np.arange(12) * 0.25
    assert video_box(clipped, times) is None
    boxed = clipped.copy()
    boxed[:, :, :20] = 16  # and a pillarbox bar beside it is still cut, where its fill ends
    box = video_box(boxed, times)
    assert box is not None and box[0] == 20


def test_a_dark_still_in_dark_chrome_is_found_by_its_grain(stored) -> None:
    """A night frame in a dark player: too flat for its blocks to count as textured, too
    close to the chrome for edges; its grain bounds it to the pixel."""
    folder, index, fingerprint = stored
    shot = np.full((800, 1280, 3), 33, dtype=np.uint8)
    shot[:36] = 60
    picture = Image.fromarray(night(1.2)).resize((939, 704))
    shot[36:740, 170:1109] = np.asarray(picture)
    shot[700:740, 170:1109] = (np.asarray(picture)[664:704] * 0.5).astype(np.uint8)  # controls
    Image.fromarray(shot).save(folder / "player.png")
    luma = np.asarray(Image.fromarray(shot).convert("L"))
    box = grain_box(luma)
    assert box is not None and abs(box[0] - 170) <= 2 and abs(box[2] - 1109) <= 2
    assert abs(box[1] - 36) <= 2
    [found] = match(folder / "player.png", index, {1: fingerprint})
    assert found.relation == "still_from"
    assert found.asset_time == pytest.approx(1.2, abs=0.5)


def test_an_unevenly_cut_dark_still_is_found(stored) -> None:
    """Cut 52 of 64 columns from the left and 44 of 48 rows from the top: as it is 100 bits
    from its frame; trimmed only where a side is one fill (none is), and reshaped with the
    cut narrowed down to a quarter step, within reach."""
    folder, index, fingerprint = stored
    frame = night(1.4)[44 : H - 4, 52 : W - 12]
    Image.fromarray(frame).save(folder / "cut.jpg", quality=80)
    luma = np.asarray(Image.fromarray(frame).convert("L"))
    assert trim_fill(luma) == (0, 0, luma.shape[1], luma.shape[0])  # the floor is footage
    [found] = match(folder / "cut.jpg", index, {1: fingerprint})
    assert found.relation == "still_from"
    assert found.asset_time == pytest.approx(1.4, abs=0.5)


def test_flat_reshaped_pictures_count_only_closely(stored) -> None:
    """A reshaped picture below PDQ quality 50 lines a query up only within LOW_DISTANCE."""
    folder, index, _ = stored
    query = analyze_file(write_frames(folder / "other.mp4", frames(lambda f: f[::-1].copy())))
    own = np.full(len(query.frame_times), 1 << 10)
    reframing = query.reframing
    assert isinstance(reframing, Reframing)
    shift = best_shift(reframing, own, index, 72)
    assert shift is None  # an upside-down room lines up with nothing within LOW_DISTANCE


def in_phone(frame: np.ndarray, dark: bool) -> np.ndarray:
    """A portrait screen recording: the frame fitted into a phone's interface, with a
    black fill above and below it, interface text and buttons around."""
    ui = np.full((960, 540, 3), 18 if dark else 250, dtype=np.uint8)
    ink = 235 if dark else 20
    ui[20:40, 20:90] = ink  # the clock
    ui[60:90, 20:200] = ink  # the channel's name
    ui[110:590] = 0
    ui[147:552] = np.asarray(Image.fromarray(frame).resize((540, 405)))
    for x in range(30, 540, 130):
        ui[610:650, x : x + 40] = ink  # buttons
    return ui


@pytest.mark.parametrize("dark", [False, True])
def test_a_phone_recording_of_a_still_room_is_found_by_the_grain_of_its_window(
    tmp_path: Path, dark: bool
) -> None:
    """A figure walks in a still room: the moving region is far from the window's edges,
    so nothing frames it; the room's grain fills the window to the pixel."""
    room = [room_frame(ROOM, 1, i / FPS, W, H) for i in range(round(SECONDS * FPS))]
    original = write_frames(tmp_path / "room.mp4", iter(room))
    fingerprint = fingerprint_file(original)
    index = HashIndex.build([(1, fingerprint)])
    copy = write_frames(tmp_path / "phone.mp4", (in_phone(frame, dark) for frame in room))
    [found] = match(copy, index, {1: fingerprint})
    assert found.relation == "same_footage"
    assert found.offset == pytest.approx(0.0, abs=0.5)


def hazy_sky(seed: int, t: float, gain: float = 1.0, width: int = 320) -> np.ndarray:
    """A soft blue sky with faint clouds drifting: PDQ quality under 20 at every frame."""
    height = width * 3 // 4
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.normal(0, 1, (12, 16)).astype(np.float32), mode="F")
    layer = np.asarray(coarse.resize((width * 2, height * 2), Image.Resampling.BICUBIC))
    left = int(width / 2 + 12 * t)
    patch = layer[height // 2 : height // 2 + height, left : left + width]
    clouds = np.clip(patch * 0.2 + 0.3, 0, 1)
    ramp = np.linspace(0, 1, height)[:, None, None]
    top, bottom = np.array([90, 140, 210]), np.array([180, 210, 240])
    sky = (top + (bottom - top) * ramp) * (1 - clouds[..., None]) + 245 * clouds[..., None]
    noise = np.random.default_rng(int(t * 100) + seed).normal(0, 1.5, (height, width, 1))
    return (sky * gain + noise).clip(0, 255).astype(np.uint8)


def test_footage_fainter_than_low_quality_is_matched_on_what_it_has(tmp_path) -> None:
    """A hazy sky has no frame of quality 20 and its dimmed copy none of 15: both are
    hashed on their faint frames (before, nothing was indexed and the copy matched
    nothing), and another sky is still not that footage."""
    sky = write_frames(tmp_path / "sky.mp4", (hazy_sky(1, i / FPS) for i in range(75)))
    dimmed = write_frames(tmp_path / "dim.mp4", (hazy_sky(1, i / FPS, 0.8) for i in range(75)))
    other = write_frames(tmp_path / "other.mp4", (hazy_sky(2, i / FPS) for i in range(75)))
    fingerprint = fingerprint_file(sky)
    assert fingerprint.quality.max() < LOW_QUALITY
    assert quality_floor(fingerprint.quality) == FAINT_QUALITY
    index = HashIndex.build([(1, fingerprint)])
    [found] = match(dimmed, index, {1: fingerprint})
    assert found.relation == "same_footage"
    assert found.offset == pytest.approx(0.0, abs=0.5)
    assert match(other, index, {1: fingerprint}) == []


def test_a_lone_flat_reshaped_picture_counts_only_well_within_the_flat_limit() -> None:
    """One of a flat still's many reshaped pictures can meet another flat place by chance."""
    from testament.fingerprint.index import LOW_DISTANCE, Hits
    from testament.fingerprint.matcher import LONE_FLAT, _lone_flat

    def hits(*found: tuple[int, int, bool]) -> tuple[Hits, np.ndarray]:
        assets, distances, flat = zip(*found, strict=True)
        rows = np.arange(len(found), dtype=np.int32)
        times = np.zeros(len(found), dtype=np.float32)
        found_hits = Hits(rows, np.array(assets, dtype=np.int32), times, np.array(distances))
        return found_hits, np.array(flat)

    at_limit, near = LOW_DISTANCE, LONE_FLAT
    lone, flat = hits((1, at_limit, True), (2, at_limit, True), (2, at_limit, True))
    kept = np.ones(3, dtype=bool)
    assert _lone_flat(lone, flat, kept).tolist() == [True, False, False]  # asset 2: twice
    close, flat = hits((1, near, True), (2, at_limit, False))
    assert not _lone_flat(close, flat, np.ones(2, dtype=bool)).any()  # close, or not flat
    dropped, flat = hits((1, at_limit, True), (1, at_limit, True))
    assert _lone_flat(dropped, flat, np.array([True, False])).tolist() == [True, False]
