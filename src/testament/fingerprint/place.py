"""What a fixed camera sees when nothing moves: a descriptor of the place, for `same_scene`.

Two takes filmed by one fixed camera share their background and little else a frame hash
sees: a car crossing asphalt or a figure in a dark room is most of what PDQ's low
frequencies hold, and the benchmark's car park takes lie 48-108 bits apart, past any
limit a match may use. The background is the same picture in both. So a video whose
camera stands still (most of its pixels do) stores its background, the per-pixel median
of frames spread over it (what moves is gone wherever it stayed less than half the
time), and an image stores itself. The descriptor is the picture's fine detail, not its
light: the 160 x 160 thumbnail less a blur of itself, averaged into 80 x 80 cells, in
10 x 10 tiles of 8 x 8 cells, each tile less its mean and set to unit length. Two
pictures are compared tile by tile (correlation), and the median over the tiles both
have detail in decides: where a car stood in one take, or a figure stands in a still, a
few tiles disagree; another place agrees in none, however alike its layout (the
benchmark's rooms all put a door, a desk and shelves in about the same places: 0.55 at
most between two of them, 0.81 and more between takes of one).

A background too flat to tell (a clear sky, drifting smoke, a bare wall) has no
descriptor: there every place looks alike. Nor has a moving camera: it has no background.
The camera must also stand where it stood: the detail is fine, and a camera moved across
the room (two of the public NTU clips) shares nothing at this scale.

The index keeps only the signs of the cells and which tiles have detail (813 bytes an
asset) to find candidates; the decision is made on the stored descriptor.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
from PIL import Image

from testament.fingerprint.frames import THUMB

SIDE = 80  # cells per side of the descriptor: 2 x 2 thumbnail pixels a cell
TILES = 10  # tiles per side (a tile of 8 x 8 cells: one 64-bit word of signs in the index)
CELLS = SIDE // TILES  # cells per side of a tile
SAMPLES = 16  # frames spread over a video whose median is its background
STILL_LEVELS = 8  # a pixel within this many levels of the median stands still in a frame
STILL_FRAMES = 0.75  # ... and stands still when it does in this share of the frames
STILL_SHARE = 0.6  # a fixed camera: at least this share of the pixels stand still
BLUR = 1.5  # thumbnail pixels: what the detail is taken against
MIN_DETAIL = 0.4  # levels: a tile with less spread of detail tells nothing
MIN_TILES = TILES * TILES // 2  # tiles both pictures must have detail in to be compared
SAME_PLACE = 0.7  # median tile correlation from which two pictures show one place
CANDIDATE = 0.3  # agreement of the cells' signs that makes a stored place worth comparing
SCALE = 127  # a tile's unit vector as int8


def background(pictures: Sequence[np.ndarray]) -> np.ndarray | None:
    """The per-pixel median of a video's pictures where its camera stands still, else None.

    A panning or handheld camera has no background: few of its pixels stand still.
    """
    if len(pictures) < 3 or len({p.shape for p in pictures}) != 1:
        return None
    stack = np.stack([np.asarray(p, dtype=np.int16) for p in pictures])
    count, shape = len(stack), stack.shape[1:]
    per_pixel = np.sort(stack.reshape(count, -1).T, axis=1)  # each pixel's values in a row
    middle = count // 2
    median = per_pixel[:, middle] if count % 2 else per_pixel[:, middle - 1 : middle + 1].mean(1)
    near = np.abs(per_pixel - median[:, None]) < STILL_LEVELS
    still = near.sum(axis=1) >= STILL_FRAMES * count
    return median.reshape(shape).astype(np.float32) if still.mean() >= STILL_SHARE else None


def describe(picture: np.ndarray | None) -> np.ndarray | None:
    """The place descriptor of a picture (luma, any size): int8 [tiles, cells], a tile of
    zeros where it has no detail; None when too few tiles have any."""
    if picture is None or min(picture.shape) < 8:
        return None
    if picture.shape != (THUMB, THUMB):  # an image's luma, or a video's picture region
        image = Image.fromarray(np.asarray(picture, dtype=np.uint8))
        picture = np.asarray(image.resize((THUMB, THUMB), Image.Resampling.BOX))
    values = np.asarray(picture, dtype=np.float32)
    detail = values - _blurred(values)
    cells = detail.reshape(SIDE, THUMB // SIDE, SIDE, THUMB // SIDE).mean(axis=(1, 3))
    tiles = cells.reshape(TILES, CELLS, TILES, CELLS).transpose(0, 2, 1, 3)
    tiles = tiles.reshape(TILES * TILES, CELLS * CELLS)
    tiles = tiles - tiles.mean(axis=1, keepdims=True)
    usable = tiles.std(axis=1) >= MIN_DETAIL
    if usable.sum() < MIN_TILES:
        return None
    norms = np.maximum(np.linalg.norm(tiles, axis=1, keepdims=True), 1e-6)
    return np.round(np.where(usable[:, None], tiles / norms, 0) * SCALE).astype(np.int8)


def place_of(pictures: Sequence[np.ndarray]) -> np.ndarray | None:
    """The descriptor of a video's place (its pictures spread over it), None if it has none."""
    return describe(background(pictures))


