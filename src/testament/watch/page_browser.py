"""Visiting a post's page in headless Chromium, keeping what it showed and what it fetched.

One browser serves many pages through a few tabs, several at a time, each tab in a
context of its own and kept from one post to the next: a fresh tab costs a renderer
process and its start (about two thirds of a page's CPU time), so a tab is reused, and
forgets between two posts instead: its cache is never used, and the cookies, storage,
session storage, window name and history the last page left are cleared before the next
(a tab that cannot be reset is closed, and one is retired after `TAB_VISITS` pages).
Every response the page received is kept for the web archive; the certificate chain is
the one Chromium was served, read over the DevTools protocol, so it is the chain of the
very connection that delivered the page. Certificate errors do not stop a capture (a
page behind an expired certificate is still evidence); whether Chromium trusted the chain
is recorded instead.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from testament import __version__
from testament.watch.net import rate_from_env
from testament.watch.page_archive import ArchiveError, Exchange, package_wacz, write_warc

CHROMIUM_ENV = "TESTAMENT_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
SANDBOX_ENV = "TESTAMENT_CHROMIUM_SANDBOX"
VIEWPORT = {"width": 1280, "height": 900}
NAVIGATION_TIMEOUT_MS = 30_000
SETTLE_MS = 1_500  # at most this long for the network to go quiet after `load`
TAB_VISITS = 50  # pages one tab serves before a fresh one (bounds what a tab accumulates)
# What a page may leave in its tab for the next one, cleared in the page before it leaves.
FORGET = "() => { try { sessionStorage.clear(); } catch (e) {} window.name = ''; }"
MAX_RESOURCE_BYTES = 64 << 20  # larger bodies (the post's video) are preserved by the watcher
PAGE_HEIGHT = (
    "Math.max(document.documentElement.scrollHeight, "
    "document.body ? document.body.scrollHeight : 0)"
)


class BrowserUnavailable(Exception):
    """Playwright or Chromium is missing: one line saying how to install it."""


class PageError(Exception):
    """The page could not be loaded or kept (the network failed, the browser gave up)."""


@dataclass
class VisitedPage:
    """The files made from one visit, in a folder the caller owns."""

    url: str
    final_url: str
    status: int | None
    title: str | None
    captured_at: datetime
    screenshot: Path
    archive: Path
    headers: Path
    certificates: Path | None
    tool: str  # the browser and packages that made the files
    details: dict[str, Any] = field(default_factory=dict)


def chromium_path() -> str:
    """Chromium's executable: `TESTAMENT_CHROMIUM`, Debian's, or the one on the PATH."""
    named = os.environ.get(CHROMIUM_ENV)
    found = named or (DEFAULT_CHROMIUM if Path(DEFAULT_CHROMIUM).exists() else None)
    found = found or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found or not Path(found).exists():
        where = f"{CHROMIUM_ENV}={named} does not exist" if named else "Chromium not found"
        raise BrowserUnavailable(
            f"capturing pages needs headless Chromium: {where}; install it with "
            f"'apt-get install chromium' or set {CHROMIUM_ENV}"
        )
    return found


class _HostPacing:
    """Spaces page loads to each host `1/rate` seconds apart, across concurrent pages."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next: dict[str, float] = {}

    async def wait(self, url: str) -> None:
        host = urlsplit(url).hostname or ""
        now = time.monotonic()
        start = max(now, self._next.get(host, now))
        self._next[host] = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)


def _pem_chain(table: list[str]) -> bytes:
    """DER certificates (base64, leaf first) as concatenated PEM blocks."""
    return b"".join(
        x509.load_der_x509_certificate(base64.b64decode(der)).public_bytes(Encoding.PEM)
        for der in table
    )


