"""Footage matching on synthetic scenes: copies match with the right relation and offset,
different footage does not."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from testament.fingerprint import (
    Fingerprint,
    FingerprintError,
    FootageMatch,
    HashIndex,
    analyze_file_for_ingest,
    fingerprint_file,
    match,
)
from testament.fingerprint.borders import RowFill, fill_band, static_band, static_mask, video_box
from testament.fingerprint.frames import QUERY_MIN_GAP, VideoSampler
from testament.fingerprint.index import BITS
from testament.fingerprint.pdq import hamming, hash_luma
from testament.fingerprint.query import analyze_file
from tests.media import make_corrupt_video, scene_frame

W, H, FPS, SEED, LENGTH = 320, 180, 25, 7, 8.0
Transform = Callable[[np.ndarray], np.ndarray]


def write_video(
    path: Path,
    *,
    start: float = 0.0,
    seconds: float = LENGTH,
    seed: int = SEED,
    transform: Transform | None = None,
    crf: int = 23,
) -> Path:
    """A video of scene `seed` from `start`, each frame passed through `transform`."""
    with av.open(str(path), "w") as container:
        stream = None
        for i in range(round(seconds * FPS)):
            image = scene_frame(seed, start + i / FPS, W, H)
            if transform is not None:
                image = transform(image)
            if stream is None:
                stream = container.add_stream("libx264", rate=FPS, options={"crf": str(crf)})
                stream.height, stream.width = image.shape[:2]
                stream.pix_fmt = "yuv420p"
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        assert stream is not None
        for packet in stream.encode():
            container.mux(packet)
    return path


def letterbox(image: np.ndarray) -> np.ndarray:
    """A 16:9 picture put in a 4:3 frame with black bars above and below."""
    height = image.shape[1] * 3 // 4
    out = np.zeros((height, image.shape[1], 3), dtype=np.uint8)
    top = (height - image.shape[0]) // 2
    out[top : top + image.shape[0]] = image
    return out


def logo(image: np.ndarray) -> np.ndarray:
    """A channel's bright logo over about 15% of the frame (top right)."""
    out = image.copy()
    h, w = out.shape[:2]
    out[: int(h * 0.39), int(w * 0.61) :] = (250, 250, 250)
    out[int(h * 0.1) : int(h * 0.3), int(w * 0.7) : int(w * 0.9)] = (200, 20, 20)
    return out


def mirror(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[:, ::-1])


def cropped(image: np.ndarray) -> np.ndarray:
    """10% of the width and height cut away, mostly from the left and top."""
    h, w = image.shape[:2]
    top, left = int(h * 0.07), int(w * 0.07)
    return np.ascontiguousarray(image[top : top + int(h * 0.9), left : left + int(w * 0.9)])


def rotated(image: np.ndarray) -> np.ndarray:
    """Turned by 3 degrees on the same canvas, black corners."""
    return np.asarray(Image.fromarray(image).rotate(3.0, Image.Resampling.BILINEAR))


