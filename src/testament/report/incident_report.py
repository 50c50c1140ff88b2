"""The incident report: what is alleged, how sure we are, and the evidence behind it.

Stills are shown blurred and greyscale (the workbench's protective rendering) unless the
person asks for them unblurred: reports travel further than the workbench.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from testament.catalog.models import Asset
from testament.catalog.records import iso
from testament.footage.groups import footage_groups
from testament.investigate import incidents as logic
from testament.investigate.models import Incident, IncidentAsset
from testament.investigate.vocabulary import STATUS_LABELS
from testament.media.thumbnails import previews, protective
from testament.report.document import Document, Picture, Section
from testament.store import Store


def _or_unknown(value: object) -> str:
    return "unknown" if value in (None, "") else str(value)


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
    return Section("Time and place", lines)


def _parties(incident: Incident) -> Section:
    perpetrators = [
        f"Alleged perpetrator: {p.party}{f', {p.unit}' if p.unit else ''}; confidence "
        f"{p.confidence}; basis: {', '.join(p.basis) or 'not stated'}"
        for p in incident.perpetrators
    ] or ["No alleged perpetrator recorded."]
    victims = [
        f"Victims: {_or_unknown(v.count)}; status {v.status}; age {v.age_group}; sex {v.sex}"
        for v in incident.victims
    ] or ["No victims recorded."]
    return Section(
        "Perpetrators and victims (allegations, with their basis)", perpetrators + victims
    )


def _history(session: Session, incident: Incident) -> Section:
    lines = []
    for event in logic.feed_events(session, incident):
        if event.kind in ("created", "status", "review"):
            details = event.details
            if event.kind == "created":
                what = "created"
            elif event.kind == "review":
                what = f"review: {details.get('decision')} {details.get('note') or ''}".strip()
            else:
                what = f"status {details.get('old')} → {details.get('new')}"
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


def _asset_section(store: Store, session: Session, link: IncidentAsset, unblurred: bool) -> Section:
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
            f"Capture #{capture.id}: {_or_unknown(capture.platform)} "
            f"{capture.channel or ''} {capture.url or ''} posted "
            f"{_or_unknown(iso(capture.posted_at))}, collected {iso(capture.collected_at)}"
        )
    groups = footage_groups(session, asset.id)
    if groups:
        group = groups[0].as_dict()
        first = group["earliest_capture"]
        if first:
            lines.append(
                f"Earliest known posting of this footage: {_or_unknown(first['posted_at'])} "
                f"on {_or_unknown(first['platform'])} {first['channel'] or ''} "
                f"{first['url'] or ''} (asset {first['sha256'][:12]})"
            )
        for item in group["links"]:
            at = f" at {item['asset_time']:.2f} s" if item["asset_time"] is not None else ""
            lines.append(
                f"Matching footage: {item['a'][:12]} {item['relation'].replace('_', ' ')} "
                f"{item['b'][:12]}{at} (score {item['score']})"
            )
    else:
        posted = [c.posted_at for c in asset.captures if c.posted_at]
        lines.append(f"Earliest known posting: {_or_unknown(iso(min(posted, default=None)))}")
        lines.append("Matching footage: none found in the locker")
    return Section(f"Asset {asset.sha256[:12]}{segment}", lines, _still(store, asset, unblurred))


def incident_document(store: Store, incident_id: int, *, unblurred: bool = False) -> Document:
    with store.read() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise LookupError(f"no incident {incident_id}")
        summary = Section(
            "Summary",
            [
                f"Status: {STATUS_LABELS.get(incident.status, incident.status)}",
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
                _asset_section(store, session, link, unblurred) for link in incident.assets
            ],
        )
        sections = [
            summary,
            violations,
            _time_place(incident),
            _parties(incident),
            _history(session, incident),
            evidence,
        ]
        made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        return Document(
            f"Incident {incident.id}: {incident.title}",
            f"Report made {made} by testament from the evidence locker.",
            sections,
        )
