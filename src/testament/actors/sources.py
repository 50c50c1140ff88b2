"""An accountability event's source, preserved as an original through the normal ingest path."""

from __future__ import annotations

from pathlib import Path

from testament.actors.actors import ActorError
from testament.store import Store


def preserve(store: Store, path: Path, url: str | None = None) -> str:
    """Ingest a press release, PDF or court document; returns its SHA-256."""
    from testament.collect.ingest import Ingest, default_steps
    from testament.collect.items import Item, Sighting

    if not path.is_file():
        raise ActorError(f"{path}: no such file to preserve as the source")
    seen = Sighting(method="file", url=url, filename=path.name, note="accountability source")
    summary = Ingest(store, steps=default_steps(store)).run([Item(path.name, seen, path=path)])
    result = summary.results[0]
    if result.sha256 is None:
        raise ActorError(f"{path}: could not be preserved ({result.message or 'unknown error'})")
    return result.sha256
