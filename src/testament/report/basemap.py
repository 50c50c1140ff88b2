"""An offline basemap for report maps: Natural Earth country outlines shipped with the package.

Reports are made and read offline, and asking a tile server for the places under
investigation would tell a third party what the team is looking at. The outlines are
Natural Earth's 1:50m Admin 0 countries (world-atlas 2.0.2, data/world-atlas/SOURCE.txt):
coarse (a few hundred metres per step) and de facto lines, for orientation only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.path import Path as Outline

ATLAS = Path(__file__).parent / "data" / "world-atlas" / "countries-50m.json"
ATTRIBUTION = "Outlines: Natural Earth 1:50m (de facto, approximate; not a statement on borders)"
KM_PER_DEGREE = 111.32
LAND, SEA, BORDER = "#ecebe4", "#f7fafc", "#8a8a80"


@dataclass(frozen=True)
class Country:
    name: str
    rings: list[np.ndarray]  # each ring an (n, 2) array of longitude, latitude


@dataclass(frozen=True)
class Atlas:
    arcs: list[np.ndarray]
    countries: list[Country]


@dataclass(frozen=True)
class Extent:
    west: float
    east: float
    south: float
    north: float

    @property
    def middle(self) -> tuple[float, float]:
        return (self.south + self.north) / 2, (self.west + self.east) / 2

    @property
    def aspect(self) -> float:
        """Data aspect that makes a kilometre as long east-west as north-south at the middle."""
        return 1 / max(0.05, math.cos(math.radians(self.middle[0])))


def around(points: list[tuple[float, float]], min_km: float, wide: float = 1.0) -> Extent:
    """The smallest view holding every (lat, lon) point with a margin, at least `min_km`
    high and `wide` times that across."""
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    mid_lat = (min(lats) + max(lats)) / 2
    cos = max(0.05, math.cos(math.radians(mid_lat)))
    half_lat = max((max(lats) - min(lats)) * 0.6, min_km / 2 / KM_PER_DEGREE)
    half_lon = max((max(lons) - min(lons)) * 0.6, wide * min_km / 2 / KM_PER_DEGREE / cos)
    # No thinner than 3:4 either way, so that far-apart points do not make a sliver.
    half_lat = max(half_lat, 0.75 * half_lon * cos)
    half_lon = max(half_lon, 0.75 * half_lat / cos)
    mid_lon = (min(lons) + max(lons)) / 2
    return Extent(
        max(-180.0, mid_lon - half_lon),
        min(180.0, mid_lon + half_lon),
        max(-89.9, mid_lat - half_lat),
        min(89.9, mid_lat + half_lat),
    )


def _decode(topology: dict) -> list[np.ndarray]:
    """TopoJSON's quantized, delta-encoded arcs as longitude/latitude arrays."""
    scale = np.array(topology["transform"]["scale"])
    translate = np.array(topology["transform"]["translate"])
    return [
        np.cumsum(np.array(arc, dtype=float), axis=0) * scale + translate
        for arc in topology["arcs"]
    ]


def _ring(arcs: list[np.ndarray], indexes: list[int]) -> np.ndarray:
    parts = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in indexes]
    return np.concatenate([parts[0], *(part[1:] for part in parts[1:])])


@cache
def atlas() -> Atlas:
    topology = json.loads(ATLAS.read_text(encoding="utf-8"))
    arcs = _decode(topology)
    countries = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        polygons = geometry.get("arcs", [])
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        rings = [_ring(arcs, ring) for polygon in polygons for ring in polygon]
        countries.append(Country(geometry.get("properties", {}).get("name", ""), rings))
    return Atlas(arcs, countries)


def _touches(points: np.ndarray, extent: Extent) -> bool:
    return bool(
        points[:, 0].max() >= extent.west
        and points[:, 0].min() <= extent.east
        and points[:, 1].max() >= extent.south
        and points[:, 1].min() <= extent.north
    )


