"""Run the suite through testament's matcher and the vPDQ baseline; print the tables.

    python -m benchmarks.matching.evaluate [--half tuning|held-out|both] [--families a,b]

Writes ``results.md`` (the tables), ``results.json`` (every query's answers) and
``misses.md`` (every miss, false call and time off) to the work folder; a run narrowed by
``--half`` or ``--families`` writes them prefixed ``partial-``, so that it never replaces
the figures of a full run. The first run renders the suite; later runs reuse it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from benchmarks.matching import sources, suite, vpdq_baseline
from benchmarks.matching.segments import Box, segment_ap
from benchmarks.matching.suite import Query

from testament.fingerprint import Fingerprint, HashIndex, analyze_file, fingerprint_file, match
from testament.fingerprint.local import frames_at

SAME_FOOTAGE = {"same_footage", "clip_of", "contains", "overlaps", "still_from"}
TIME_TOLERANCE = 0.5
NEGATIVE_FAMILIES = (
    "hard_negative",
    "hard_negative_still",
    "set_negative",
    "negative_tail",
    "negative_tail_still",
    "negative_unrelated",
)


@dataclass
class Answer:
    """One asset a method returned for a query."""

    relation: str
    score: float
    time: float | None  # a video's offset or a still's asset_time
    intervals: list[tuple[float, float]] = field(default_factory=list)
    # (query start, query end, asset start, asset end) of each matched stretch
    segments: list[tuple[float, float, float, float]] = field(default_factory=list)


@dataclass
class Outcome:
    """What one method answered for one query, scored against its ground truth."""

    answers: dict[int, Answer]
    found: bool = False  # the true source came back with a same-footage relation
    false_calls: list[int] = field(default_factory=list)  # other assets called the footage
    time_error: float | None = None  # seconds off (0 when an interval holds the truth)
    by_interval: float | None = None  # length of the interval that answered a still
    seconds: float = 0.0
    duration: float | None = None  # the query's, for the segment figures


@dataclass
class Assets:
    """The two indexes: asset ids, names, files and places."""

    ids: dict[str, int]
    files: dict[int, Path]
    places: dict[int, str]
    negative: set[int]
    durations: dict[int, float] = field(default_factory=dict)

    def of(self, index: str) -> list[int]:
        """Asset ids of the "main" or the "negative" index."""
        return [a for a in self.files if (a in self.negative) == (index == "negative")]


def load_assets(work: Path, halves: tuple[str, ...]) -> Assets:
    """Main index: every source of the chosen halves; negative index: the old sources' heads."""
    chosen = [s for s in sources.SOURCES if sources.half_of(s.group) in halves]
    files = {s.name: suite.source_path(s.name, work) for s in chosen}
    places = {s.name: s.place for s in chosen}
    heads = suite.render_negative_index_assets(work) if "tuning" in halves else {}
    files |= heads
    ids = {name: i + 1 for i, name in enumerate(files)}
    return Assets(
        ids,
        {ids[n]: p for n, p in files.items()},
        {ids[n]: places.get(n, n) for n in files},
        {ids[n] for n in heads},
    )


def score(query: Query, assets: Assets, answers: dict[int, Answer], seconds: float) -> Outcome:
    """Found, false calls and time error of one method's answers to one query."""
    source = assets.ids.get(query.source or "")
    calls = {a for a, ans in answers.items() if ans.relation in SAME_FOOTAGE}
    outcome = Outcome(answers, source in calls, sorted(calls - {source}), seconds=seconds)
    truth = query.timestamp if query.kind == "image" else query.offset
    if not outcome.found or truth is None:
        return outcome
    answer = answers[source]
    if answer.time is not None:
        outcome.time_error = abs(answer.time - truth)
    elif answer.intervals:
        gaps = [max(start - truth, truth - end, 0.0) for start, end in answer.intervals]
        best = int(np.argmin(gaps))
        outcome.time_error = gaps[best]
        start, end = answer.intervals[best]
        outcome.by_interval = end - start
    return outcome


def _fingerprints(assets: Assets) -> dict[int, Fingerprint]:
    return {a: fingerprint_file(path) for a, path in assets.files.items()}


