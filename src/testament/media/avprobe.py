"""What FFmpeg (through PyAV) can say about a container without decoding it.

Only headers and indexes are read, plus the first frame of each video stream (for its
display rotation), so a 2 GB file probes as fast as a small one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from av.container import InputContainer
from av.stream import Disposition, Stream

from testament.media.iso6709 import parse_iso6709
from testament.media.jsonable import clean_tags, clean_text, finite, utc_iso
from testament.media.truncation import declared_end

# Container tags that hold an ISO 6709 location, most precise first.
LOCATION_TAGS = ("com.apple.quicktime.location.ISO6709", "location", "location-eng")
# The recording's local time with its UTC offset, as iPhones write it.
LOCAL_CREATION_TAG = "com.apple.quicktime.creationdate"

# Packets (of all streams) to read while looking for each video stream's first frame.
_FIRST_FRAME_PACKETS = 500

AV_ERRORS = (av.error.FFmpegError, OSError, ValueError)


class MediaUnreadable(Exception):
    """FFmpeg could not read the file; the message is one line and names no path."""


@dataclass(frozen=True)
class AvProbe:
    kind: str | None  # video, audio, image (a still-picture demuxer), None: no A/V streams
    metadata: dict[str, Any]
    cut_short: str | None = None  # how the file shows it ends early, if it does


def _seconds(value: int | None, time_base: Fraction | None) -> float | None:
    if not value or time_base is None:
        return None
    return float(value * time_base)


def _compact(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None and value != {}}


def clockwise_rotation(counter_clockwise: float) -> int:
    """Display matrix angle (counter-clockwise, as FFmpeg reads it) to the clockwise
    degrees a player turns the picture, the convention of the legacy `rotate` tag."""
    return round(-counter_clockwise) % 360


def rotate_tag(value: str | None) -> int | None:
    """The legacy `rotate` stream tag (clockwise degrees), if it is a number."""
    number = finite(value.strip()) if value else None
    return None if number is None else round(number) % 360


def _is_picture(stream: Stream) -> bool:
    """Cover art in audio files comes as a one-frame video stream; it is not video."""
    return bool(stream.disposition & Disposition.attached_pic)


def _first_frame_rotations(container: InputContainer, streams: list[Stream]) -> dict[int, int]:
    """Rotation per video stream, from the display matrix FFmpeg attaches to decoded frames.

    PyAV does not expose a stream's coded side data, but the decoder copies the display
    matrix onto every frame, so one decoded frame per stream is enough.
    """
    wanted = {stream.index for stream in streams}
    rotations: dict[int, int] = {}
    try:
        for count, packet in enumerate(container.demux()):
            if count >= _FIRST_FRAME_PACKETS or len(rotations) == len(wanted):
                break
            if packet.stream.index not in wanted or packet.stream.index in rotations:
                continue
            try:
                frames = packet.decode()
            except AV_ERRORS:
                continue  # a damaged packet; the next one may decode
            if frames:
                rotations[packet.stream.index] = clockwise_rotation(frames[0].rotation)
    except AV_ERRORS:
        pass  # reading stopped early (a cut file): what was found stands
    return rotations


def _rotation(stream: Stream, rotations: dict[int, int]) -> int | None:
    """The display matrix wins; the legacy tag covers files whose first frame won't decode."""
    matrix = rotations.get(stream.index)
    tag = rotate_tag(stream.metadata.get("rotate"))
    return matrix if matrix or tag is None else tag