def _pairs(headers: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(h["name"], h["value"]) for h in headers]


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class Browser:
    """One headless Chromium for many page visits; use `async with`."""

    def __init__(self, *, concurrency: int = 4, rate: float | None = None) -> None:
        self.executable = chromium_path()
        self.concurrency = asyncio.Semaphore(concurrency)
        self.pacing = _HostPacing(rate_from_env() if rate is None else rate)
        self.version = ""
        self._playwright: Any = None
        self._browser: Any = None
        self._idle: list[_Tab] = []  # tabs reset and ready for the next post

    @property
    def tool(self) -> str:
        packages = ", ".join(
            f"{name} {package_version(name)}" for name in ("playwright", "warcio", "wacz")
        )
        return f"Chromium {self.version}, {packages}"

    @property
    def user_agent(self) -> str:
        """Chromium's own, with the tool named after it: pages see who is asking."""
        return (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"HeadlessChrome/{self.version} Safari/537.36 "
            f"testament/{__version__} (evidence preservation tool; archives public posts)"
        )

    async def __aenter__(self) -> Browser:
        try:
            from playwright.async_api import async_playwright
        except ImportError:
            raise BrowserUnavailable(
                "capturing pages needs Playwright: pip install 'playwright==1.65.2'"
            ) from None
        self._playwright = await async_playwright().start()
        # Chromium's sandbox cannot run as root; elsewhere it guards against the page.
        sandbox = os.geteuid() != 0 and os.environ.get(SANDBOX_ENV, "1") != "0"
        try:
            self._browser = await self._playwright.chromium.launch(
                executable_path=self.executable, chromium_sandbox=sandbox
            )
        except Exception as exc:
            await self._playwright.stop()
            hint = f" (where its sandbox cannot run, set {SANDBOX_ENV}=0)" if sandbox else ""
            raise BrowserUnavailable(
                f"cannot start Chromium at {self.executable}: {_first_line(exc)}{hint}"
            ) from exc
        self.version = self._browser.version
        return self

    async def __aexit__(self, *_exc: object) -> None:
        for tab in self._idle:
            await tab.close()
        await self._browser.close()
        await self._playwright.stop()

    async def visit(self, url: str, folder: Path) -> VisitedPage:
        """Load `url` in a tab that remembers nothing of earlier posts; write its files into
        `folder`."""
        async with self.concurrency:
            await self.pacing.wait(url)
            tab = self._idle.pop() if self._idle else await _Tab.open(self._browser, self)
            try:
                return await _Visit(tab, url, folder, self.tool).run()
            finally:
                await self._give_back(tab)

    async def _give_back(self, tab: _Tab) -> None:
        """A tab that forgot its post serves the next; one that cannot, or has served its
        share, is closed."""
        if tab.visits < TAB_VISITS and await tab.forget():
            self._idle.append(tab)
        else:
            await tab.close()


class _Tab:
    """One page in a context of its own, reused for post after post: it keeps the
    responses of the current visit, and `forget` clears what a visit left behind."""

    def __init__(self, context: Any, page: Any, cdp: Any) -> None:
        self.context, self.page, self.cdp = context, page, cdp
        self.visits = 0
        self.seen: list[tuple[Any, datetime]] = []
        page.on("response", lambda response: self.seen.append((response, datetime.now(UTC))))

    @classmethod
    async def open(cls, browser: Any, owner: Browser) -> _Tab:
        context = await browser.new_context(
            ignore_https_errors=True,
            viewport=VIEWPORT,
            user_agent=owner.user_agent,
            service_workers="block",  # so every response passes the network events
            accept_downloads=False,
        )
        try:
            page = await context.new_page()
            cdp = await context.new_cdp_session(page)
            await cdp.send("Network.enable")
            # Nothing from an earlier post's visit: every response comes from the server.
            await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        except BaseException:
            await context.close()
            raise
        return cls(context, page, cdp)

    def begin(self) -> None:
        self.visits += 1
        self.seen = []

    async def forget(self) -> bool:
        """Clear what the last visit left (pop-ups, cookies, storage of every origin it
        saw, session storage, window name, history); False if the tab cannot be reset."""
        from playwright.async_api import Error as PlaywrightError

        origins = {_origin(response.url) for response, _ in self.seen} - {None}
        try:
            for other in self.context.pages:
                if other is not self.page:
                    await other.close()
            with contextlib.suppress(PlaywrightError):  # a page whose document never came
                await self.page.evaluate(FORGET)
            await self.page.goto("about:blank")
            for origin in sorted(origins):
                await self.cdp.send(
                    "Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"}
                )
            await self.context.clear_cookies()
            await self.cdp.send("Page.resetNavigationHistory")
        except PlaywrightError:
            return False
        self.seen = []
        return True

    async def close(self) -> None:
        from playwright.async_api import Error as PlaywrightError

        with contextlib.suppress(PlaywrightError):  # the browser may be gone already
            await self.context.close()


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


