"""Pictures for the case report: a timeline of event dates against posting dates, and a map.

The map draws points on longitude/latitude axes with no tiles, so it needs no network.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt


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


def timeline(rows: list[TimelineRow], references: list[tuple[date, str]]) -> bytes:
    """One line per incident: the event estimate with its bounds, and each posting after it."""
    height = max(2.5, 0.45 * len(rows) + 1.5)
    figure, axes = plt.subplots(figsize=(9, height))
    for y, row in enumerate(rows):
        if row.earliest and row.latest:
            axes.plot([row.earliest, row.latest], [y, y], color="#1f77b4", linewidth=4, alpha=0.35)
        if row.event:
            axes.plot([row.event], [y], "o", color="#1f77b4")
        if row.postings:
            axes.plot(row.postings, [y] * len(row.postings), "x", color="#d62728")
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
    axes.set_yticks(range(len(rows)), [row.label for row in rows], fontsize=8)
    axes.invert_yaxis()
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(axes.xaxis.get_major_locator()))
    axes.set_title("Event (circle, with bounds) and postings of its footage (crosses)")
    axes.grid(axis="x", alpha=0.3)
    return _png(figure)


def point_map(points: list[tuple[float, float, str]]) -> bytes:
    """Incidents as labelled points on longitude/latitude axes."""
    figure, axes = plt.subplots(figsize=(7, 5))
    lons = [p[1] for p in points]
    lats = [p[0] for p in points]
    axes.scatter(lons, lats, color="#d62728", zorder=3)
    for lat, lon, label in points:
        axes.annotate(label, (lon, lat), textcoords="offset points", xytext=(4, 4), fontsize=8)
    margin = 0.05 + 0.1 * max(max(lons) - min(lons), max(lats) - min(lats))
    axes.set_xlim(min(lons) - margin, max(lons) + margin)
    axes.set_ylim(min(lats) - margin, max(lats) + margin)
    axes.set_aspect("equal", adjustable="datalim")
    axes.set_xlabel("longitude (°E)")
    axes.set_ylabel("latitude (°N)")
    axes.grid(alpha=0.3)
    axes.set_title("Incident locations (WGS 84)")
    return _png(figure)
