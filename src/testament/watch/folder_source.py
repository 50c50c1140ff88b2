"""A folder where files are dropped: each settled new file is a post of its own.

A file still being written must not be preserved half-way, so only files unchanged for
`SETTLE_SECONDS` are taken; a file dropped again with other content is a new post.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from testament.collect.items import readable
from testament.watch.found import FoundMedia, FoundPost
from testament.watch.net import FetchFailed, Http

SETTLE_SECONDS = 2.0


def poll(
    http: Http, url: str, cursor: dict[str, Any] | None, since: datetime | None
) -> Iterator[FoundPost]:
    folder = Path(url).expanduser()
    if not folder.is_dir():
        raise FetchFailed(url, "the folder does not exist or is not a folder")
    now = time.time()
    files = []
    for path in folder.rglob("*"):
        try:
            stat = path.stat()
        except OSError:
            continue
        if (
            path.is_file()
            and not path.name.startswith(".")
            and now - stat.st_mtime >= SETTLE_SECONDS
        ):
            files.append((stat.st_mtime_ns, path, stat.st_size))
    files.sort()
    for mtime_ns, path, size in files:
        relative = readable(path.relative_to(folder))
        changed = datetime.fromtimestamp(mtime_ns / 1e9, UTC)
        if cursor is None and since and changed < since:
            continue
        identity = f"{relative}\0{size}\0{mtime_ns}".encode()
        yield FoundPost(
            key=hashlib.sha256(identity).hexdigest(),
            url=None,
            platform="folder",
            channel=readable(folder),
            posted_at=changed,
            media=(FoundMedia("file", path=path),),
            raw={"path": relative, "size": size, "modified": changed.isoformat()},
        )
