"""Footage from a fixed camera: a figure moving in a still room, takes of one room, stills.

A phone held still while people are filmed in one place is what this field's footage
mostly is; these tests generate such scenes (tests.media.room_frame).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from testament.fingerprint import HashIndex, fingerprint_file, match
from testament.fingerprint.borders import video_box
from testament.fingerprint.local import SAME_MOMENT, frames_at, luma, moment_ratio
from testament.fingerprint.localcheck import (
    other_moments,
    still_is_that_moment,
    video_is_that_footage,
)
from testament.fingerprint.model import Fingerprint, FootageMatch
from testament.fingerprint.query import Query, _Rows, analyze_file, query_from_fingerprint
from testament.fingerprint.recheck import FLAT_FLOOR, LOOSE_FLAT, flat_limit, hashes_tell
from tests.media import make_room_video, room_background, room_frame, write_frames

ROOM, W, H = 3, 640, 480


@pytest.fixture(scope="module")
def takes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("room")
    made = {
        f"take{t}": make_room_video(folder / f"take{t}.mp4", room=ROOM, take=t) for t in (1, 2, 3)
    }
    Image.fromarray(room_frame(ROOM, 1, 1.3, W, H)).save(folder / "still.jpg", quality=55)
    made["still"] = folder / "still.jpg"
    return made


def test_a_figure_moving_in_a_still_room_is_not_taken_for_a_window(takes) -> None:
    """The whole frame is the footage: the moving figure is not cropped out as a 'picture'."""
    assert fingerprint_file(takes["take1"]).crop is None


def test_a_jpeg_still_of_a_short_fixed_camera_clip_is_found(takes) -> None:
    fingerprint = fingerprint_file(takes["take1"])
    index = HashIndex.build([(1, fingerprint)])
    [found] = match(takes["still"], index, {1: fingerprint})
    assert found.relation == "still_from"


def test_an_animated_gif_is_footage(tmp_path: Path) -> None:
    """Screen recordings are often shared as animated GIFs: each frame is hashed, with its time."""
    frames = [Image.fromarray(room_frame(ROOM, 1, i / 10, 160, 120)) for i in range(20)]
    path = tmp_path / "recording.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    fingerprint = fingerprint_file(path)
    assert fingerprint.kind == "video"
    assert fingerprint.duration == pytest.approx(2.0, abs=0.15)
    assert len(fingerprint) > 1


def test_other_takes_of_one_room_are_the_same_scene_not_the_same_footage(takes) -> None:
    """The same walls, light and figure, doing something else: `same_scene`, never a match."""
    fingerprint = fingerprint_file(takes["take1"])
    index = HashIndex.build([(1, fingerprint)])
    for take in ("take2", "take3"):
        found = match(takes[take], index, {1: fingerprint})
        assert all(m.relation == "same_scene" for m in found), (take, found)
    copy = match(takes["take1"], index, {1: fingerprint})
    assert [m.relation for m in copy] == ["same_footage"]


def test_a_still_of_a_view_that_recurs_gets_every_interval(tmp_path: Path) -> None:
    """A fixed camera on an empty room, a figure passing once: the empty view is everywhere."""
    passing = make_room_video(
        tmp_path / "recording.mp4", room=ROOM, take=1, seconds=8.0, present=lambda t: 3 <= t < 5
    )
    fingerprint = fingerprint_file(passing)
    index = HashIndex.build([(1, fingerprint)])
    Image.fromarray(room_background(ROOM, W, H)).save(tmp_path / "empty.jpg", quality=80)
    [found] = match(tmp_path / "empty.jpg", index, {1: fingerprint})
    assert found.relation == "still_from"
    assert found.asset_time is None  # no one second is clearly it
    assert len(found.asset_times) == 2
    assert any(start <= 1.0 <= end for start, end in found.asset_times)
    assert any(start <= 6.5 <= end for start, end in found.asset_times)
    Image.fromarray(room_frame(ROOM, 1, 4.0, W, H)).save(tmp_path / "passing.jpg", quality=80)
    [found] = match(tmp_path / "passing.jpg", index, {1: fingerprint})
    assert found.asset_time == pytest.approx(4.0, abs=0.5)
    assert len(found.asset_times) == 1


def _car_park(
    t: float,
    width: int = 640,
    height: int = 480,
    car: tuple[int, int] = (200, 260),
    speed: float = 0.15,
) -> np.ndarray:
    """Asphalt seen from above, faint bay lines, a dark car creeping through: PDQ quality ~30."""
    noise = np.random.default_rng(5).normal(0.0, 1.0, (height // 8, width // 8))
    small = Image.fromarray((noise * 40 + 128).clip(0, 255).astype(np.uint8))
    grain = np.asarray(small.resize((width, height), Image.Resampling.BICUBIC), np.float32)
    picture = 110 + (grain - 128) * 4 / 40
    for x in range(60, width, 120):
        picture[:, x : x + 6] += 6
    left = int((0.2 + speed * t) * width)
    picture[car[0] : car[1], left : left + 90] -= 25
    picture += np.random.default_rng(int(t * 100)).normal(0.0, 2.0, (height, width))
    return np.repeat(picture.clip(0, 255).astype(np.uint8)[:, :, None], 3, axis=2)


def test_stills_of_low_texture_footage_are_found_on_its_low_quality_hashes(tmp_path) -> None:
    """When no frame reaches PDQ quality 50, the footage is matched on what it has, closely."""
    path = tmp_path / "car_park.mp4"
    write_frames(path, (_car_park(i / 25) for i in range(100)))
    fingerprint = fingerprint_file(path)
    assert fingerprint.quality.max() < 50
    index = HashIndex.build([(1, fingerprint), (2, fingerprint_file(takes_room(tmp_path)))])
    stored = {1: fingerprint, 2: fingerprint_file(tmp_path / "room.mp4")}
    Image.fromarray(_car_park(2.0)).save(tmp_path / "still.jpg", quality=55)
    [found] = match(tmp_path / "still.jpg", index, stored)
    assert (found.asset_id, found.relation) == (1, "still_from")
    assert found.asset_time == pytest.approx(2.0, abs=0.5)
    other = Image.fromarray(np.roll(_car_park(2.0), 200, axis=1))  # another stretch of asphalt
    other.save(tmp_path / "other.jpg", quality=55)
    assert match(tmp_path / "other.jpg", index, stored) == []
    darker = (np.clip(_car_park(i / 25) * 0.85, 0, 255).astype(np.uint8) for i in range(100))
    [copy] = match(write_frames(tmp_path / "copy.mp4", darker), index, stored)
    assert (copy.asset_id, copy.relation) == (1, "same_footage")


def takes_room(folder: Path) -> Path:
    return make_room_video(folder / "room.mp4", room=ROOM, take=1)


def test_a_bar_that_lights_up_at_its_far_edge_for_a_moment_stays_a_bar() -> None:
    """A compilation: a portrait clip on black, then briefly a wide shot whose flat bright
    sky reaches the frame's right side. The picture is the portrait clip's stretch."""
    rng = np.random.default_rng(3)
    frames = np.zeros((100, 160, 160), dtype=np.uint8)
    frames[:, :, 54:106] = rng.integers(0, 256, (100, 160, 52))
    frames[94:, :, 150:] = rng.normal(172, 3.5, (6, 160, 10)).round()  # a bright hazy sky
    box = video_box(frames, np.arange(100.0))
    assert box is not None and (box[0], box[2]) == (54, 106)


def _frames_of(path: Path):
    def frames(asset_id: int, times):
        return frames_at(path, times)

    return frames


def test_a_still_of_another_take_is_the_place_not_a_moment_of_this_one(takes, tmp_path) -> None:
    """Stills of take 2 look like take 1's frames (the room is most of the picture); lined
    up by keypoints, they do not show what moved at that moment of take 1."""
    fingerprint = fingerprint_file(takes["take1"])
    index = HashIndex.build([(1, fingerprint)])
    frames = _frames_of(takes["take1"])
    for t in (0.4, 0.8, 1.0):  # where take 2's figure is nowhere near take 1's path
        Image.fromarray(room_frame(ROOM, 2, t, W, H)).save(tmp_path / "other.jpg", quality=70)
        found = match(tmp_path / "other.jpg", index, {1: fingerprint}, frames)
        assert all(m.relation == "same_scene" for m in found), (t, found)
    [copy] = match(takes["still"], index, {1: fingerprint}, frames)
    assert copy.relation == "still_from"
    assert abs(copy.asset_time - 1.3) <= 0.5


def _night(t: float, bars: int = 0, light: float = 0.3, figure: bool = True) -> np.ndarray:
    """A dim room (sensor noise, PDQ quality about 28): its floor and walls are flat rows;
    with `bars`, letterboxed."""
    room = room_frame(ROOM, 1, t, W, H) if figure else room_background(ROOM, W, H)
    frame = room.astype(np.float32) * light + 8
    frame += np.random.default_rng(int(t * 1000)).normal(0.0, 4.0, (H, W))[:, :, None]
    frame = frame.clip(0, 255).astype(np.uint8)
    if not bars:
        return frame
    boxed = np.zeros_like(frame)  # letterboxed: the whole picture, shrunk between black bars
    shrunk = Image.fromarray(frame).resize((W, H - 2 * bars), Image.Resampling.BOX)
    boxed[bars : H - bars] = np.asarray(shrunk)
    return boxed


def test_a_dark_noisy_scene_is_footage_to_its_edges_while_real_bars_are_cut(tmp_path) -> None:
    """A dim floor is as flat within a frame as a bar, but its noise flickers: not cut away
    (the stored picture was once the quarter of the room the figure crossed)."""
    night = write_frames(tmp_path / "night.mp4", (_night(i / 25) for i in range(75)))
    fingerprint = fingerprint_file(night)
    assert fingerprint.crop is None
    boxed = write_frames(tmp_path / "boxed.mp4", (_night(i / 25, bars=60) for i in range(75)))
    copy = fingerprint_file(boxed)
    assert copy.crop is not None
    assert copy.crop[1] == pytest.approx(60 / H, abs=0.02)
    assert copy.crop[3] == pytest.approx(1 - 60 / H, abs=0.02)
    index = HashIndex.build([(1, fingerprint)])
    [found] = match(boxed, index, {1: fingerprint})
    assert (found.relation, found.offset) == ("same_footage", pytest.approx(0.0, abs=0.5))


def test_a_dim_floor_is_not_taken_for_bars() -> None:
    """At a fifth of the light a dim room's floor and walls are flat rows; they flicker."""
    frames = [(i / 25, _night(i / 25, light=0.2)) for i in range(0, 75, 5)]
    thumbs = np.stack(
        [np.asarray(Image.fromarray(f).convert("L").resize((160, 160))) for _, f in frames]
    )
    assert video_box(thumbs, [t for t, _ in frames]) is None


