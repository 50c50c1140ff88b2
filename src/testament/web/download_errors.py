"""Why a download failed, in plain words, from the message yt-dlp and urllib3 give.

Their messages name connection classes and repeat themselves ("... (caused by
TransportError(...))"); an investigator needs to know whether the address was wrong,
the server was down, or the page held no media.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

DOWNLOAD_FAILED = "download failed: "
CAUSES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.I), words)
    for pattern, words in (
        (
            r"Temporary failure in name resolution",
            "could not reach {host}: no name lookup (is this machine offline?)",
        ),
        (
            r"Failed to resolve|Name or service not known|nodename nor servname|getaddrinfo failed",
            "could not reach {host}: name not found",
        ),
        (r"Connection refused", "could not reach {host}: the connection was refused"),
        (r"Network is unreachable|No route to host", "could not reach {host}: no network route"),
        (r"timed out", "could not reach {host}: no answer in time"),
        (
            r"CERTIFICATE_VERIFY_FAILED|certificate verify failed",
            "could not reach {host} securely: its certificate was not accepted",
        ),
        (r"HTTP Error 404", "{host} has no such page (HTTP 404 Not Found)"),
        (r"HTTP Error 403", "{host} refused the download (HTTP 403 Forbidden)"),
        (r"HTTP Error 401", "{host} asks for a login (HTTP 401 Unauthorized)"),
        (
            r"HTTP Error (?P<code>\d{3}):? ?(?P<reason>[^(;]*)",
            "{host} answered with an error (HTTP {code} {reason})",
        ),
        (r"Unsupported URL", "no downloader knows this kind of address"),
        (r"found no media", "the page at {host} holds no media to download"),
        (r"Requested format is not available", "{host} offers no format that can be downloaded"),
    )
)


def plain_failure(url: str, message: str) -> str:
    """The message with a plain reason after "download failed: "; others left as they are."""
    if not message.startswith(DOWNLOAD_FAILED):
        return message
    return DOWNLOAD_FAILED + _reason(url, message.removeprefix(DOWNLOAD_FAILED))


def _reason(url: str, detail: str) -> str:
    host = urlparse(url).hostname or url
    for pattern, words in CAUSES:
        found = pattern.search(detail)
        if found:
            named = {key: value.strip() for key, value in found.groupdict().items()}
            return words.format(host=host, **named).replace(" )", ")")
    return _without_noise(url, detail)


def _without_noise(url: str, detail: str) -> str:
    """The message less its URL, yt-dlp's "[extractor] id:" prefix and its "caused by" echo."""
    detail = detail.removeprefix(f"{url}: ")
    detail = re.sub(r"^\[[\w:]+\] [^:]*: ", "", detail)
    return re.sub(r"\s*\(caused by .*\)$", "", detail)
