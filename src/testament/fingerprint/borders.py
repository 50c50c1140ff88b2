"""Finding the picture inside a frame: bars, static surroundings, screenshot chrome.

Plain PDQ hashes the whole frame, so letterbox bars, a phone's interface around a screen
recording, or a player window around a screenshot change every hash. These functions find
the region that holds the footage, as a pixel box (left, top, right, bottom) on a greyscale
picture, so that it alone is hashed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

PixelBox = tuple[int, int, int, int]

UNIFORM_STD = 6.0  # a row or column of bar/chrome varies less than this (luma levels)
# A video's letterbox bars are a flat fill: black ones spread up to UNIFORM_STD levels once
# compressed, other colours hardly at all; mid-grey low-texture footage (asphalt, sky,
# smoke: a spread of 3-6 levels) would otherwise be cut away as bars.
BAR_STD = 2.5
DARK = 48  # luma below which a flat row or column may be a compressed black bar


def _bar_like(std: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Which rows (or columns) of each frame could be letterbox bars."""
    return (std <= BAR_STD) | ((std <= UNIFORM_STD) & (mean <= DARK))


FLAT_FILL = 2.0  # interface fills are flat to within this; even smooth footage is not
MOVING_RANGE = 24  # a pixel whose luma spans more than this over time shows footage
MIN_SIDE = 0.2  # a detected picture spans at least this share of each side
WHOLE = 0.97  # a box covering this much of both sides is treated as the whole frame


def _is_whole(box: PixelBox, width: int, height: int) -> bool:
    left, top, right, bottom = box
    return (right - left) >= WHOLE * width and (bottom - top) >= WHOLE * height


def _inner_box(box: PixelBox, width: int, height: int) -> PixelBox | None:
    """`box` when it is a real region inside the frame: not the whole frame, not a sliver."""
    if _is_whole(box, width, height):
        return None
    if (box[2] - box[0]) < MIN_SIDE * width or (box[3] - box[1]) < MIN_SIDE * height:
        return None
    return box


def _span(mask: np.ndarray, min_share: float) -> tuple[int, int] | None:
    """First and one-past-last index where `mask` (a share per row/column) passes."""
    hits = np.flatnonzero(mask >= min_share)
    if len(hits) == 0:
        return None
    return int(hits[0]), int(hits[-1]) + 1


def _picture_span(share: np.ndarray, min_share: float, gap: int) -> tuple[int, int] | None:
    """The longest stretch where `share` passes, across holes up to `gap` long.

    A bar may light up for a moment at its far edge (a bright flat scene reaching the
    frame's side in one shot of a compilation); a picture is one stretch, holes and all.
    """
    hits = np.flatnonzero(share >= min_share)
    if len(hits) == 0:
        return None
    breaks = np.flatnonzero(np.diff(hits) > gap + 1)
    starts = np.concatenate([[hits[0]], hits[breaks + 1]])
    ends = np.concatenate([hits[breaks], [hits[-1]]]) + 1
    longest = int(np.argmax(ends - starts))
    return int(starts[longest]), int(ends[longest])


def _longest_run(share: np.ndarray, min_share: float) -> tuple[int, int] | None:
    """The longest stretch where `share` passes."""
    passing = share >= min_share
    best: tuple[int, int] | None = None
    start = None
    for i, ok in enumerate([*passing.tolist(), False]):
        if ok and start is None:
            start = i
        elif not ok and start is not None:
            if best is None or i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    return best


def trim_uniform(luma: np.ndarray) -> PixelBox:
    """Drop edge rows and columns that are flat (bars, blank chrome), keeping the rest."""
    height, width = luma.shape
    pixels = luma.astype(np.float32)
    busy_rows = pixels.std(axis=1) > UNIFORM_STD
    busy_cols = pixels.std(axis=0) > UNIFORM_STD
    rows = _span(busy_rows.astype(np.float32), 1.0)
    cols = _span(busy_cols.astype(np.float32), 1.0)
    if rows is None or cols is None:
        return (0, 0, width, height)
    return (cols[0], rows[0], cols[1], rows[1])


