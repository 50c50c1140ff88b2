"""Telegram channels through Telethon (the MTProto API), when a team has an API account.

Used instead of the web preview when TESTAMENT_TELEGRAM_API_ID, TESTAMENT_TELEGRAM_API_HASH
and TESTAMENT_TELEGRAM_SESSION (a Telethon session file that is already signed in) are
set: it reaches media the preview does not serve (large videos, documents) at full size.
Messages of one album (one grouped_id) form one post, as in the preview.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from testament.collect.items import Download, Sighting
from testament.watch.found import FoundMedia, FoundPost
from testament.watch.net import FetchFailed, Http
from testament.watch.telegram_preview import channel_of

API_ID_ENV = "TESTAMENT_TELEGRAM_API_ID"
API_HASH_ENV = "TESTAMENT_TELEGRAM_API_HASH"
SESSION_ENV = "TESTAMENT_TELEGRAM_SESSION"


def configured() -> bool:
    session = os.environ.get(SESSION_ENV)
    return bool(
        os.environ.get(API_ID_ENV, "").isdigit()
        and os.environ.get(API_HASH_ENV)
        and session
        and Path(session).expanduser().exists()
    )


def _download(client: Any, message: Any, folder: Path) -> list[Download]:
    path = client.download_media(message, file=str(folder) + os.sep)
    if not path:
        raise FetchFailed(f"message {message.id}", "Telegram gave no file for this media", 404)
    from telethon import __version__

    found = Sighting(method="watch", filename=Path(path).name, tool=f"telethon {__version__}")
    return [Download(Path(path), found)]


def _media(client: Any, message: Any) -> FoundMedia | None:
    if message.photo is not None:
        kind = "photo"
    elif message.video is not None:
        kind = "video"
    elif message.document is not None:
        kind = "file"
    else:
        return None
    return FoundMedia(kind, fetch=partial(_download, client, message), post_id=str(message.id))


def _forwarded(message: Any) -> str | None:
    forward = message.fwd_from
    if forward is None:
        return None
    if forward.from_name:
        return str(forward.from_name)
    chat = getattr(message.forward, "chat", None) if message.forward else None
    return getattr(chat, "username", None) or getattr(chat, "title", None)


def _post(client: Any, channel: str, base: str, group: list[Any]) -> FoundPost:
    first = group[0]
    text = next((m.message for m in group if m.message), None)
    media = tuple(found for m in group if (found := _media(client, m)) is not None)
    return FoundPost(
        key=str(first.id),
        url=f"{base}/{channel}/{first.id}",
        platform="telegram",
        channel=channel,
        channel_id=str(first.chat_id) if first.chat_id is not None else None,
        posted_at=first.date.astimezone(UTC) if first.date else None,
        author=first.post_author,
        text=text,
        forwarded_from=_forwarded(first),
        views=first.views,
        media=media,
        raw={"album_ids": [m.id for m in group] if len(group) > 1 else None, "via": "telethon"},
        cursor={"last_id": max(m.id for m in group)},
    )


def poll(
    http: Http, url: str, cursor: dict[str, Any] | None, since: datetime | None
) -> Iterator[FoundPost]:
    """Messages after the cursor (or since `since`), oldest first, albums grouped."""
    from telethon.sync import TelegramClient

    base, channel = channel_of(url)
    session = str(Path(os.environ[SESSION_ENV]).expanduser())
    client = TelegramClient(session, int(os.environ[API_ID_ENV]), os.environ[API_HASH_ENV])
    client.connect()
    try:
        if not client.is_user_authorized():
            raise FetchFailed(url, f"the Telethon session {session} is not signed in")
        last_id = int((cursor or {}).get("last_id", 0))
        options: dict[str, Any] = {"reverse": True, "min_id": last_id}
        if not last_id and since is not None:
            options["offset_date"] = since
        group: list[Any] = []
        for message in client.iter_messages(channel, **options):
            if group and (message.grouped_id is None or message.grouped_id != group[0].grouped_id):
                yield _post(client, channel, base, group)
                group = []
            group.append(message)
        if group:
            yield _post(client, channel, base, group)
    finally:
        client.disconnect()