def test_flat_rows_of_a_query_with_sharp_ones_are_kept_as_low() -> None:
    """A dark frame's whole picture (PDQ quality 30) beside its sharp moving region (80):
    both are looked up, the flat one marked to count only closely."""
    rows = _Rows()
    sharp, flat = np.full(32, 1, np.uint8), np.full(32, 2, np.uint8)
    rows.add_hashes(0, [(sharp, sharp, 80), (flat, flat, 30)])
    query = rows.query("video", 1.0, np.zeros(1))
    assert len(query.hashes) == 4
    assert query.low is not None and query.low.tolist() == [False, False, True, True]


def _flat_fingerprint(hashes: np.ndarray) -> Fingerprint:
    times = np.arange(len(hashes)) / 10
    quality = np.full(len(hashes), 35, dtype=np.uint8)
    return Fingerprint("video", len(hashes) / 10, times, hashes, quality, None, hashes)


def test_low_quality_hashes_count_further_where_the_asset_s_moments_differ() -> None:
    """Asphalt with a car crossing: every moment lies far (90+ bits) from the others, so a
    re-encoded copy's hashes may lie as far as LOOSE_FLAT from theirs; a dim room whose
    moments are alike (a few bits apart) gets FLAT_FLOOR, still far nearer than another
    place."""
    rng = np.random.default_rng(7)
    apart = rng.integers(0, 256, (30, 32), dtype=np.uint8)
    assert flat_limit(_flat_fingerprint(apart)) == LOOSE_FLAT
    alike = np.repeat(apart[:1], 30, axis=0)
    alike[:, 0] = rng.integers(0, 256, 30)  # at most 8 bits between any two moments
    assert flat_limit(_flat_fingerprint(alike)) == FLAT_FLOOR


