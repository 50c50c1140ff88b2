"""Running analysers over assets: each result or failure is a record with its signed event.

One analyser failing on one asset is recorded (status "failed", the error) and the run goes
on; an analyser that cannot run here (no tool, no model) is reported once and skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from testament.catalog.models import Asset, FootageLink, utcnow
from testament.enrich.analyser import Analyser, AnalysisError, Found
from testament.enrich.models import Analysis
from testament.enrich.records import analysed_details
from testament.enrich.text_index import index_asset
from testament.locker.blobstore import local_file
from testament.store import Store

# Language runs last: it reads the text the other analysers found.
ORDER = ("ocr", "speech", "audio", "faces", "language")


def analysers(only: Iterable[str] | None = None) -> list[Analyser]:
    """The analysers asked for, in the order that lets later ones read earlier results."""
    from testament.enrich.audio import SameAudio
    from testament.enrich.faces import Faces
    from testament.enrich.language import Languages
    from testament.enrich.ocr import OnScreenText
    from testament.enrich.speech import Speech

    known: dict[str, Callable[[], Analyser]] = {
        "ocr": OnScreenText,
        "speech": Speech,
        "language": Languages,
        "audio": SameAudio,
        "faces": Faces,
    }
    wanted = list(ORDER if only is None else only)
    unknown = [name for name in wanted if name not in ORDER]
    if unknown:
        raise ValueError(f"unknown analyser {', '.join(unknown)} (one of {', '.join(ORDER)})")
    not_built = [name for name in wanted if name not in known]
    if only is not None and not_built:
        raise ValueError(f"analyser {', '.join(not_built)} is not available in this version")
    return [known[name]() for name in ORDER if name in wanted and name in known]


@dataclass(frozen=True)
class Outcome:
    sha256: str
    analyser: str
    status: str  # ok, failed, done (this version's result was there already)
    message: str


class Runner:
    """Runs the usable analysers over assets; `unavailable` says which could not run."""

    def __init__(self, store: Store, chosen: Sequence[Analyser]) -> None:
        self.store = store
        self.unavailable: dict[str, str] = {}
        self.ready: list[Analyser] = []
        for analyser in chosen:
            why = analyser.missing() or _refusal(store, analyser)
            if why is None:
                self.ready.append(analyser)
            else:
                self.unavailable[analyser.name] = why

    def run(self, asset: Asset) -> list[Outcome]:
        todo = [a for a in self.ready if a.applies(asset) and not self._done(asset, a)]
        done = [
            Outcome(asset.sha256, a.name, "done", "already analysed with this version")
            for a in self.ready
            if a.applies(asset) and a not in todo
        ]
        if not todo:
            return done
        outcomes = []
        with local_file(self.store.blobs, asset.sha256) as path:
            for analyser in todo:
                try:
                    with self.store.read() as session:
                        found = analyser.analyse(asset, path, session)
                except (AnalysisError, OSError, ValueError, RuntimeError) as exc:
                    error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                    self._record(asset, analyser, None, error)
                    outcomes.append(Outcome(asset.sha256, analyser.name, "failed", error))
                    continue
                self._record(asset, analyser, found, None)
                outcomes.append(
                    Outcome(asset.sha256, analyser.name, "ok", analyser.summary(found.result))
                )
        if any(outcome.status == "ok" for outcome in outcomes):
            # Once per asset and run, after every analyser: language reads the text the
            # others found, and each rebuild reads all of the asset's analyses.
            with self.store.write() as session:
                index_asset(session, asset.id)
        return done + outcomes

    def _existing(self, session: object, asset: Asset, analyser: Analyser) -> Analysis | None:
        query = select(Analysis).where(
            Analysis.asset_id == asset.id,
            Analysis.analyser == analyser.name,
            Analysis.tool == analyser.tool,
            Analysis.version == analyser.version(),
        )
        return session.execute(query).scalar_one_or_none()  # type: ignore[attr-defined]

    def _done(self, asset: Asset, analyser: Analyser) -> bool:
        with self.store.read() as session:
            row = self._existing(session, asset, analyser)
        return row is not None and row.status == "ok"

    def _record(
        self, asset: Asset, analyser: Analyser, found: Found | None, error: str | None
    ) -> None:
        """Add the record (a failed one of the same version is tried again and replaced)
        and its signed `analysed` event, in one transaction."""
        with self.store.write() as session:
            row = self._existing(session, asset, analyser)
            if row is not None and row.status == "ok":
                return  # another process got there first
            if row is None:
                row = Analysis(
                    asset_id=asset.id,
                    analyser=analyser.name,
                    tool=analyser.tool,
                    version=analyser.version(),
                )
                session.add(row)
            row.created_at = utcnow()
            row.model = analyser.model()
            row.status = "failed" if found is None else "ok"
            row.error = error
            row.result = None if found is None else found.result
            row.search_text = (found.text.casefold() or None) if found else None
            session.flush()
            for link in found.links if found else []:
                _link(session, asset.id, link)
            if found is not None and found.keep is not None:
                found.keep(self.store, session, row)
            self.store.custody.append(
                session, "analysed", f"asset:{asset.sha256}", analysed_details(row, asset.sha256)
            )


def _refusal(store: Store, analyser: Analyser) -> str | None:
    """Why this store does not let the analyser run (faces stay off until an admin says)."""
    refusal = getattr(analyser, "refusal", None)
    return refusal(store) if refusal is not None else None


def _link(session: Session, asset_id: int, link: dict[str, Any]) -> None:
    """A footage link from what an analyser found, unless the pair is linked already (by
    the pictures, whose link says more)."""
    other = link["asset_b_id"]
    pair = or_(
        (FootageLink.asset_a_id == asset_id) & (FootageLink.asset_b_id == other),
        (FootageLink.asset_a_id == other) & (FootageLink.asset_b_id == asset_id),
    )
    if session.execute(select(FootageLink.id).where(pair)).first() is None:
        session.add(FootageLink(asset_a_id=asset_id, asset_time=None, segments=None, **link))
