"""Attribution and accountability in reports: who is alleged, on what basis, what came of it.

Charts: incidents over time against accountability events, and attributions by party
and confidence. Bases name their evidence by SHA-256 and position; no media is shown.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from testament.actors import accountability, attributions
from testament.actors.models import AccountabilityEvent, Attribution
from testament.actors.vocabulary import CONFIDENCE, EVENT_KINDS
from testament.investigate.models import Incident
from testament.report import charts
from testament.report.document import Picture, Section, Table

CONFIDENCE_COLOURS = {
    "confirmed": "#1b4f72",
    "probable": "#2e86c1",
    "possible": "#85c1e9",
    "unverified": "#d5d8dc",
}


def _basis_line(basis: dict) -> str:
    where = f" of asset {basis['sha256'][:12]}" if basis["sha256"] else " (no evidence linked)"
    if basis["start"] is not None:
        end = f"–{basis['end']:g}" if basis["end"] is not None else ""
        where += f" at {basis['start']:g}{end} s"
    if basis["region"]:
        where += " in region " + ", ".join(f"{x:.2f}" for x in basis["region"])
    return f"basis: {basis['kind']}{where}" + (f" — {basis['note']}" if basis["note"] else "")


def incident_section(session: Session, incident: Incident) -> Section:
    """The incident's attributions with their bases and review, and its accountability events."""
    lines = []
    for a in attributions.for_incident(session, incident.id):
        record = attributions.attribution_dict(a)
        reviewed = f", reviewed by {record['reviewer']}" if record["reviewer"] else ""
        lines.append(
            f"{record['actor']} ({record['actor_kind']}, {record['party'] or 'no party'}): "
            f"{record['role']}; confidence {record['confidence']}; {record['status']}{reviewed}"
        )
        lines.extend(f"  {_basis_line(b)}" for b in record["bases"])
    events = accountability.events(session, incident_id=incident.id)
    rows = [[e.day.isoformat(), e.kind, e.authority, e.source.sha256[:16]] for e in events]
    return Section(
        "Attribution and accountability",
        lines or ["No attribution recorded."],
        tables=[Table(["date", "event", "authority", "source (SHA-256)"], rows, [2, 3, 4, 3])]
        if rows
        else [],
    )


def _by_party(session: Session) -> dict[str, Counter[str]]:
    found: dict[str, Counter[str]] = {}
    for a in session.execute(select(Attribution)).scalars().unique():
        if a.status == "rejected":
            continue
        found.setdefault(a.actor.party or "no party stated", Counter())[a.confidence] += 1
    return found


def _month(day: date | datetime) -> str:
    return day.strftime("%Y-%m")


def case_section(session: Session, as_of: date | None = None) -> Section:
    """The case's attributions by party and confidence, events over time, and the case view."""
    by_party = _by_party(session)
    incidents = list(session.execute(select(Incident)).scalars())
    events = list(session.execute(select(AccountabilityEvent)).scalars().unique())
    view = accountability.case_view(session, as_of=as_of)
    section = Section(
        "Attribution and accountability",
        [
            f"{len(view.stalled)} of {view.incidents} incidents: investigation announced, "
            f"no charge after {view.after_days} days.",
            f"{len(view.shared_units)} identified units appear in more than one incident"
            + (
                ": " + "; ".join(f"{u.name} ({len(u.incidents)})" for u in view.shared_units)
                if view.shared_units
                else "."
            ),
            "Median time from first posting to first official reaction: "
            + (
                f"{view.median_reaction_days:g} days"
                if view.median_reaction_days is not None
                else "no reaction recorded"
            )
            + f"; {view.without_reaction} incidents without any.",
        ],
    )
    if by_party:
        rows = [
            [party, *(str(counts.get(c, 0)) for c in CONFIDENCE)]
            for party, counts in sorted(by_party.items())
        ]
        section.tables.append(Table(["party", *CONFIDENCE], rows))
        section.pictures.append(
            Picture(
                attribution_chart(by_party),
                "Attributions (not rejected) by the party of the actor, by confidence.",
            )
        )
    else:
        section.lines.append("No attributions recorded.")
    incident_months = Counter(
        _month(i.event_time or i.event_earliest)
        for i in incidents
        if i.event_time or i.event_earliest
    )
    if incident_months or events:
        section.pictures.append(
            Picture(
                accountability_chart(incident_months, [(e.day, e.kind) for e in events]),
                "Bars: incidents by month of the event. Marks: accountability events, one row "
                "per kind.",
            )
        )
    return section


def attribution_chart(by_party: dict[str, Counter[str]]) -> bytes:
    plt = charts.plt
    parties = sorted(by_party)
    figure, axes = plt.subplots(figsize=(9, max(2.0, 0.5 * len(parties) + 1.2)))
    left = [0] * len(parties)
    for confidence in CONFIDENCE:
        values = [by_party[p].get(confidence, 0) for p in parties]
        axes.barh(
            parties, values, left=left, color=CONFIDENCE_COLOURS[confidence], label=confidence
        )
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.legend(fontsize=8, ncols=4, loc="lower right")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_xlabel("attributions", fontsize=8)
    axes.set_title("Attributions by party and confidence", fontsize=10)
    return charts._png(figure)


def accountability_chart(incident_months: Counter[str], events: list[tuple[date, str]]) -> bytes:
    plt = charts.plt
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(9, 4.2), sharex=True, gridspec_kw={"height_ratios": [1, 1.3]}
    )
    months = sorted(incident_months)
    top.bar(
        [datetime.strptime(m + "-15", "%Y-%m-%d") for m in months],
        [incident_months[m] for m in months],
        width=20,
        color=charts.EVENT,
        alpha=0.8,
    )
    top.set_ylabel("incidents", fontsize=8)
    top.yaxis.get_major_locator().set_params(integer=True)
    kinds = [k for k in EVENT_KINDS if any(kind == k for _, kind in events)]
    for y, kind in enumerate(kinds):
        days = [datetime(d.year, d.month, d.day) for d, k in events if k == kind]
        bottom.plot(days, [y] * len(days), "D", color=charts.EARLIEST)
    bottom.set_yticks(range(len(kinds)), kinds, fontsize=8)
    bottom.set_ylim(max(len(kinds), 1) - 0.5, -0.5)
    if not kinds:
        bottom.text(0.5, 0.5, "no accountability events", ha="center", transform=bottom.transAxes)
    charts._time_axis(bottom)
    top.set_title("Incidents over time against accountability events", fontsize=10)
    return charts._png(figure)
