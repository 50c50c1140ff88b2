"""Local features: ORB keypoints lined up by a RANSAC homography, where PDQ cannot decide.

PDQ is a global hash: it sees the whole picture's low frequencies. Two takes from one fixed
camera share almost all of them (the room), and a dark, smoky or asphalt frame has so few
that a re-encode moves its hash by 100 bits. Keypoints see the picture piecewise: a copy
and its source share hundreds of keypoints under one geometric transform (a crop, a
rotation, the window of a screen recording), whatever the hash says.

Keypoints alone cannot tell a copy from another take of the same fixed camera either: both
share the static background. What tells them apart is what moves. Once a still is lined
up on a frame of the asset, the pixels where that frame differs from the asset's other
moments (the person, the car) decide: a copy shows what the frame shows there, another
take shows the background (or its own figure elsewhere), as far from this moment as from
any other.

OpenCV is imported on first use: a query that PDQ decides never loads it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

SIDE = 480  # pictures are scaled to this longer side before keypoints are found
KEYPOINTS = 600
RATIO = 0.8  # Lowe's ratio test for a descriptor match
REPROJECTION = 4.0  # pixels (at SIDE) a RANSAC inlier may be off its homography
MIN_INLIERS = 20  # keypoints agreeing on one homography that line two pictures up
MIN_INLIER_SHARE = 0.25  # ... and their share of the ratio-tested matches
CHANGE = 24  # luma levels: where two moments of the asset differ, something moved
MIN_CHANGED = 0.002  # share of the frame unique to the moment that the check needs to tell anything
SAME_MOMENT = 0.6  # a copy's error where the asset moves, over the error at other moments

# Frames of an asset at given times (seconds; an image asset ignores them), luma, or None
# where the asset's file cannot be read. The catalog decodes blobs; the benchmark, files.
FrameSource = Callable[[int, Sequence[float]], list[np.ndarray] | None]


@lru_cache(maxsize=1)
def _cv2() -> Any:
    import cv2

    cv2.setNumThreads(1)  # one query per core scales better than OpenCV's own threads
    return cv2


@dataclass(frozen=True)
class Features:
    """ORB keypoints of one picture, scaled to SIDE: positions and descriptors."""

    points: np.ndarray  # float32 [n, 2]
    descriptors: np.ndarray  # uint8 [n, 32]
    shape: tuple[int, int]  # height, width of the scaled picture


def scaled(luma: np.ndarray, side: int = SIDE) -> np.ndarray:
    """The picture with its longer side at `side` (area-averaged when shrinking)."""
    cv2 = _cv2()
    height, width = luma.shape[:2]
    factor = side / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(luma), size, interpolation=interpolation)


def features(luma: np.ndarray) -> Features:
    """Keypoints of a picture, found after local contrast equalisation.

    Equalising (CLAHE) lifts the detail of a night scene or of asphalt to where the
    corner detector sees it; on ordinary footage it changes little.
    """
    cv2 = _cv2()
    picture = scaled(luma)
    equalised = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(picture)
    orb = cv2.ORB_create(nfeatures=KEYPOINTS, fastThreshold=8, edgeThreshold=15, patchSize=15)
    keypoints, descriptors = orb.detectAndCompute(equalised, None)
    if descriptors is None:
        descriptors = np.zeros((0, 32), np.uint8)
    points = np.array([k.pt for k in keypoints], np.float32).reshape(-1, 2)
    return Features(points, descriptors, (picture.shape[0], picture.shape[1]))


@dataclass(frozen=True)
class Alignment:
    """Where one picture lies in another: the homography and how many keypoints agree."""

    homography: np.ndarray  # 3x3, from the first picture's SIDE pixels to the second's
    inliers: int
    matches: int


def align(query: Features, asset: Features) -> Alignment | None:
    """The homography taking `query` onto `asset`, if enough keypoints agree on one."""
    cv2 = _cv2()
    if len(query.descriptors) < MIN_INLIERS or len(asset.descriptors) < MIN_INLIERS:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(query.descriptors, asset.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < MIN_INLIERS:
        return None
    source = query.points[[m.queryIdx for m in good]]
    target = asset.points[[m.trainIdx for m in good]]
    homography, mask = cv2.findHomography(source, target, cv2.RANSAC, REPROJECTION)
    if homography is None or mask is None:
        return None
    inliers = int(mask.sum())
    if inliers < MIN_INLIERS or inliers < MIN_INLIER_SHARE * len(good):
        return None
    return Alignment(homography, inliers, len(good))


def _normalised(picture: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Luma with the mean and spread of the masked pixels taken out (brightness, contrast)."""
    values = picture.astype(np.float32)
    inside = values[mask]
    if inside.size == 0:
        return values
    return (values - inside.mean()) / max(float(inside.std()), 1.0) * 40.0