def run_ours(
    queries: list[Query],
    assets: Assets,
    work: Path,
    prints: dict[int, Fingerprint],
    pixels: bool = True,
) -> list[Outcome]:
    """testament.fingerprint: index the assets' fingerprints, match every query (candidates
    are re-checked on the stored fingerprints, as the catalogue does)."""
    indexes = {"main": HashIndex(), "negative": HashIndex()}
    for name, index in indexes.items():
        for asset_id in assets.of(name):
            index.add(asset_id, prints[asset_id])

    def frames(asset_id: int, times: list[float]) -> list[np.ndarray] | None:
        return frames_at(assets.files[asset_id], times)

    outcomes = []
    for query in queries:
        start = time.perf_counter()
        analysed = analyze_file(suite.query_file(query, work))
        found = match(analysed, indexes[query.index], prints, frames if pixels else None)
        answers = {
            m.asset_id: Answer(
                m.relation,
                float(m.score),
                m.asset_time if query.kind == "image" else m.offset,
                [tuple(map(float, span)) for span in m.asset_times],
                [(s.query_start, s.query_end, s.asset_start, s.asset_end) for s in m.segments],
            )
            for m in found
        }
        outcome = score(query, assets, answers, time.perf_counter() - start)
        outcome.duration = analysed.duration
        outcomes.append(outcome)
    return outcomes


def run_vpdq(
    queries: list[Query], assets: Assets, work: Path, durations: list[float | None]
) -> list[Outcome]:
    """The vPDQ baseline over the same indexes; its score is the larger match percentage.

    vPDQ says nothing of where: a match is the whole query against the whole asset."""
    hashes = {a: vpdq_baseline.hash_file(p) for a, p in assets.files.items()}
    targets = {name: {a: hashes[a] for a in assets.of(name)} for name in ("main", "negative")}
    outcomes = []
    for query, duration in zip(queries, durations, strict=True):
        start = time.perf_counter()
        query_hash = vpdq_baseline.hash_file(suite.query_file(query, work))
        found = vpdq_baseline.search(query_hash, targets[query.index], query.kind == "image")
        relation = "still_from" if query.kind == "image" else "same_footage"
        answers = {
            a: Answer(
                relation,
                max(m.query_percent, m.target_percent) / 100,
                m.still_time,
                segments=[(0.0, duration or 0.0, 0.0, assets.durations.get(a, 0.0))],
            )
            for a, m in found.items()
        }
        outcome = score(query, assets, answers, time.perf_counter() - start)
        outcome.duration = duration
        outcomes.append(outcome)
    return outcomes


# Figures.


def micro_ap(queries: list[Query], outcomes: list[Outcome], assets: Assets) -> float | None:
    """Video-level µAP (VSC 2022 descriptor track): every (query, asset) pair called the same
    footage, ranked by score over all queries; AP over the (query, true source) pairs, a
    positive never returned counting 0."""
    ranked: list[tuple[float, bool]] = []
    positives = 0
    for query, outcome in zip(queries, outcomes, strict=True):
        source = assets.ids.get(query.source or "")
        positives += source is not None
        for asset_id, answer in outcome.answers.items():
            if answer.relation in SAME_FOOTAGE:
                ranked.append((answer.score, asset_id == source))
    if not positives:
        return None
    ranked.sort(key=lambda pair: -pair[0])
    hits, total = 0, 0.0
    for rank, (_, correct) in enumerate(ranked, 1):
        if correct:
            hits += 1
            total += hits / rank
    return total / positives


def segment_micro_ap(
    queries: list[Query], outcomes: list[Outcome], assets: Assets
) -> tuple[float | None, int]:
    """Segment-level µAP (VSC 2022 matching track) over the video queries, and how many
    queries have a known ground-truth segment (a known offset into a video source)."""
    truth: dict[tuple[str, int], list[Box]] = {}
    predicted: dict[tuple[str, int], list[Box]] = {}
    for query, outcome in zip(queries, outcomes, strict=True):
        if query.kind == "image":
            continue
        source = assets.ids.get(query.source or "")
        if source is not None:
            if query.offset is None or not outcome.duration or source not in assets.durations:
                continue  # no known segment: left out of the segment figure
            end = min(query.offset + outcome.duration, assets.durations[source])
            truth[(query.id, source)] = [Box((0.0, end - query.offset), (query.offset, end))]
        for asset_id, answer in outcome.answers.items():
            if answer.relation in SAME_FOOTAGE:
                predicted[(query.id, asset_id)] = [
                    Box((q0, q1), (a0, a1), answer.score) for q0, q1, a0, a1 in answer.segments
                ]
    return segment_ap(truth, predicted), len(truth)


def _share(values: list[bool]) -> str:
    if not values:
        return "—"
    return f"{sum(values)}/{len(values)} ({100 * sum(values) / len(values):.0f}%)"


def _timing(outcomes: list[Outcome]) -> str:
    errors = [o.time_error for o in outcomes if o.time_error is not None]
    if not errors:
        return "—"
    text = (
        f"{_share([e <= TIME_TOLERANCE for e in errors])}, median {statistics.median(errors):.2f} s"
    )
    spans = [o.by_interval for o in outcomes if o.by_interval is not None]
    if spans:
        text += f"; {len(spans)} by interval, median {statistics.median(spans):.1f} s long"
    return text


