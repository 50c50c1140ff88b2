"""Outlined glyphs: the letters of captions burned in as light text with a dark edge.

Captions over footage are light letters kept readable by a dark outline or a dark band.
A busy, light picture around them (a white wall, flowers, sky) defeats a global threshold,
so letters are found as what they are: light components whose whole rim is dark and whose
strokes are thin for their height. Background that happens to be light touches the rest of
the picture somewhere, so its rim is not dark. Dark text with a light edge is the same test
on the inverted picture.
"""

from __future__ import annotations

from typing import Any

import numpy as np

LIGHT = 185  # a letter's fill, in 8-bit grey (white and yellow text)
DARK = 110  # its outline or band
RIM_DARK = 0.5  # share of a letter's rim that is dark
LINE_HEIGHT = 40  # pixels a line's letters are scaled to before reading
PAD = 0.3  # margin around a line, as a share of its height
FILL_SPREAD = 12  # grey levels a letter's brightest pixel may lie below the line's letters'
THIN = 0.3  # a stroke's half-width is at most this share of the letter's length, plus 1.5 px


def glyph_mask(gray: np.ndarray, line_height: float | None = None) -> np.ndarray:
    """The pixels of light, dark-rimmed letters (bool, the picture's shape).

    With `line_height` (a line's crop), letters taller than the line or with strokes too
    thick for it are dropped as well.
    """
    import cv2

    light = (gray >= LIGHT).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(light, connectivity=4)
    if count <= 1:
        return np.zeros(gray.shape, bool)
    grown = cv2.dilate(labels.astype(np.float32), np.ones((3, 3), np.uint8), iterations=2)
    rim = (grown > 0) & (light == 0)
    owner = grown[rim].astype(np.int64)
    rim_size = np.bincount(owner, minlength=count)
    rim_dark = np.bincount(owner, weights=gray[rim] < DARK, minlength=count)
    dark_share = rim_dark / np.maximum(rim_size, 1)

    inside = light.astype(bool)
    depth = cv2.distanceTransform(light, cv2.DIST_L2, 3)
    half_width = np.zeros(count, np.float32)
    np.maximum.at(half_width, labels[inside], depth[inside])

    heights, widths = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    keep = (dark_share >= RIM_DARK) & (half_width <= THIN * np.maximum(heights, widths) + 1.5)
    keep &= heights < gray.shape[0] * 0.9
    if line_height is not None:
        keep &= (heights <= 1.15 * line_height) & (half_width <= 0.12 * line_height + 1.0)
        keep &= widths <= 3 * line_height
        keep &= ~_touches_edge(stats, gray.shape)
        keep[_in_holes(light, labels, keep)] = False
        keep &= _as_bright_as_letters(gray, labels, stats, keep)
    keep[0] = False
    return keep[labels]


def _as_bright_as_letters(
    gray: np.ndarray, labels: np.ndarray, stats: np.ndarray, keep: np.ndarray
) -> np.ndarray:
    """Which components reach the brightness of the line's letters: a caption's letters are
    filled with one colour, and picture left light between two letters' outlines (or
    beside one) is light without reaching it. The letters' brightness is the brightest
    pixel of the components kept, taken as the median over their area."""
    import cv2

    brightest = np.zeros(len(stats), np.int32)
    np.maximum.at(brightest, labels.ravel(), gray.ravel())
    kept = np.flatnonzero(keep)
    if not len(kept):
        return keep
    order = kept[np.argsort(brightest[kept])]
    area = np.cumsum(stats[order, cv2.CC_STAT_AREA])
    letters = brightest[order[np.searchsorted(area, area[-1] / 2)]]
    return brightest >= letters - FILL_SPREAD


