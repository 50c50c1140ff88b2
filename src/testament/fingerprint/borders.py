"""Finding the picture inside a frame: bars, static surroundings, screenshot chrome.

Plain PDQ hashes the whole frame, so letterbox bars, a phone's interface around a screen
recording, or a player window around a screenshot change every hash. These functions find
the region that holds the footage, as a pixel box (left, top, right, bottom) on a greyscale
picture, so that it alone is hashed.
"""

from __future__ import annotations

import numpy as np

PixelBox = tuple[int, int, int, int]

UNIFORM_STD = 6.0  # a row or column of bar/chrome varies less than this (luma levels)
FLAT_FILL = 2.0  # interface fills are flat to within this; even smooth footage is not
MOVING_RANGE = 24  # a pixel whose luma spans more than this over time shows footage
MIN_SIDE = 0.2  # a detected picture spans at least this share of each side
WHOLE = 0.97  # a box covering this much of both sides is treated as the whole frame


def _is_whole(box: PixelBox, width: int, height: int) -> bool:
    left, top, right, bottom = box
    return (right - left) >= WHOLE * width and (bottom - top) >= WHOLE * height


def _span(mask: np.ndarray, min_share: float) -> tuple[int, int] | None:
    """First and one-past-last index where `mask` (a share per row/column) passes."""
    hits = np.flatnonzero(mask >= min_share)
    if len(hits) == 0:
        return None
    return int(hits[0]), int(hits[-1]) + 1


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
    box = (cols[0], rows[0], cols[1], rows[1])
    if _is_whole(box, width, height):
        return None
    if (box[2] - box[0]) < MIN_SIDE * width or (box[3] - box[1]) < MIN_SIDE * height:
        return None
    return box


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
    if _is_whole(box, width, height):
        return None
    if (box[2] - box[0]) < MIN_SIDE * width or (box[3] - box[1]) < MIN_SIDE * height:
        return None
    return box


def crop(luma: np.ndarray, box: PixelBox | None) -> np.ndarray:
    if box is None:
        return luma
    left, top, right, bottom = box
    return luma[top:bottom, left:right]


def video_box(thumbs: np.ndarray) -> PixelBox | None:
    """Where the footage is in a video's frames [n, h, w]; None when it fills them.

    The moving region wins when it is clearly a picture inside a still surround (it covers
    under 80% of the frame, or its surround is flat); otherwise rows and columns that are
    flat in nearly every frame (letterbox and pillarbox bars) are dropped.
    """
    _, height, width = thumbs.shape
    pixels = thumbs.astype(np.float32)
    busy_rows = (pixels.std(axis=2) > UNIFORM_STD).mean(axis=0)
    busy_cols = (pixels.std(axis=1) > UNIFORM_STD).mean(axis=0)
    rows = _span(busy_rows, 0.05)
    cols = _span(busy_cols, 0.05)
    bars = (0, 0, width, height)
    if rows is not None and cols is not None:
        bars = (cols[0], rows[0], cols[1], rows[1])
    moving = moving_box(thumbs)
    if moving is not None:
        area = (moving[2] - moving[0]) * (moving[3] - moving[1])
        bars_area = (bars[2] - bars[0]) * (bars[3] - bars[1])
        if area < 0.8 * width * height or area >= 0.95 * bars_area:
            return moving
    if _is_whole(bars, width, height):
        return None
    return bars
