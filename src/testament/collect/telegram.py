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
from testament.collect.files import not_a_file
from testament.collect.items import (
    Collected,
    Item,
    ItemError,
    Problem,
    Sighting,
    readable,
    shown,
)
from testament.collect.storable import type_name

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
    where: str  # how its messages' problems name it: "DataExport/result.json chat Name"


def collect_export(folder: Path, context: Sighting) -> Iterator[Collected]:
    """Items for the media of every message in the export at `folder`.

    A public username given as the channel (`--channel @name`) makes t.me/name links; it
    applies only when the export holds a single chat, since the export names no usernames.
    A chat or message whose fields have the wrong type is one problem, and the rest is read.
    """
    document = _load(folder / EXPORT_FILE)
    if isinstance(document, Problem):
        yield document
        return
    found = _chats(document, f"{folder.name}/{EXPORT_FILE}")
    chats = [chat for chat in found if isinstance(chat, _Chat)]
    yield from (problem for problem in found if isinstance(problem, Problem))
    if not found:
        yield Problem(str(folder / EXPORT_FILE), "no chats with messages in this export")
        return
    root = folder.resolve()
    username = _username(context.channel) if len(chats) == 1 else None
    single = "messages" in document
    for chat in chats:
        prefix = folder.name if single else f"{folder.name}/{shown(chat.name or chat.id)}"
        for index, message in enumerate(chat.messages):
            yield from _message_items(root, prefix, chat, username, index, message, context)


def _load(path: Path) -> dict[str, Any] | Problem:
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        return Problem(str(path), f"cannot read Telegram export ({exc.strerror or exc})")
    except UnicodeDecodeError as exc:
        return Problem(str(path), f"not a Telegram export: not UTF-8 text ({exc.reason})")
    except json.JSONDecodeError as exc:
        return Problem(str(path), f"not a Telegram export: invalid JSON ({exc})")
    except RecursionError:
        return Problem(str(path), "not a Telegram export: its JSON is nested too deeply to read")
    if not isinstance(document, dict):
        return Problem(str(path), "not a Telegram export: the top level is not an object")
    return document


def _field(record: dict[str, Any], name: str, types: tuple[type, ...], expected: str) -> Any:
    """`record[name]` if it is missing or one of `types`; otherwise an ItemError naming it."""
    value = record.get(name)
    if value is None or (isinstance(value, types) and not isinstance(value, bool)):
        return value
    raise ItemError(f"{name!r} is {type_name(value)}, expected {expected}")


def _chats(document: dict[str, Any], name: str) -> list[_Chat | Problem]:
    """The chats of either layout (a single-chat export is its own one chat), or problems."""
    if "messages" in document:
        return [_chat(document, name, name)]
    found: list[_Chat | Problem] = []
    for section in ("chats", "left_chats"):
        try:
            listing = _field(document, section, (dict,), "an object")
            chats = _field(listing or {}, "list", (list,), "a list") or []
        except ItemError as exc:
            found.append(Problem(name, f"{section}: {exc}"))
            continue
        for index, chat in enumerate(chats):
            where = f"{name} {section} entry {index + 1}"
            if isinstance(chat, dict):
                named = f"{name} chat {shown(chat.get('name') or chat.get('id'))}"
                found.append(_chat(chat, where, named))
            else:
                found.append(Problem(where, f"is {type_name(chat)}, expected a chat object"))
    return found


def _chat(chat: dict[str, Any], where: str, named: str) -> _Chat | Problem:
    """The chat, or a problem labelled `where`; `named` labels its messages' problems."""
    try:
        name = _field(chat, "name", (str,), "text")
        chat_id = _field(chat, "id", (int, str), "a whole number")
        kind = _field(chat, "type", (str,), "text")
        messages = _field(chat, "messages", (list,), "a list")
    except ItemError as exc:
        return Problem(where, str(exc))
    if messages is None:
        return Problem(where, "no messages list in this chat")
    return _Chat(name, None if chat_id is None else str(chat_id), kind, messages, named)


def _username(channel: str | None) -> str | None:
    match = USERNAME.fullmatch(channel.strip()) if channel else None
    return match.group(1) if match else None


def _message_items(
    root: Path,
    prefix: str,
    chat: _Chat,
    username: str | None,
    index: int,
    message: Any,
    context: Sighting,
) -> Iterator[Collected]:
    """The message's media, or one problem when the message cannot be read."""
    label = f"{chat.where} message {index + 1} in the list"
    try:
        if not isinstance(message, dict):
            raise ItemError(f"is {type_name(message)}, expected a message object")
        message_id = _field(message, "id", (int, str), "a whole number")
        if message_id is not None:
            label = f"{chat.where} message #{shown(message_id)}"
        if _field(message, "type", (str,), "text") != "message":
            return  # service messages: joins, pins, photo changes of the chat itself
        media = [
            (name, value)
            for name in MEDIA_FIELDS
            if (value := _field(message, name, (str,), "a file path"))
        ]
        if not media:
            return
        sighting = _sighting(chat, username, message).merged(context)
    except ItemError as exc:
        yield Problem(label, str(exc))
        return
    item_label = f"{prefix} #{shown(message_id)}"
    for name, value in media:
        yield _media_item(root, item_label, name, value, sighting)


def _sighting(chat: _Chat, username: str | None, message: dict[str, Any]) -> Sighting:
    """The post's context; raises ItemError for a field of the wrong type."""
    message_id = _field(message, "id", (int, str), "a whole number")
    message_id = None if message_id is None else str(message_id)
    reply_to = _field(message, "reply_to_message_id", (int, str), "a whole number")
    views = _field(message, "views", (int,), "a count")
    return Sighting(
        method="telegram",
        platform="telegram",
        channel=chat.name,
        channel_id=chat.id,
        post_id=message_id,
        url=_link(chat, username, message_id),
        post_text=_text(message) or None,
        posted_at=_posted_at(message),
        forwarded_from=_field(message, "forwarded_from", (str,), "text") or None,
        views=views,
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
    """Plain text of `text`: a string, or a list of strings and entity objects (ItemError
    for anything else).

    (`text_entities`, in newer exports, holds the same text as entity objects only.)
    """
    value = _field(message, "text", (str, list), "text or a list")
    if value is None or isinstance(value, str):
        return value or ""
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
    quoted = shown(value)
    label = f"{label} ({quoted})"
    if "\x00" in value:
        return Problem(label, "the media path holds a NUL character")
    path = root / value  # an absolute `value` replaces root, and is refused below
    try:
        resolved = path.resolve()
        outside = not resolved.is_relative_to(root)
        what = None if outside else not_a_file(resolved, missing="is not in the export folder")
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        return Problem(label, f"cannot resolve media path {quoted!r} ({reason})")
    if outside:
        return Problem(label, f"refused: media path {quoted!r} is outside the export folder")
    sighting = Sighting(
        method=sighting.method, source_path=readable(resolved), filename=path.name
    ).merged(sighting)
    if what is not None:
        return Item(label, sighting, missing_reason=f"{quoted} {what}")
    return Item(label, sighting, path=resolved)