def _in_holes(light: np.ndarray, labels: np.ndarray, keep: np.ndarray) -> list[int]:
    """Components inside a hole of a kept letter: the picture seen through the counter of
    an `о`, light where the footage is light and dark-rimmed by the letter's outline."""
    import cv2

    contours, hierarchy = cv2.findContours(light, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    parents = hierarchy[0][:, 3]
    owner = [int(labels[contour[0][0][1], contour[0][0][0]]) for contour in contours]
    # An outer edge whose parent is a hole, whose parent is a kept letter's outer edge.
    return [
        owner[index]
        for index, hole in enumerate(parents)
        if hole >= 0 and parents[hole] >= 0 and keep[owner[parents[hole]]]
    ]


def _touches_edge(stats: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Which components reach the edge of a line's crop: its margin keeps every letter
    clear of the edge, so what reaches it goes on beyond the line (a road's lane marking,
    a light streak with dark sides) and is picture, not a letter."""
    x, y = stats[:, 0], stats[:, 1]
    right, bottom = x + stats[:, 2], y + stats[:, 3]
    return (x == 0) | (y == 0) | (right >= shape[1]) | (bottom >= shape[0])


def glyph_lines(gray: np.ndarray) -> list[tuple[tuple[int, int, int, int], bool]]:
    """Boxes (x, y, w, h) of lines of outlined letters, each with whether its letters are
    light (on dark) rather than dark (on light).

    A dark outline around light letters is itself a dark shape with a light rim where the
    picture is light, so a dark-on-light line where a light one was found is its outline.
    """
    import cv2

    lines: list[tuple[tuple[int, int, int, int], bool]] = []
    for light, picture in ((True, gray), (False, 255 - gray)):
        mask = glyph_mask(picture).astype(np.uint8)
        stats = cv2.connectedComponentsWithStats(mask, connectivity=8)[2]
        letters = [s for s in stats[1:] if 6 <= s[cv2.CC_STAT_HEIGHT] <= gray.shape[0] / 6]
        lines.extend(
            (box, light)
            for box in _lines(letters)
            if all(overlap(box, other) < 0.3 for other, _ in lines)
        )
    return lines


def overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """The share of the smaller box that the other covers."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    smaller = min(a[2] * a[3], b[2] * b[3])
    return max(0, w) * max(0, h) / smaller if smaller > 0 else 0.0


def _lines(letters: list[np.ndarray]) -> list[tuple[int, int, int, int]]:
    """Letters beside one another on the same row, joined into lines of three or more
    letters; a gap wider than a letter's height ends a line. A letter joins a line whose
    letters' mean centre is near its own, so lines one above the other stay apart."""
    lines: list[list[int]] = []  # x, y, right, bottom, letters, tallest, sum of centres
    for x, y, w, h, _ in sorted(letters, key=lambda s: s[0]):
        for line in lines:
            lx, ly, right, bottom, joined, tallest, centres = line
            near = x - right < 1.2 * max(tallest, h)
            level = abs(y + h / 2 - centres / joined) < 0.35 * max(tallest, h)
            if near and level and tallest / 2.5 < h < 2.5 * tallest:
                top, end = min(ly, y), max(bottom, y + h)
                grown = [lx, top, max(right, x + w), end, joined + 1, max(tallest, h)]
                line[:] = [*grown, centres + y + h / 2]
                break
        else:
            lines.append([int(x), int(y), int(x + w), int(y + h), 1, int(h), y + h / 2])
    return [
        (x, y, right - x, bottom - y) for x, y, right, bottom, letters, *_ in lines if letters >= 3
    ]


def line_crops(
    gray: np.ndarray, box: tuple[int, int, int, int], light: bool | None
) -> tuple[Any, Any]:
    """One candidate line as Tesseract reads it best: its letters alone, black on white,
    and the crop itself with dark text on light; both scaled so the line is LINE_HEIGHT
    pixels tall (small text is upscaled, thin strokes kept). `light` says whether its
    letters are light; where that is not known (None), the polarity with more letter
    pixels is taken."""
    import cv2
    from PIL import Image

    x, y, w, h = box
    pad = max(3, round(PAD * h))
    top, left = max(0, y - pad), max(0, x - pad)
    part = gray[top : y + h + pad, left : x + w + pad]
    scale = LINE_HEIGHT / h
    part = cv2.resize(part, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    if light is None:
        light = glyph_mask(part, LINE_HEIGHT).sum() >= glyph_mask(255 - part, LINE_HEIGHT).sum()
    letters = glyph_mask(part if light else 255 - part, LINE_HEIGHT)
    plain = 255 - part if light else part
    return Image.fromarray(np.where(letters, 0, 255).astype(np.uint8)), Image.fromarray(plain)