def test_a_view_that_hardly_changes_keeps_its_alignment() -> None:
    """A talking head that hardly moves: most moments lie within DISTINCT of the others,
    and the few that pass it by their own noise are what a re-encode smooths away. The
    hashes have nothing to tell a copy from another take by (before, the copy came back as
    only the place); the matcher then keeps its alignment, unless pixels tell."""
    rng = np.random.default_rng(3)
    hashes = np.repeat(rng.integers(0, 256, (1, 32), dtype=np.uint8), 16, axis=0)
    for moment in (2, 6, 10, 14):  # a blink, a nod: 24 bits off the still face, each its own
        hashes[moment, moment : moment + 3] ^= 0xFF
    times = np.arange(16) / 2
    quality = np.full(16, 100, dtype=np.uint8)
    stored = Fingerprint("video", 8.0, times, hashes, quality, None, hashes)
    smoothed = np.repeat(hashes[:1], 16, axis=0)
    copy = Fingerprint("video", 8.0, times, smoothed, quality, None, smoothed)
    assert hashes_tell(query_from_fingerprint(copy), np.ones(16, bool), 0.0, stored) is None


def test_a_still_of_another_take_of_a_short_clip_is_checked_too(tmp_path) -> None:
    """A 1.6 s take has no two moments a second from most of its frames: its stills are
    compared with moments half a second away, and another take's is only the place."""
    short = make_room_video(tmp_path / "short.mp4", room=ROOM, take=1, seconds=1.6)
    fingerprint = fingerprint_file(short)
    index = HashIndex.build([(1, fingerprint)])
    frames = _frames_of(short)
    for t in (0.6, 0.8, 1.2, 1.4):  # take 3's figure where take 1's was not at that moment
        Image.fromarray(room_frame(ROOM, 3, t, W, H)).save(tmp_path / "other.jpg", quality=70)
        found = match(tmp_path / "other.jpg", index, {1: fingerprint}, frames)
        assert [m.relation for m in found] == ["same_scene"], (t, found)
    Image.fromarray(room_frame(ROOM, 1, 0.8, W, H)).save(tmp_path / "copy.jpg", quality=70)
    [copy] = match(tmp_path / "copy.jpg", index, {1: fingerprint}, frames)
    assert copy.relation == "still_from"


