"""The hash index: every indexed frame hash, searchable by Hamming distance.

Rows are numbered in the order they are added; faiss holds the 32-byte codes (with the
row as id), a numpy array maps a row to its time (float32), and runs of consecutive rows
name their asset (an asset's rows are added together): 44 bytes per hash under IVF (code,
64-bit id, time) plus 20 bytes per run, 36 while flat.

A small index is flat (exact, brute force). Past FLAT_LIMIT hashes it is rebuilt as an
inverted file (IndexBinaryIVF) trained on a sample of its own codes, and rebuilt again
whenever it has grown fourfold, so lists stay near TARGET_LIST codes long.
"""

from __future__ import annotations

import json
import math
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from testament.fingerprint.model import Fingerprint
from testament.fingerprint.pdq import HASH_BYTES
from testament.fingerprint.place import CANDIDATE, TILES, agreement, code

BITS = HASH_BYTES * 8
MIN_QUALITY = 50  # PDQ's own advice: hashes of flatter pictures are not evidence...
LOW_QUALITY = 20  # ... unless that is all the footage has (night, asphalt, sky, smoke)
FAINT_QUALITY = 10  # ... or, where even those are too few, this (a hazy sky brightened)
USABLE_SHARE = 0.25  # footage with fewer frames of MIN_QUALITY has its LOW_QUALITY ones too
LOW_DISTANCE = 32  # a hash below MIN_QUALITY counts as a match only this close
FLAT_LIMIT = 200_000
TARGET_LIST = 1_000  # codes per inverted list on average right after a rebuild
NPROBE = 24
TRAIN_PER_LIST = 40
_CODES, _ROWS, _META = "hashes.faiss", "rows.npz", "index.json"


@dataclass(frozen=True)
class Hits:
    """Search results as parallel arrays: which query hash, which asset, when, how far."""

    query: np.ndarray  # int32 row of the query hash
    asset_id: np.ndarray  # int32
    time: np.ndarray  # float32 seconds in the asset
    distance: np.ndarray  # int32 bits


def quality_floor(quality: np.ndarray) -> int:
    """The least PDQ quality of a frame (or picture) worth looking up or indexing.

    PDQ calls hashes of quality under 50 unreliable, and in footage with detail they are
    its flat moments (black, blur): there they are left out. But a car park seen from
    above, a night scene or a smoky sky has no frame that reaches 50, and its hashes at
    20-50 still hold under re-encoding (a JPEG at quality 55 of a quality-32 frame: 8
    bits). Such footage is indexed on them, and matched only closely (LOW_DISTANCE).
    A soft sky brightened until its highlights clip, or re-encoded, falls below 20
    (quality 19, 12 bits from its frames; other skies lie 90 bits and more away): where
    under a quarter of the frames reach 20, those of FAINT_QUALITY count (a flat or black
    frame is 0-5; a smooth ramp 14).
    """
    if len(quality) and (quality >= MIN_QUALITY).mean() >= USABLE_SHARE:
        return MIN_QUALITY
    if len(quality) and (quality >= LOW_QUALITY).mean() >= USABLE_SHARE:
        return LOW_QUALITY
    return FAINT_QUALITY


def indexable(fingerprint: Fingerprint) -> tuple[np.ndarray, np.ndarray]:
    """Times (float32) and hashes of the rows one fingerprint puts in the index."""
    keep = fingerprint.quality >= quality_floor(fingerprint.quality)
    times = fingerprint.times[keep].astype(np.float32)
    codes = np.asarray(fingerprint.hashes[keep], dtype=np.uint8)
    inner = getattr(fingerprint, "inner", None)
    if inner is not None and len(inner) == len(fingerprint.times):
        times = np.concatenate([times, times])
        codes = np.concatenate([codes, np.asarray(inner[keep], dtype=np.uint8)])
    return times, np.ascontiguousarray(codes)


def _first_seen(values: np.ndarray) -> np.ndarray:
    """The distinct values in the order they first appear."""
    _, first = np.unique(values, return_index=True)
    return values[np.sort(first)]


