"""Comparing the catalog with what the signed custody events say it holds.

The events are the signed record; the catalog is a database anyone with access can edit.
Every asset, capture, derivative, fingerprint, page capture and analysis must have its signed event,
agree with it field by field (see `locker/attest.py`), and every such event must still have
its record.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from testament.catalog.models import Asset, Capture, CustodyEvent, Derivative, FingerprintRecord
from testament.enrich.models import Analysis
from testament.enrich.records import analysed_details
from testament.locker.attest import (
    collected_details,
    derived_details,
    differences,
    fingerprinted_details,
    probed_details,
    split_derived,
    stored_details,
)
from testament.watch.page_records import PARTS, PageCapture, page_captured_details

BATCH = 1000
ACTIONS = frozenset(
    {"stored", "probed", "collected", "derived", "fingerprinted", "page_captured", "analysed"}
)


def short(sha256: str | None) -> str:
    return f"{sha256[:12]}…" if sha256 else "(none)"


@dataclass(frozen=True)
class Signed:
    """One signed event about a record, as much as reconciling needs of it."""

    seq: int
    actor: str
    details: str  # the signed JSON text, parsed only when compared

    def parsed(self) -> dict[str, Any]:
        value = json.loads(self.details)
        return value if isinstance(value, dict) else {}


@dataclass
class SignedRecords:
    """The records that the signed events describe, gathered in one pass over the log."""

    stored: dict[str, Signed] = field(default_factory=dict)
    probed: dict[str, Signed] = field(default_factory=dict)
    collected: dict[int, Signed] = field(default_factory=dict)
    derived: dict[tuple[str, str, str], list[Signed]] = field(
        default_factory=lambda: defaultdict(list)
    )
    fingerprinted: dict[str, Signed] = field(default_factory=dict)
    page_captured: dict[int, Signed] = field(default_factory=dict)
    analysed: dict[int, Signed] = field(default_factory=dict)

    def add(self, event: CustodyEvent) -> None:
        if event.action not in ACTIONS:
            return
        signed = Signed(event.seq, event.actor, event.details)
        try:
            details = signed.parsed()
        except ValueError:
            return  # the chain check names an event whose details are not JSON
        asset = event.subject.removeprefix("asset:")
        if event.action == "stored":
            self.stored.setdefault(asset, signed)
        elif event.action == "probed":
            self.probed[asset] = signed  # the newest probe is the one the catalog holds
        elif event.action == "fingerprinted":
            self.fingerprinted[asset] = signed
        elif event.action == "collected" and isinstance(details.get("capture_id"), int):
            self.collected.setdefault(details["capture_id"], signed)
        elif event.action == "derived":
            key = (asset, str(details.get("kind")), str(details.get("sha256")))
            self.derived[key].append(signed)
        elif event.action == "page_captured" and isinstance(details.get("page_capture_id"), int):
            self.page_captured.setdefault(details["page_capture_id"], signed)
        elif event.action == "analysed" and isinstance(details.get("analysis_id"), int):
            self.analysed[details["analysis_id"]] = signed  # a retried failure: the newest


@dataclass
class Reconciled:
    records: int = 0
    incomplete: int = 0  # records whose events predate attesting every field
    problems: list[str] = field(default_factory=list)


def _rows(session: Session, query: Any) -> Iterator[Any]:
    yield from session.execute(query.execution_options(yield_per=BATCH)).scalars()


class _Reconciler:
    def __init__(self, session: Session, signed: SignedRecords) -> None:
        self.session = session
        self.signed = signed
        self.out = Reconciled()
        self.asset_sha: dict[int, str] = {}

    def compare(
        self,
        name: str,
        action: str,
        event: Signed | None,
        catalog: dict[str, Any],
        actor: str | None = None,
    ) -> None:
        """Name the record's fields that differ from its signed event, or its lack of one."""
        if event is None:
            self.out.problems.append(f"{name}: in the catalog with no signed '{action}' event")
            return
        signed = event.parsed()
        if action == "derived":
            catalog, signed = split_derived(catalog), split_derived(signed)
        differing, complete = differences(action, catalog, signed)
        if actor is not None and actor != event.actor:
            differing.append(f"{action}_by")
        self.out.incomplete += not complete
        for column in differing:
            self.out.problems.append(
                f"{name}: {column} in the catalog differs from its signed '{action}' event "
                f"(#{event.seq})"
            )

    def assets(self) -> None:
        query = select(Asset).options(lazyload(Asset.captures)).order_by(Asset.id)
        for asset in _rows(self.session, query):
            self.asset_sha[asset.id] = asset.sha256
            self.out.records += 1
            name = f"asset {short(asset.sha256)}"
            stored = self.signed.stored.pop(asset.sha256, None)
            self.compare(name, "stored", stored, stored_details(asset), asset.stored_by)
            probed = self.signed.probed.pop(asset.sha256, None)
            tool = "" if probed is None else str(probed.parsed().get("tool"))
            self.compare(name, "probed", probed, probed_details(asset, tool))
        for sha256, event in sorted(self.signed.stored.items(), key=lambda kv: kv[1].seq):
            self._missing(f"asset {short(sha256)}", "stored", event)

    def captures(self) -> None:
        for capture in _rows(self.session, select(Capture).order_by(Capture.id)):
            sha256 = self.asset_sha.get(capture.asset_id) if capture.asset_id else None
            event = self.signed.collected.pop(capture.id, None)
            self.out.records += 1
            self.compare(
                f"capture {capture.id}",
                "collected",
                event,
                collected_details(capture, sha256),
                capture.collected_by,
            )
        for capture_id, event in sorted(self.signed.collected.items()):
            self._missing(f"capture {capture_id}", "collected", event)

    def derivatives(self) -> None:
        for row in _rows(self.session, select(Derivative).order_by(Derivative.id)):
            asset = self.asset_sha.get(row.asset_id, "")
            events = self.signed.derived.get((asset, row.kind, row.sha256), [])
            catalog = derived_details(row)
            self.out.records += 1
            event = self._best(events, catalog)
            name = f"{row.kind} {short(row.sha256)} of asset {short(asset)}"
            self.compare(name, "derived", event, catalog)
        for (asset, kind, sha256), events in sorted(self.signed.derived.items()):
            for event in events:
                self._missing(f"{kind} {short(sha256)} of asset {short(asset)}", "derived", event)

    @staticmethod
    def _best(events: list[Signed], catalog: dict[str, Any]) -> Signed | None:
        """The event that matches the row exactly, else the oldest; taken off the list."""
        if not events:
            return None
        wanted = split_derived(catalog)
        for index, event in enumerate(events):
            if not differences("derived", wanted, split_derived(event.parsed()))[0]:
                return events.pop(index)
        return events.pop(0)

    def fingerprints(self) -> None:
        query = select(FingerprintRecord).order_by(FingerprintRecord.id)
        for record in _rows(self.session, query):
            asset = self.asset_sha.get(record.asset_id, "")
            event = self.signed.fingerprinted.pop(asset, None)
            self.out.records += 1
            name = f"fingerprint of asset {short(asset)}"
            self.compare(name, "fingerprinted", event, fingerprinted_details(record))
        for asset, event in sorted(self.signed.fingerprinted.items(), key=lambda kv: kv[1].seq):
            self._missing(f"fingerprint of asset {short(asset)}", "fingerprinted", event)

    def page_captures(self) -> None:
        for row in _rows(self.session, select(PageCapture).order_by(PageCapture.id)):
            parts = {
                kind: self.asset_sha.get(getattr(row, column) or 0)
                for kind, column in PARTS.items()
            }
            event = self.signed.page_captured.pop(row.id, None)
            self.out.records += 1
            details = page_captured_details(row, parts)
            self.compare(f"page capture {row.id}", "page_captured", event, details, row.captured_by)
        for row_id, event in sorted(self.signed.page_captured.items()):
            self._missing(f"page capture {row_id}", "page_captured", event)

    def analyses(self) -> None:
        for row in _rows(self.session, select(Analysis).order_by(Analysis.id)):
            asset = self.asset_sha.get(row.asset_id)
            event = self.signed.analysed.pop(row.id, None)
            self.out.records += 1
            name = f"{row.analyser} analysis {row.id} of asset {short(asset)}"
            self.compare(name, "analysed", event, analysed_details(row, asset))
        for row_id, event in sorted(self.signed.analysed.items()):
            self._missing(f"analysis {row_id}", "analysed", event)

    def _missing(self, name: str, action: str, event: Signed) -> None:
        self.out.problems.append(
            f"{name}: in its signed '{action}' event (#{event.seq}) but missing from the catalog"
        )


def reconcile(session: Session, signed: SignedRecords) -> Reconciled:
    """Every catalog record against its signed event, and every such event against the
    catalog. `signed` is consumed."""
    reconciler = _Reconciler(session, signed)
    reconciler.assets()
    reconciler.captures()
    reconciler.derivatives()
    reconciler.fingerprints()
    reconciler.page_captures()
    reconciler.analyses()
    return reconciler.out