def test_a_copy_of_detailed_footage_is_told_by_its_sharp_rows() -> None:
    """A flat row (a dark transition's picture) can lie close to any moment; kept beside
    the sharp rows, it must not make a copy look as near every other moment as its own."""
    rng = np.random.default_rng(5)
    hashes = rng.integers(0, 256, (16, 32), dtype=np.uint8)
    times = np.arange(16) / 2
    stored = Fingerprint("video", 8.0, times, hashes, np.full(16, 100, np.uint8), None, hashes)
    flat = np.repeat(hashes[:1], 16, axis=0)  # as close to moment 0 as a hash can be
    query = Query(
        kind="video",
        duration=8.0,
        frame_times=times,
        hashes=np.concatenate([hashes, flat]),
        frame=np.concatenate([np.arange(16), np.arange(16)]).astype(np.int32),
        mirrored=np.zeros(32, dtype=bool),
        low=np.arange(32) >= 16,
    )
    assert hashes_tell(query, np.ones(16, dtype=bool), 0.0, stored) is True


BLUE, RED = (30, 40, 90), (82, 28, 38)  # clothes of one brightness (luma about 43)


def _person(t: float, clothes: tuple[int, int, int] = BLUE) -> np.ndarray:
    """The room of `room_frame` with a person-sized figure (a sixth of the width, half the
    height) walking across it in 2.5 s."""
    frame = room_background(ROOM, W, H)
    left = int((0.1 + 0.3 * t) * W)
    frame[H // 4 : 3 * H // 4, left : left + W // 6] = clothes
    return frame


def test_a_still_of_another_take_where_its_figure_stood_is_told_by_colour(tmp_path) -> None:
    """A still of another take whose person stood where this take's stood, dressed in
    another colour of the same brightness: in grey it is that moment; its colour says it
    is only the place. A grey copy of the moment keeps still_from."""
    take = write_frames(tmp_path / "take.mp4", (_person(i / 25) for i in range(63)))
    fingerprint = fingerprint_file(take)
    index = HashIndex.build([(1, fingerprint)])
    frames = _frames_of(take)
    moment, other = _person(1.3), _person(1.3, RED)
    assert abs(luma(other).astype(int) - luma(moment).astype(int)).max() <= 2
    Image.fromarray(other).save(tmp_path / "other.jpg", quality=90)
    found = match(tmp_path / "other.jpg", index, {1: fingerprint}, frames)
    assert [m.relation for m in found] == ["same_scene"], found
    Image.fromarray(moment).convert("L").save(tmp_path / "grey.jpg", quality=90)
    [copy] = match(tmp_path / "grey.jpg", index, {1: fingerprint}, frames)
    assert copy.relation == "still_from"
    assert abs(copy.asset_time - 1.3) <= 0.5


def test_in_grey_the_figure_of_other_clothes_is_that_moment() -> None:
    """The colour test is what decides: with the pictures in grey the same still passes."""
    near = [_person(1.3 + step * 0.04) for step in range(-3, 4)]
    others = [_person(t) for t in (0.3, 2.3)]
    still = _person(1.3, RED)
    grey = moment_ratio(luma(still), [luma(p) for p in near], [luma(p) for p in others])
    coloured = moment_ratio(still, near, others)
    assert grey is not None and grey < SAME_MOMENT
    assert coloured is not None and coloured >= SAME_MOMENT


def _high(t: float) -> np.ndarray:
    """Another take of `_person`'s room: the same figure walking along the top of it."""
    frame = room_background(ROOM, W, H)
    left = int((0.1 + 0.3 * t) * W)
    frame[: H // 5, left : left + W // 6] = BLUE
    return frame


def test_a_video_is_told_from_another_take_by_what_moved_at_its_moments(tmp_path) -> None:
    """Where the hashes cannot tell (a dark room whose figure hardly moves them), the
    pixels can: a copy shows the figure where the asset has it at each moment it lines up
    with, another take shows the room there; without a file to read nothing is decided."""
    take = write_frames(tmp_path / "take.mp4", (_person(i / 25) for i in range(63)))
    copy = write_frames(tmp_path / "copy.mp4", (_person(i / 25) for i in range(63)))
    other = write_frames(tmp_path / "other.mp4", (_high(i / 25) for i in range(63)))
    stored = fingerprint_file(take)
    frames = _frames_of(take)
    lined_up = FootageMatch(1, "same_footage", 1.0, 1.0, 1.0, 0.0, None, ())
    for path, expected in ((copy, True), (other, False)):
        query = analyze_file(path)
        agreeing = np.ones(len(query.frame_times), dtype=bool)
        assert video_is_that_footage(query, agreeing, lined_up, stored, frames) is expected
    unread = replace(analyze_file(copy), source=None)
    agreeing = np.ones(len(unread.frame_times), dtype=bool)
    assert video_is_that_footage(unread, agreeing, lined_up, stored, frames) is None


def test_a_short_clip_with_few_kept_frames_is_compared_between_them() -> None:
    """A 1.5 s take whose hashes hardly change keeps a frame every half second: a still
    placed between them still gets two other moments to be told by (before: none, and
    other takes' stills were `still_from` it)."""
    hashes = np.zeros((3, 32), dtype=np.uint8)
    quality = np.full(3, 100, dtype=np.uint8)
    stored = Fingerprint("video", 1.52, np.array([0.0, 0.52, 1.04]), hashes, quality, None, hashes)
    others = other_moments(stored, 0.78)
    assert len(others) >= 2
    assert all(abs(t - 0.78) >= 0.5 and 0.0 <= t <= 1.52 for t in others)


def test_a_still_is_placed_at_the_moment_its_pixels_show_among_those_its_hashes_allow(
    tmp_path,
) -> None:
    """A still room's hashes allow many seconds for a still (PDQ places it a second off,
    or cannot choose and calls it the place only): every second they allow is tried on
    the pixels, and the still goes where its figure stands. A still of another take,
    tried as many times, stays the place."""
    take = write_frames(tmp_path / "take.mp4", (_person(i / 25) for i in range(63)))
    stored = fingerprint_file(take)
    frames = _frames_of(take)
    Image.fromarray(_person(1.6)).save(tmp_path / "still.jpg", quality=80)
    Image.fromarray(_high(1.6)).save(tmp_path / "other.jpg", quality=80)
    still, other = analyze_file(tmp_path / "still.jpg"), analyze_file(tmp_path / "other.jpg")
    misplaced = FootageMatch(1, "still_from", 1.0, 1.0, 0.0, None, 0.4, (), ((0.0, 2.5),))
    undecided = FootageMatch(
        1, "same_scene", 1.0, 0.0, 0.0, None, None, (), ((0.0, 1.0), (1.3, 2.5))
    )
    for found in (misplaced, undecided):
        placed = still_is_that_moment(still, found, stored, frames)
        assert placed.relation == "still_from", found
        assert abs(placed.asset_time - 1.6) <= 0.2, placed
        assert any(start <= placed.asset_time <= end for start, end in placed.asset_times[:1])
        place = still_is_that_moment(other, found, stored, frames)
        assert place.relation == "same_scene", (found, place)
        assert place.asset_time is None and place.asset_times == ()
