"""Telegram Desktop's JSON export: every photo and file posted in the exported chats.

Both layouts are read: "Export chat history" (one chat at the top level) and "Export
Telegram data" (`chats.list` and `left_chats.list`). Each media file becomes an item with
its post's context; media the export left out is still recorded, so that a capture shows
the post existed and what was missing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from testament.collect.dates import parse_datetime
from testament.collect.items import Collected, Item, Problem, Sighting

EXPORT_FILE = "result.json"

# Fields that name a message's media; `thumbnail` is Telegram's preview of a file, not media.
MEDIA_FIELDS = ("photo", "file")

# Chats whose messages have t.me/c/<chat id>/<message id> links (members can open them).
LINKED_CHAT_TYPES = frozenset(
    {"public_channel", "private_channel", "public_supergroup", "private_supergroup"}
)

# A public username as a person writes it: @ and 4 to 32 letters, digits or underscores.
USERNAME = re.compile(r"@([A-Za-z][A-Za-z0-9_]{3,31})")


@dataclass(frozen=True)
class _Chat:
    name: str | None
    id: str | None
    type: str | None
    messages: list[Any]


def collect_export(folder: Path, context: Sighting) -> Iterator[Collected]:
    """Items for the media of every message in the export at `folder`.

    A public username given as the channel (`--channel @name`) makes t.me/name links; it
    applies only when the export holds a single chat, since the export names no usernames.
    """
    document = _load(folder / EXPORT_FILE)
    if isinstance(document, Problem):
        yield document
        return
    chats = _chats(document)
    if not chats:
        yield Problem(str(folder / EXPORT_FILE), "no chats with messages in this export")
        return
    root = folder.resolve()
    username = _username(context.channel) if len(chats) == 1 else None
    single = "messages" in document
    for chat in chats:
        prefix = folder.name if single else f"{folder.name}/{chat.name or chat.id}"
        for message in chat.messages:
            if isinstance(message, dict) and message.get("type") == "message":
                yield from _message_items(root, prefix, chat, username, message, context)


def _load(path: Path) -> dict[str, Any] | Problem:
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        return Problem(str(path), f"cannot read Telegram export ({exc.strerror or exc})")
    except UnicodeDecodeError as exc:
        return Problem(str(path), f"not a Telegram export: not UTF-8 text ({exc.reason})")
    except json.JSONDecodeError as exc:
        return Problem(str(path), f"not a Telegram export: invalid JSON ({exc})")
    if not isinstance(document, dict):
        return Problem(str(path), "not a Telegram export: the top level is not an object")
    return document


def _chats(document: dict[str, Any]) -> list[_Chat]:
    """The chats of either layout; a single-chat export is its own one chat."""
    if isinstance(document.get("messages"), list):
        raw_chats: list[Any] = [document]
    else:
        raw_chats = [
            chat
            for section in ("chats", "left_chats")
            if isinstance(document.get(section), dict)
            for chat in document[section].get("list") or []
        ]
    return [
        _Chat(
            name=chat.get("name"),
            id=None if chat.get("id") is None else str(chat["id"]),
            type=chat.get("type"),
            messages=chat["messages"],
        )
        for chat in raw_chats
        if isinstance(chat, dict) and isinstance(chat.get("messages"), list)
    ]


def _username(channel: str | None) -> str | None:
    match = USERNAME.fullmatch(channel.strip()) if channel else None
    return match.group(1) if match else None


def _message_items(
    root: Path,
    prefix: str,
    chat: _Chat,
    username: str | None,
    message: dict[str, Any],
    context: Sighting,
) -> Iterator[Collected]:
    media = [
        (name, message[name])
        for name in MEDIA_FIELDS
        if isinstance(message.get(name), str) and message[name]
    ]
    if not media:
        return
    sighting = _sighting(chat, username, message).merged(context)
    label = f"{prefix} #{message.get('id')}"
    for name, value in media:
        yield _media_item(root, label, name, value, sighting)


def _sighting(chat: _Chat, username: str | None, message: dict[str, Any]) -> Sighting:
    message_id = None if message.get("id") is None else str(message["id"])
    reply_to = message.get("reply_to_message_id")
    views = message.get("views")
    return Sighting(
        method="telegram",
        platform="telegram",
        channel=chat.name,
        channel_id=chat.id,
        post_id=message_id,
        url=_link(chat, username, message_id),
        post_text=_text(message) or None,
        posted_at=_posted_at(message),
        forwarded_from=message.get("forwarded_from") or None,
        views=views if isinstance(views, int) and not isinstance(views, bool) else None,
        reply_to=None if reply_to is None else str(reply_to),
        raw=message,
    )


def _link(chat: _Chat, username: str | None, message_id: str | None) -> str | None:
    if message_id is None:
        return None
    if username:
        return f"https://t.me/{username}/{message_id}"
    if chat.type in LINKED_CHAT_TYPES and chat.id:
        return f"https://t.me/c/{chat.id}/{message_id}"
    return None  # private and basic-group chats have no message links


def _text(message: dict[str, Any]) -> str:
    """Plain text of `text`: a string, or a list of strings and entity objects.

    (`text_entities`, in newer exports, holds the same text as entity objects only.)
    """
    value = message.get("text")
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        return ""
    return "".join(
        part if isinstance(part, str) else str(part.get("text", ""))
        for part in value
        if isinstance(part, str | dict)
    )


def _posted_at(message: dict[str, Any]) -> datetime | None:
    """When the message was sent, in UTC.

    `date_unixtime` (in newer exports) is exact. Older exports have only `date`, which
    Telegram Desktop writes in the exporting computer's local time with no zone; that zone
    is unknown, so it is read as UTC and the raw message keeps the original text.
    """
    for name in ("date_unixtime", "date"):
        value = message.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool):
            try:
                return parse_datetime(str(value))
            except (ValueError, OverflowError, OSError):
                continue
    return None


def _media_item(root: Path, label: str, name: str, value: str, sighting: Sighting) -> Collected:
    """The media file at `value` (relative to the export), or why it is not there."""
    if value.startswith("(") and value.endswith(")"):
        # Telegram's note in place of a path: not included, too large, or unavailable.
        return Item(label=f"{label} ({name})", sighting=sighting, missing_reason=value)
    label = f"{label} ({value})"
    path = root / value  # an absolute `value` replaces root, and is refused below
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        return Problem(label, f"cannot resolve media path {value!r} ({exc})")
    if not resolved.is_relative_to(root):
        return Problem(label, f"refused: media path {value!r} is outside the export folder")
    sighting = Sighting(
        method=sighting.method, source_path=str(resolved), filename=path.name
    ).merged(sighting)
    if not resolved.is_file():
        return Item(label, sighting, missing_reason=f"{value} is not in the export folder")
    return Item(label, sighting, path=resolved)
