"""The incident report: what is alleged, how sure we are, and the evidence behind it.

Stills are shown blurred and greyscale (the workbench's protective rendering) unless the
person asks for them unblurred: reports travel further than the workbench.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import PurePath

from sqlalchemy import select
from sqlalchemy.orm import Session

from testament.catalog.models import Asset, Capture
from testament.catalog.records import iso
from testament.footage.groups import footage_groups
from testament.investigate import incidents as logic
from testament.investigate.models import Incident, IncidentAsset, ReferenceDate
from testament.investigate.vocabulary import STATUS_LABELS
from testament.media.thumbnails import previews, protective
from testament.report import accountability_report, analyses, basemap, charts
from testament.report.document import Document, Picture, Section
from testament.store import Store


def _or_unknown(value: object) -> str:
    return "unknown" if value in (None, "") else str(value)


def _status(value: object) -> str:
    return STATUS_LABELS.get(str(value), _or_unknown(value))


def _where_posted(capture: Capture) -> str:
    """Where and when a copy was seen, each known value once: no "unknown" placeholders."""
    seen = " ".join(p for p in (capture.platform, capture.channel, capture.url) if p)
    if not seen:
        name = capture.filename or PurePath(capture.source_path or "").name
        seen = f"file {name}" if name else "no place recorded"
    posted = f"posted {iso(capture.posted_at)}" if capture.posted_at else "posting time unknown"
    return f"{seen}; {posted}"


def _precision_note(precision: str | None) -> str:
    if not precision:
        return "The record states no precision: the point may be far from the place."
    if precision in charts.PRECISION_KM:
        if precision == "exact":
            return "Stated precision: exact."
        return f"Stated precision: {precision} (the shaded circle in the close-up)."
    return (
        f"Stated precision: {precision}. The point stands for a {precision} whose extent the "
        "record does not hold; no circle is drawn."
    )


def _map(incident: Incident) -> list[Picture]:
    if incident.latitude is None or incident.longitude is None:
        return []
    label = f"#{incident.id} {incident.location_name or ''}".strip()
    return [
        Picture(
            charts.incident_map(
                incident.latitude, incident.longitude, label, incident.location_precision
            ),
            f"Where the incident is placed ({incident.latitude:.5f}, {incident.longitude:.5f}, "
            f"WGS 84). {_precision_note(incident.location_precision)} {basemap.ATTRIBUTION}.",
            share=1.0 if incident.location_precision in charts.PRECISION_KM else 0.75,
        )
    ]


def _time_place(incident: Incident) -> Section:
    lines = [
        f"Best estimate of the time: {_or_unknown(iso(incident.event_time))}",
        f"Not before: {_or_unknown(iso(incident.event_earliest))}; "
        f"not after: {_or_unknown(iso(incident.event_latest))}",
        f"Place: {_or_unknown(incident.location_name)}",
    ]
    if incident.latitude is not None and incident.longitude is not None:
        lines.append(f"Coordinates: {incident.latitude:.5f}, {incident.longitude:.5f} (WGS 84)")
    lines.append(
        f"Precision: {_or_unknown(incident.location_precision)}; "
        f"method: {_or_unknown(incident.location_method)}"
    )
    if incident.latitude is None or incident.longitude is None:
        lines.append("No coordinates recorded; no map drawn.")
    return Section("Time and place", lines, _map(incident))


def _victims(incident: Incident) -> Section:
    """Who suffered it; who is alleged to have done it is in the attribution section."""
    victims = [
        f"Victims: {'number unknown' if v.count is None else v.count}; "
        f"status {v.status}; age {v.age_group}; sex {v.sex}"
        for v in incident.victims
    ] or ["No victims recorded."]
    return Section("Victims (as alleged)", victims)


def _timeline(session: Session, incident: Incident) -> Section:
    """The event estimate against every known posting of its footage, earliest ringed."""
    event = charts.TimelineRow(
        "event", incident.event_time, incident.event_earliest, incident.event_latest, []
    )
    rows = []
    linked = {link.asset_id for link in incident.assets}
    others: dict[int, Asset] = {}
    for link in incident.assets:
        asset = link.asset
        name = (asset.original_filename or "")[:24]
        posted = sorted(c.posted_at for c in asset.captures if c.posted_at)
        rows.append(
            charts.TimelineRow(f"{asset.sha256[:12]} {name}".strip(), None, None, None, posted)
        )
        for group in footage_groups(session, asset.id):
            others.update({m.id: m for m in group.members if m.id not in linked})
    if others:
        posted = sorted(c.posted_at for m in others.values() for c in m.captures if c.posted_at)
        label = f"{len(others)} other cop{'y' if len(others) == 1 else 'ies'} of the footage"
        rows.append(charts.TimelineRow(label, None, None, None, posted))
    section = Section("Timeline")
    if not any(r.postings for r in rows):
        section.lines.append("No linked footage has a known posting time: no timeline drawn.")
        return section
    references = [
        (r.day, r.label)
        for r in session.execute(select(ReferenceDate).order_by(ReferenceDate.day)).scalars()
    ]
    undated = sum(1 for r in rows if not r.postings)
    section.lines.append(
        "When the event is estimated to have happened, and when each linked asset and each "
        "other copy of the same footage in the locker is known to have been posted. "
        + (f"Linked rows with no dated posting: {undated}." if undated else "")
    )
    section.pictures.append(
        Picture(
            charts.incident_timeline(event, rows, references),
            "Blue: the event's best estimate (circle) and bounds (band). Crosses: postings "
            "(UTC); the ringed one is the earliest, the first time the footage is known to "
            "have been online. Dashed lines: reference dates in this span.",
        )
    )
    return section


def _history(session: Session, incident: Incident) -> Section:
    lines = []
    for event in logic.feed_events(session, incident):
        if event.kind in ("created", "status", "review"):
            details = event.details
            note = (details.get("note") or "").strip()
            if event.kind == "created":
                what = "created"
            elif event.kind == "review":
                what = f"review: {_status(details.get('decision'))}"
                what += f" — “{note}”" if note else ""
            else:
                what = f"status: {_status(details.get('old'))} → {_status(details.get('new'))}"
                if note.startswith("review"):
                    what += " (by the review)"
                elif note:
                    what += f" ({note})"
            lines.append(f"{iso(event.time)} {event.actor.username}: {what}")
    return Section("Verification history", lines or ["No history recorded."])


def _still(store: Store, asset: Asset, unblurred: bool) -> list[Picture]:
    thumbnails = [d for d in previews(store, asset) if d.kind == "thumbnail"]
    if not thumbnails:
        return []
    with store.blobs.open(thumbnails[0].sha256) as handle:
        data = handle.read()
    if unblurred:
        return [Picture(data, f"still from {asset.sha256[:12]} (unblurred)", "image/jpeg")]
    return [
        Picture(
            protective(data), f"still from {asset.sha256[:12]}, blurred and greyscale", "image/jpeg"
        )
    ]


def _asset_section(
    store: Store, session: Session, link: IncidentAsset, unblurred: bool, with_faces: bool
) -> Section:
    asset = link.asset
    segment = ""
    if link.start is not None or link.end is not None:
        segment = f" (segment {_or_unknown(link.start)} s to {_or_unknown(link.end)} s)"
    lines = [
        f"File: {_or_unknown(asset.original_filename)}; {asset.media_type}; {asset.size} bytes",
        f"SHA-256: {asset.sha256}",
        f"SHA-512: {asset.sha512}",
        f"MD5: {asset.md5}",
        f"Stored: {iso(asset.stored_at)} by {asset.stored_by}",
    ]
    if link.note:
        lines.append(f"Note: {link.note}")
    for capture in asset.captures:
        lines.append(
            f"Capture #{capture.id}: {_where_posted(capture)}; "
            f"collected {iso(capture.collected_at)} ({capture.method})"
        )
    groups = footage_groups(session, asset.id)
    if groups:
        group = groups[0].as_dict()
        first = group["earliest_capture"]
        if first:
            seen = " ".join(first[k] for k in ("platform", "channel", "url") if first[k])
            when = (
                f"posted {first['posted_at']}"
                if first["posted_at"]
                else f"posting time unknown, collected {first['collected_at']}"
            )
            lines.append(
                f"Earliest known capture of this footage: {when}"
                + (f" on {seen}" if seen else "")
                + f" (asset {first['sha256'][:12]})"
            )
        for item in group["links"]:
            at = f" at {item['asset_time']:.2f} s" if item["asset_time"] is not None else ""
            lines.append(
                f"Matching footage: {item['a'][:12]} {item['relation'].replace('_', ' ')} "
                f"{item['b'][:12]}{at} (score {item['score']})"
            )
    else:
        posted = [c.posted_at for c in asset.captures if c.posted_at]
        first = iso(min(posted, default=None))
        lines.append(f"Earliest known posting: {first}" if first else "No known posting time.")
        lines.append("Matching footage: none found in the locker")
    lines.extend(analyses.report_lines(session, asset, with_faces=with_faces))
    still = _still(store, asset, unblurred)
    return Section(f"Asset {asset.sha256[:12]}{segment}", lines, still, pictures_first=True)


def incident_document(
    store: Store, incident_id: int, *, unblurred: bool = False, with_faces: bool = False
) -> Document:
    """The report; `with_faces` when its reader's role may see faces (investigators, admins)."""
    with store.read() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise LookupError(f"no incident {incident_id}")
        summary = Section(
            "Summary",
            [
                f"Status: {_status(incident.status)}",
                incident.summary or "No summary written.",
                f"Tags: {', '.join(incident.tags) or 'none'}",
            ],
        )
        violations = Section(
            "Violation types",
            [
                f"{t.label} ({t.code}; {t.category})"
                + (f" — {t.legal_basis}" if t.legal_basis else "")
                for t in incident.violations
            ]
            or ["None recorded."],
        )
        evidence = Section(
            "Supporting evidence",
            [] if incident.assets else ["No assets linked."],
            subsections=[
                _asset_section(store, session, link, unblurred, with_faces)
                for link in incident.assets
            ],
        )
        sections = [
            summary,
            violations,
            _time_place(incident),
            _timeline(session, incident),
            _victims(incident),
            accountability_report.incident_section(session, incident),
            _history(session, incident),
            evidence,
        ]
        made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        return Document(
            f"Incident {incident.id}: {incident.title}",
            f"Report made {made} by testament from the evidence locker.",
            sections,
        )
