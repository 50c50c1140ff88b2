"""The post itself as evidence: its page captured as a screenshot, a web archive, the
server's certificate chain and the response headers, each preserved as an asset.

A post's media prove what was shown; its page proves where, when and by whom it was
posted, and pages are deleted. Each part goes through the locker like any original (blob,
asset, `stored` and `probed` events) and a `page_captured` event ties the four to the
capture of the post, naming each by its SHA-256. The parts are never fingerprinted (a
screenshot showing a still of a video is not a copy of the footage), and the screenshot
is an image like any other: the workbench shows it blurred until a person reveals it.

Targets are a capture (by id: its URL is visited) or a URL found by hand, which becomes a
capture of its own (method `page`, no media) the first time it is captured.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, lazyload

from testament.catalog.models import Asset, Capture
from testament.collect.ingest import capture_key, new_asset, probe_blob, record_capture
from testament.collect.items import Sighting
from testament.collect.storable import unstorable
from testament.locker.blobstore import BlobStoreError, StoredBlob
from testament.media.probe import ProbeResult
from testament.media.thumbnails import ensure_previews
from testament.store import Store
from testament.watch.page_browser import BrowserUnavailable, PageError, VisitedPage, visit_all
from testament.watch.page_claims import capture_once
from testament.watch.page_records import PARTS, PageCapture, page_captured_details

TOOL = "testament.watch.page_capture 1"
METHOD = "page"  # a capture made from a page found by hand, with no media of its own
__all__ = ["BrowserUnavailable", "PageCaptureResult", "capture_post_page", "capture_post_pages"]


@dataclass(frozen=True)
class PageCaptureResult:
    """What became of one target: the page capture's id and parts, or why it failed."""

    target: str
    url: str | None = None
    capture_id: int | None = None
    page_capture_id: int | None = None
    status_code: int | None = None
    title: str | None = None
    parts: dict[str, str] = field(default_factory=dict)  # kind -> sha256
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class _Target:
    label: str
    url: str
    capture_id: int | None


def _web_address(url: str) -> str | None:
    """Why `url` cannot be visited, if it cannot."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{url!r} is not an http or https address"
    return None


def _resolve(store: Store, target: int | str) -> _Target | PageCaptureResult:
    if isinstance(target, int):
        with store.read() as session:
            capture = session.get(Capture, target)
        label = f"capture {target}"
        if capture is None:
            return PageCaptureResult(label, error=f"no capture {target}")
        if not capture.url or _web_address(capture.url):
            return PageCaptureResult(label, error=f"capture {target} has no web address to visit")
        return _Target(label, capture.url, capture.id)
    problem = _web_address(target) or unstorable(Sighting(method=METHOD, url=target))
    if problem:
        return PageCaptureResult(target, url=target, error=problem)
    return _Target(target, target, None)


def _files(visited: VisitedPage) -> dict[str, Path | None]:
    return {
        "screenshot": visited.screenshot,
        "archive": visited.archive,
        "certificates": visited.certificates,
        "headers": visited.headers,
    }


def _storable(value: Any) -> Any:
    """A page's text as the catalog can hold it: a script may set a title with a NUL or a
    lone surrogate, which PostgreSQL refuses (the files keep what the page said)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def _filename(visited: VisitedPage, path: Path) -> str:
    host = urlsplit(visited.final_url).hostname or "page"
    return f"{host}-{visited.captured_at:%Y%m%dT%H%M%SZ}-{path.name}"


def _page_capture_of(store: Store, session: Session, url: str, tool: str) -> Capture:
    """The capture that stands for a page found by hand (made the first time)."""
    sighting = Sighting(method=METHOD, url=url, tool=tool)
    record_capture(store, session, sighting, None)
    key = capture_key(None, sighting)
    return session.execute(select(Capture).where(Capture.key == key)).scalar_one()


def _asset(
    store: Store, session: Session, blob: StoredBlob, filename: str, probe: ProbeResult | None
) -> Asset:
    found = session.execute(
        select(Asset).where(Asset.sha256 == blob.digests.sha256).options(lazyload(Asset.captures))
    ).scalar_one_or_none()
    if found is not None:
        return found
    return new_asset(
        store,
        session,
        blob,
        filename,
        probe or probe_blob(store, blob, filename),  # type: ignore[arg-type]
    )


