"""The case report: what the whole store holds (assets, captures, footage, first postings),
then every incident, with a timeline and a map."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from sqlalchemy import select

from testament.actors import attributions
from testament.catalog.records import iso
from testament.investigate.models import Incident, ReferenceDate
from testament.investigate.vocabulary import STATUS_LABELS
from testament.report import accountability_report, basemap, charts, statistics
from testament.report.document import Document, Picture, Section, Table
from testament.report.statistics import StoreStatistics
from testament.store import Store

# Months shown one bar each in the postings chart; a longer span is shown by month posted.
CHART_MONTHS = 48


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _counts(title: str, counter: Counter[str], unit: str = "incident") -> Section:
    rows = [[label, f"{count:,}"] for label, count in sorted(counter.items())]
    if not rows:
        return Section(title, ["none"])
    return Section(title, tables=[Table([title.split(" by ")[-1], unit + "s"], rows, [3, 1], True)])


def _assets(stats: StoreStatistics) -> Section:
    rows = [
        [kind, f"{t.count:,}", f"{t.parse_errors:,}", f"{t.size:,}"]
        for kind, t in sorted(stats.media_types.items())
    ]
    section = Section(
        "Assets",
        [f"{_plural(stats.assets, 'asset')} preserved, {stats.size:,} bytes in all."],
        tables=[Table(["media type", "assets", "with a parse error", "bytes"], rows)]
        if rows
        else [],
    )
    if stats.parse_errors:
        section.subsections.append(
            Section(
                "Assets with a parse error (preserved as they are)",
                tables=[Table(["asset", "filename", "error"], stats.parse_errors, [2, 3, 7])],
            )
        )
    return section


def _months(stats: StoreStatistics) -> list[tuple[str, int]]:
    if not stats.months:
        return []
    first, last = min(stats.months), max(stats.months)
    year, month = int(first[:4]), int(first[5:])
    span = (int(last[:4]) - year) * 12 + int(last[5:]) - month + 1
    if span > CHART_MONTHS:
        return sorted(stats.months.items())
    months = []
    for _ in range(span):
        key = f"{year:04d}-{month:02d}"
        months.append((key, stats.months.get(key, 0)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _captures(stats: StoreStatistics) -> Section:
    section = Section(
        "Captures",
        [
            f"{_plural(stats.captures, 'capture')} (sightings of an asset somewhere), "
            f"{stats.without_media:,} of them recorded without media; "
            f"{stats.undated:,} with no posting time."
        ],
    )
    section.subsections.append(_counts("Captures by platform", stats.platforms, "capture"))
    by_month = _counts("Captures by month of posting", stats.months, "capture")
    if stats.months:
        by_month.tables[0].rows.append(["posting time unknown", f"{stats.undated:,}"])
        by_month.pictures.append(
            Picture(
                charts.postings_by_month(_months(stats), stats.undated),
                "Captures by the month they were posted (UTC).",
            )
        )
    section.subsections.append(by_month)
    return section


def _footage(stats: StoreStatistics) -> Section:
    alone = stats.assets - stats.grouped_assets
    lines = [
        f"{_plural(stats.groups, 'footage group')} (assets that show the same footage) holding "
        f"{_plural(stats.grouped_assets, 'asset')}; {_plural(alone, 'asset')} in no group."
    ]
    tables = []
    if stats.group_sizes:
        sizes = [[f"{n} assets", f"{count:,}"] for n, count in sorted(stats.group_sizes.items())]
        tables.append(Table(["group size", "groups"], sizes, [3, 1], True))
    relations = [
        [relation.replace("_", " "), f"{count:,}"]
        for relation, count in sorted(stats.relations.items())
        if relation != statistics.SAME_SCENE
    ]
    if relations:
        tables.append(Table(["relation between two assets", "links"], relations, [3, 1], True))
    if statistics.same_scene(stats):
        lines.append(
            f"{_plural(statistics.same_scene(stats), 'same-scene link')} (one place and camera, "
            "other footage) join no group."
        )
    return Section("Footage groups", lines, tables=tables)


def _earliest(stats: StoreStatistics) -> Section:
    rows = [
        [
            str(e.group),
            f"{e.sha256[:12]} {e.filename or ''}".strip(),
            iso(e.posted_at) or f"posting time unknown (collected {iso(e.collected_at)})",
            e.where,
            f"{e.dated_postings:,}",
            iso(e.last_posted_at) or "",
        ]
        for e in stats.earliest
    ]
    header = ["group", "earliest asset", "first posted", "where", "dated postings", "last posted"]
    return Section(
        "Earliest postings",
        [
            "The earliest known capture of each footage group: by posting time, then by the "
            "time it was collected. Footage may have been posted earlier where no copy was "
            "collected."
        ],
        tables=[Table(header, rows, [1.3, 3, 3.6, 4.6, 1.6, 3.6])] if rows else [],
    )


def _incidents(store: Store) -> tuple[int, list[Section]]:
    with store.read() as session:
        incidents = list(session.execute(select(Incident).order_by(Incident.id)).scalars())
        references: list[tuple[date, str]] = [
            (r.day, r.label)
            for r in session.execute(select(ReferenceDate).order_by(ReferenceDate.day)).scalars()
        ]
        violations: Counter[str] = Counter()
        parties: Counter[str] = Counter()
        statuses: Counter[str] = Counter()
        months: Counter[str] = Counter()
        rows = []
        points = []
        for incident in incidents:
            violations.update(t.label for t in incident.violations)
            parties.update(  # each party once per incident; a rejected attribution is none
                {
                    a.actor.party or a.actor.name
                    for a in attributions.for_incident(session, incident.id)
                    if a.status != "rejected"
                }
            )
            statuses[STATUS_LABELS.get(incident.status, incident.status)] += 1
            when = incident.event_time or incident.event_earliest
            months[when.strftime("%Y-%m") if when else "date unknown"] += 1
            postings = sorted(
                {
                    c.posted_at
                    for link in incident.assets
                    for c in link.asset.captures
                    if c.posted_at
                }
            )
            rows.append(
                charts.TimelineRow(
                    f"#{incident.id} {incident.title[:40]}",
                    incident.event_time,
                    incident.event_earliest,
                    incident.event_latest,
                    postings,
                )
            )
            if incident.latitude is not None and incident.longitude is not None:
                points.append((incident.latitude, incident.longitude, f"#{incident.id}"))
    if not incidents:
        return 0, [Section("Incidents", ["No incidents recorded yet."])]
    timeline = Section(
        "Timeline",
        [f"Reference dates: {', '.join(f'{d} {t}' for d, t in references) or 'none'}"],
    )
    if any(r.event or r.earliest or r.postings for r in rows):
        timeline.pictures.append(
            Picture(
                charts.timeline(rows, references),
                "Event dates against posting dates; dashed lines are reference dates.",
            )
        )
    located = Section("Map", [f"Incidents with a location: {len(points)} of {len(incidents)}."])
    if points:
        located.pictures.append(
            Picture(
                charts.case_map(points),
                "Incident locations, labelled by number; each point is as precise as its "
                f"incident record says. {basemap.ATTRIBUTION}.",
            )
        )
    return len(incidents), [
        _counts("Incidents by violation type", violations),
        _counts("Incidents by alleged perpetrator party", parties),
        _counts("Incidents by verification status", statuses),
        _counts("Incidents by month of the event", months),
        timeline,
        located,
    ]


def case_document(store: Store) -> Document:
    with store.read() as session:
        stats = statistics.gather(session)
    count, incident_sections = _incidents(store)
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    summary = ", ".join(
        (
            _plural(stats.assets, "asset"),
            _plural(stats.captures, "capture"),
            _plural(stats.groups, "footage group"),
            _plural(count, "incident"),
        )
    )
    with store.read() as session:
        accountability = accountability_report.case_section(session)
    sections = [_assets(stats), _captures(stats), _footage(stats), _earliest(stats)]
    incident_sections.append(accountability)
    return Document(
        "Case report", f"{summary}; made {made} by testament.", sections + incident_sections
    )
