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
any other. They are compared in colour: another take's figure may stand where this
take's stood, as bright but dressed otherwise.

OpenCV is imported on first use: a query that PDQ decides never loads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
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
# ... in colour: JPEG and video keep colour at half resolution, so at a figure's edges it
# is noise (a talking head's slivers, 1% of the frame); a figure that moved is 4% or more
MIN_COLOUR_CHANGED = 0.02
SAME_MOMENT = 0.6  # a copy's error where the asset moves, over the error at other moments
GREY = 2.0  # chroma spread (levels) under which a picture is taken for grey: luma only

# Frames of an asset at given times (seconds; an image asset ignores them), RGB [h, w, 3],
# or None where the asset's file cannot be read. The catalog decodes blobs; the benchmark,
# files.
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


def luma(picture: np.ndarray) -> np.ndarray:
    """The grey of an RGB picture (BT.601 weights); a grey picture as it is."""
    if picture.ndim == 2:
        return picture
    weights = np.array([0.299, 0.587, 0.114], np.float32)
    return (picture.astype(np.float32) @ weights).round().astype(np.uint8)


def _opponent(picture: np.ndarray) -> np.ndarray:
    """Luma and two colour-difference channels (red-green, yellow-blue), float [3, h, w]
    (channels first: per-channel sums and masks stay contiguous)."""
    rgb = picture.astype(np.float32)
    if rgb.ndim == 2:
        return np.stack([rgb, np.zeros_like(rgb), np.zeros_like(rgb)])
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    grey = 0.299 * red + 0.587 * green + 0.114 * blue
    return np.stack([grey, red - green, (red + green) / 2 - blue])


def _is_grey(picture: np.ndarray, mask: np.ndarray) -> bool:
    """Whether a picture holds no colour worth comparing where `mask` (a grey or sepia copy)."""
    chroma = _opponent(picture)[1:, mask]
    return chroma.size == 0 or float(chroma.std(axis=1).max()) < GREY


def _normalised(picture: np.ndarray, mask: np.ndarray, colour: bool = False) -> np.ndarray:
    """Luma with the masked pixels' mean and spread taken out (brightness, contrast); with
    `colour`, two colour channels before it, each less its mean (a colour cast), both over
    their joint spread (a copy's saturation differs: a player's, a filter's)."""
    if not colour:
        values = luma(picture).astype(np.float32)
        inside = values[mask]
        if inside.size == 0:
            return values
        return (values - inside.mean()) / max(float(inside.std()), 1.0) * 40.0
    values = _opponent(picture)
    inside = values[:, mask]
    if inside.shape[1] == 0:
        return values
    values -= inside.mean(axis=1)[:, None, None]
    spread = inside.std(axis=1)
    values[0] *= 40.0 / max(float(spread[0]), 1.0)
    values[1:] *= 40.0 / max(float(np.hypot(spread[1], spread[2])), 1.0)
    return values


def _distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel distance of two normalised pictures: grey difference, or colour distance
    over their channels (first axis)."""
    difference = a - b
    if difference.ndim == 2:
        return np.abs(difference)
    squared = difference[0] * difference[0]
    for channel in difference[1:]:
        squared += channel * channel
    return np.sqrt(squared)


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

    The pixels that tell a moment are those where its frame's luma differs (CHANGE levels)
    from every one of the other moments: the person where only this moment has them.
    There, the still's error against the frame is set over its error against the nearest
    of the others; the best of the frames `near` counts (the stored frame it was placed at
    can be a few frames off the still's). A copy of the moment shows what the frame shows;
    another take of the same place shows the background there, which the other moments
    show too, or its own figure, which may be as bright as this take's but is dressed
    otherwise: unless the still or the frame is grey, the ratio is also taken in colour
    (`_ratio`), and the larger of the two counts.
    The still is first laid over the frame as it is (a JPEG of the whole frame); where the
    static background then does not line up (a screenshot, a crop, a rotation), it is
    lined up by keypoints. None when it cannot be, or nothing is unique to the moment (one
    unchanging view tells nothing).
    """
    return moment_ratios(StillPixels(still), near, others)[0]