def _label_point(
    country: Country, extent: Extent, avoid: Sequence[tuple[float, float]]
) -> tuple[float, float] | None:
    """Where to write a country's name: inside it and in view, clear of the points in `avoid`.

    Candidates are a grid over the view; a country holding fewer than three of them is
    too small here to name.
    """
    lons, lats = np.meshgrid(
        np.linspace(extent.west, extent.east, 14)[1:-1],
        np.linspace(extent.south, extent.north, 14)[1:-1],
    )
    grid = np.column_stack([lons.ravel(), lats.ravel()])
    inside = np.zeros(len(grid), dtype=bool)
    for ring in country.rings:
        if _touches(ring, extent):
            inside ^= Outline(ring).contains_points(grid)
    if inside.sum() < 3:
        return None
    middle = grid[inside].mean(axis=0)
    clear = [g for g in grid[inside] if not any(_near(g, point, extent) for point in avoid)]
    if not clear:
        return None
    best = min(clear, key=lambda g: float(np.hypot(*(g - middle))))
    return float(best[0]), float(best[1])


def _near(where: Sequence[float], point: tuple[float, float], extent: Extent) -> bool:
    """Whether a label at (lon, lat) `where` would sit on the (lat, lon) `point`."""
    return bool(
        abs(where[0] - point[1]) < (extent.east - extent.west) * 0.2
        and abs(where[1] - point[0]) < (extent.north - extent.south) * 0.08
    )


def draw(
    axes: Axes, extent: Extent, *, names: bool = True, avoid: Sequence[tuple[float, float]] = ()
) -> None:
    """Countries filled on a sea-coloured background, their outlines drawn once each.

    Country names are kept clear of the (lat, lon) points in `avoid`.
    """
    world = atlas()
    axes.set_facecolor(SEA)
    rings = [r for c in world.countries for r in c.rings if _touches(r, extent)]
    axes.add_collection(PolyCollection(rings, facecolors=LAND, edgecolors="none", zorder=0))
    lines = [a for a in world.arcs if len(a) > 1 and _touches(a, extent)]
    axes.add_collection(LineCollection(lines, colors=BORDER, linewidths=0.6, zorder=1))
    if names:
        for country in world.countries:
            if not any(_touches(r, extent) for r in country.rings):
                continue
            where = _label_point(country, extent, avoid)
            if where:
                axes.annotate(
                    country.name,
                    where,
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="#77776d",
                    style="italic",
                    zorder=1,
                )
    frame(axes, extent)


def frame(axes: Axes, extent: Extent) -> None:
    """Fix the view to the extent with a true east-west scale, and label the axes in degrees."""
    axes.set_xlim(extent.west, extent.east)
    axes.set_ylim(extent.south, extent.north)
    # The box adapts to the fixed limits (adjustable="datalim" would override them).
    axes.set_aspect(extent.aspect, adjustable="box")
    axes.set_xlabel("longitude (°E)", fontsize=8)
    axes.set_ylabel("latitude (°N)", fontsize=8)
    axes.tick_params(labelsize=7)


def _nice(km: float) -> float:
    """A round length (1, 2 or 5 times a power of ten) no longer than `km`."""
    power = 10 ** math.floor(math.log10(km))
    return max(step * power for step in (1, 2, 5) if step * power <= km)


def scale_bar(axes: Axes, extent: Extent) -> None:
    """A bar of a round number of kilometres in the lower left, true at the map's latitude."""
    lat, _ = extent.middle
    width_km = (extent.east - extent.west) * KM_PER_DEGREE * math.cos(math.radians(lat))
    km = _nice(width_km / 4)
    length = km / (KM_PER_DEGREE * math.cos(math.radians(lat)))
    x0 = extent.west + (extent.east - extent.west) * 0.05
    y0 = extent.south + (extent.north - extent.south) * 0.06
    axes.plot([x0, x0 + length], [y0, y0], color="#222", linewidth=3, solid_capstyle="butt")
    text = f"{km:g} km" if km >= 1 else f"{km * 1000:g} m"
    axes.annotate(text, (x0 + length / 2, y0), xytext=(0, 4), textcoords="offset points",
                  ha="center", va="bottom", fontsize=7)  # fmt: skip
