"""Run the transform suite through testament's matcher and the vPDQ baseline; print a table.

    python -m benchmarks.matching.evaluate [--work benchmarks/results/matching]

Writes ``results.md`` (the table) and ``results.json`` (every query's outcome) to the work
folder. The first run renders the suite (a few minutes on 2 cores); later runs reuse it.
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

from benchmarks.matching import suite, vpdq_baseline
from benchmarks.matching.suite import Query

from testament.fingerprint import HashIndex, fingerprint_file, match

SAME_FOOTAGE = {"same_footage", "clip_of", "contains", "overlaps", "still_from"}
TIME_TOLERANCE = 0.5


@dataclass
class Outcome:
    """What one method answered for one query."""

    found: bool  # the true source came back (positives)
    false_calls: list[int]  # assets returned that are not the source
    relation: str | None = None
    time_error: float | None = None  # |offset or still time - truth|, seconds
    seconds: float = 0.0


@dataclass
class Assets:
    """The two indexes of the benchmark: ids, files and durations."""

    ids: dict[str, int]
    files: dict[int, Path]
    durations: dict[int, float | None] = field(default_factory=dict)

    def of(self, index: str) -> list[int]:
        """Asset ids that belong to the "main" or the "negative" index."""
        negative = {self.ids[suite.head_asset(n)] for n in suite.SOURCES}
        return [a for a in self.files if (a in negative) == (index == "negative")]


def load_assets(work: Path) -> Assets:
    """Main index: the source videos; negative index: each source's first 40%."""
    files = {name: suite.source_path(name) for name in suite.SOURCES}
    files |= suite.render_negative_index_assets(work)
    ids = {name: i + 1 for i, name in enumerate(files)}
    return Assets(ids, {ids[name]: path for name, path in files.items()})


def _expected_time(query: Query) -> float | None:
    return query.timestamp if query.kind == "image" else query.offset


def _outcome(
    query: Query, assets: Assets, answers: dict[int, tuple[str, float | None]], seconds: float
) -> Outcome:
    """Score one method's answers: {asset id: (relation, offset or still time)}."""
    source = assets.ids.get(query.source or "")
    false_calls = sorted(a for a in answers if a != source)
    if source not in answers:
        return Outcome(False, false_calls, seconds=seconds)
    relation, answer_time = answers[source]
    expected = _expected_time(query)
    error = None
    if expected is not None and answer_time is not None:
        error = abs(answer_time - expected)
    return Outcome(relation in SAME_FOOTAGE, false_calls, relation, error, seconds)


def run_ours(queries: list[Query], assets: Assets, work: Path) -> list[Outcome]:
    """testament.fingerprint: fingerprint the assets, index them, match every query."""
    indexes = {"main": HashIndex(), "negative": HashIndex()}
    for name in ("main", "negative"):
        for asset_id in assets.of(name):
            fingerprint = fingerprint_file(assets.files[asset_id])
            indexes[name].add(asset_id, fingerprint)
            assets.durations[asset_id] = fingerprint.duration
    outcomes = []
    for query in queries:
        start = time.perf_counter()
        found = match(suite.query_file(query, work), indexes[query.index], assets.durations)
        answers = {
            m.asset_id: (m.relation, m.asset_time if query.kind == "image" else m.offset)
            for m in found
        }
        outcomes.append(_outcome(query, assets, answers, time.perf_counter() - start))
    return outcomes


def run_vpdq(queries: list[Query], assets: Assets, work: Path) -> list[Outcome]:
    """The vPDQ baseline over the same indexes."""
    hashes = {a: vpdq_baseline.hash_file(p) for a, p in assets.files.items()}
    targets = {name: {a: hashes[a] for a in assets.of(name)} for name in ("main", "negative")}
    outcomes = []
    for query in queries:
        start = time.perf_counter()
        query_hash = vpdq_baseline.hash_file(suite.query_file(query, work))
        found = vpdq_baseline.search(query_hash, targets[query.index], query.kind == "image")
        relation = "still_from" if query.kind == "image" else "same_footage"
        answers = {a: (relation, m.still_time) for a, m in found.items()}
        outcomes.append(_outcome(query, assets, answers, time.perf_counter() - start))
    return outcomes


