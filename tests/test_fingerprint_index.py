"""The hash index: flat when small, trained IVF when large, persisted and reloaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from testament.fingerprint import Fingerprint, HashIndex
from testament.fingerprint import index as index_module


def fingerprint(hashes: np.ndarray, quality: int = 100) -> Fingerprint:
    n = len(hashes)
    return Fingerprint(
        "video", n * 0.5, np.arange(n) * 0.5, hashes, np.full(n, quality, dtype=np.uint8)
    )


def near(hashes: np.ndarray, bits: int, rng: np.random.Generator) -> np.ndarray:
    """Copies of the hashes with `bits` random bits flipped in each."""
    out = hashes.copy()
    for row in out:
        for bit in rng.choice(256, bits, replace=False):
            row[bit // 8] ^= 1 << (bit % 8)
    return out


def test_flat_index_finds_near_hashes_and_skips_low_quality(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 256, (300, 32), dtype=np.uint8)
    index = HashIndex()
    index.add(1, fingerprint(codes[:200]))
    index.add(2, fingerprint(codes[200:]))
    index.add(3, fingerprint(codes[:50], quality=5))  # flat frames are not evidence
    assert len(index) == 300 and not index.is_ivf
    hits = index.search(near(codes[[10, 250]], 20, rng), k=4, max_distance=40)
    assert list(hits.asset_id) == [1, 2]
    assert list(hits.time) == [5.0, 25.0]
    assert list(hits.distance) == [20, 20]

    index.save(tmp_path / "index")
    loaded = HashIndex.load(tmp_path / "index")
    assert len(loaded) == 300
    again = loaded.search(near(codes[[10, 250]], 20, rng), k=4, max_distance=40)
    assert list(again.asset_id) == [1, 2]


def test_large_index_switches_to_trained_ivf(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(index_module, "FLAT_LIMIT", 20_000)
    monkeypatch.setattr(index_module, "TARGET_LIST", 200)
    rng = np.random.default_rng(1)
    # Clustered codes, like frames of many videos: each asset's frames are near each other.
    centres = rng.integers(0, 256, (60, 32), dtype=np.uint8)
    index = HashIndex()
    stored = {}
    for asset_id, centre in enumerate(centres):
        codes = near(np.repeat(centre[None], 400, axis=0), 30, rng)
        stored[asset_id] = codes
        index.add(asset_id, fingerprint(codes))
    assert index.is_ivf and len(index) == 24_000
    assert index.memory_bytes() <= 48 * len(index)
    queries = np.stack([near(stored[a][7:8], 12, rng)[0] for a in range(60)])
    hits = index.search(queries, k=1, max_distance=32)
    recall = np.mean([a in hits.asset_id[hits.query == a] for a in range(60)])
    assert recall >= 0.95

    index.save(tmp_path / "ivf")
    loaded = HashIndex.load(tmp_path / "ivf")
    assert loaded.is_ivf and len(loaded) == 24_000
    again = loaded.search(queries, k=1, max_distance=32)
    assert np.array_equal(again.asset_id, hits.asset_id)
    assert np.array_equal(again.time, hits.time)


def test_empty_index_searches_to_nothing() -> None:
    hits = HashIndex().search(np.zeros((2, 32), dtype=np.uint8), k=5, max_distance=64)
    assert len(hits.asset_id) == 0


@pytest.mark.parametrize("size", [0, 1])
def test_adding_a_fingerprint_without_usable_frames(size: int) -> None:
    index = HashIndex()
    index.add(1, fingerprint(np.zeros((size, 32), dtype=np.uint8), quality=0))
    assert len(index) == 0


def test_bulk_build_trains_once_and_finds_what_add_finds(monkeypatch) -> None:
    monkeypatch.setattr(index_module, "FLAT_LIMIT", 2_000)
    monkeypatch.setattr(index_module, "TARGET_LIST", 50)
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 256, (6_000, 32), dtype=np.uint8)
    assets = np.repeat(np.arange(1, 61, dtype=np.int32), 100)
    times = np.tile(np.arange(100, dtype=np.float32) * 0.5, 60)
    built = HashIndex.from_arrays(assets, times, codes)
    assert len(built) == 6_000 and built.is_ivf
    assert built.memory_bytes() <= 48 * len(built)
    hits = built.search(near(codes[[5, 4_321]], 12, rng), k=4, max_distance=40)
    assert list(hits.asset_id) == [1, 44] and list(hits.time) == [2.5, 10.5]
    assert np.array_equal(built.asset_times(44), times[:100])
    pairs = [(1, fingerprint(codes[:100])), (2, fingerprint(codes[100:150], quality=5))]
    small = HashIndex.build(pairs)
    assert len(small) == 100 and not small.is_ivf  # low-quality frames are left out


def test_inner_hashes_are_indexed_at_the_frame_time() -> None:
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 256, (20, 32), dtype=np.uint8)
    inner = rng.integers(0, 256, (20, 32), dtype=np.uint8)
    base = fingerprint(codes)
    with_inner = Fingerprint(base.kind, base.duration, base.times, codes, base.quality, None, inner)
    index = HashIndex()
    index.add(7, with_inner)
    assert len(index) == 40
    hits = index.search(inner[[3]], k=1, max_distance=0)
    assert list(hits.time) == [1.5]


def test_asset_times_follow_an_asset_across_interleaved_adds() -> None:
    rng = np.random.default_rng(3)

    def fingerprint(times: list[float]) -> Fingerprint:
        n = len(times)
        hashes = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
        return Fingerprint("video", 10.0, np.array(times), hashes, np.full(n, 100, np.uint8))

    index = HashIndex()
    index.add(7, fingerprint([0.0, 1.0]))
    index.add(3, fingerprint([0.5]))
    index.add(7, fingerprint([2.0, 3.0]))
    assert index.asset_times(7).tolist() == [0.0, 1.0, 2.0, 3.0]
    assert index.asset_times(3).tolist() == [0.5]
    assert index.asset_times(99).tolist() == []