_BANNER_RNG = np.random.default_rng(7)
_BANNER = _BANNER_RNG.integers(0, 256, size=(H // 6, W // 8, 1), dtype=np.uint8)


def banner(image: np.ndarray) -> np.ndarray:
    """A news banner over the bottom sixth: a coarse static pattern of bright and dark."""
    out = image.copy()
    band = np.repeat(np.repeat(_BANNER, 8, axis=1), 3, axis=2)
    out[H - H // 6 :] = np.where(band > 128, 240, 20).astype(np.uint8)
    return out


def phone(image: np.ndarray) -> np.ndarray:
    """A portrait phone screen recording: the video small in the middle of a static UI."""
    out = np.full((568, 320, 3), 30, dtype=np.uint8)
    out[40:70, 20:300] = 200  # status bar text
    out[500:540, 60:260] = 90  # buttons
    out[190 : 190 + H, :] = image
    return out


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("footage")
    made = {
        "original": write_video(folder / "original.mp4"),
        "reencode": write_video(folder / "reencode.mp4", crf=38),
        "mirrored": write_video(folder / "mirrored.mp4", transform=mirror),
        "letterboxed": write_video(folder / "letterboxed.mp4", transform=letterbox),
        "logo": write_video(folder / "logo.mp4", transform=logo),
        "phone": write_video(folder / "phone.mp4", transform=phone),
        "clip": write_video(folder / "clip.mp4", start=3.0, seconds=3.0),
        "cropped": write_video(folder / "cropped.mp4", transform=cropped),
        "rotated": write_video(folder / "rotated.mp4", transform=rotated),
        "banner": write_video(folder / "banner.mp4", transform=banner),
        "other": write_video(folder / "other.mp4", seed=SEED + 100),
    }
    still = Image.fromarray(scene_frame(SEED, 5.2, 640, 360))
    still.save(folder / "still.jpg", quality=70)
    made["still"] = folder / "still.jpg"
    window = Image.new("RGB", (900, 640), (200, 200, 200))
    draw = ImageDraw.Draw(window)
    draw.rectangle((0, 0, 899, 36), fill=(60, 60, 70))  # title bar
    draw.text((12, 12), "player - evidence.mp4", fill=(255, 255, 255))
    window.paste(still.resize((800, 450)), (50, 70))
    draw.rectangle((50, 540, 850, 600), fill=(40, 40, 40))  # controls
    window.save(folder / "screenshot.png")
    made["screenshot"] = folder / "screenshot.png"
    # A dark desktop player: the picture among flat chrome, found by its straight edges.
    desk = Image.new("RGB", (1280, 800), (33, 33, 33))
    draw = ImageDraw.Draw(desk)
    draw.rectangle((0, 0, 1279, 36), fill=(60, 60, 60))
    draw.text((12, 10), "Media Player - upload.mp4", fill=(255, 255, 255))
    desk.paste(still.resize((1000, 562)), (140, 90))
    draw.rectangle((0, 740, 1279, 799), fill=(50, 50, 50))
    desk.save(folder / "desktop.png")
    made["desktop"] = folder / "desktop.png"
    # Translucent controls over the picture's bottom, flush with the player's bottom bar:
    # the edge between them is too weak, so the edge box runs on into the bar.
    shot = Image.new("RGB", (1280, 800), (33, 33, 33))
    shot.paste(still.resize((1280, 720)), (0, 20))
    shade = Image.new("RGBA", shot.size, (0, 0, 0, 0))
    ImageDraw.Draw(shade).rectangle((0, 670, 1279, 740), fill=(0, 0, 0, 150))
    shot = Image.alpha_composite(shot.convert("RGBA"), shade).convert("RGB")
    ImageDraw.Draw(shot).rectangle((0, 740, 1279, 799), fill=(30, 30, 30))
    shot.save(folder / "overlaid.png")
    made["overlaid"] = folder / "overlaid.png"
    # A screenshot cropped unevenly: 10% of the width and of the height, a quarter of it
    # from the left and the top, the rest from the right and the bottom.
    still.crop((16, 9, 592, 333)).save(folder / "cropped_still.jpg", quality=80)
    made["cropped_still"] = folder / "cropped_still.jpg"
    return made


@pytest.fixture(scope="module")
def indexed(media: dict[str, Path]) -> tuple[HashIndex, dict[int, Fingerprint]]:
    """The original and an unrelated video, indexed as assets 1 and 2."""
    index = HashIndex()
    fingerprints: dict[int, Fingerprint] = {}
    for asset_id, name in ((1, "original"), (2, "other")):
        fingerprint = fingerprint_file(media[name])
        index.add(asset_id, fingerprint)
        fingerprints[asset_id] = fingerprint
    return index, fingerprints


def only(matches: list[FootageMatch], asset_id: int = 1) -> FootageMatch:
    assert [m.asset_id for m in matches] == [asset_id], matches
    return matches[0]


def test_fingerprint_of_a_video(media: dict[str, Path]) -> None:
    fingerprint = fingerprint_file(media["original"])
    assert fingerprint.kind == "video"
    assert fingerprint.duration == pytest.approx(LENGTH, abs=0.05)
    assert fingerprint.hashes.shape == (len(fingerprint.times), 32)
    assert fingerprint.hashes.dtype == np.uint8 and fingerprint.quality.dtype == np.uint8
    assert np.all(np.diff(fingerprint.times) <= 0.5 + 1e-6)  # no moment far from a kept frame
    assert len(fingerprint.times) < LENGTH * FPS  # not every frame
    assert fingerprint.crop is None


def test_letterbox_bars_are_cropped_away(media: dict[str, Path]) -> None:
    left, top, right, bottom = fingerprint_file(media["letterboxed"]).crop or (0, 0, 1, 1)
    assert (left, right) == (0.0, 1.0)
    assert top == pytest.approx(0.125, abs=0.02) and bottom == pytest.approx(0.875, abs=0.02)


@pytest.mark.parametrize(
    "copy",
    ["cropped", "rotated", "original", "reencode", "mirrored", "letterboxed", "logo", "banner"],
)
def test_copies_are_the_same_footage(media, indexed, copy: str) -> None:
    found = only(match(media[copy], *indexed))
    assert found.relation == "same_footage"
    assert found.offset == pytest.approx(0.0, abs=0.5)
    assert found.score > 0.5


def test_phone_screen_recording_is_the_same_footage(media, indexed) -> None:
    found = only(match(media["phone"], *indexed))
    assert found.relation == "same_footage"
    assert found.offset == pytest.approx(0.0, abs=0.5)


def test_clip_from_the_middle(media, indexed) -> None:
    found = only(match(media["clip"], *indexed))
    assert found.relation == "clip_of"
    assert found.offset == pytest.approx(3.0, abs=0.5)
    assert found.asset_coverage == pytest.approx(3.0 / LENGTH, abs=0.1)
    segment = found.segments[0]
    assert segment.asset_start == pytest.approx(3.0, abs=0.5)


def test_longer_video_contains_the_clip(media) -> None:
    index = HashIndex()
    clip = fingerprint_file(media["clip"])
    index.add(5, clip)
    found = only(match(media["original"], index, {5: clip}), 5)
    assert found.relation == "contains"
    assert found.offset == pytest.approx(-3.0, abs=0.5)


@pytest.mark.parametrize("still", ["still", "screenshot", "desktop", "overlaid", "cropped_still"])
def test_still_is_placed_at_its_second(media, indexed, still: str) -> None:
    found = only(match(media[still], *indexed))
    assert found.relation == "still_from"
    assert found.asset_time == pytest.approx(5.2, abs=0.5)


def test_image_against_image_and_video_against_image(media) -> None:
    index = HashIndex()
    still = fingerprint_file(media["still"])
    index.add(9, still)
    assert only(match(media["screenshot"], index, {9: still}), 9).relation == "same_footage"
    found = only(match(media["original"], index, {9: still}), 9)
    assert found.relation == "contains"
    assert found.segments[0].query_start == pytest.approx(5.2, abs=0.5)


def test_fingerprint_can_be_the_query(media, indexed) -> None:
    found = only(match(fingerprint_file(media["reencode"]), *indexed))
    assert found.relation == "same_footage"


def test_different_footage_does_not_match(media, indexed) -> None:
    index, fingerprints = indexed
    assert [m.asset_id for m in match(media["other"], index, fingerprints)] == [2]


def test_same_place_different_moments_do_not_match(tmp_path: Path) -> None:
    """Two parts of one long pan over the same scenery are not one footage."""
    first = write_video(tmp_path / "first.mp4", start=0.0, seconds=6.0)
    later = write_video(tmp_path / "later.mp4", start=9.0, seconds=6.0)
    index = HashIndex()
    fingerprint = fingerprint_file(first)
    index.add(1, fingerprint)
    assert match(later, index, {1: fingerprint}) == []


def test_undecodable_file_raises_one_line(tmp_path: Path) -> None:
    with pytest.raises(FingerprintError) as caught:
        fingerprint_file(make_corrupt_video(tmp_path / "broken.mp4"))
    assert "\n" not in str(caught.value)


def test_decoding_stops_when_the_frames_are_no_longer_wanted(media) -> None:
    before = {thread.ident for thread in threading.enumerate()}
    frames = iter(VideoSampler(media["original"]))
    next(frames)
    frames.close()
    assert {thread.ident for thread in threading.enumerate()} <= before


def test_ingest_analysis_is_one_decode_of_fingerprint_and_query(media, indexed) -> None:
    stored = fingerprint_file(media["mirrored"])
    fingerprint, query = analyze_file_for_ingest(media["mirrored"])
    assert np.array_equal(fingerprint.hashes, stored.hashes)
    assert fingerprint.inner is not None and np.array_equal(fingerprint.inner, stored.inner)
    assert np.array_equal(fingerprint.times, stored.times) and fingerprint.crop == stored.crop
    assert query.mirrored.any()  # the rich query links a mirrored copy
    assert only(match(query, *indexed)).relation == "same_footage"
    image, still_query = analyze_file_for_ingest(media["still"])
    assert image.kind == "image" and still_query.kind == "image"


def test_ingest_query_can_see_its_frames_again_for_uneven_crops(media) -> None:
    """Off-centre boxes need the queried frames again: a second decode numbers them alike."""
    fingerprint, query = analyze_file_for_ingest(media["cropped"])
    assert query.reframing is not None
    numbers = [number for number, _ in query.reframing.pictures()]
    assert set(query.frame.tolist()) <= set(numbers)
    assert np.diff(fingerprint.times[numbers]).min() >= QUERY_MIN_GAP - 1e-6
    sampled = [number for number, _ in query.reframing.samples]
    assert set(sampled) <= set(numbers)
    assert 8 <= len(sampled) <= 16 and sampled[0] == 0 and sampled[-1] > numbers[-1] // 2


def test_ingest_query_of_a_scrolling_scene_keeps_its_offset(media) -> None:
    """Only queried frames are tried reshaped: reshaped, a scroll looks like another moment."""
    stored, _ = analyze_file_for_ingest(media["original"])
    index = HashIndex()
    index.add(1, stored)
    _, query = analyze_file_for_ingest(media["reencode"])
    found = only(match(query, index, {1: stored}))
    assert found.relation == "same_footage" and abs(found.offset or 0.0) < 0.1


def test_asset_with_a_flat_stretch_matches_on_its_usable_frames(tmp_path: Path) -> None:
    """Only a second of the asset has texture; a copy agreeing there is the same footage."""

    def fade(image: np.ndarray, t: list[float] = [0.0]) -> np.ndarray:  # noqa: B006
        t[0] += 1 / FPS
        if t[0] > 1.2:  # out of focus: flat grey from here on
            return np.full_like(image, 128)
        return image

    asset = write_video(tmp_path / "asset.mp4", seconds=4.0, transform=fade)
    copy = write_video(tmp_path / "copy.mp4", seconds=1.2, crf=36)
    index = HashIndex()
    fingerprint = fingerprint_file(asset)
    index.add(1, fingerprint)
    found = only(match(copy, index, {1: fingerprint}))
    assert found.offset == pytest.approx(0.0, abs=0.5)


def test_static_band_is_found_under_moving_footage() -> None:
    rng = np.random.default_rng(3)
    thumbs = rng.integers(0, 256, size=(12, 160, 160), dtype=np.uint8)
    thumbs[:, 134:] = rng.integers(0, 256, size=(26, 160), dtype=np.uint8)  # same every frame
    assert static_band(thumbs, None) == 134
    assert fill_band(thumbs[0], 134)[150].tolist() == thumbs[0, 133].tolist()
    thumbs[:, 134:] = 40  # a flat bar is the picture region's business
    assert static_band(thumbs, None) is None
    assert static_band(np.repeat(thumbs[:1], 12, axis=0), None) is None  # nothing moves


def test_static_logo_pixels_are_filled_from_their_row() -> None:
    rng = np.random.default_rng(5)
    frames = rng.integers(0, 256, size=(12, 40, 60), dtype=np.uint8)
    frames[:, 5:15, 40:60] = 250  # a logo touching the right edge
    frames[:, 20:25, 10:20] = 0  # a caption in the middle
    mask = static_mask(frames)
    assert mask is not None
    assert mask[5:15, 40:60].all() and mask[20:25, 10:20].all() and mask.mean() < 0.2
    row = np.tile(np.arange(60, dtype=np.uint8) * 4, (40, 1))
    filled = RowFill(mask)(row)
    assert filled[22, 10:20].tolist() == row[22, 10:20].tolist()  # linear between neighbours
    assert (filled[10, 40:] == row[10, 39]).all()  # past the last free pixel: its value
    assert static_mask(np.repeat(frames[:1], 12, axis=0)) is None  # a still shot


def test_static_logo_is_painted_over_in_the_query(media, indexed) -> None:
    # Without the painted-over variant this copy scores about 0.64; with it about 0.85.
    assert only(match(media["logo"], *indexed)).score > 0.75


@pytest.mark.parametrize(("blur", "gap"), [(0, 0.5), (14, 0.0)])
def test_soft_footage_is_sampled_densely(tmp_path: Path, blur: int, gap: float) -> None:
    """Out of focus, PDQ quality hovers at the usable limit: keep frames closer together."""
    picture = Image.fromarray(scene_frame(SEED, 0.0, W, H)).filter(ImageFilter.GaussianBlur(blur))
    still = np.asarray(picture)
    path = write_video(tmp_path / "static.mp4", seconds=3.0, transform=lambda _: still)
    times = np.array([t for t, _ in VideoSampler(path)])
    assert gap <= np.diff(times).max() <= gap + 1.01 / FPS


def test_frames_are_kept_as_often_as_their_hash_moves(tmp_path: Path) -> None:
    """A slow pan over faint texture hardly changes brightness, but it does change PDQ."""
    rng = np.random.default_rng(3)
    faint = (128 + (rng.integers(0, 256, (36, 60)) - 128) * 0.15).astype(np.uint8)
    texture = np.asarray(Image.fromarray(faint).resize((3 * W, H), Image.Resampling.BICUBIC))
    pan = (np.repeat(texture[:, i : i + W, None], 3, axis=2) for i in range(2 * W))
    path = write_video(tmp_path / "pan.mp4", seconds=4.0, transform=lambda _: next(pan))
    every = list(VideoSampler(path, max_gap=0.0))
    times = np.array([t for t, _ in every])
    hashes = np.stack([hash_luma(thumb)[0] for _, thumb in every])

    def furthest(sampler: VideoSampler) -> int:
        kept = np.searchsorted(times, [t for t, _ in sampler])
        return int(hamming(hashes, hashes[kept]).min(axis=1).max())

    assert furthest(VideoSampler(path)) <= 32
    assert furthest(VideoSampler(path, hash_change=BITS + 1)) > 32  # by brightness alone


def test_picture_region_weighs_frames_by_time_not_by_count() -> None:
    """A brief wide scene, sampled densely (it moves) or sparsely, does not widen the box."""
    rng = np.random.default_rng(5)

    def frames(wide_count: int) -> tuple[np.ndarray, np.ndarray]:
        portrait = np.zeros((50, 160, 160), dtype=np.uint8)
        portrait[:, :, 60:100] = rng.integers(0, 256, (50, 160, 40))
        wide = rng.integers(0, 256, (wide_count, 160, 160)).astype(np.uint8)
        times = np.concatenate([np.arange(50.0), 50 + np.linspace(0, 0.5, wide_count)])
        return np.concatenate([portrait, wide]), times

    dense, sparse = video_box(*frames(10)), video_box(*frames(2))
    assert dense == sparse
    assert dense is not None and (dense[0], dense[2]) == (60, 100)


@contextmanager
def searches_counted(index: HashIndex) -> Iterator[list[int]]:
    """The number of hashes of each lookup made in the index while the block runs."""
    searched: list[int] = []
    search = index.search

    def counting(hashes: np.ndarray, k: int, limit: int):
        searched.append(len(hashes))
        return search(hashes, k, limit)

    index.search = counting  # type: ignore[method-assign]
    try:
        yield searched
    finally:
        del index.search


def test_mirrored_hashes_are_looked_up_only_for_a_mirrored_copy(media, indexed) -> None:
    index, fingerprints = indexed
    for name in ("reencode", "mirrored"):
        with searches_counted(index) as searched:
            query = analyze_file(media[name])
            assert only(match(query, index, fingerprints)).relation == "same_footage"
        if name == "reencode":
            assert sum(searched) < len(query.hashes)  # plain rows and a sample only
        else:
            assert sum(searched) >= len(query.hashes)  # every row


def test_a_still_is_reshaped_only_when_its_own_hashes_find_nothing_close(media, indexed) -> None:
    index, fingerprints = indexed
    for name, reshaped in (("still", False), ("cropped_still", True)):
        with searches_counted(index) as searched:
            assert only(match(media[name], index, fingerprints)).relation == "still_from"
        assert (len(searched) > 1) == reshaped  # its own hashes, then the reshaped ones


def test_a_still_matches_alike_with_its_reshaped_pictures_hashed_ahead(
    media, indexed, monkeypatch
) -> None:
    """Ingest hashes a batch's reshaped pictures in threads before matching them in order."""
    from testament.fingerprint import reframe

    index, fingerprints = indexed
    path = media["cropped_still"]
    _, later = analyze_file_for_ingest(path)
    _, ahead = analyze_file_for_ingest(path, shapes_ahead=True)
    assert later.reframing is not None and ahead.reframing is not None
    assert not later.reframing.shaped
    assert len(ahead.reframing.shaped) == len(ahead.reframing.samples)
    reshaped: list[reframe.Shift] = []
    shifted_picture = reframe.shifted_picture

    def counted(picture: np.ndarray, shift: reframe.Shift, aspect: float) -> np.ndarray:
        reshaped.append(shift)
        return shifted_picture(picture, shift, aspect)

    monkeypatch.setattr(reframe, "shifted_picture", counted)
    found = match(ahead, index, fingerprints)
    made_then = len(reshaped)  # only the finer cuts around the closest shape
    assert found == match(later, index, fingerprints)
    assert only(found).relation == "still_from"
    samples = len(ahead.reframing.samples)
    assert made_then < samples * len(reframe.STILL_SHIFTS) <= len(reshaped) - made_then
