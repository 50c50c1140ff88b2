"""Pictures for reports: timelines of event dates against posting dates, postings by month, maps.

Maps draw on the offline basemap (report/basemap.py): no tiles, no network.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.patches import Ellipse

from testament.report import basemap

EVENT, POSTING, EARLIEST, POINT = "#1f77b4", "#d62728", "#8c1c13", "#c0392b"
# Stated precision as a radius in kilometres; the coarser ones name an area whose extent
# the record does not hold, so no circle can honestly be drawn for them.
PRECISION_KM = {"exact": 0.0, "within 100 m": 0.1, "within 1 km": 1.0}


@dataclass
class TimelineRow:
    label: str
    event: datetime | None
    earliest: datetime | None
    latest: datetime | None
    postings: list[datetime]


def _png(figure: plt.Figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return out.getvalue()


def _references(axes: plt.Axes, references: list[tuple[date, str]]) -> None:
    for day, label in references:
        axes.axvline(datetime(day.year, day.month, day.day), color="#555", linestyle="--")
        axes.annotate(
            f" {label}",
            (mdates.date2num(day), 0.02),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="bottom",
            ha="right",
            fontsize=8,
        )


def _time_axis(axes: plt.Axes) -> None:
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    axes.grid(axis="x", alpha=0.3)


def timeline(rows: list[TimelineRow], references: list[tuple[date, str]]) -> bytes:
    """One line per incident: the event estimate with its bounds, and each posting after it."""
    height = max(2.5, 0.45 * len(rows) + 1.5)
    figure, axes = plt.subplots(figsize=(9, height))
    for y, row in enumerate(rows):
        if row.earliest and row.latest:
            axes.plot([row.earliest, row.latest], [y, y], color=EVENT, linewidth=4, alpha=0.35)
        if row.event:
            axes.plot([row.event], [y], "o", color=EVENT)
        if row.postings:
            axes.plot(row.postings, [y] * len(row.postings), "x", color=POSTING)
    _references(axes, references)
    axes.set_yticks(range(len(rows)), [row.label for row in rows], fontsize=8)
    axes.set_ylim(len(rows) - 0.5, -0.5)
    _time_axis(axes)
    axes.set_title("Event (circle, with bounds) and postings of its footage (crosses)")
    return _png(figure)


def postings_by_month(months: list[tuple[str, int]], unknown: int) -> bytes:
    """Captures per month of posting; those with no posting time are counted in the title."""
    figure, axes = plt.subplots(figsize=(9, 2.4))
    axes.bar([m for m, _ in months], [n for _, n in months], color=POSTING, alpha=0.8, width=0.6)
    axes.set_xlim(
        -0.5 - max(0, 6 - len(months)) / 2, len(months) - 0.5 + max(0, 6 - len(months)) / 2
    )
    axes.set_ylabel("captures", fontsize=8)
    axes.tick_params(labelsize=8)
    axes.yaxis.get_major_locator().set_params(integer=True)
    for tick in axes.get_xticklabels():
        tick.set_rotation(45 if len(months) > 8 else 0)
    axes.set_title(f"Captures by month of posting ({unknown} with no posting time)", fontsize=10)
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)


def incident_timeline(
    event: TimelineRow, assets: list[TimelineRow], references: list[tuple[date, str]]
) -> bytes:
    """The event estimate on the top line, then every known posting of each linked asset.

    The earliest posting of all is ringed: the first time the footage was seen online,
    which bounds the event from above.
    """
    rows = [event, *assets]
    times = [t for r in rows for t in (r.event, r.earliest, r.latest, *r.postings) if t]
    start, end = min(times), max(times)
    pad = max((end - start) * 0.08, timedelta(hours=6))
    height = max(2.2, 0.42 * len(rows) + 1.4)
    figure, axes = plt.subplots(figsize=(9, height))
    if event.earliest or event.latest:
        lo, hi = event.earliest or start - pad, event.latest or end + pad
        axes.plot([lo, hi], [0, 0], color=EVENT, linewidth=5, alpha=0.35, label="event bounds")
    if event.event:
        axes.plot([event.event], [0], "o", color=EVENT, label="event (best estimate)")
    for y, row in enumerate(assets, start=1):
        if row.postings:
            axes.plot(row.postings, [y] * len(row.postings), "x", color=POSTING, markersize=7)
    postings = [(t, y) for y, r in enumerate(assets, start=1) for t in r.postings]
    if postings:
        first, y = min(postings)
        axes.plot([first], [y], "o", markersize=13, markerfacecolor="none", color=EARLIEST)
        right_half = first - start > (end - start) / 2
        axes.annotate(
            f"earliest posting {first:%Y-%m-%d %H:%M}",
            (mdates.date2num(first), y),
            xytext=(-10 if right_half else 10, -12),
            textcoords="offset points",
            ha="right" if right_half else "left",
            fontsize=7,
            color=EARLIEST,
        )
    _references(axes, [(d, t) for d, t in references if start - pad <= _midnight(d) <= end + pad])
    axes.set_xlim(start - pad, end + pad)
    axes.set_yticks(range(len(rows)), [r.label for r in rows], fontsize=8)
    axes.set_ylim(len(rows) - 0.5, -0.5)
    _time_axis(axes)
    axes.set_title(
        "Event estimate (blue) and postings of the linked footage (crosses)", fontsize=10
    )
    return _png(figure)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _point(axes: plt.Axes, lat: float, lon: float, label: str, left: bool = False) -> None:
    axes.plot([lon], [lat], "o", color=POINT, markeredgecolor="white", markersize=7, zorder=4)
    axes.annotate(
        label,
        (lon, lat),
        textcoords="offset points",
        xytext=(-5, -11) if left else (5, 5),
        ha="right" if left else "left",
        fontsize=8,
        zorder=5,
        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75},
    )


def case_map(points: list[tuple[float, float, str]]) -> bytes:
    """Incidents as labelled points over country outlines."""
    extent = basemap.around([(lat, lon) for lat, lon, _ in points], min_km=400)
    figure, axes = plt.subplots(figsize=(8, 5.5))
    basemap.draw(axes, extent, avoid=[(lat, lon) for lat, lon, _ in points])
    placed: list[tuple[float, float]] = []
    for lat, lon, label in points:
        # A label that would run into one already written goes below left of its point.
        crowded = any(
            abs(lon - x) < (extent.east - extent.west) * 0.12
            and abs(lat - y) < (extent.north - extent.south) * 0.05
            for y, x in placed
        )
        _point(axes, lat, lon, label, left=crowded)
        placed.append((lat, lon))
    basemap.scale_bar(axes, extent)
    axes.set_title("Incident locations (WGS 84)", fontsize=10)
    return _png(figure)


def incident_map(lat: float, lon: float, label: str, precision: str | None) -> bytes:
    """The place on country outlines, and, for a metric precision, a close-up with its circle."""
    radius = PRECISION_KM.get(precision or "")
    close_up = radius is not None
    figure, panels = plt.subplots(1, 2 if close_up else 1, figsize=(9, 4.2), squeeze=False)
    region = basemap.around([(lat, lon)], min_km=400, wide=1.0 if close_up else 1.5)
    basemap.draw(panels[0][0], region, avoid=[(lat, lon)])
    _point(panels[0][0], lat, lon, label)
    basemap.scale_bar(panels[0][0], region)
    panels[0][0].set_title("Region", fontsize=9)
    if close_up:
        axes = panels[0][1]
        view = basemap.around([(lat, lon)], min_km=max(2.0, (radius or 0) * 6))
        basemap.draw(axes, view, names=False)
        if radius:
            axes.add_patch(_circle(lat, lon, radius))
        _point(axes, lat, lon, label)
        basemap.scale_bar(axes, view)
        stated = "exact" if not radius else precision
        axes.set_title(f"Close-up: stated precision {stated}", fontsize=9)
    return _png(figure)


def _circle(lat: float, lon: float, km: float) -> Ellipse:
    """A circle of `km` on the ground in degrees: wider in longitude away from the equator."""
    height = 2 * km / basemap.KM_PER_DEGREE
    width = height / max(0.05, math.cos(math.radians(lat)))
    return Ellipse(
        (lon, lat), width, height, facecolor=POINT, alpha=0.15, edgecolor=POINT, zorder=3
    )
