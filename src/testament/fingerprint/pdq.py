"""PDQ hashing of greyscale pictures, packed to 32 bytes, and Hamming distances.

PDQ looks only at luminance and resizes everything to 64x64 itself, so callers hand it a
small greyscale picture: hashing a 64x64 box-filtered copy costs a tenth of hashing 720p.

Many pictures at once (a still's reshaped pictures, its candidate regions) are hashed by
`hash_many`: pdqhash's arithmetic redone with NumPy over the whole batch, the same float32
products summed in the same order, so each hash and quality is `hash_luma`'s bit for bit
(tests/test_pdq.py), at about a third of the cost of calling pdqhash once per picture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pdqhash
from PIL import Image

HASH_BYTES = 32
PDQ_SIZE = 64
# Position of the left-right mirror image among pdqhash.compute_dihedral's eight hashes
# (measured: flipping a picture with numpy and hashing it lands within a few bits of it).
DIHEDRAL_MIRROR = 5
DCT_SIZE = 16
MEDIAN_RANK = 127  # pdqhash's median (torben) of 256 coefficients is the 128th smallest


def _dct_matrix() -> np.ndarray:
    """pdqhash's 16x64 DCT matrix: float32 of a double product, as its C++ fills it."""
    scale = float(np.float32(math.sqrt(2.0 / 64.0)))
    rows = [
        [scale * math.cos((math.pi / 2 / 64.0) * (i + 1) * (2 * j + 1)) for j in range(PDQ_SIZE)]
        for i in range(DCT_SIZE)
    ]
    return np.asarray(rows, dtype=np.float64).astype(np.float32)


_DCT = _dct_matrix()


def _small(luma: np.ndarray) -> np.ndarray:
    if luma.shape == (PDQ_SIZE, PDQ_SIZE):
        return luma
    return np.asarray(Image.fromarray(luma).resize((PDQ_SIZE, PDQ_SIZE), Image.Resampling.BOX))


def _rgb(luma: np.ndarray) -> np.ndarray:
    return np.repeat(_small(luma)[:, :, None], 3, axis=2)


def hash_luma(luma: np.ndarray) -> tuple[np.ndarray, int]:
    """PDQ hash (uint8 [32]) and quality (0-100) of a greyscale picture."""
    bits, quality = pdqhash.compute(_rgb(luma))
    return np.packbits(bits.astype(np.uint8)), int(quality)


def hash_luma_mirrored(luma: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Hashes of the picture and of its left-right mirror image, and the quality."""
    hashes, quality = pdqhash.compute_dihedral(_rgb(luma))
    packed = [np.packbits(np.asarray(hashes[i], dtype=np.uint8)) for i in (0, DIHEDRAL_MIRROR)]
    return packed[0], packed[1], int(quality)


def hash_many(lumas: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hashes (uint8 [n, 32]), mirror-image hashes and qualities of many pictures at once:
    the rows `hash_luma_mirrored` gives each."""
    if not lumas:
        empty = np.zeros((0, HASH_BYTES), dtype=np.uint8)
        return empty, empty.copy(), np.zeros(0, dtype=np.int64)
    pictures = np.stack([_small(luma) for luma in lumas])
    coefficients = _dct16(pictures)
    mirrored = coefficients.copy()
    mirrored[:, :, 0::2] *= -1  # pdqhash's dct16OriginalToFlipY
    return _bits(coefficients), _bits(mirrored), _quality(pictures)


def _sum_products(rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """`weights @ rows` [w, columns] as pdqhash's loops make it: each float32 product
    added in turn, k = 0, 1, ... (a BLAS product sums in another order and rounds
    otherwise). Vectorised over the columns, which hold every picture of the batch."""
    total = np.zeros((weights.shape[0], rows.shape[1]), dtype=np.float32)
    product = np.empty_like(total)
    for k in range(rows.shape[0]):
        np.multiply(weights[:, k, None], rows[k], out=product)
        total += product
    return total


def _dct16(pictures: np.ndarray) -> np.ndarray:
    """pdqhash's dct64To16 of each 64x64 picture [n, 64, 64] -> [n, 16, 16] (float32).

    A grey pixel's luminance there is its value exactly (its float64 weighted sum of three
    equal channels rounds back to it), and the box blur it applies at 64x64 keeps integer
    pictures as they are, so the DCT is of the pixel values.
    """
    count = len(pictures)
    by_row = pictures.transpose(1, 0, 2).astype(np.float32).reshape(PDQ_SIZE, count * PDQ_SIZE)
    first = _sum_products(by_row, _DCT).reshape(DCT_SIZE, count, PDQ_SIZE)  # [i, n, k]
    by_column = np.ascontiguousarray(first.transpose(2, 0, 1)).reshape(PDQ_SIZE, -1)
    second = _sum_products(by_column, _DCT).reshape(DCT_SIZE, DCT_SIZE, count)  # [j, i, n]
    return second.transpose(2, 1, 0)


def _bits(coefficients: np.ndarray) -> np.ndarray:
    """Packed hashes: a bit for each coefficient above the median, bit 255 first."""
    flat = coefficients.reshape(len(coefficients), DCT_SIZE * DCT_SIZE)
    median = np.partition(flat, MEDIAN_RANK, axis=1)[:, MEDIAN_RANK : MEDIAN_RANK + 1]
    return np.packbits((flat > median)[:, ::-1], axis=1)


def _quality(pictures: np.ndarray) -> np.ndarray:
    """pdqhash's image-domain quality: its float `(u - v) * 100 / 255` of neighbouring
    integer pixels truncates to the integer quotient, summed and scaled."""
    wide = pictures.astype(np.int16)
    steps = [np.abs(np.diff(wide, axis=axis)) * 100 // 255 for axis in (1, 2)]
    total = sum(step.sum(axis=(1, 2), dtype=np.int64) for step in steps)
    return np.minimum(total // 90, 100)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bit distances between every row of `a` [n, 32] and every row of `b` [m, 32].

    Compared as four 64-bit words a hash with NumPy's popcount: a tenth of the time of a
    byte-wise table lookup.
    """
    words_a = np.ascontiguousarray(a, dtype=np.uint8).view(np.uint64)
    words_b = np.ascontiguousarray(b, dtype=np.uint8).view(np.uint64)
    xor = np.bitwise_xor(words_a[:, None, :], words_b[None, :, :])
    return np.bitwise_count(xor).sum(axis=2, dtype=np.int32)