def _nlist_for(n: int) -> int:
    return 1 << max(6, round(math.log2(max(1, n // TARGET_LIST))))


class _Runs:
    """Where each asset's rows lie: runs of consecutive rows, in compact arrays.

    20 bytes a run (a run is usually one asset's whole fingerprint), so the lookup table
    stays far below a byte per indexed hash.
    """

    def __init__(self) -> None:
        self.start = array("q")
        self.end = array("q")
        self.asset = array("i")
        self._order: np.ndarray | None = None
        self._sorted: np.ndarray | None = None
        self._starts: np.ndarray | None = None
        self._assets: np.ndarray | None = None

    def note(self, assets: np.ndarray, offset: int) -> None:
        """Record rows offset.. offset+len(assets) holding `assets`, merging continued runs."""
        if len(assets) == 0:
            return
        cuts = np.flatnonzero(assets[1:] != assets[:-1]) + 1
        starts = np.concatenate(([0], cuts))
        ends = np.concatenate((cuts, [len(assets)]))
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            asset = int(assets[a])
            if self.asset and self.asset[-1] == asset and self.end[-1] == offset + a:
                self.end[-1] = offset + b
            else:
                self.start.append(offset + a)
                self.end.append(offset + b)
                self.asset.append(asset)
        self._order = self._sorted = self._starts = self._assets = None

    def assets_at(self, rows: np.ndarray) -> np.ndarray:
        """The asset of each row (int32)."""
        if self._starts is None or self._assets is None:
            self._starts = np.array(self.start, dtype=np.int64)
            self._assets = np.array(self.asset, dtype=np.int32)
        return self._assets[np.searchsorted(self._starts, rows, side="right") - 1]

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "run_start": np.array(self.start, dtype=np.int64),
            "run_end": np.array(self.end, dtype=np.int64),
            "run_asset": np.array(self.asset, dtype=np.int32),
        }

    @classmethod
    def from_arrays(cls, arrays: Any) -> _Runs:
        runs = cls()
        runs.start.extend(arrays["run_start"].tolist())
        runs.end.extend(arrays["run_end"].tolist())
        runs.asset.extend(arrays["run_asset"].tolist())
        return runs

    def __len__(self) -> int:
        return len(self.start)

    def of(self, asset_id: int) -> list[tuple[int, int]]:
        """The row runs of one asset."""
        if self._order is None or self._sorted is None:
            assets = np.array(self.asset, dtype=np.int32)
            self._order = np.argsort(assets, kind="stable")
            self._sorted = assets[self._order]
        low, high = np.searchsorted(self._sorted, [asset_id, asset_id + 1])
        return [(self.start[i], self.end[i]) for i in self._order[low:high].tolist()]


class _Places:
    """The code of each indexed asset's place (`place.code`), compared with a query's by a
    scan: 904 bytes an asset that has a place, about 3 ms of CPU per 1,000 of them."""

    def __init__(self, kind: str) -> None:
        self.kind = kind  # "video" | "image": the fingerprints' kind, a key on disk
        self._size = 0
        self._assets = np.zeros(0, dtype=np.int32)
        self._words = np.zeros((0, TILES * TILES), dtype=np.uint64)
        self._detailed = np.zeros((0, TILES * TILES), dtype=bool)

    def add(self, asset_id: int, place: np.ndarray) -> None:
        if self._size == len(self._assets):
            self._grow(max(64, 2 * self._size))
        self._assets[self._size] = asset_id
        self._words[self._size], self._detailed[self._size] = code(place)
        self._size += 1

    def _grow(self, capacity: int) -> None:
        def grown(values: np.ndarray) -> np.ndarray:
            bigger = np.zeros((capacity, *values.shape[1:]), dtype=values.dtype)
            bigger[: self._size] = values[: self._size]
            return bigger

        self._assets, self._words, self._detailed = (
            grown(self._assets),
            grown(self._words),
            grown(self._detailed),
        )

    def like(self, place: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Assets whose place's code agrees with this one's by CANDIDATE or more, and by how
        much."""
        n = self._size
        agree = agreement(self._words[:n], self._detailed[:n], code(place))
        rows = np.flatnonzero(agree >= CANDIDATE)
        return self._assets[rows], agree[rows]

    def nbytes(self) -> int:
        return self._size * (4 + 9 * TILES * TILES)

    def arrays(self) -> dict[str, np.ndarray]:
        n = self._size
        return {
            f"{self.kind}_place_assets": self._assets[:n],
            f"{self.kind}_place_words": self._words[:n],
            f"{self.kind}_place_detailed": self._detailed[:n],
        }

    @classmethod
    def from_arrays(cls, kind: str, arrays: Any) -> _Places:
        places = cls(kind)
        if f"{kind}_place_assets" in arrays:
            places._assets = np.asarray(arrays[f"{kind}_place_assets"], dtype=np.int32)
            places._words = np.asarray(arrays[f"{kind}_place_words"], dtype=np.uint64)
            places._detailed = np.asarray(arrays[f"{kind}_place_detailed"], dtype=bool)
            places._size = len(places._assets)
        return places


PLACE_KINDS = ("video", "image")


class HashIndex:
    """Frame hashes of indexed assets → (asset id, time), searchable by Hamming distance;
    and the places of assets that show one (a fixed camera's background, an image)."""

    def __init__(self) -> None:
        self._index: faiss.IndexBinary = faiss.IndexBinaryFlat(BITS)
        self._time = np.zeros(0, dtype=np.float32)
        self._size = 0
        self._runs = _Runs()
        self._places = {kind: _Places(kind) for kind in PLACE_KINDS}
        self.nprobe = NPROBE

    def __len__(self) -> int:
        return self._size

    @property
    def is_ivf(self) -> bool:
        return isinstance(self._index, faiss.IndexBinaryIVF)

    def add(self, asset_id: int, fingerprint: Fingerprint) -> None:
        """Index the usable frames of one asset (PDQ quality at least MIN_QUALITY).

        Each usable frame contributes its hash and, when the fingerprint has one, the hash
        of its central region (`Fingerprint.inner`); both map to the frame's time. The
        place is kept whether or not any frame is usable (a car park may have none).
        """
        if fingerprint.place is not None:
            self._places[fingerprint.kind].add(asset_id, fingerprint.place)
        times, codes = indexable(fingerprint)
        if len(codes) == 0:
            return
        self._append(np.full(len(codes), asset_id, dtype=np.int32), times, codes)

    @classmethod
    def build(cls, pairs: Iterable[tuple[int, Fingerprint]]) -> HashIndex:
        """An index of many assets at once: IVF trained once for the final size."""
        assets, times, codes = [], [], []
        places = {kind: _Places(kind) for kind in PLACE_KINDS}
        for asset_id, fingerprint in pairs:
            if fingerprint.place is not None:
                places[fingerprint.kind].add(asset_id, fingerprint.place)
            t, c = indexable(fingerprint)
            assets.append(np.full(len(c), asset_id, dtype=np.int32))
            times.append(t)
            codes.append(c)
        index = cls()
        if codes:
            index = cls.from_arrays(*(np.concatenate(rows) for rows in (assets, times, codes)))
        index._places = places
        return index

    @classmethod
    def from_arrays(cls, asset_ids: np.ndarray, times: np.ndarray, hashes: np.ndarray) -> HashIndex:
        """An index of already filtered rows (asset id, time, 32-byte hash), built once.

        Past FLAT_LIMIT rows the inverted file is trained once for this size, instead of
        the growth-driven rebuilds of `add` (10M hashes: one k-means, one pass of adds).
        Rows hold no places: an index built so finds no `same_scene` by place.
        """
        index = cls()
        assets = np.ascontiguousarray(asset_ids, dtype=np.int32)
        codes = np.ascontiguousarray(hashes, dtype=np.uint8).reshape(-1, HASH_BYTES)
        index._time = np.asarray(times, dtype=np.float32).copy()
        index._size = len(codes)
        index._runs.note(assets, 0)
        if index._size <= FLAT_LIMIT:
            index._index.add(codes)
        else:
            index._index = index._train(codes, _nlist_for(index._size))
        return index

    def places_like(
        self, place: np.ndarray, limit: int = 64, kinds: tuple[str, ...] = PLACE_KINDS
    ) -> np.ndarray:
        """Ids of up to `limit` indexed assets of these kinds whose place may be this one
        (to compare in full), the likeliest first."""
        found = [self._places[kind].like(place) for kind in kinds]
        assets = np.concatenate([assets for assets, _ in found])
        agree = np.concatenate([agree for _, agree in found])
        return _first_seen(assets[np.argsort(-agree, kind="stable")])[:limit]

    def asset_times(self, asset_id: int) -> np.ndarray:
        """Sorted times (s) of an asset's indexed hashes: where it can be matched at all."""
        runs = self._runs.of(int(asset_id))
        if not runs:
            return np.zeros(0, dtype=np.float32)
        return np.sort(np.concatenate([self._time[a:b] for a, b in runs]))

    def _append(self, assets: np.ndarray, times: np.ndarray, codes: np.ndarray) -> None:
        start, end = self._size, self._size + len(codes)
        self._runs.note(assets, start)
        if end > len(self._time):
            self._time = np.resize(self._time, max(end, 2 * len(self._time), 1024))
        self._time[start:end] = times
        if self.is_ivf:
            self._index.add_with_ids(codes, np.arange(start, end, dtype=np.int64))
        else:
            self._index.add(codes)
        self._size = end
        limit = 4 * self._index.nlist * TARGET_LIST if self.is_ivf else FLAT_LIMIT
        if end > limit:
            self.rebuild()

    def _codes(self) -> np.ndarray:
        """All stored codes in row order (rebuilding needs them; no second copy is kept)."""
        if not self.is_ivf:
            return faiss.vector_to_array(self._index.xb).reshape(self._size, HASH_BYTES)
        codes = np.empty((self._size, HASH_BYTES), dtype=np.uint8)
        lists = self._index.invlists
        for number in range(lists.nlist):
            size = lists.list_size(number)
            if size == 0:
                continue
            ids = faiss.rev_swig_ptr(lists.get_ids(number), size).copy()
            data = faiss.rev_swig_ptr(lists.get_codes(number), size * HASH_BYTES)
            codes[ids] = data.reshape(size, HASH_BYTES)
        return codes

    def rebuild(self, nlist: int | None = None) -> None:
        """Re-train the inverted file for the current size (or flatten a small index)."""
        codes = self._codes()
        if nlist is None and self._size <= FLAT_LIMIT:
            index: faiss.IndexBinary = faiss.IndexBinaryFlat(BITS)
            index.add(codes)
            self._index = index
            return
        self._index = self._train(codes, nlist or _nlist_for(self._size))

    def _train(self, codes: np.ndarray, nlist: int) -> faiss.IndexBinaryIVF:
        """An inverted file trained on a sample of `codes`, holding all of them."""
        quantizer = faiss.IndexBinaryFlat(BITS)
        ivf = faiss.IndexBinaryIVF(quantizer, BITS, nlist)
        ivf.own_fields = True
        quantizer.this.disown()
        ivf.cp.niter = 10
        rng = np.random.default_rng(0)
        size = len(codes)
        sample = min(size, nlist * TRAIN_PER_LIST)
        ivf.train(codes[np.sort(rng.choice(size, sample, replace=False))])
        ivf.add_with_ids(codes, np.arange(size, dtype=np.int64))
        ivf.nprobe = self.nprobe
        return ivf

    def search(self, hashes: np.ndarray, k: int, max_distance: int) -> Hits:
        """The k nearest indexed hashes of each query hash, those within max_distance."""
        if self._size == 0 or len(hashes) == 0:
            empty = np.zeros(0, dtype=np.int32)
            return Hits(empty, empty, np.zeros(0, dtype=np.float32), empty)
        if self.is_ivf:
            self._index.nprobe = self.nprobe
        # One thread per query: OpenMP spinning on busy cores costs more than it saves.
        faiss.omp_set_num_threads(1)
        k = min(k, self._size)
        distances, rows = self._index.search(np.ascontiguousarray(hashes, dtype=np.uint8), k)
        keep = (rows >= 0) & (distances <= max_distance)
        query = np.nonzero(keep)[0].astype(np.int32)
        found = rows[keep]
        return Hits(
            query, self._runs.assets_at(found), self._time[found], distances[keep].astype(np.int32)
        )

    def memory_bytes(self) -> int:
        """Bytes of RAM the index needs for its contents (codes, ids, times, asset runs)."""
        ids = 8 * self._size if self.is_ivf else 0
        runs = 20 * len(self._runs)
        return (
            self._size * (HASH_BYTES + 4)
            + ids
            + runs
            + sum(p.nbytes() for p in self._places.values())
        )

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index_binary(self._index, str(folder / _CODES))
        rows = self._runs.arrays()
        for places in self._places.values():
            rows.update(places.arrays())
        np.savez(folder / _ROWS, time=self._time[: self._size], **rows)
        (folder / _META).write_text(json.dumps({"size": self._size, "nprobe": self.nprobe}))

    @classmethod
    def load(cls, folder: Path) -> HashIndex:
        folder = Path(folder)
        loaded = cls()
        loaded._index = faiss.read_index_binary(str(folder / _CODES))
        with np.load(folder / _ROWS) as rows:
            loaded._time = rows["time"].astype(np.float32, copy=False)
            loaded._runs = _Runs.from_arrays(rows)
            loaded._places = {kind: _Places.from_arrays(kind, rows) for kind in PLACE_KINDS}
        meta = json.loads((folder / _META).read_text())
        loaded._size = int(meta["size"])
        loaded.nprobe = int(meta["nprobe"])
        return loaded
