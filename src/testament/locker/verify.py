"""Checking a whole store: the fixity of every original and the integrity of the custody log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from testament.catalog.models import Asset
from testament.locker.custody import check_chain, iter_events, read_head
from testament.store import Store


@dataclass
class VerifyReport:
    blobs_checked: int = 0
    bytes_checked: int = 0
    events_checked: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "blobs_checked": self.blobs_checked,
            "bytes_checked": self.bytes_checked,
            "events_checked": self.events_checked,
            "problems": self.problems,
            "warnings": self.warnings,
        }


def _check_blobs(store: Store, report: VerifyReport, progress: Callable[[int], object]) -> set[str]:
    with store.read() as session:
        assets = session.execute(select(Asset.sha256, Asset.size).order_by(Asset.id)).all()
    known = set()
    for sha256, size in assets:
        known.add(sha256)
        report.blobs_checked += 1
        if not store.blobs.exists(sha256):
            report.problems.append(f"blob {sha256}: missing from the blob store")
        else:
            actual = store.blobs.current_sha256(sha256)
            if actual != sha256:
                report.problems.append(
                    f"blob {sha256}: content changed (its bytes now hash to {actual})"
                )
            report.bytes_checked += size
        progress(size)
    for sha256 in store.blobs.iter_sha256():
        if sha256 not in known:
            report.warnings.append(
                f"blob {sha256}: stored but not catalogued (an interrupted ingest; "
                "ingesting the file again records it)"
            )
    return known


def _check_custody(store: Store, report: VerifyReport, assets: set[str]) -> None:
    stored: set[str] = set()
    with store.read() as session:

        def events():
            for event in iter_events(session):
                if event.action == "stored":
                    stored.add(event.subject.removeprefix("asset:"))
                yield event

        count, problems = check_chain(
            events(), store.signer.public, read_head(store.settings.custody_head_path)
        )
    report.events_checked = count
    report.problems.extend(problem.message for problem in problems)
    for sha256 in sorted(assets - stored):
        report.problems.append(f"blob {sha256}: no 'stored' custody event (events deleted?)")


def verify_store(store: Store, progress: Callable[[int], object] = lambda _n: None) -> VerifyReport:
    """Re-hash every blob and check the custody chain; record the outcome in the log."""
    report = VerifyReport()
    assets = _check_blobs(store, report, progress)
    _check_custody(store, report, assets)
    store.record(
        "verified",
        f"store:{store.signer.key_id}",
        {
            "intact": report.intact,
            "blobs_checked": report.blobs_checked,
            "events_checked": report.events_checked,
            "problems": len(report.problems),
        },
    )
    return report