def moving_box(thumbs: np.ndarray) -> PixelBox | None:
    """The region that changes over time in a stack of frames [n, h, w]; None if whole.

    Letterbox bars, a phone's interface and a player's window stay still while the footage
    moves. Rows and columns count as footage when a tenth of their pixels move, so a
    ticking clock or a blinking cursor in the interface does not widen the box.
    """
    n, height, width = thumbs.shape
    if n < 3:
        return None
    spread = thumbs.max(axis=0).astype(np.int16) - thumbs.min(axis=0)
    moving = spread > MOVING_RANGE
    rows = _span(moving.mean(axis=1), 0.1)
    cols = _span(moving.mean(axis=0), 0.1)
    if rows is None or cols is None:
        return None
    return _inner_box((cols[0], rows[0], cols[1], rows[1]), width, height)


def textured_box(luma: np.ndarray, block: int = 8) -> PixelBox | None:
    """The largest mostly-textured rectangle of a still: the picture inside a screenshot.

    Window chrome, phone interface and page background are flat fills with sparse text; a
    photograph or video frame has gradient or grain almost everywhere. Blocks are marked
    textured by their spread, then the longest run of rows and of columns where most
    blocks are textured is kept (a control bar's edges alone do not extend it).
    """
    height, width = luma.shape
    bh, bw = height // block, width // block
    if bh < 4 or bw < 4:
        return None
    cells = luma[: bh * block, : bw * block].reshape(bh, block, bw, block).astype(np.float32)
    textured = cells.std(axis=(1, 3)) > FLAT_FILL
    rows, cols = (0, bh), (0, bw)
    # Alternate rows and columns, each inside the other's last estimate, so chrome beside
    # the picture stops diluting the share once it has been cut off.
    # A third of the blocks suffices: a flat patch inside the footage (a wall, a sign) must
    # not split it, while chrome rows with a line of text stay well below.
    for share in (0.35, 0.35):
        inner = textured[rows[0] : rows[1], cols[0] : cols[1]]
        found_rows = _longest_run(inner.mean(axis=1), share)
        if found_rows is None:
            return None
        rows = (rows[0] + found_rows[0], rows[0] + found_rows[1])
        inner = textured[rows[0] : rows[1], cols[0] : cols[1]]
        found_cols = _longest_run(inner.mean(axis=0), share)
        if found_cols is None:
            return None
        cols = (cols[0] + found_cols[0], cols[0] + found_cols[1])
    box = (
        cols[0] * block,
        rows[0] * block,
        min(width, cols[1] * block),
        min(height, rows[1] * block),
    )
    return _inner_box(box, width, height)


GRAIN_STEP = 2  # luma levels between neighbours that a picture's grain shows, a fill not
GRAIN_SHARE = 0.1  # of a row's (column's) pixels, where the picture runs


def grain_box(luma: np.ndarray) -> PixelBox | None:
    """The rectangle of a still where its pixels have grain: a dark picture in chrome.

    A night frame or asphalt inside a player or a page is too flat for its blocks to count
    as textured and too close to dark chrome for its borders to be edges, but its sensor
    grain sets neighbouring pixels 2 levels or more apart along 40-55% of each row and
    column, where a fill has none (1-3%, its text). The longest run of such rows, then of
    such columns inside it, to the pixel. None when that is the whole image or too small.
    """
    pixels = luma.astype(np.int16)
    height, width = pixels.shape
    grain = np.zeros((height, width), dtype=bool)
    grain[:, 1:] |= np.abs(np.diff(pixels, axis=1)) >= GRAIN_STEP
    grain[1:, :] |= np.abs(np.diff(pixels, axis=0)) >= GRAIN_STEP
    rows = _longest_run(grain.mean(axis=1), GRAIN_SHARE)
    if rows is None:
        return None
    cols = _longest_run(grain[rows[0] : rows[1]].mean(axis=0), GRAIN_SHARE)
    if cols is None:
        return None
    return _inner_box((cols[0], rows[0], cols[1], rows[1]), width, height)


INNER_SIDE = 0.894  # the central region kept as a second hash: 80% of the area


def central(luma: np.ndarray, side: float = INNER_SIDE) -> np.ndarray:
    """The centred region spanning `side` of each dimension."""
    height, width = luma.shape
    dy, dx = round(height * (1 - side) / 2), round(width * (1 - side) / 2)
    return luma[dy : height - dy, dx : width - dx]


def crop(luma: np.ndarray, box: PixelBox | None) -> np.ndarray:
    if box is None:
        return luma
    left, top, right, bottom = box
    return luma[top:bottom, left:right]


