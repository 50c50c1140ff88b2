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
    keep[0] = False
    return keep[labels]


def glyph_lines(gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Boxes (x, y, w, h) of lines of outlined letters, light on dark or dark on light."""
    import cv2

    boxes: list[tuple[int, int, int, int]] = []
    for picture in (gray, 255 - gray):
        mask = glyph_mask(picture).astype(np.uint8)
        stats = cv2.connectedComponentsWithStats(mask, connectivity=8)[2]
        letters = [s for s in stats[1:] if 6 <= s[cv2.CC_STAT_HEIGHT] <= gray.shape[0] / 6]
        boxes.extend(_lines(letters))
    return boxes


def _lines(letters: list[np.ndarray]) -> list[tuple[int, int, int, int]]:
    """Letters beside one another at about the same height, joined into lines of three or
    more letters; a gap wider than a letter's height ends a line."""
    lines: list[list[int]] = []  # x, y, right, bottom, letters, tallest
    for x, y, w, h, _ in sorted(letters, key=lambda s: s[0]):
        for line in lines:
            lx, ly, right, bottom, joined, tallest = line
            overlap = min(bottom, y + h) - max(ly, y)
            near = x - right < 1.2 * max(tallest, h)
            if near and overlap > 0.3 * min(h, tallest) and h < 2.5 * tallest:
                top, end = min(ly, y), max(bottom, y + h)
                line[:] = [lx, top, max(right, x + w), end, joined + 1, max(tallest, h)]
                break
        else:
            lines.append([int(x), int(y), int(x + w), int(y + h), 1, int(h)])
    return [
        (x, y, right - x, bottom - y) for x, y, right, bottom, letters, _ in lines if letters >= 3
    ]


def line_crops(gray: np.ndarray, box: tuple[int, int, int, int]) -> tuple[Any, Any]:
    """One candidate line as Tesseract reads it best: its letters alone, black on white,
    and the crop itself with dark text on light; both scaled so the line is LINE_HEIGHT
    pixels tall (small text is upscaled, thin strokes kept)."""
    import cv2
    from PIL import Image

    x, y, w, h = box
    pad = max(3, round(PAD * h))
    top, left = max(0, y - pad), max(0, x - pad)
    part = gray[top : y + h + pad, left : x + w + pad]
    scale = LINE_HEIGHT / h
    part = cv2.resize(part, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    light, dark = glyph_mask(part, LINE_HEIGHT), glyph_mask(255 - part, LINE_HEIGHT)
    letters = light if light.sum() >= dark.sum() else dark
    plain = 255 - part if light.sum() >= dark.sum() else part
    return Image.fromarray(np.where(letters, 0, 255).astype(np.uint8)), Image.fromarray(plain)
