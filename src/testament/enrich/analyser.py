"""What every analyser is: a name, the tool and version it records, and a check that it can
run here, so a missing tool is one line and never stops the others."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from testament.catalog.models import Asset

if TYPE_CHECKING:
    from testament.enrich.models import Analysis
    from testament.store import Store


class AnalysisError(Exception):
    """This asset could not be analysed (bad media, a tool's failure): recorded, not raised."""


@dataclass(frozen=True)
class Found:
    """An analyser's result and the words in it that `testament search` finds."""

    result: dict[str, Any]
    text: str = ""
    # Footage links from this asset (FootageLink columns but asset_a_id), e.g. same audio.
    links: list[dict[str, Any]] = field(default_factory=list)
    # Records the analyser keeps beside its result (faces and their crops), written in the
    # transaction that records the result.
    keep: Callable[[Store, Session, Analysis], None] | None = None


class Analyser(Protocol):
    name: str  # ocr, language, audio, speech, faces
    tool: str

    def version(self) -> str:
        """The tool's version: a newer one adds a record and keeps the old."""

    def model(self) -> str | None:
        """The model or language data it used, if any."""

    def missing(self) -> str | None:
        """One line saying what to install or set, when it cannot run here."""

    def applies(self, asset: Asset) -> bool:
        """Whether this kind of asset has anything for it (a video, an image, ...)."""

    def analyse(self, asset: Asset, path: Path, session: Session) -> Found:
        """The result for one asset; `session` reads what other analysers found."""

    def summary(self, result: dict[str, Any]) -> str:
        """One line for `analyse` and `show`."""
