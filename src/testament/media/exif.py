"""The EXIF fields that matter for verifying a still: camera, software, time and place.

EXIF in circulating images is often damaged or half-stripped by the apps that passed it
on, so every problem is collected as a message next to whatever could still be read;
a bad EXIF block never makes the image itself unreadable.
"""

from __future__ import annotations

import re
import struct
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from PIL import Image
from PIL.ExifTags import GPS, IFD, Base

from testament.media.jsonable import clean_text, finite, utc_iso

# What the zone field says when a camera recorded its clock time without an offset.
ZONE_UNKNOWN = "local time, zone unknown"

# What Pillow raises on EXIF it cannot follow (bad offsets, short reads, odd types).
_EXIF_ERRORS = (
    SyntaxError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    EOFError,
    OSError,
    ZeroDivisionError,
    struct.error,
)

# Field name: (time, sub-second, UTC offset) tags.
_TIMES = {
    "date_time_original": (Base.DateTimeOriginal, Base.SubsecTimeOriginal, Base.OffsetTimeOriginal),
    "date_time": (Base.DateTime, Base.SubsecTime, Base.OffsetTime),
}
_DATE_TIME = re.compile(r"^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})$")
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_GPS_DATE = re.compile(r"^(\d{4})[:-](\d{2})[:-](\d{2})$")


def _load(image: Image.Image) -> Image.Exif:
    """A fresh parse of the image's EXIF, so that its warnings are raised (and seen) here."""
    raw = image.info.get("exif")
    if isinstance(raw, bytes):
        exif = Image.Exif()
        exif.load(raw)
        return exif
    return image.getexif()


def _sub_ifd(exif: Image.Exif, tag: IFD, problems: list[str]) -> dict[int, Any]:
    try:
        ifd = exif.get_ifd(tag)
    except _EXIF_ERRORS as exc:
        problems.append(f"unreadable {tag.name} block: {exc}")
        return {}
    if tag in exif and not ifd:
        problems.append(f"unreadable {tag.name} block")
    return ifd


def exif_datetime(value: object, subsec: object, offset: object) -> tuple[str, str] | None:
    """ISO 8601 time and its zone (the offset, or ZONE_UNKNOWN); None if unreadable.

    EXIF times are the camera's clock without a zone unless an OffsetTime* tag says
    otherwise; inventing a zone would put a false claim into the evidence record.
    """
    match = _DATE_TIME.match(clean_text(value) or "")
    if match is None:
        return None
    try:
        moment = datetime(*(int(part) for part in match.groups()))
    except ValueError:
        return None
    digits = clean_text(subsec)
    if digits and digits.isdigit():
        moment = moment.replace(microsecond=int(digits[:6].ljust(6, "0")))
    zone = _OFFSET.match(clean_text(offset) or "")
    if zone is None:
        return moment.isoformat(), ZONE_UNKNOWN
    sign = -1 if zone[1] == "-" else 1
    try:
        tzinfo = timezone(sign * timedelta(hours=int(zone[2]), minutes=int(zone[3])))
    except ValueError:
        return moment.isoformat(), ZONE_UNKNOWN
    return moment.replace(tzinfo=tzinfo).isoformat(), zone[0]


def _put_datetime(
    fields: dict[str, Any], problems: list[str], tags: Mapping[int, Any], name: str
) -> None:
    value_tag, subsec_tag, offset_tag = _TIMES[name]
    value = tags.get(value_tag)
    if value is None:
        return
    parsed = exif_datetime(value, tags.get(subsec_tag), tags.get(offset_tag))
    if parsed is None:
        problems.append(f"unreadable {value_tag.name} {clean_text(value)!r}")
        return
    fields[name], fields[f"{name}_zone"] = parsed


def _numbers(value: object) -> list[float] | None:
    """The components of a rational or a tuple of rationals, if all are finite."""
    parts = value if isinstance(value, tuple | list) else (value,)
    numbers = [finite(part) for part in parts]
    if not numbers or None in numbers:
        return None
    return [number for number in numbers if number is not None]


def gps_coordinate(value: object, ref: object, refs: str) -> float | None:
    """Decimal degrees from degrees/minutes/seconds and a ref such as "N"/"S" ("E"/"W").

    Returns None when the value or its hemisphere cannot be read: a coordinate without
    its hemisphere would put the place on the wrong side of the world.
    """
    numbers = _numbers(value)
    hemisphere = (clean_text(ref) or "").upper()[:1]
    if numbers is None or not 1 <= len(numbers) <= 3 or hemisphere not in tuple(refs):
        return None
    if any(number < 0 for number in numbers) or any(number >= 60 for number in numbers[1:]):
        return None
    degrees = sum(number / 60**power for power, number in enumerate(numbers))
    limit = 90 if refs == "NS" else 180
    if degrees > limit:
        return None
    return round(-degrees if hemisphere == refs[1] else degrees, 7)