def _share(values: list[bool]) -> str:
    return (
        f"{sum(values)}/{len(values)} ({100 * sum(values) / len(values):.0f}%)" if values else "—"
    )


def _timing(outcomes: list[Outcome]) -> str:
    errors = [o.time_error for o in outcomes if o.time_error is not None]
    if not errors:
        return "—"
    within = _share([e <= TIME_TOLERANCE for e in errors])
    return f"{within}, median {statistics.median(errors):.2f} s"


def _row(family: str, queries: list[Query], methods: dict[str, list[Outcome]]) -> list[str]:
    negative = queries[0].source is None
    label = family
    if family in suite.INFORMATIONAL:
        label += " (no target)"
    elif family in suite.EXTRA:
        label += " (extra)"
    cells = [label, str(len(queries))]
    for outcomes in methods.values():
        if negative:
            cells += ["—", _share([bool(o.false_calls) for o in outcomes]), "—"]
        else:
            cells += [
                _share([o.found for o in outcomes]),
                _share([bool(o.false_calls) for o in outcomes]),
                _timing(outcomes),
            ]
    return cells


def table(queries: list[Query], methods: dict[str, list[Outcome]]) -> str:
    """Markdown table: per family and method, recall, false calls and time accuracy."""
    header = ["family", "n"]
    for name in methods:
        header += [f"{name} recall", f"{name} false calls", f"{name} time ≤0.5 s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    families = list(dict.fromkeys(q.family for q in queries))
    for family in families:
        rows = [i for i, q in enumerate(queries) if q.family == family]
        picked = {name: [outcomes[i] for i in rows] for name, outcomes in methods.items()}
        lines.append("| " + " | ".join(_row(family, [queries[i] for i in rows], picked)) + " |")
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


def misses(queries: list[Query], outcomes: list[Outcome]) -> list[str]:
    """Ids of the queries a method got wrong (missed positive or any false call)."""
    return [
        q.id
        for q, o in zip(queries, outcomes, strict=True)
        if q.family not in suite.INFORMATIONAL
        and (o.false_calls or (q.source is not None and not o.found))
    ]


def _timed(label: str, run: Callable[[], list[Outcome]]) -> list[Outcome]:
    start = time.perf_counter()
    outcomes = run()
    print(f"{label}: {time.perf_counter() - start:.1f} s")
    return outcomes


def main() -> None:
    """Build the suite if needed, run both methods, print and save the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("benchmarks/results/matching"))
    parser.add_argument("--per-source", type=int, default=2, help="videos per source and family")
    parser.add_argument("--stills", type=int, default=4, help="stills per source and family")
    parser.add_argument("--jobs", type=int, default=2, help="processes that render the suite")
    args = parser.parse_args()
    planned = _timed_suite(args)
    queries = [q for q in planned if q.excluded is None]
    assets = load_assets(args.work)
    methods = {
        "ours": _timed("testament", lambda: run_ours(queries, assets, args.work)),
        "vPDQ": _timed("vPDQ", lambda: run_vpdq(queries, assets, args.work)),
    }
    text = f"{table(queries, methods)}\n\n{machine_line()}\n"
    left_out = [f"{q.id} ({q.excluded})" for q in planned if q.excluded is not None]
    if left_out:
        text += "\nNot run (no footage anyone could match): " + "; ".join(left_out) + "\n"
    print(text)
    print("ours missed or wrongly matched:", ", ".join(misses(queries, methods["ours"])) or "none")
    (args.work / "results.md").write_text(text)
    details = [
        {"query": asdict(q), **{name: asdict(o[i]) for name, o in methods.items()}}
        for i, q in enumerate(queries)
    ]
    (args.work / "results.json").write_text(json.dumps(details, indent=1))


def _timed_suite(args: argparse.Namespace) -> list[Query]:
    start = time.perf_counter()
    queries = suite.build(args.work, args.per_source, args.stills, args.jobs)
    print(f"suite: {len(queries)} queries in {time.perf_counter() - start:.1f} s")
    return queries


if __name__ == "__main__":
    main()