def _fit(picture: np.ndarray, shape: tuple[int, int] | None = None) -> np.ndarray:
    """The picture at SIDE (or at `shape`, height and width), by Pillow: no OpenCV needed."""
    from PIL import Image

    height, width = picture.shape[:2]
    if shape is None:
        factor = SIDE / max(height, width)
        shape = (max(1, round(height * factor)), max(1, round(width * factor)))
    image = Image.fromarray(np.ascontiguousarray(picture))
    return np.asarray(image.resize((shape[1], shape[0]), Image.Resampling.BOX))


def _shrunk(mask: np.ndarray) -> np.ndarray:
    """The mask less its edge pixels (a 3x3 erosion): a lone changed pixel is noise."""
    inner = mask.copy()
    inner[1:, :] &= mask[:-1, :]
    inner[:-1, :] &= mask[1:, :]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    return inner


LINED_UP = 12.0  # normalised error where nothing moves under which a still needs no keypoints
CHECK_SIDE = 240  # the pixel comparison is made at this longer side


def moment_ratio(
    still: np.ndarray, near: Sequence[np.ndarray], others: Sequence[np.ndarray]
) -> float | None:
    """How much more the still looks like a frame `near` the moment it was placed at than
    like the asset's `others` (a small number: that moment; near or above 1: not).

    The pixels that tell a moment are those where its frame differs (CHANGE levels) from
    every one of the other moments: the person where only this moment has them. There,
    the still's error against the frame is set over its error against the nearest of the
    others; the best of the frames `near` counts (the stored frame it was placed at can be
    a few frames off the still's). A copy of the moment shows what the frame shows;
    another take of the same place shows the background there, which the other moments
    show too. The still is first laid over the frame as it is (a JPEG of the whole frame);
    where the static background then does not line up (a screenshot, a crop, a rotation),
    it is lined up by keypoints. None when it cannot be, or nothing is unique to the
    moment (one unchanging view tells nothing).
    """
    if not others or not near:
        return None
    middle = _fit(near[len(near) // 2], _check_shape(near[0]))
    theirs = [_fit(other, middle.shape) for other in others]
    whole = np.ones(middle.shape, dtype=bool)
    static = whole.copy()
    for there in theirs:
        static &= np.abs(middle.astype(np.int16) - there.astype(np.int16)) <= CHANGE
    laid = _fit(still, middle.shape)
    covered = whole
    if not static.any() or _error(laid, middle, static) > LINED_UP:
        lined = _lined_up(still, near[len(near) // 2], middle.shape)
        if lined is None:
            return None
        laid, covered = lined
    mine = _normalised(laid, covered)
    others_n = [_normalised(there, covered) for there in theirs]
    ratios = []
    for frame in near:
        here = _normalised(_fit(frame, middle.shape), covered)
        unique = covered.copy()
        for there in others_n:
            unique &= np.abs(here - there) > CHANGE
        unique = _shrunk(unique)
        if unique.mean() < MIN_CHANGED:
            continue
        error_here = float(np.abs(mine - here)[unique].mean())
        error_there = min(float(np.abs(mine - there)[unique].mean()) for there in others_n)
        ratios.append(error_here / max(error_there, 1e-3))
    return min(ratios) if ratios else None


def _check_shape(picture: np.ndarray) -> tuple[int, int]:
    height, width = picture.shape[:2]
    factor = CHECK_SIDE / max(height, width)
    return max(1, round(height * factor)), max(1, round(width * factor))


def _error(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    return float(np.abs(_normalised(a, mask) - _normalised(b, mask))[mask].mean())


def _lined_up(
    still: np.ndarray, frame: np.ndarray, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray] | None:
    """The still warped onto the frame by a keypoint homography, at `shape`, and the part
    of the frame it covers."""
    cv2 = _cv2()
    target = scaled(frame)
    found = align(features(still), features(target))
    if found is None:
        return None
    source = scaled(still)
    size = (target.shape[1], target.shape[0])
    warped = cv2.warpPerspective(source, found.homography, size)
    inside = cv2.warpPerspective(np.full(source.shape, 255, np.uint8), found.homography, size)
    inside = cv2.erode(inside, np.ones((7, 7), np.uint8))
    small = (shape[1], shape[0])
    covered = cv2.resize(inside, small, interpolation=cv2.INTER_AREA) == 255
    if covered.mean() < 0.2:
        return None
    return cv2.resize(warped, small, interpolation=cv2.INTER_AREA), covered


def read_luma(path: Path) -> np.ndarray | None:
    """A still's pixels in grey, at most SIDE × 4 on a side, or None if not an image."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail((SIDE * 4, SIDE * 4), Image.Resampling.BOX)
            return np.asarray(image.convert("L"))
    except (UnidentifiedImageError, OSError):
        return None


SEEK = 3.0  # s: a wanted frame further ahead than this is reached by seeking, not decoding


def frames_at(path: Path, times: Sequence[float]) -> list[np.ndarray] | None:
    """Luma frames of a video file nearest to each of `times` (in that order); None if the
    file cannot be decoded. An image file gives its picture for every time."""
    picture = read_luma(path)
    if picture is not None:
        return [picture] * len(times)
    import av

    found: dict[float, np.ndarray] = {}
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            for wanted in sorted(set(times)):
                if wanted not in found:
                    found |= _decode_near(container, stream, wanted, set(times) - set(found))
    except (av.FFmpegError, OSError, ValueError, IndexError):
        return None
    if any(t not in found for t in times):
        return None
    return [found[t] for t in times]


def _decode_near(
    container: Any, stream: Any, wanted: float, rest: set[float]
) -> dict[float, np.ndarray]:
    """Seek to the keyframe before `wanted` and decode on: the frame nearest to it, and to
    any of `rest` met within SEEK seconds of it.

    Only the nearest frames are turned grey, by one reformatter: `to_ndarray(format=...)`
    makes a new one for every frame, which took most of a still query's re-check."""
    from av.video.reformatter import VideoReformatter

    base = float(stream.time_base or 0)
    start = stream.start_time or 0
    rate = float(stream.average_rate or 25)
    if base:
        container.seek(start + int(max(0.0, wanted - 0.5) / base), stream=stream, backward=True)
    best: dict[float, tuple[float, Any]] = {}
    targets = sorted(t for t in rest if wanted <= t <= wanted + SEEK)
    for index, frame in enumerate(container.decode(stream)):
        t = float((frame.pts - start) * base) if frame.pts is not None and base else index / rate
        for target in targets:
            gap = abs(t - target)
            if target not in best or gap < best[target][0]:
                best[target] = (gap, frame)
        if t > targets[-1] + 1.0 / rate:
            break
    grey = VideoReformatter()
    return {t: grey.reformat(frame, format="gray").to_ndarray() for t, (_, frame) in best.items()}