def _gps_altitude(value: object, ref: object) -> float | None:
    altitude = finite(value)
    if altitude is None:
        return None
    below_sea_level = ref == 1 or (isinstance(ref, bytes) and ref[:1] == b"\x01")
    return -altitude if below_sea_level else altitude


def _gps_time(time: object, date: object) -> tuple[str, str] | None:
    """("timestamp", ISO UTC) when the date is known, ("time", "HH:MM:SS") when not."""
    numbers = _numbers(time)
    if numbers is None or len(numbers) != 3:
        return None
    hours, minutes, seconds = numbers
    if not (0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 61):
        return None
    whole = int(seconds)
    day = _GPS_DATE.match(clean_text(date) or "")
    if day is None:
        return "time", f"{int(hours):02d}:{int(minutes):02d}:{whole:02d}"
    try:
        moment = datetime(*(int(part) for part in day.groups()), tzinfo=UTC)
    except ValueError:
        return None
    moment += timedelta(hours=int(hours), minutes=int(minutes), seconds=seconds)
    return "timestamp", utc_iso(moment)


def read_gps(gps: Mapping[int, Any], problems: list[str]) -> dict[str, Any]:
    """Latitude/longitude (hemispheres applied), altitude (metres), and the GPS clock."""
    point: dict[str, Any] = {}
    for name, value_tag, ref_tag, refs in (
        ("latitude", GPS.GPSLatitude, GPS.GPSLatitudeRef, "NS"),
        ("longitude", GPS.GPSLongitude, GPS.GPSLongitudeRef, "EW"),
    ):
        if value_tag not in gps:
            continue
        coordinate = gps_coordinate(gps[value_tag], gps.get(ref_tag), refs)
        if coordinate is None:
            problems.append(f"unreadable GPS {name} (or its {refs[0]}/{refs[1]} reference)")
        else:
            point[name] = coordinate
    if GPS.GPSAltitude in gps:
        altitude = _gps_altitude(gps[GPS.GPSAltitude], gps.get(GPS.GPSAltitudeRef))
        if altitude is None:
            problems.append("unreadable GPS altitude")
        else:
            point["altitude"] = altitude
    if GPS.GPSTimeStamp in gps:
        clock = _gps_time(gps[GPS.GPSTimeStamp], gps.get(GPS.GPSDateStamp))
        if clock is None:
            problems.append("unreadable GPS time")
        else:
            point[clock[0]] = clock[1]
    return point


def _camera(base: Mapping[int, Any], problems: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, tag in (("make", Base.Make), ("model", Base.Model), ("software", Base.Software)):
        text = clean_text(base.get(tag))
        if text:
            fields[name] = text
    orientation = base.get(Base.Orientation)
    if orientation is not None:
        if isinstance(orientation, int) and 1 <= orientation <= 8:
            fields["orientation"] = orientation
        else:
            problems.append(f"invalid orientation {orientation!r}")
    return fields


def _read(image: Image.Image, problems: list[str]) -> dict[str, Any]:
    try:
        exif = _load(image)
        base = dict(exif)
    except _EXIF_ERRORS as exc:
        problems.append(f"unreadable EXIF: {exc}")
        return {}
    raw = image.info.get("exif")
    if not base and isinstance(raw, bytes) and raw.removeprefix(b"Exif\x00\x00"):
        problems.append("EXIF block present but unreadable")
    details = _sub_ifd(exif, IFD.Exif, problems)
    fields = _camera(base, problems)
    tags = base | details  # DateTime sits in IFD0, its sub-second and offset tags do not
    for name in _TIMES:
        _put_datetime(fields, problems, tags, name)
    gps = read_gps(_sub_ifd(exif, IFD.GPSInfo, problems), problems)
    if gps:
        fields["gps"] = gps
    return fields


def read_exif(image: Image.Image) -> tuple[dict[str, Any], str | None]:
    """The EXIF fields found, and one line describing what was malformed (or None).

    Pillow reports most EXIF damage as warnings and carries on; they are recorded here
    (and kept off the console). `warnings.catch_warnings` is process-wide state, so
    concurrent probes in threads may swap each other's messages; the fields are unaffected.
    """
    problems: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fields = _read(image, problems)
    problems.extend(" ".join(str(warning.message).split()) for warning in caught)
    unique = list(dict.fromkeys(problems))
    return fields, "; ".join(unique) if unique else None