@cache
def _weights() -> np.ndarray:
    """The taps of a Gaussian of BLUR pixels out to three of them, summing to one."""
    offsets = np.arange(-int(3 * BLUR), int(3 * BLUR) + 1)
    weights = np.exp(-0.5 * (offsets / BLUR) ** 2)
    return (weights / weights.sum()).astype(np.float32)


def _blurred(values: np.ndarray) -> np.ndarray:
    """A Gaussian blur of BLUR pixels, edges reflected, along the rows and then the columns,
    as sums of shifted views (a matrix product costs more here: BLAS spins up threads)."""
    weights = _weights()
    radius = len(weights) // 2
    height, width = values.shape
    padded = np.pad(values, radius, mode="reflect")
    across = weights[0] * padded[:, :width]
    for shift, weight in enumerate(weights[1:], start=1):
        across += weight * padded[:, shift : shift + width]
    blurred = weights[0] * across[:height]
    for shift, weight in enumerate(weights[1:], start=1):
        blurred += weight * across[shift : shift + height]
    return blurred


def likeness(stored: np.ndarray, place: np.ndarray) -> float:
    """How alike two descriptors are: the median correlation over the tiles both have
    detail in, -1 where they share fewer than MIN_TILES."""
    both = (stored != 0).any(axis=1) & (place != 0).any(axis=1)
    if both.sum() < MIN_TILES:
        return -1.0
    correlation = (stored[both].astype(np.float32) * place[both]).sum(axis=1) / SCALE**2
    return float(np.median(correlation))


def code(place: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What the index keeps of a descriptor: the signs of each tile's cells as one 64-bit
    word (uint64 [tiles]) and which tiles have detail (bool [tiles])."""
    signs = np.packbits(place > 0, axis=1, bitorder="little")
    return signs.view("<u8").reshape(-1), (place != 0).any(axis=1)


def agreement(
    words: np.ndarray, detailed: np.ndarray, query: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """Per stored code (`words` uint64 [n, tiles], `detailed` bool [n, tiles]), the mean over
    the tiles both have detail in of the share of cells whose sign agrees with the query's,
    less the share that disagrees (1: alike; about 0: unrelated; -1 where too few tiles)."""
    query_words, query_detailed = query
    both = detailed & query_detailed[None, :]
    differ = (np.bitwise_count(words ^ query_words[None, :]) * both).sum(axis=1, dtype=np.int32)
    count = both.sum(axis=1, dtype=np.int32)
    agree = 1.0 - differ / (np.maximum(count, 1) * (CELLS * CELLS / 2))
    return np.where(count >= MIN_TILES, agree, -1.0)