class StillPixels:
    """A still compared with many frames of one asset: its keypoints, its scaled picture
    and the frames fitted to the check's size are made once, not once per moment tried.
    Frames are known by identity: the caller keeps them for as long as this lives."""

    def __init__(self, picture: np.ndarray) -> None:
        self.picture = picture
        self._made: dict[tuple[str, int, tuple[int, int] | None], tuple[Any, Any]] = {}

    def _once(
        self, what: str, frame: np.ndarray, shape: tuple[int, int] | None, make: Callable[[], Any]
    ) -> Any:
        key = (what, id(frame), shape)
        if key not in self._made:
            self._made[key] = (frame, make())  # the frame is held: its id stays its own
        return self._made[key][1]

    def fit(self, frame: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        """`frame` (or the still itself) at `shape`."""
        return self._once("fit", frame, shape, lambda: _fit(frame, shape))

    def features(self, frame: np.ndarray) -> Features:
        """Keypoints of `frame` (or of the still itself) in grey, at SIDE."""
        return self._once("features", frame, None, lambda: features(scaled(luma(frame))))

    def scaled(self) -> np.ndarray:
        """The still at SIDE, in colour."""
        return self._once("scaled", self.picture, None, lambda: scaled(self.picture))


def moment_ratios(
    still: StillPixels,
    near: Sequence[np.ndarray],
    others: Sequence[np.ndarray],
    more: Sequence[np.ndarray] = (),
) -> tuple[float | None, float | None]:
    """`moment_ratio` against `others`, and against `others` and `more` together, the still
    lined up on the frame once for both."""
    if not others or not near:
        return None, None
    shape = _check_shape(near[0])
    middle = still.fit(near[len(near) // 2], shape)
    theirs = [still.fit(other, shape) for other in others]
    whole = np.ones(shape, dtype=bool)
    static = whole.copy()
    for there in theirs:
        static &= np.abs(luma(middle).astype(np.int16) - luma(there).astype(np.int16)) <= CHANGE
    laid = still.fit(still.picture, shape)
    covered = whole
    if not static.any() or _error(laid, middle, static) > LINED_UP:
        lined = _lined_up(still, near[len(near) // 2], shape)
        if lined is None:
            return None, None
        laid, covered = lined
    near_fitted = [still.fit(frame, shape) for frame in near]
    colour = not (_is_grey(laid, covered) or _is_grey(middle, covered))

    def ratio(against: list[np.ndarray]) -> float | None:
        ratios = [_ratio(laid, near_fitted, against, covered, colour=False)]
        if colour:
            ratios.append(_ratio(laid, near_fitted, against, covered, colour=True))
        found = [r for r in ratios if r is not None]
        return max(found) if found else None

    plain = ratio(theirs)
    return plain, (ratio(theirs + [still.fit(other, shape) for other in more]) if more else plain)


def _ratio(
    laid: np.ndarray,
    near: Sequence[np.ndarray],
    others: Sequence[np.ndarray],
    covered: np.ndarray,
    colour: bool,
) -> float | None:
    """moment_ratio on pictures already lined up at one shape: in grey (pixels unique by
    luma, luma errors), or in colour (pixels unique by colour, errors of colour alone:
    another take's figure as bright as this one's, dressed otherwise)."""
    mine = _normalised(laid, covered, colour)
    others_n = [_normalised(there, covered, colour) for there in others]
    ratios = []
    for frame in near:
        here = _normalised(frame, covered, colour)
        unique = covered.copy()
        for there in others_n:
            unique &= _distance(here, there) > CHANGE
        unique = _shrunk(unique)
        if colour and unique.mean() < MIN_COLOUR_CHANGED:
            return None  # a frame it may be tells nothing in colour: grey decides
        if unique.mean() < MIN_CHANGED:
            continue
        error_here = float(_chroma_distance(mine, here, colour)[unique].mean())
        error_there = min(
            float(_chroma_distance(mine, there, colour)[unique].mean()) for there in others_n
        )
        ratios.append(error_here / max(error_there, 1e-3))
    return min(ratios) if ratios else None


def _chroma_distance(a: np.ndarray, b: np.ndarray, colour: bool) -> np.ndarray:
    """The grey difference, or with `colour` the distance in the colour channels alone."""
    return _distance(a[1:], b[1:]) if colour else _distance(a, b)


def _check_shape(picture: np.ndarray) -> tuple[int, int]:
    height, width = picture.shape[:2]
    factor = CHECK_SIDE / max(height, width)
    return max(1, round(height * factor)), max(1, round(width * factor))


def _error(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """Mean grey difference of two pictures where `mask`, brightness and contrast aside."""
    return float(np.abs(_normalised(a, mask) - _normalised(b, mask))[mask].mean())


def _lined_up(
    still: StillPixels, frame: np.ndarray, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray] | None:
    """The still warped onto the frame by a keypoint homography, at `shape`, and the part
    of the frame it covers (keypoints are found in grey; the still keeps its colour)."""
    cv2 = _cv2()
    target = still.features(frame)
    found = align(still.features(still.picture), target)
    if found is None:
        return None
    source = still.scaled()
    size = (target.shape[1], target.shape[0])
    warped = cv2.warpPerspective(source, found.homography, size)
    inside = cv2.warpPerspective(np.full(source.shape[:2], 255, np.uint8), found.homography, size)
    inside = cv2.erode(inside, np.ones((7, 7), np.uint8))
    small = (shape[1], shape[0])
    covered = cv2.resize(inside, small, interpolation=cv2.INTER_AREA) == 255
    if covered.mean() < 0.2:
        return None
    return cv2.resize(warped, small, interpolation=cv2.INTER_AREA), covered


def read_picture(path: Path) -> np.ndarray | None:
    """A still's pixels in RGB, at most SIDE × 4 on a side, or None if not an image."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail((SIDE * 4, SIDE * 4), Image.Resampling.BOX)
            return np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError):
        return None


SEEK = 3.0  # s: a wanted frame further ahead than this is reached by seeking, not decoding
# ... unless it is likely in the group of pictures being decoded: seeking there would only
# start again from the keyframe already passed (footage encoded with keyframes 4-8 s apart
# was decoded up to four times over, for a video's pixel check).


def frames_at(
    path: Path, times: Sequence[float], *, video: bool = False
) -> list[np.ndarray] | None:
    """RGB frames of a video file nearest to each of `times` (in that order); None if the
    file cannot be decoded. An image file gives its picture for every time.

    `video`: the file is known to be one (its probe said so), so it is not first tried as
    a picture, which loads every format plugin Pillow has (0.02 s of a still query)."""
    picture = None if video else read_picture(path)
    if picture is not None:
        return [picture] * len(times)
    import av

    try:
        with av.open(str(path)) as container:
            found = _decode_at(container, container.streams.video[0], sorted(set(times)))
    except (av.FFmpegError, OSError, ValueError, IndexError):
        return None
    if any(t not in found for t in times):
        return None
    return [found[t] for t in times]


def _time(frame: Any, index: int, origin: int, base: float, rate: float) -> float:
    """A decoded frame's time in the stream, by its timestamp (by its number if none)."""
    return float((frame.pts - origin) * base) if frame.pts is not None and base else index / rate


def _decode_at(container: Any, stream: Any, wanted: list[float]) -> dict[float, np.ndarray]:
    """The frame nearest to each of the sorted `wanted` times, in one pass forward: decoding
    on to the next time where it is near (within SEEK, or likely within the group of
    pictures being decoded: no longer after its keyframe than the longest stretch seen
    without one), seeking to the keyframe before it otherwise.

    Only the nearest frames are turned into RGB, by one reformatter: `to_ndarray(format=...)`
    makes a new one for every frame, which took most of a still query's re-check."""
    from av.video.reformatter import VideoReformatter

    base = float(stream.time_base or 0)
    origin = stream.start_time or 0
    rate = float(stream.average_rate or 25)
    best: dict[float, tuple[float, Any]] = {}
    decoding: Iterator[tuple[int, Any]] | None = None
    position = key = -np.inf  # the last decoded frame's time, and the last keyframe's
    stretch = 0.0  # the longest time decoded past a keyframe without meeting another
    settled = 0  # the wanted times before this one have met their nearest frame
    frame = None
    while settled < len(wanted):
        target = wanted[settled]
        if decoding is None or (target - position > SEEK and target - 0.5 >= key + stretch):
            if base:
                seek = origin + int(max(0.0, target - 0.5) / base)
                container.seek(seek, stream=stream, backward=True)
            decoding, key = enumerate(container.decode(stream)), -np.inf
        for index, frame in decoding:
            t = _time(frame, index, origin, base, rate)
            if frame.key_frame:
                key = t
            position = t
            if key > -np.inf:  # the first frame after a seek is its keyframe
                stretch = max(stretch, t - key)
            for later in wanted[settled:]:
                if later - t > SEEK:
                    break  # a nearer frame comes before it is settled
                if later not in best or abs(t - later) < best[later][0]:
                    best[later] = (abs(t - later), frame)
            before = settled
            while settled < len(wanted) and t > wanted[settled] + 1.0 / rate:
                settled += 1
            if settled != before:
                break
        else:  # the end of the file: its last frame is the nearest to any time past it
            for later in wanted[settled:]:
                if frame is not None and later not in best:
                    best[later] = (abs(position - later), frame)
            break
    rgb = VideoReformatter()
    return {t: rgb.reformat(frame, format="rgb24").to_ndarray() for t, (_, frame) in best.items()}