def _stream(stream: Stream, rotation: int | None) -> dict[str, Any]:
    context = stream.codec_context
    fields: dict[str, Any] = {
        "index": stream.index,
        "type": stream.type,
        "codec": context.codec.canonical_name if context is not None else None,
        "profile": stream.profile,
        "language": clean_text(stream.language),
        "frames": stream.frames or None,
        "duration": _seconds(stream.duration, stream.time_base),
        "bit_rate": (context.bit_rate or None) if context is not None else None,
        "attached_picture": True if _is_picture(stream) else None,
    }
    if stream.type == "video" and context is not None:
        rate = stream.average_rate
        fields |= {
            "width": context.width or None,
            "height": context.height or None,
            "pixel_format": context.pix_fmt,
            "frame_rate": round(float(rate), 3) if rate else None,
            "rotation": rotation,
        }
    if stream.type == "audio" and context is not None:
        fields |= {
            "sample_rate": context.sample_rate or None,
            "channels": context.layout.nb_channels or None,
            "channel_layout": context.layout.name,
        }
    fields["tags"] = clean_tags(stream.metadata)
    return _compact(fields)


def creation_time(value: str | None) -> str | None:
    """The `creation_time` tag in ISO 8601 UTC; FFmpeg writes it in UTC, zone or not."""
    try:
        moment = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    if moment is None:
        return None
    return utc_iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _local_creation(value: str | None) -> str | None:
    """The local recording time keeping its own offset (it tells the camera's zone)."""
    try:
        moment = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return moment.isoformat() if moment is not None and moment.tzinfo else None


def location(tags: dict[str, str]) -> dict[str, Any] | None:
    """The first location tag that parses, as decimal degrees, naming the tag it came from."""
    for tag in LOCATION_TAGS:
        point = parse_iso6709(tags[tag]) if tag in tags else None
        if point is not None:
            return point | {"tag": tag}
    return None


def _media_end(container: InputContainer) -> int:
    """Where the last indexed sample ends: past the file's end means it was cut short."""
    end = 0
    for stream in container.streams:
        entries = stream.index_entries
        if len(entries):
            last = entries[len(entries) - 1]
            end = max(end, last.pos + last.size)
    return end


def _kind(container: InputContainer, video: list[Stream]) -> str | None:
    if video and (container.format.name == "image2" or container.format.name.endswith("_pipe")):
        return "image"
    if video:
        return "video"
    return "audio" if container.streams.audio else None


def _cut_short(container: InputContainer, path: Path, size: int) -> str | None:
    """How the file's own structure says it ends past its last byte, if it does."""
    end = _media_end(container)
    if end > size:
        return f"its index runs to byte {end} of {size}"
    declared = declared_end(container.format.name, path, size)
    if declared is not None:
        what, end = declared
        return f"its {what} runs to byte {end} of {size}"
    return None


def _describe(container: InputContainer, path: Path) -> AvProbe:
    video = [stream for stream in container.streams.video if not _is_picture(stream)]
    rotations = _first_frame_rotations(container, video) if video else {}
    video_indexes = {stream.index for stream in video}
    streams = [
        _stream(stream, _rotation(stream, rotations) if stream.index in video_indexes else None)
        for stream in container.streams
    ]
    tags = clean_tags(container.metadata)
    metadata = _compact(
        {
            "container": container.format.name,
            "duration": _seconds(container.duration, Fraction(1, av.time_base)),
            "bit_rate": container.bit_rate or None,
            "creation_time": creation_time(tags.get("creation_time")),
            "local_creation_time": _local_creation(tags.get(LOCAL_CREATION_TAG)),
            "location": location(tags),
            "streams": streams,
            "tags": tags,
        }
    )
    cut_short = _cut_short(container, path, path.stat().st_size)
    if cut_short:
        metadata["truncated"] = True
    return AvProbe(_kind(container, video), metadata, cut_short)


def _message(exc: Exception) -> str:
    """FFmpeg's reason without the file name it appends (a blob-store path)."""
    reason = getattr(exc, "strerror", None) or str(exc)
    return " ".join(reason.split())


def probe_av(path: Path) -> AvProbe:
    """Describe a container; raises MediaUnreadable when FFmpeg cannot open it."""
    try:
        # Only local files: a playlist inside evidence must not make the probe go online.
        with av.open(
            str(path),
            container_options={"protocol_whitelist": "file"},
            metadata_errors="replace",
        ) as container:
            return _describe(container, path)
    except AV_ERRORS as exc:
        raise MediaUnreadable(_message(exc)) from exc