def trim_fill(luma: np.ndarray) -> PixelBox:
    """`trim_uniform`, but a side is cut only as far as it is one flat fill (chrome, a
    bar). A dark or low-texture picture's edge rows are flat too (a night room's floor, a
    car park's asphalt: 3-5 levels, against 0.0-0.8 for a screenshot's plain chrome), and
    trimming them hashed another picture than the stored frame."""
    return _one_fill(luma[None], np.ones(1), trim_uniform(luma))


def frame_weights(times: np.ndarray | list[float]) -> np.ndarray:
    """The share of a video's time each kept frame stands for (until the next, at most 1 s).

    Shares of time, unlike shares of kept frames, do not depend on how densely a copy was
    sampled, so a video and its copies decide the same picture region.
    """
    times = np.asarray(times, dtype=np.float64)
    if len(times) < 2:
        return np.ones(len(times))
    gaps = np.diff(times)
    stands = np.clip(np.append(gaps, np.median(gaps)), 0.0, 1.0)
    total = stands.sum()
    return stands / total if total > 0 else np.full(len(times), 1 / len(times))


BAR_FLICKER = 0.4  # luma levels: a bar's pixels change less than this between kept frames
FLICKER_FRAMES = 3  # kept frames needed before flicker over time is told from a still shot


def _unchanging_lines(
    still_rows: np.ndarray, still_cols: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Which rows and columns of the frames hold still most of the time, as bars do, from
    whether each held still since the frame before (`_line_stats`).

    A bar is a fill that the encoder reproduces exactly in every frame (its pixels change
    0.0-0.2 levels between kept frames on the benchmark's letterboxed copies). A dark
    floor, a night sky or asphalt can be as flat within each frame (a spread of 1.5-3
    levels), but sensor noise makes it flicker (0.6-1.9 levels): it is footage, and
    cutting it away (a car park cropped to the half its car crossed) hashes another picture
    than a copy's. Still for half the video's time, by the frames' weights: a brief wide
    scene over a bar does not make it footage.
    """
    if len(still_rows) + 1 < FLICKER_FRAMES:
        return np.ones(still_rows.shape[1], dtype=bool), np.ones(still_cols.shape[1], dtype=bool)
    share = weights[:-1] / max(float(weights[:-1].sum()), 1e-9)
    return share @ still_rows >= 0.5, share @ still_cols >= 0.5


STATS_CHUNK = 64  # frames whose statistics are taken at once (in float32: 6.5 MB at 160 px)


@dataclass(frozen=True)
class LineStats:
    """Per frame, the spread and mean of each row and column, and whether each row and
    column held still (within BAR_FLICKER) since the frame before."""

    row_std: np.ndarray
    row_mean: np.ndarray
    col_std: np.ndarray
    col_mean: np.ndarray
    still_rows: np.ndarray
    still_cols: np.ndarray


def _line_stats(thumbs: np.ndarray) -> LineStats:
    """`LineStats` of frames [n, h, w], a chunk at a time: the same float32 arithmetic as
    on the whole stack, without holding it (or its differences) in float at once."""
    parts = []
    for start in range(0, len(thumbs), STATS_CHUNK):
        # One frame more than the chunk, for its last difference.
        pixels = thumbs[start : start + STATS_CHUNK + 1].astype(np.float32)
        own = pixels[:STATS_CHUNK]
        change = np.abs(np.diff(pixels, axis=0))
        parts.append(
            (
                own.std(axis=2),
                own.mean(axis=2),
                own.std(axis=1),
                own.mean(axis=1),
                change.mean(axis=2) <= BAR_FLICKER,
                change.mean(axis=1) <= BAR_FLICKER,
            )
        )
    return LineStats(*(np.concatenate(column) for column in zip(*parts, strict=True)))


BAR_FILL = 1.0  # luma levels: a bar is one fill; its pixels spread less than this in all
RINGING = 2  # lines of a bar next to the picture that the encoder may smear


def _fill_extent(lines: np.ndarray, cut: int, weights: np.ndarray) -> int:
    """How many of the first `cut` lines of frames [n, lines, length] (from the frame's
    edge) are bar: all of them when they are one flat fill for half the video's time (the
    RINGING lines next to the picture let off), else those before the first line from
    which they no longer are."""
    if cut <= RINGING:
        return cut
    strip = lines[:, :cut]
    count = np.arange(1, cut + 1) * strip.shape[2]
    flat = np.empty((len(strip), cut), dtype=bool)
    for start in range(0, len(strip), STATS_CHUNK):
        part = strip[start : start + STATS_CHUNK].astype(np.float64)
        total = np.cumsum(part.sum(axis=2), axis=1)
        squares = np.cumsum((part**2).sum(axis=2), axis=1)
        # spread[f, k]: how far the pixels of lines 0..k of frame f spread about their mean
        spread = np.sqrt(np.maximum(squares / count - (total / count) ** 2, 0.0))
        flat[start : start + STATS_CHUNK] = spread <= BAR_FILL
    one_fill = weights @ flat >= 0.5
    if one_fill[cut - RINGING - 1]:
        return cut
    return int(np.flatnonzero(~one_fill)[0])


def _one_fill(pixels: np.ndarray, weights: np.ndarray, box: PixelBox) -> PixelBox:
    """The bars of `box` cut back to what is one flat fill in the frames [n, h, w].

    A letterbox bar is a fill the encoder reproduces exactly (its pixels, but for the
    lines it smears next to the picture, spread 0.0 levels on the benchmark's copies).
    Re-encoded at CRF 23, asphalt loses its sensor noise and its columns become as flat
    and still as a bar's, one by one; but together they spread 2.4-2.9 levels (grain, bay
    lines), and the copies of a car park were cut to the half its car crossed (while the
    original, whose noise flickers, is stored whole). A bar beside such footage (a
    letterboxed car park) ends where the fill does. Judged frame by frame, for half the
    video's time, as the bars themselves are.
    """
    _, height, width = pixels.shape
    left, top, right, bottom = box
    columns = pixels.transpose(0, 2, 1)
    left = _fill_extent(columns, left, weights)
    right = width - _fill_extent(columns[:, ::-1], width - right, weights)
    top = _fill_extent(pixels, top, weights)
    bottom = height - _fill_extent(pixels[:, ::-1], height - bottom, weights)
    return (left, top, right, bottom)


def video_box(thumbs: np.ndarray, times: np.ndarray | list[float]) -> PixelBox | None:
    """Where the footage is in a video's frames [n, h, w] kept at `times`; None when whole.

    The moving region wins when a window frames it (`framed_box`); otherwise rows and
    columns that are flat nearly all the time (letterbox and pillarbox bars) are dropped.
    """
    _, height, width = thumbs.shape
    weights = frame_weights(times)
    stats = _line_stats(thumbs)
    still_rows, still_cols = _unchanging_lines(stats.still_rows, stats.still_cols, weights)
    busy_rows = weights @ ~(_bar_like(stats.row_std, stats.row_mean) & still_rows)
    busy_cols = weights @ ~(_bar_like(stats.col_std, stats.col_mean) & still_cols)
    rows = _picture_span(busy_rows, 0.05, round(FRAME_GAP * height))
    cols = _picture_span(busy_cols, 0.05, round(FRAME_GAP * width))
    bars = (0, 0, width, height)
    if rows is not None and cols is not None:
        bars = _one_fill(thumbs, weights, (cols[0], rows[0], cols[1], rows[1]))
    moving = moving_box(thumbs)
    if moving is not None:
        framed = framed_box(thumbs[sampled(len(thumbs))], moving, bars)
        if framed is not None and framed != bars:
            return None if _is_whole(framed, width, height) else framed
    if _is_whole(bars, width, height):
        return None
    return bars


EDGE_STEP = 12  # luma difference between neighbours that counts as an edge pixel
EDGE_LINES = 4  # strongest candidate lines kept per direction
EDGE_BOXES = 6  # best-supported candidate boxes returned
BUSY_STD = 4.0  # a candidate box must hold a picture, not a flat fill


def _peaks(score: np.ndarray, count: int, floor: float) -> list[int]:
    """Positions of the `count` strongest local maxima of a profile above `floor`."""
    order = np.argsort(-score, kind="stable")
    picked: list[int] = []
    for i in order.tolist():
        if score[i] < floor or len(picked) >= count:
            break
        if all(abs(i - p) > 3 for p in picked):
            picked.append(i)
    return picked


def edge_boxes(luma: np.ndarray) -> list[PixelBox]:
    """Candidate picture boxes of a still bounded by long straight edges.

    A picture pasted in a player, a page or a phone interface has straight borders: rows
    and columns where neighbouring pixels differ along most of the border's length. The
    strongest lines of each direction (plus the image sides) are paired into boxes and
    the boxes best supported along all four sides are returned.
    """
    pixels = luma.astype(np.int16)
    height, width = pixels.shape
    # Edge between column x-1 and x is at x; between row y-1 and y is at y.
    vertical = np.zeros((height, width + 1), dtype=bool)
    vertical[:, 1:width] = np.abs(np.diff(pixels, axis=1)) > EDGE_STEP
    horizontal = np.zeros((height + 1, width), dtype=bool)
    horizontal[1:height, :] = np.abs(np.diff(pixels, axis=0)) > EDGE_STEP
    # The image's own sides may bound the picture, but count as half an edge, so a box
    # drawn by real edges inside the image ranks first.
    vertical[::2, 0] = vertical[::2, width] = True
    horizontal[0, ::2] = horizontal[height, ::2] = True
    cols = sorted({0, width, *_peaks(vertical.mean(axis=0), EDGE_LINES, 0.1)})
    rows = sorted({0, height, *_peaks(horizontal.mean(axis=1), EDGE_LINES, 0.1)})
    v_cum = np.vstack([np.zeros((1, width + 1)), np.cumsum(vertical, axis=0)])
    h_cum = np.hstack([np.zeros((height + 1, 1)), np.cumsum(horizontal, axis=1)])
    scored: list[tuple[float, PixelBox]] = []
    for i, left in enumerate(cols):
        for right in cols[i + 1 :]:
            if right - left < MIN_SIDE * width:
                continue
            for j, top in enumerate(rows):
                for bottom in rows[j + 1 :]:
                    if bottom - top < MIN_SIDE * height:
                        continue
                    box = (left, top, right, bottom)
                    if _is_whole(box, width, height):
                        continue
                    span = bottom - top
                    sides = (
                        (v_cum[bottom, left] - v_cum[top, left]) / span,
                        (v_cum[bottom, right] - v_cum[top, right]) / span,
                        (h_cum[top, right] - h_cum[top, left]) / (right - left),
                        (h_cum[bottom, right] - h_cum[bottom, left]) / (right - left),
                    )
                    support = sum(sides) / 4
                    if min(sides) >= 0.45 and pixels[top:bottom, left:right].std() > BUSY_STD:
                        scored.append((support, box))
    scored.sort(key=lambda item: -item[0])
    return [box for _, box in scored[:EDGE_BOXES]]


FRAME_EDGE = 0.5  # share of a side's length along which a window's border shows an edge
FRAME_REACH = 3  # pixels inside the moving region where its window border may still lie
FRAME_GAP = 0.1  # share of the frame between the moving region and its window's border
SNAP = 2  # pixels
PLAIN_STRIP = 3  # pixels outside a window's border that must be a plain fill (4 in 5
# of them within UNIFORM_STD of their median)


def _plain(strip: np.ndarray) -> bool:
    return strip.size == 0 or (np.abs(strip - np.median(strip)) <= UNIFORM_STD).mean() >= 0.8


def _window_side(
    support: np.ndarray, outside: Callable[[int], np.ndarray], inner: int, outer: int
) -> int | None:
    """The first line from `inner` out to `outer` that has an edge and a plain outside."""
    step = 1 if outer >= inner else -1
    for at in range(inner, outer + step, step):
        if support[at] >= FRAME_EDGE and _plain(outside(at)):
            return at
    return None


def _median_frame(frames: np.ndarray) -> np.ndarray:
    """The per-pixel median of frames [n, h, w] (float32), taken along rows of pixels laid
    out contiguously: several times faster than across the stack, and the same values."""
    n, height, width = frames.shape
    along = np.ascontiguousarray(frames.reshape(n, height * width).T)
    return np.median(along, axis=1).astype(np.float32).reshape(height, width)


def framed_box(frames: np.ndarray, moving: PixelBox, bounds: PixelBox) -> PixelBox | None:
    """The window that holds the moving region, bounded by straight edges; None if none.

    A screen recording or a player shows its footage in a window: each side of the region
    that moves lies close to the frame's own bounds (the bars) or to a border of the
    window: a straight edge of the frames [n, h, w] (along most of the side, on average
    over the frames) with a plain fill beyond it in their median (a bar, a page, a
    phone's background); a car crossing a car park leaves edges only where it is at each
    moment. A person walking through a room filmed from a fixed camera also leaves a
    moving region in a still surround, but nothing frames it: the room goes on past any
    straight line in it (a wall's edge, a tiled floor's) with its texture, and its
    footage is the whole frame. Each side is searched outwards from a few pixels inside
    the moving region, a tenth of the frame at most.
    """
    stack = frames.astype(np.int16)  # differences of luma levels, exact
    pixels = _median_frame(frames)
    height, width = pixels.shape
    left, top, right, bottom = moving
    b_left, b_top, b_right, b_bottom = bounds
    rows = np.zeros(height + 1)
    cols = np.zeros(width + 1)
    rows[1:height] = (np.abs(np.diff(stack[:, :, left:right], axis=1)) > EDGE_STEP).mean(
        axis=(0, 2)
    )
    cols[1:width] = (np.abs(np.diff(stack[:, top:bottom], axis=2)) > EDGE_STEP).mean(axis=(0, 1))
    rows[b_top] = rows[b_bottom] = cols[b_left] = cols[b_right] = 1.0
    dx, dy = round(FRAME_GAP * width), round(FRAME_GAP * height)
    strip = PLAIN_STRIP
    found = (
        _window_side(
            cols,
            lambda x: pixels[top:bottom, max(b_left, x - strip) : x],
            min(left + FRAME_REACH, right),
            max(left - dx, b_left),
        ),
        _window_side(
            rows,
            lambda y: pixels[max(b_top, y - strip) : y, left:right],
            min(top + FRAME_REACH, bottom),
            max(top - dy, b_top),
        ),
        _window_side(
            cols,
            lambda x: pixels[top:bottom, x : min(b_right, x + strip)],
            max(right - FRAME_REACH, left),
            min(right + dx, b_right),
        ),
        _window_side(
            rows,
            lambda y: pixels[y : min(b_bottom, y + strip), left:right],
            max(bottom - FRAME_REACH, top),
            min(bottom + dy, b_bottom),
        ),
    )
    if any(side is None for side in found):
        return None
    # A border a pixel or two from the bars is theirs, blurred by the thumbnail's scaling.
    return tuple(  # type: ignore[return-value]
        b if abs(side - b) <= SNAP else int(side)  # type: ignore[operator]
        for side, b in zip(found, bounds, strict=True)
    )


STATIC_STD = 3.0  # a pixel whose luma varies less than this over time is static
STATIC_ROW = 0.9  # a row of an overlay band is at least this share static
BAND_MIN, BAND_MAX = 0.04, 0.35  # an overlay band spans this share of the height
BAND_FRAMES = 8  # kept frames needed before a static band can be told from a still shot
MASK_FRAMES = 256  # kept frames sampled (evenly) to tell static pixels


def sampled(n: int) -> np.ndarray:
    """Indices of at most MASK_FRAMES of n frames, evenly spread (bounded memory and time)."""
    return np.linspace(0, n - 1, min(n, MASK_FRAMES)).round().astype(np.int64)


def static_band(thumbs: np.ndarray, box: PixelBox | None) -> int | None:
    """First row of a static overlay band across the bottom of a video (a news banner).

    The band's rows stay still in nearly every pixel while the picture above moves; it is
    textured (text, graphics), so it is not a bar. Looked for within the picture's columns
    over the whole height (the picture region may already stop above the band). Where the
    picture does not move either, or too few frames were kept to tell (a short still
    shot), the band is told by its top edge instead (`_edge_band`). None when there is no
    such band.
    """
    n, height, width = thumbs.shape
    left, _, right, _ = box if box is not None else (0, 0, width, height)
    pixels = thumbs[sampled(n), :, left:right].astype(np.float32)
    static = (pixels.std(axis=0) < STATIC_STD).mean(axis=1)
    top = height
    while top > 0 and static[top - 1] >= STATIC_ROW:
        top -= 1
    if n < BAND_FRAMES or top == 0 or np.median(static[:top]) >= 0.5:
        # Nothing to tell the band by its stillness: the picture above does not move.
        top = _edge_band(pixels.mean(axis=0))
        if top is None:
            return None
    band = height - top
    if not BAND_MIN * height <= band <= BAND_MAX * height:
        return None
    if pixels[:, top:].mean(axis=0).std() <= UNIFORM_STD:
        return None  # a flat bar, handled by the picture region
    return top


BAND_EDGE = 0.9  # share of the width along which a still band's top edge must show


def _edge_band(mean: np.ndarray) -> int | None:
    """First row of a band pasted across the bottom of a still picture [h, w], or None.

    In a still shot (a night room, asphalt: nothing moves but a dim figure) every row is
    as still as a banner's, so the band is told by its top edge: a straight line across
    (nearly) the whole width, as a scene seldom draws one (the floor line of the
    benchmark's rooms shows along 78-82% of the width, a pasted ticker's top along 99-100%).
    The highest such line in the bottom BAND_MAX of the picture is taken.
    """
    height = mean.shape[0]
    edge = (np.abs(np.diff(mean, axis=0)) > EDGE_STEP).mean(axis=1)  # [y]: rows y and y+1
    low, high = int(height * (1 - BAND_MAX)), int(height * (1 - BAND_MIN))
    lines = [y for y in range(low, min(high, len(edge))) if edge[y] >= BAND_EDGE]
    if not lines or np.median(edge[: lines[0]]) >= BAND_EDGE / 2:
        return None  # edges everywhere (fine texture): no line stands out as a band's
    return lines[0] + 1


def fill_band(luma: np.ndarray, top: int) -> np.ndarray:
    """The picture with rows from `top` down replaced by the last row above them."""
    filled = luma.copy()
    filled[top:] = luma[top - 1]
    return filled


STATIC_SHARE = (0.005, 0.6)  # a static overlay covers this share of a moving picture


def static_mask(pictures: np.ndarray) -> np.ndarray | None:
    """Pixels that stay still over a moving video [n, h, w] (a logo, a caption); or None.

    None when there are too few frames to tell, when almost nothing is still, or when most
    of the picture is still (a still shot, a slideshow: nothing to tell an overlay by).
    """
    n = len(pictures)
    if n < BAND_FRAMES:
        return None
    mask = pictures[sampled(n)].astype(np.float32).std(axis=0) < STATIC_STD
    if not STATIC_SHARE[0] <= mask.mean() <= STATIC_SHARE[1]:
        return None
    return mask


class RowFill:
    """Fills masked pixels from the nearest unmasked ones left and right in their row.

    The neighbours and weights are worked out once per mask, so filling a frame is one
    gather (tens of microseconds). Rows with no unmasked pixel are left as they are.
    """

    def __init__(self, mask: np.ndarray) -> None:
        columns = np.arange(mask.shape[1])
        rows_at, cols_at, left_at, right_at, weight = [], [], [], [], []
        for y in np.flatnonzero(mask.any(axis=1) & ~mask.all(axis=1)):
            free = np.flatnonzero(~mask[y])
            holes = np.flatnonzero(mask[y])
            at = np.searchsorted(free, holes)
            # Past the last free pixel (or before the first) both neighbours are that one.
            right = np.minimum(at, len(free) - 1)
            left = np.maximum(at - 1, 0)
            span = free[right] - free[left]
            share = np.where(span > 0, (columns[holes] - free[left]) / np.maximum(span, 1), 0.0)
            rows_at.append(np.full(len(holes), y))
            cols_at.append(holes)
            left_at.append(free[left])
            right_at.append(free[right])
            weight.append(share)
        empty = np.zeros(0, dtype=np.int64)
        self.rows = np.concatenate(rows_at) if rows_at else empty
        self.cols = np.concatenate(cols_at) if cols_at else empty
        self.left = np.concatenate(left_at) if left_at else empty
        self.right = np.concatenate(right_at) if right_at else empty
        self.weight = np.concatenate(weight).astype(np.float32) if weight else np.zeros(0)

    def __call__(self, luma: np.ndarray) -> np.ndarray:
        out = luma.copy()
        a = luma[self.rows, self.left].astype(np.float32)
        b = luma[self.rows, self.right].astype(np.float32)
        out[self.rows, self.cols] = np.round(a + (b - a) * self.weight).astype(luma.dtype)
        return out
