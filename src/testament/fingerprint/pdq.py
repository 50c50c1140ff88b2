"""PDQ hashing of greyscale pictures, packed to 32 bytes, and Hamming distances.

PDQ looks only at luminance and resizes everything to 64x64 itself, so callers hand it a
small greyscale picture: hashing a 64x64 box-filtered copy costs a tenth of hashing 720p.
"""

from __future__ import annotations

import numpy as np
import pdqhash
from PIL import Image

HASH_BYTES = 32
PDQ_SIZE = 64
# Position of the left-right mirror image among pdqhash.compute_dihedral's eight hashes
# (measured: flipping a picture with numpy and hashing it lands within a few bits of it).
DIHEDRAL_MIRROR = 5


def _rgb(luma: np.ndarray) -> np.ndarray:
    small = luma
    if luma.shape != (PDQ_SIZE, PDQ_SIZE):
        small = np.asarray(Image.fromarray(luma).resize((PDQ_SIZE, PDQ_SIZE), Image.Resampling.BOX))
    return np.repeat(small[:, :, None], 3, axis=2)


def hash_luma(luma: np.ndarray) -> tuple[np.ndarray, int]:
    """PDQ hash (uint8 [32]) and quality (0-100) of a greyscale picture."""
    bits, quality = pdqhash.compute(_rgb(luma))
    return np.packbits(bits.astype(np.uint8)), int(quality)


def hash_luma_mirrored(luma: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Hashes of the picture and of its left-right mirror image, and the quality."""
    hashes, quality = pdqhash.compute_dihedral(_rgb(luma))
    packed = [np.packbits(np.asarray(hashes[i], dtype=np.uint8)) for i in (0, DIHEDRAL_MIRROR)]
    return packed[0], packed[1], int(quality)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bit distances between every row of `a` [n, 32] and every row of `b` [m, 32].

    Compared as four 64-bit words a hash with NumPy's popcount: a tenth of the time of a
    byte-wise table lookup.
    """
    words_a = np.ascontiguousarray(a, dtype=np.uint8).view(np.uint64)
    words_b = np.ascontiguousarray(b, dtype=np.uint8).view(np.uint64)
    xor = np.bitwise_xor(words_a[:, None, :], words_b[None, :, :])
    return np.bitwise_count(xor).sum(axis=2, dtype=np.int32)