def _preserve(store: Store, target: _Target, visited: VisitedPage) -> PageCaptureResult:
    """Blobs first, then the assets, the page capture and its event in one transaction."""
    tool = f"{TOOL} ({visited.tool})"[:128]
    stored: dict[str, tuple[StoredBlob, str, ProbeResult | None]] = {}
    for kind, path in _files(visited).items():
        if path is None:
            continue
        with path.open("rb") as source:
            blob = store.blobs.put(source)
        name = _filename(visited, path)
        stored[kind] = (blob, name, probe_blob(store, blob, name))
    with store.write() as session:
        if target.capture_id is None:
            capture = _page_capture_of(store, session, target.url, tool)
        else:
            capture = session.get(Capture, target.capture_id)
            assert capture is not None
        assets = {kind: _asset(store, session, *entry) for kind, entry in stored.items()}
        row = PageCapture(
            capture_id=capture.id,
            url=visited.url,
            final_url=visited.final_url,
            status_code=visited.status,
            title=_storable(visited.title),
            tool=tool,
            details=_storable(visited.details),
            captured_at=visited.captured_at,
            captured_by=store.actor,
            **{PARTS[kind]: asset.id for kind, asset in assets.items()},
        )
        session.add(row)
        session.flush()
        parts = {kind: (assets[kind].sha256 if kind in assets else None) for kind in PARTS}
        store.custody.append(
            session, "page_captured", f"capture:{capture.id}", page_captured_details(row, parts)
        )
        result = PageCaptureResult(
            target.label,
            url=visited.url,
            capture_id=capture.id,
            page_capture_id=row.id,
            status_code=visited.status,
            title=row.title,
            parts={kind: sha for kind, sha in parts.items() if sha is not None},
        )
    # The screenshot's blurred preview is ready before anyone opens the inbox.
    ensure_previews(store, assets["screenshot"])
    return result


def _run_apart(work: Callable[[], Coroutine[Any, Any, object]]) -> None:
    """Run the visits' event loop here, or in a thread of its own when the caller already
    runs one (an async server, a test driving a browser)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(work())
        return
    with ThreadPoolExecutor(max_workers=1) as apart:
        apart.submit(lambda: asyncio.run(work())).result()


def capture_post_pages(
    store: Store,
    targets: Sequence[int | str],
    *,
    concurrency: int = 4,
    rate: float | None = None,
) -> list[PageCaptureResult]:
    """Capture each target's page with one browser, `concurrency` pages at a time.

    `rate` is page loads a second to one host (default `TESTAMENT_WATCH_RATE`, else 1).
    A target that cannot be visited or loaded fails alone; a missing browser raises
    `BrowserUnavailable` before anything is visited.
    """
    resolved = [_resolve(store, target) for target in targets]
    visits = [entry for entry in resolved if isinstance(entry, _Target)]
    outcomes: dict[int, PageCaptureResult] = {}
    if visits:

        def preserve(index: int, visited: VisitedPage | PageError) -> None:
            target = visits[index]
            if isinstance(visited, PageError):
                outcomes[index] = PageCaptureResult(target.label, target.url, error=str(visited))
                return
            try:
                outcomes[index] = _preserve(store, target, visited)
            except (SQLAlchemyError, BlobStoreError, OSError, ValueError) as exc:  # fails alone
                problem = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                message = f"cannot preserve the capture of {target.url}: {problem}"
                outcomes[index] = PageCaptureResult(target.label, target.url, error=message)

        with tempfile.TemporaryDirectory(prefix="testament-page-") as folder:
            _run_apart(
                lambda: visit_all(
                    [t.url for t in visits],
                    Path(folder),
                    concurrency=concurrency,
                    rate=rate,
                    on_page=preserve,
                )
            )
    results = iter(outcomes[i] for i in range(len(visits)))
    return [entry if isinstance(entry, PageCaptureResult) else next(results) for entry in resolved]


def capture_post_page(
    store: Store, target: int | str, *, rate: float | None = None
) -> PageCaptureResult:
    """Capture one post's page: `target` is a capture id or a URL found by hand."""
    return capture_post_pages(store, [target], rate=rate)[0]


class PageCaptures:
    """An ingest step, and the workers' `page_capture` task: the pages of an asset's
    captures that have a web address and no page capture yet.

    A page that could not be loaded raises, so that a worker retries the job later; one
    that answered (even 404: its absence is evidence too) is captured once, by one worker
    when two are handed the job at once (`page_claims`).
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def __call__(self, asset: Asset) -> None:
        capture_once(self.store, lambda: self._due(asset), self._capture)

    def _due(self, asset: Asset) -> list[int]:
        captured = select(PageCapture.id).where(PageCapture.capture_id == Capture.id)
        query = select(Capture.id, Capture.url).where(
            Capture.asset_id == asset.id, Capture.url.is_not(None), ~captured.exists()
        )
        with self.store.read() as session:
            return [i for i, url in session.execute(query).all() if not _web_address(url)]

    def _capture(self, capture_ids: list[int]) -> None:
        failed = [r for r in capture_post_pages(self.store, capture_ids) if not r.ok]
        if failed:
            raise PageError(f"{failed[0].target}: {failed[0].error}")

    def finish(self) -> None:
        """Nothing is batched."""