def _label(family: str) -> str:
    if family in suite.INFORMATIONAL:
        return f"{family} (no target)"
    return f"{family} (extra)" if family in suite.EXTRA else family


def _row(queries: list[Query], methods: dict[str, list[Outcome]]) -> list[str]:
    negative = queries[0].family in NEGATIVE_FAMILIES
    cells = [_label(queries[0].family), queries[0].half, str(len(queries))]
    for outcomes in methods.values():
        calls = _share([bool(o.false_calls) for o in outcomes])
        if negative:
            cells += ["—", calls, "—"]
        else:
            cells += [_share([o.found for o in outcomes]), calls, _timing(outcomes)]
    return cells


def family_table(queries: list[Query], methods: dict[str, list[Outcome]]) -> str:
    """Markdown: per family and half, each method's recall, false calls and time accuracy."""
    header = ["family", "half", "n"]
    for name in methods:
        header += [f"{name} recall", f"{name} false calls", f"{name} time ≤0.5 s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for family in dict.fromkeys(q.family for q in queries):
        for half in sources.HALVES:
            rows = [i for i, q in enumerate(queries) if q.family == family and q.half == half]
            if rows:
                picked = {name: [o[i] for i in rows] for name, o in methods.items()}
                cells = _row([queries[i] for i in rows], picked)
                lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def same_scene_pairs(
    queries: list[Query], outcomes: list[Outcome], assets: Assets
) -> dict[str, tuple[list[bool], list[bool]]]:
    """Per half: for pairs of the same place (other footage), was same_scene found; for
    pairs of different places, was same_scene (wrongly) returned."""
    result: dict[str, tuple[list[bool], list[bool]]] = {h: ([], []) for h in sources.HALVES}
    for query, outcome in zip(queries, outcomes, strict=True):
        if query.index != "main":
            continue
        source = assets.ids.get(query.source or "")
        expected, forbidden = result[query.half]
        for asset_id in assets.of("main"):
            if asset_id == source:
                continue
            said = outcome.answers.get(asset_id)
            same_scene = said is not None and said.relation == "same_scene"
            if assets.places[asset_id] == query.place:
                expected.append(same_scene)
            else:
                forbidden.append(same_scene)
    return result


def summary_table(queries: list[Query], methods: dict[str, list[Outcome]], assets: Assets) -> str:
    """Markdown: per half, µAP of each method and the same_scene figures of ours."""
    header = ["half", "queries", *(f"{name} µAP" for name in methods)]
    header += ["video queries with a known segment", *(f"{n} segment µAP" for n in methods)]
    header += ["same_scene found (same place)", "same_scene wrongly (other places)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    scene = same_scene_pairs(queries, methods["ours"], assets)
    for half in sources.HALVES:
        rows = [
            i
            for i, q in enumerate(queries)
            if q.half == half and q.family not in suite.INFORMATIONAL
        ]
        if not rows:
            continue
        picked = [queries[i] for i in rows]
        aps = [micro_ap(picked, [o[i] for i in rows], assets) for o in methods.values()]
        segs = [segment_micro_ap(picked, [o[i] for i in rows], assets) for o in methods.values()]
        expected, forbidden = scene[half]
        cells = [half, str(len(rows)), *(f"{ap:.3f}" if ap is not None else "—" for ap in aps)]
        cells.append(str(segs[0][1]))
        cells += [f"{ap:.3f}" if ap is not None else "—" for ap, _ in segs]
        cells += [_share(expected), f"{sum(forbidden)} of {len(forbidden)} pairs"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine_line() -> str:
    """Date, CPU model and core count, for the record."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {cpu}; {os.cpu_count()} cores"


def _best_distance(query: Query, work: Path, target: Fingerprint | None) -> str:
    """Closest Hamming distance between the query's hashes and an asset's, as a hint."""
    if target is None or not len(target):
        return "—"
    try:
        mine = fingerprint_file(suite.query_file(query, work))
    except Exception as exc:  # noqa: BLE001 - a hint only; the miss is listed regardless
        return f"unreadable ({exc})"
    if not len(mine):
        return "no hashes kept"
    xor = mine.hashes[:, None, :] ^ target.hashes[None, :, :]
    return str(int(np.unpackbits(xor, axis=2).sum(axis=2).min()))


def _problem(query: Query, outcome: Outcome) -> str | None:
    """What one query got wrong: missed, false call, or placed more than 0.5 s off."""
    if query.family in suite.INFORMATIONAL:
        return None
    if outcome.false_calls:
        return "false call"
    if query.source is not None and not outcome.found:
        return "missed"
    if outcome.time_error is not None and outcome.time_error > TIME_TOLERANCE:
        return f"{outcome.time_error:.2f} s off"
    return None


def misses_report(
    queries: list[Query],
    outcomes: list[Outcome],
    assets: Assets,
    work: Path,
    prints: dict[int, Fingerprint],
) -> str:
    """Markdown list of every miss, false call and time off of ours, held-out first.

    The distance is to the source for a miss, to the asset wrongly called for a false call.
    """
    names = {i: n for n, i in assets.ids.items()}
    lines = [
        "| query | family | half | source | problem | came back | best distance |",
        "|---|---|---|---|---|---|---|",
    ]
    order = sorted(range(len(queries)), key=lambda i: (queries[i].half != "held-out", i))
    for i in order:
        query, outcome = queries[i], outcomes[i]
        problem = _problem(query, outcome)
        if problem is None:
            continue
        said = "; ".join(
            f"{names[a]} {ans.relation} {ans.score:.2f}" for a, ans in outcome.answers.items()
        )
        target = (
            outcome.false_calls[0] if outcome.false_calls else assets.ids.get(query.source or "")
        )
        distance = (
            _best_distance(query, work, prints.get(target or -1))
            if problem in ("missed", "false call")
            else "—"
        )
        lines.append(
            f"| {query.id} | {query.family} | {query.half} | {query.source or '—'} | {problem} "
            f"| {said or 'nothing'} | {distance} |"
        )
    return "\n".join(lines)


def _timed(label: str, run: Callable[[], list[Outcome]]) -> list[Outcome]:
    start = time.perf_counter()
    outcomes = run()
    print(f"{label}: {time.perf_counter() - start:.1f} s")
    return outcomes


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("benchmarks/results/matching"))
    parser.add_argument("--per-source", type=int, default=1, help="videos per source and family")
    parser.add_argument("--stills", type=int, default=2, help="stills per source and family")
    parser.add_argument("--jobs", type=int, default=2, help="processes that render the suite")
    parser.add_argument("--half", choices=("tuning", "held-out", "both"), default="both")
    parser.add_argument("--families", default="", help="comma-separated families (default all)")
    parser.add_argument("--no-vpdq", action="store_true", help="ours only (while iterating)")
    parser.add_argument(
        "--pdq-only", action="store_true", help="ours without the frames (no pixel re-check)"
    )
    return parser.parse_args()


def main() -> None:
    """Build the suite if needed, run both methods, print and save the results."""
    args = _arguments()
    halves = sources.HALVES if args.half == "both" else (args.half,)
    families = {f for f in args.families.split(",") if f}
    start = time.perf_counter()

    def keep(query: Query) -> bool:
        return query.half in halves and (not families or query.family in families)

    planned = suite.build(args.work, args.per_source, args.stills, args.jobs, keep)
    print(f"suite: {len(planned)} queries in {time.perf_counter() - start:.1f} s")
    queries = [q for q in planned if q.excluded is None]
    assets = load_assets(args.work, halves)
    prints = _fingerprints(assets)
    assets.durations = {a: fp.duration for a, fp in prints.items() if fp.duration is not None}
    ours = _timed(
        "testament", lambda: run_ours(queries, assets, args.work, prints, not args.pdq_only)
    )
    durations = [o.duration for o in ours]
    methods = {"ours": ours}
    if not args.no_vpdq:
        methods["vPDQ"] = _timed("vPDQ", lambda: run_vpdq(queries, assets, args.work, durations))
    text = (
        f"{family_table(queries, methods)}\n\n{summary_table(queries, methods, assets)}\n\n"
        f"{machine_line()}; {time.perf_counter() - start:.0f} s in all\n"
    )
    left_out = [f"{q.id} ({q.excluded})" for q in planned if q.excluded is not None]
    if left_out:
        text += "\nNot run (no footage anyone could match): " + "; ".join(left_out) + "\n"
    print(text)
    narrowed = families or len(halves) < len(sources.HALVES) or args.no_vpdq or args.pdq_only
    prefix = "partial-" if narrowed else ""
    (args.work / f"{prefix}results.md").write_text(text)
    report = misses_report(queries, methods["ours"], assets, args.work, prints)
    (args.work / f"{prefix}misses.md").write_text(
        f"# Misses, false calls and times off (ours)\n\n{report}\n"
    )
    print(f"misses, false calls and times off: {args.work / f'{prefix}misses.md'}")
    details = [
        {"query": asdict(q), **{name: asdict(o[i]) for name, o in methods.items()}}
        for i, q in enumerate(queries)
    ]
    (args.work / f"{prefix}results.json").write_text(json.dumps(details, indent=1))


if __name__ == "__main__":
    main()
