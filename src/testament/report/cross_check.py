"""Records against the signed custody events they come from.

An asset or capture record in a package is a plain JSON file; the custody events beside
it are signed. Ingest signs a `stored` event with the original's size, MD5, SHA-512 and
filename, a `probed` event with its media type and parse error, a `collected` event per
capture with where and when it was seen, and a `derived` event per derivative; newer
writers sign every field of the record, and large ones (raw platform metadata, probe
metadata) by the SHA-256 of their canonical JSON. Every field that such an event
carries must agree with the record, so an edited record is named even when it still
matches its manifests.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from testament.locker.custody import canonical_json

# Records are written in the transaction that signs their event; a minute is ample.
CLOCK_SLACK_S = 60
# Per action, the record field that a signed key speaks for, where the names differ.
RECORD_NAMES = {
    "stored": {"filename": "original_filename"},
    "collected": {"capture_id": "id", "media_missing": "missing_reason"},
}
# Signed keys holding the SHA-256 of a record field's canonical JSON.
DIGESTS = {"raw_sha256": "raw", "probe_sha256": "probe"}
# Keys that the first writers left out when the value was empty: absent means empty.
OMITTED_WHEN_EMPTY = {
    "collected": (
        "platform",
        "url",
        "channel",
        "post_id",
        "source_path",
        "tool",
        "posted_at",
        "media_missing",
    ),
    "probed": ("parse_error",),
}
# The keys of a `derived` event that are not the derivative's parameters.
DERIVED_FIELDS = frozenset({"kind", "sha256", "tool", "tool_version", "media_type", "created_at"})


@dataclass(frozen=True)
class SignedEvent:
    """A custody event whose hash and signature have checked out."""

    seq: int
    time: str
    actor: str
    action: str
    subject: str
    details: dict[str, Any]


@dataclass
class SignedEvents:
    """Checked events by subject, and the `collected` events by capture id."""

    by_subject: dict[str, list[SignedEvent]] = field(default_factory=lambda: defaultdict(list))
    collected: dict[int, SignedEvent] = field(default_factory=dict)

    def add(self, event: SignedEvent) -> None:
        self.by_subject[event.subject].append(event)
        if event.action == "collected" and isinstance(event.details.get("capture_id"), int):
            self.collected[event.details["capture_id"]] = event

    def about(self, sha256: str, action: str) -> list[SignedEvent]:
        return [e for e in self.by_subject.get(f"asset:{sha256}", []) if e.action == action]


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _agree(key: str, record_value: Any, signed_value: Any) -> bool:
    if key.endswith("_at") and record_value is not None and signed_value is not None:
        return _instant(record_value) is not None and _instant(record_value) == _instant(
            signed_value
        )
    return record_value == signed_value


def _near(record_value: Any, event: SignedEvent) -> bool:
    recorded, signed = _instant(record_value), _instant(event.time)
    if recorded is None or signed is None:
        return False
    return abs((recorded - signed).total_seconds()) <= CLOCK_SLACK_S


def _record_value(record: dict[str, Any], field_name: str, key: str) -> Any:
    """The record's value in the form the event signs it."""
    if key in DIGESTS:
        value = record[field_name]
        if value is None:
            return None
        return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()
    if key == "media_missing":
        return record.get("missing_reason") if record.get("media_missing") else None
    return record[field_name]


class Checker:
    """Names every disagreement between records and signed events."""

    def __init__(self, events: SignedEvents, problems: list[str]) -> None:
        self.events = events
        self.problems = problems

    def _differs(self, where: str, name: str, record: Any, event: SignedEvent, signed: Any) -> None:
        self.problems.append(
            f"{where}: {name} {record!r} differs from the signed '{event.action}' "
            f"event #{event.seq} ({signed!r})"
        )

    def _compare(self, where: str, record: dict[str, Any], event: SignedEvent) -> None:
        """Every signed key that speaks for a field of the record, field by field."""
        names = RECORD_NAMES.get(event.action, {})
        keys = set(event.details) | set(OMITTED_WHEN_EMPTY.get(event.action, ()))
        for key in sorted(keys):
            field_name = DIGESTS.get(key) or names.get(key, key)
            if field_name not in record:
                continue
            value, signed = _record_value(record, field_name, key), event.details.get(key)
            if not _agree(key, value, signed):
                self._differs(where, field_name, record[field_name], event, signed)

    def _who_and_when(
        self, where: str, record: dict[str, Any], who: str, when: str, event: SignedEvent
    ) -> None:
        """The actor, and the time where the event does not sign it: near the event's."""
        if record.get(who) != event.actor:
            self._differs(where, who, record.get(who), event, event.actor)
        if when not in event.details and not _near(record.get(when), event):
            self._differs(where, when, record.get(when), event, event.time)

    def asset(self, where: str, record: dict[str, Any]) -> None:
        """The asset record against its `stored`, latest `probed` and `derived` events."""
        sha256 = record.get("sha256")
        if not isinstance(sha256, str):
            self.problems.append(f"{where}: no sha256")
            return
        stored = self.events.about(sha256, "stored")
        if not stored:
            self.problems.append(f"asset {sha256}: no signed 'stored' custody event in the package")
        else:
            self._compare(where, record, stored[0])
            self._who_and_when(where, record, "stored_by", "stored_at", stored[0])
        probed = self.events.about(sha256, "probed")
        if probed:
            self._compare(where, record, probed[-1])
        for derivative in record.get("derivatives") or []:
            self._derivative(where, sha256, derivative)

    def _derivative(self, where: str, sha256: str, derivative: Any) -> None:
        if not isinstance(derivative, dict):
            self.problems.append(f"{where}: a derivative entry is not a record")
            return
        made = [
            e
            for e in self.events.about(sha256, "derived")
            if e.details.get("sha256") == derivative.get("sha256")
        ]
        label = f"{where}: derivative {derivative.get('sha256')}"
        if not made:
            self.problems.append(f"{label}: no signed 'derived' event in the package")
            return
        # One file may be made twice (an image's thumbnail is also its keyframe).
        found = [self._derived_differences(derivative, event) for event in made]
        for name, value, event in min(found, key=len):
            self._differs(label, name, value, event, event.details.get(name))

    @staticmethod
    def _derived_differences(
        derivative: dict[str, Any], event: SignedEvent
    ) -> list[tuple[str, Any, SignedEvent]]:
        params = derivative.get("params") or {}
        signed_params = {k for k in event.details if k not in DERIVED_FIELDS}
        claimed = {"kind": derivative.get("kind"), "tool": derivative.get("tool")}
        claimed |= {k: derivative.get(k) for k in DERIVED_FIELDS - {"sha256"} if k in event.details}
        claimed |= {k: params.get(k) for k in signed_params | set(params)}
        return [
            (name, value, event)
            for name, value in sorted(claimed.items())
            if not _agree(name, value, event.details.get(name))
        ]

    def capture(self, where: str, record: dict[str, Any]) -> None:
        """The capture record against the `collected` event signed when it was recorded."""
        capture_id = record.get("id")
        event = self.events.collected.get(capture_id) if isinstance(capture_id, int) else None
        if event is None:
            self.problems.append(f"{where}: no signed 'collected' event for capture {capture_id!r}")
            return
        sha256 = record.get("sha256")
        subject = f"asset:{sha256}" if sha256 else f"capture:{capture_id}"
        if event.subject != subject:
            self._differs(where, "subject", subject, event, event.subject)
        self._compare(where, record, event)
        self._who_and_when(where, record, "collected_by", "collected_at", event)