class _Visit:
    """One page in a tab: load, settle, screenshot, collect, write."""

    def __init__(self, tab: _Tab, url: str, folder: Path, tool: str) -> None:
        self.tab = tab
        self.url = url
        self.folder = folder
        self.tool = tool

    async def run(self) -> VisitedPage:
        from playwright.async_api import Error as PlaywrightError

        page, cdp = self.tab.page, self.tab.cdp
        self.tab.begin()
        captured_at = datetime.now(UTC)
        try:
            main = await page.goto(self.url, wait_until="load", timeout=NAVIGATION_TIMEOUT_MS)
            if main is None:
                raise PageError(f"{self.url}: the browser loaded no document")
            with contextlib.suppress(PlaywrightError):  # a page that keeps polling is
                await page.wait_for_load_state("networkidle", timeout=SETTLE_MS)  # kept as is
            title = await page.title() or None
            screenshot = await page.screenshot(full_page=True, type="png")
            height = await page.evaluate(PAGE_HEIGHT)
            exchanges, not_archived = await self._exchanges()
            hops = await _hops(main)
            certificates = await self._certificates(cdp, main.url)
            security = await main.security_details()
        except PlaywrightError as exc:
            raise PageError(f"cannot capture {self.url}: {_first_line(exc)}") from exc
        details: dict[str, Any] = {
            "viewport": VIEWPORT,
            "page_height": height,
            "resources_archived": len(exchanges),
            "not_archived": not_archived,
            "tls": security,
        }
        return await asyncio.to_thread(
            self._write,
            main,
            title,
            captured_at,
            screenshot,
            exchanges,
            hops,
            certificates,
            details,
        )

    async def _exchanges(self) -> tuple[list[Exchange], list[dict[str, str]]]:
        from playwright.async_api import Error as PlaywrightError

        kept: list[Exchange] = []
        skipped: list[dict[str, str]] = []
        for response, received_at in list(self.tab.seen):  # it may still be fetching
            request = response.request
            if urlsplit(response.url).scheme not in ("http", "https"):
                continue
            headers = await response.headers_array()
            length = next(
                (h["value"] for h in headers if h["name"].lower() == "content-length"), "0"
            )
            if length.isdigit() and int(length) > MAX_RESOURCE_BYTES:
                skipped.append({"url": response.url, "reason": f"{length} bytes, over the limit"})
                continue
            try:
                body = b"" if 300 <= response.status < 400 else await response.body()
            except PlaywrightError as exc:
                skipped.append({"url": response.url, "reason": _first_line(exc)})
                continue
            server = await response.server_addr()
            kept.append(
                Exchange(
                    url=response.url,
                    method=request.method,
                    request_headers=_pairs(await request.headers_array()),
                    request_body=request.post_data_buffer,
                    status=response.status,
                    status_text=response.status_text,
                    response_headers=_pairs(headers),
                    body=body,
                    received_at=received_at,
                    ip_address=server["ipAddress"] if server else None,
                )
            )
        return kept, skipped

    @staticmethod
    async def _certificates(cdp: Any, url: str) -> bytes | None:
        parts = urlsplit(url)
        if parts.scheme != "https":
            return None
        answer = await cdp.send(
            "Network.getCertificate", {"origin": f"{parts.scheme}://{parts.netloc}"}
        )
        table = answer.get("tableNames") or []
        return _pem_chain(table) if table else None

    def _write(
        self,
        main: Any,
        title: str | None,
        captured_at: datetime,
        screenshot: bytes,
        exchanges: list[Exchange],
        hops: list[dict[str, Any]],
        certificates: bytes | None,
        details: dict[str, Any],
    ) -> VisitedPage:
        self.folder.mkdir(parents=True, exist_ok=True)
        shot = self.folder / "screenshot.png"
        shot.write_bytes(screenshot)
        warc = self.folder / "page.warc.gz"
        write_warc(warc, exchanges, f"testament/{__version__} ({self.tool})")
        archive = self.folder / "page.wacz"
        package_wacz(warc, archive, main.url, title)
        headers = self.folder / "headers.json"
        record = {
            "url": self.url,
            "final_url": main.url,
            "captured_at": captured_at.isoformat(),
            "responses": hops,
        }
        headers.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
        chain = None
        if certificates is not None:
            chain = self.folder / "certificates.pem"
            chain.write_bytes(certificates)
        return VisitedPage(
            url=self.url,
            final_url=main.url,
            status=main.status,
            title=title,
            captured_at=captured_at,
            screenshot=shot,
            archive=archive,
            headers=headers,
            certificates=chain,
            tool=self.tool,
            details=details,
        )


async def _hops(main: Any) -> list[dict[str, Any]]:
    """Each response on the way to the document (redirects first), headers as sent."""
    requests = []
    request = main.request
    while request is not None:
        requests.append(request)
        request = request.redirected_from
    hops = []
    for request in reversed(requests):
        response = await request.response()
        hop: dict[str, Any] = {
            "url": request.url,
            "method": request.method,
            "request_headers": await request.headers_array(),
        }
        if response is not None:
            hop |= {
                "status": response.status,
                "status_text": response.status_text,
                "headers": await response.headers_array(),
                "server": await response.server_addr(),
            }
        hops.append(hop)
    return hops


async def visit_all(
    urls: list[str],
    folder: Path,
    *,
    concurrency: int = 4,
    rate: float | None = None,
    on_page: Callable[[int, VisitedPage | PageError], Any] | None = None,
) -> list[VisitedPage | PageError]:
    """Visit each URL (its files under `folder/<index>`); a failed page fails only itself.

    `on_page` (if given) is awaited in a worker thread with each outcome as it comes, so
    that preserving one page overlaps loading the next.
    """
    async with Browser(concurrency=concurrency, rate=rate) as browser:

        async def one(index: int, url: str) -> VisitedPage | PageError:
            try:
                outcome: VisitedPage | PageError = await browser.visit(url, folder / str(index))
            except (PageError, ArchiveError) as exc:
                outcome = exc if isinstance(exc, PageError) else PageError(str(exc))
            if on_page is not None:
                await asyncio.to_thread(on_page, index, outcome)
            return outcome

        return list(await asyncio.gather(*(one(i, url) for i, url in enumerate(urls))))
