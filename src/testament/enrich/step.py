"""Analysing at ingest: a step (and a worker task) that runs the analysers configured.

`TESTAMENT_ANALYSE_AT_INGEST=ocr,language` names them; unset or empty, ingest analyses
nothing and `testament analyse` does it when asked.
"""

from __future__ import annotations

import logging
import os

from testament.catalog.models import Asset
from testament.enrich.run import Runner, analysers
from testament.store import Store

AT_INGEST_ENV = "TESTAMENT_ANALYSE_AT_INGEST"
log = logging.getLogger(__name__)


def at_ingest() -> list[str]:
    return [name.strip() for name in os.environ.get(AT_INGEST_ENV, "").split(",") if name.strip()]


class Analyses:
    """The ingest step: each new asset through the configured analysers."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.runner = Runner(store, analysers(at_ingest() or None))
        for why in self.runner.unavailable.values():
            log.warning("analysis at ingest skipped: %s", why)

    def __call__(self, asset: Asset) -> None:
        self.runner.run(asset)

    def finish(self) -> None:
        """Nothing is held between assets."""
