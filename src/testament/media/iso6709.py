"""ISO 6709 point locations, the form phones write into MP4 and QuickTime files.

Examples: `+40.1792+044.4991+1000.000/` (decimal degrees, altitude in metres),
`+4010.752+04429.946/` (degrees and decimal minutes), `+401045+0442957/` (degrees,
minutes, seconds), optionally followed by a `CRS...` reference before the slash.
"""

from __future__ import annotations

import re

_POINT = re.compile(
    r"""^(?P<lat>[+-]\d{2}(?:\d{2}){0,2}(?:\.\d+)?)
         (?P<lon>[+-]\d{3}(?:\d{2}){0,2}(?:\.\d+)?)
         (?P<alt>[+-]\d+(?:\.\d+)?)?
         (?:CRS[A-Za-z0-9_:.-]*)?/?$""",
    re.VERBOSE,
)


def _angle(text: str, degree_digits: int) -> float | None:
    """Degrees from ±D[D]D[MM[SS]][.fff]; the digit count says which parts are present."""
    sign = -1.0 if text[0] == "-" else 1.0
    whole, _, fraction = text[1:].partition(".")
    fraction_value = float(f"0.{fraction}") if fraction else 0.0
    extra = len(whole) - degree_digits
    degrees = int(whole[:degree_digits])
    minutes = seconds = 0.0
    if extra == 0:
        degrees_value = degrees + fraction_value
    elif extra == 2:
        minutes = int(whole[degree_digits:]) + fraction_value
        degrees_value = degrees + minutes / 60
    else:
        minutes = int(whole[degree_digits : degree_digits + 2])
        seconds = int(whole[degree_digits + 2 :]) + fraction_value
        degrees_value = degrees + minutes / 60 + seconds / 3600
    if minutes >= 60 or seconds >= 60:
        return None
    return sign * degrees_value


def parse_iso6709(text: str) -> dict[str, float] | None:
    """`{"latitude", "longitude"[, "altitude"]}` in decimal degrees and metres, or None."""
    match = _POINT.match(text.strip())
    if match is None:
        return None
    latitude = _angle(match["lat"], 2)
    longitude = _angle(match["lon"], 3)
    if latitude is None or longitude is None or abs(latitude) > 90 or abs(longitude) > 180:
        return None
    point = {"latitude": round(latitude, 7), "longitude": round(longitude, 7)}
    if match["alt"] is not None:
        point["altitude"] = float(match["alt"])
    return point
