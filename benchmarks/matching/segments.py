"""Segment-level µAP, as the VSC 2022 matching track scores it (VCSL's precision and recall).

A method predicts, per (query, asset) pair, segments: a stretch of the query matched to a
stretch of the asset, with a score. The ground truth of a video query cut from its source
is one segment: the whole query against the source stretch it was cut from. Predictions are
added best score first (ties together); after each, on each time axis (query, asset),
recall is the length of ground truth covered by the predictions so far over all ground
truth, and precision the covered length over the length predicted. Only ground truth that
some prediction of its pair overlaps (as a rectangle in query × asset time) counts as
covered. The curve's point is the geometric mean of the two axes' recall and precision,
and AP the sum of precision × gained recall. A method that says nothing of where (vPDQ)
predicts the whole query against the whole asset.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

Interval = tuple[float, float]


@dataclass(frozen=True)
class Box:
    """A query stretch matched to an asset stretch (seconds), with the method's score."""

    query: Interval
    asset: Interval
    score: float = 1.0

    def overlaps(self, other: Box) -> bool:
        return _overlap(self.query, other.query) > 0 and _overlap(self.asset, other.asset) > 0


def _overlap(a: Interval, b: Interval) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def union_length(intervals: Iterable[Interval]) -> float:
    """Total length covered by possibly overlapping intervals."""
    total, end = 0.0, -math.inf
    for start, stop in sorted(intervals):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


def _intersection(a: list[Interval], b: list[Interval]) -> float:
    """|A ∩ B| = |A| + |B| - |A ∪ B| for two sets of intervals."""
    return union_length(a) + union_length(b) - union_length(a + b)


@dataclass
class _Pair:
    truth: list[Box] = field(default_factory=list)
    predicted: list[Box] = field(default_factory=list)
    covered: tuple[float, float] = (0.0, 0.0)  # per axis: query, asset
    length: tuple[float, float] = (0.0, 0.0)

    def add(self, box: Box) -> tuple[tuple[float, float], tuple[float, float]]:
        """Add a prediction; return how much covered truth and predicted length grew."""
        self.predicted.append(box)
        hit = [t for t in self.truth if any(t.overlaps(p) for p in self.predicted)]
        covered, length = [], []
        for axis in ("query", "asset"):
            spans = [getattr(p, axis) for p in self.predicted]
            covered.append(_intersection(spans, [getattr(t, axis) for t in hit]))
            length.append(union_length(spans))
        grown = (covered[0] - self.covered[0], covered[1] - self.covered[1])
        longer = (length[0] - self.length[0], length[1] - self.length[1])
        self.covered, self.length = (covered[0], covered[1]), (length[0], length[1])
        return grown, longer


def segment_ap(
    truth: dict[tuple[str, int], list[Box]], predicted: dict[tuple[str, int], list[Box]]
) -> float | None:
    """Segment-level µAP over every (query, asset) pair; None without ground truth."""
    pairs: dict[tuple[str, int], _Pair] = defaultdict(_Pair)
    for key, boxes in truth.items():
        pairs[key].truth.extend(boxes)
    totals = [
        sum(union_length([getattr(b, axis) for b in p.truth]) for p in pairs.values())
        for axis in ("query", "asset")
    ]
    if not all(totals):
        return None
    ranked = sorted(
        ((box, key) for key, boxes in predicted.items() for box in boxes),
        key=lambda item: -item[0].score,
    )
    covered, length = [0.0, 0.0], [0.0, 0.0]
    recall, metric = 0.0, 0.0
    for _, group in itertools.groupby(ranked, key=lambda item: item[0].score):
        for box, key in group:
            grown, longer = pairs[key].add(box)
            for axis in (0, 1):
                covered[axis] += grown[axis]
                length[axis] += longer[axis]
        new_recall = math.sqrt((covered[0] / totals[0]) * (covered[1] / totals[1]))
        precision = math.sqrt(
            (covered[0] / length[0] if length[0] else 0.0)
            * (covered[1] / length[1] if length[1] else 0.0)
        )
        metric += precision * (new_recall - recall)
        recall = new_recall
    return metric
