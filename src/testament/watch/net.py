"""HTTP for the watchers: an honest User-Agent, a per-host rate limit, and plain errors.

Every request a watcher makes (pages, feeds, media, rechecks) goes through `Http`, so the
per-host limit holds for all of them together. The default is one request a second to
any one host; `TESTAMENT_WATCH_RATE` raises or lowers it (tests and benchmarks on
loopback raise it).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import requests

from testament import __version__

RATE_ENV = "TESTAMENT_WATCH_RATE"
DEFAULT_RATE = 1.0  # requests per second to one host
USER_AGENT = f"testament/{__version__} (evidence preservation tool; archives public posts)"
TIMEOUT = (10.0, 60.0)  # connect, read
CHUNK = 1 << 20


class FetchFailed(Exception):
    """A request failed: `status` is the HTTP status (None for a network error)."""

    def __init__(self, url: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{url}: {message}")
        self.url = url
        self.status = status


class RateLimited(FetchFailed):
    """HTTP 429: the host asked us to wait `retry_after` seconds."""

    def __init__(self, url: str, retry_after: float | None) -> None:
        wait = "" if retry_after is None else f", retry after {retry_after:.0f} s"
        super().__init__(url, f"HTTP 429 Too Many Requests{wait}", 429)
        self.retry_after = retry_after


def rate_from_env() -> float:
    """Requests a second allowed to one host; a bad value is refused with one line."""
    text = os.environ.get(RATE_ENV)
    if not text:
        return DEFAULT_RATE
    try:
        rate = float(text)
    except ValueError:
        raise ValueError(f"{RATE_ENV}={text!r} is not a number of requests a second") from None
    if rate <= 0:
        raise ValueError(f"{RATE_ENV}={text!r} must be above 0")
    return rate


class HostLimiter:
    """At most `rate` requests a second to each host, across the threads of one process.

    Requests to one host are let go one at a time, each at least `1/rate` seconds after the
    last was let go: a thread that wakes late from its sleep delays the next one rather than
    letting two go closer together than the host was promised.
    """

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._released: dict[str, float] = {}
        self._hosts: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def wait(self, host: str) -> None:
        with self._lock:
            host_lock = self._hosts.setdefault(host, threading.Lock())
        with host_lock:
            last = self._released.get(host)
            if last is not None:
                delay = last + self.interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            self._released[host] = time.monotonic()


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number, or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Page:
    url: str  # after redirects
    status: int
    text: str
    headers: dict[str, str]


class Http:
    """One requests session with the limiter; raise FetchFailed for anything but success."""

    def __init__(self, rate: float | None = None, timeout: tuple[float, float] = TIMEOUT) -> None:
        self.limiter = HostLimiter(rate_from_env() if rate is None else rate)
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT

    def _request(self, url: str, *, stream: bool = False) -> requests.Response:
        self.limiter.wait(urlsplit(url).netloc.lower())
        try:
            response = self.session.get(url, timeout=self.timeout, stream=stream)
        except requests.Timeout:
            raise FetchFailed(url, "timed out") from None
        except requests.RequestException as exc:
            raise FetchFailed(url, _network_message(exc)) from None
        return response

    def get(self, url: str) -> Page:
        """A page that answered 2xx; anything else raises (429 as RateLimited)."""
        response = self._request(url)
        _raise_for(url, response)
        return Page(response.url, response.status_code, response.text, dict(response.headers))

    def probe(self, url: str) -> Page:
        """Any answer the server gave, error statuses included (for rechecks)."""
        response = self._request(url)
        return Page(response.url, response.status_code, response.text, dict(response.headers))

    def download(self, url: str, path: Path) -> int:
        """The body of `url`, byte for byte, into `path`; its size."""
        response = self._request(url, stream=True)
        with response:
            _raise_for(url, response)
            size = 0
            try:
                with path.open("wb") as out:
                    for chunk in response.iter_content(CHUNK):
                        out.write(chunk)
                        size += len(chunk)
            except requests.RequestException as exc:
                raise FetchFailed(url, _network_message(exc)) from None
        return size

    def close(self) -> None:
        self.session.close()


def _raise_for(url: str, response: requests.Response) -> None:
    if response.status_code == 429:
        response.close()
        raise RateLimited(url, retry_after(response.headers.get("Retry-After")))
    if not 200 <= response.status_code < 300:
        reason = response.reason or ""
        response.close()
        raise FetchFailed(
            url, f"HTTP {response.status_code} {reason}".strip(), response.status_code
        )


def _network_message(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.ConnectionError):
        text = str(exc)
        if "Connection refused" in text:
            return "connection refused"
        if "Name or service not known" in text or "NameResolutionError" in text:
            return "host name not found"
        return "connection failed"
    return type(exc).__name__
