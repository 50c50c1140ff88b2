"""The case report: statistics over every incident in the store, with a timeline and a map."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import select

from testament.investigate.models import Incident, ReferenceDate
from testament.investigate.vocabulary import STATUS_LABELS
from testament.report import charts
from testament.report.document import Document, Picture, Section
from testament.store import Store


def _counts(title: str, counter: Counter[str]) -> Section:
    lines = [f"{label}: {count}" for label, count in sorted(counter.items())]
    return Section(title, lines or ["none"])


def case_document(store: Store) -> Document:
    with store.read() as session:
        incidents = list(session.execute(select(Incident).order_by(Incident.id)).scalars())
        references = [
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
            parties.update({p.party for p in incident.perpetrators})
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
    pictures = []
    if any(r.event or r.postings for r in rows):
        pictures.append(
            Picture(
                charts.timeline(rows, references),
                "Event dates against posting dates; dashed lines are reference dates.",
            )
        )
    located = Section("Map", [f"{len(points)} of {len(incidents)} incidents have a location."])
    if points:
        located.pictures.append(Picture(charts.point_map(points), "Incident locations."))
    sections = [
        _counts("Incidents by violation type", violations),
        _counts("Incidents by alleged perpetrator party", parties),
        _counts("Incidents by verification status", statuses),
        _counts("Incidents by month of the event", months),
        Section(
            "Timeline",
            [f"Reference dates: {', '.join(f'{d} {t}' for d, t in references) or 'none'}"],
            pictures,
        ),
        located,
    ]
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return Document(
        "Case report", f"{len(incidents)} incidents; made {made} by testament.", sections
    )
