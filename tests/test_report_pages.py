"""Every page of the case and incident reports, looked at as a picture and as text.

One store is built for the module: four assets (one unparseable), five captures on
three platforms over two months, one footage group (a video and a still from it), and
four incidents, three placed on the map. The reports are made once through the CLI and
each PDF page is rendered with pdftoppm.
"""

from __future__ import annotations

import logging
import re
import subprocess
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from testament import config
from testament.accounts.models import User
from testament.catalog.models import Asset
from testament.collect.ingest import Ingest, default_steps
from testament.collect.items import Item, Sighting
from testament.investigate import incidents as logic
from testament.investigate import taxonomy
from testament.investigate.fields import IncidentFields
from testament.investigate.models import ReferenceDate
from testament.media.thumbnails import ensure_previews
from testament.store import Store, init_store
from tests import web_support as ws
from tests.actor_support import attribute
from tests.media import make_corrupt_video, make_image, make_video
from tests.system import need_tool

DPI = 40
# Below this share of non-white pixels a page is mostly empty (a page of text is ~4%).
INK_FLOOR = 0.01
# Every page but the last is filled at least this far down: no heading or picture pushed
# alone onto the next page, leaving the rest of this one blank.
FILL_FLOOR = 0.55
FOOTER_MM = 20
LAND = "#ecebe4"  # the basemap's land (report/basemap.py)


@dataclass
class Page:
    image: np.ndarray  # RGB
    text: str
    pictures: list[tuple[int, int, str]]  # width, height, colour of each embedded image

    def chart(self) -> bool:
        """Whether the page holds a colour picture at least as wide as a chart."""
        return any(w >= 400 and colour == "rgb" for w, _, colour in self.pictures)


@dataclass
class Reports:
    pages: dict[str, list[Page]]
    output: dict[str, str]
    warned: list[str]
    video: str
    still: str


def _build(store: Store, folder: Path) -> tuple[str, str]:
    """The store's content; returns the sha256 of the video and of the still from it."""
    video = make_video(folder / "strike.mp4", seconds=4, seed=5)
    first = datetime(2020, 11, 20, 10, 0, tzinfo=UTC)
    video_sha = ws.ingest(store, video, platform="telegram", channel="Channel A", posted_at=first)
    ws.ingest(
        store,
        video,
        platform="x",
        channel="@reposter",
        posted_at=datetime(2020, 12, 2, 8, 0, tzinfo=UTC),
    )
    still = make_image(folder / "frame.png", seed=5, width=320, height=180)
    still_sha = ws.ingest(
        store,
        still,
        platform="telegram",
        channel="Channel B",
        posted_at=datetime(2020, 12, 1, 12, 0, tzinfo=UTC),
    )
    for path in (
        make_video(folder / "other.mp4", seconds=3, seed=9),
        make_corrupt_video(folder / "broken.mp4"),
    ):
        seen = Sighting(method="file", filename=path.name, source_path=str(path))
        Ingest(store, steps=default_steps(store)).run([Item(path.name, seen, path=path)])
    author = ws.make_user(store, "ana", "investigator")
    reviewer = ws.make_user(store, "rev", "reviewer")
    with store.write() as session:
        taxonomy.ensure_defaults(session)
        session.add(ReferenceDate(day=date(2020, 11, 10), label="ceasefire"))
    with store.write() as session:
        ana, rev = session.get(User, author), session.get(User, reviewer)
        placed = logic.create(
            session,
            ana,
            IncidentFields(
                title="Execution of detainees",
                violations=["extrajudicial-execution"],
                event_time="2020-11-19T10:00Z",
                event_earliest="2020-11-18T00:00Z",
                event_latest="2020-11-20T10:00Z",
                location_name="road south of the village",
                latitude=39.8,
                longitude=46.75,
                location_precision="within 1 km",
                location_method="geolocated from footage",
            ),
        )
        attribute(session, ana, placed.id, "Party A", "unverified")
        for sha in (video_sha, still_sha):
            logic.link_asset(session, ana, placed, session.query(Asset).filter_by(sha256=sha).one())
        logic.set_working_status(session, ana, placed, "needs_review", "ready")
        logic.review(session, rev, placed, "verified", "Geolocated from the ridge line.")
        logic.create(session, ana, IncidentFields(title="Abuse of a prisoner, place unknown"))
        shelling = logic.create(
            session,
            ana,
            IncidentFields(
                title="Shelling of a street",
                event_time="2020-10-17T03:00Z",
                latitude=40.66,
                longitude=47.1,
                location_precision="district",
            ),
        )
        mutilation = logic.create(
            session,
            ana,
            IncidentFields(
                title="Mutilation of a body",
                latitude=39.75,
                longitude=46.6,
                location_precision="settlement",
            ),
        )
        for other in (shelling, mutilation):
            attribute(session, ana, other.id, "Party B", "possible")
    with store.read() as session:
        assets = list(session.query(Asset))
    for asset in assets:
        ensure_previews(store, asset)
    return video_sha, still_sha


class _Records(logging.Handler):
    """Log records kept for the test (matplotlib warns through logging, not `warnings`)."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _pictures(pdf: Path, pdfimages: str) -> dict[int, list[tuple[int, int, str]]]:
    listing = subprocess.run(
        [pdfimages, "-list", str(pdf)], check=True, capture_output=True, text=True
    ).stdout
    pictures: dict[int, list[tuple[int, int, str]]] = {}
    for line in listing.splitlines()[2:]:
        page, _, _, width, height, colour = line.split()[:6]
        pictures.setdefault(int(page), []).append((int(width), int(height), colour))
    return pictures


def _pages(pdf: Path, pdftoppm: str, pdftotext: str, pdfimages: str) -> list[Page]:
    prefix = pdf.with_suffix("")
    subprocess.run([pdftoppm, "-png", "-r", str(DPI), str(pdf), str(prefix)], check=True)
    pictures = _pictures(pdf, pdfimages)
    pages = []
    for number, png in enumerate(sorted(pdf.parent.glob(f"{prefix.name}-*.png")), start=1):
        text = subprocess.run(
            [pdftotext, "-layout", "-f", str(number), "-l", str(number), str(pdf), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        with Image.open(png) as image:
            rgb = np.asarray(image.convert("RGB"))
        pages.append(Page(rgb, text, pictures.get(number, [])))
    return pages


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reports]:
    pdftoppm = need_tool("pdftoppm", "apt-get install poppler-utils")
    pdftotext = need_tool("pdftotext", "apt-get install poppler-utils")
    pdfimages = need_tool("pdfimages", "apt-get install poppler-utils")
    root = tmp_path_factory.mktemp("reports")
    settings = config.resolve(home=root / "home", actor="tester")
    store, _ = init_store(settings)
    video, still = _build(store, root)
    store.close()
    from testament.cli.main import app

    env = {config.HOME_ENV: str(settings.home), config.ACTOR_ENV: "tester"}
    pages, output = {}, {}
    logged = _Records(logging.WARNING)
    logging.getLogger("matplotlib").addHandler(logged)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name, args in (
            ("case", ["case"]),
            ("incident-1", ["incident", "1"]),
            ("incident-2", ["incident", "2"]),
        ):
            pdf = root / f"{name}.pdf"
            result = CliRunner().invoke(
                app, ["report", *args, "--format", "pdf", "--out", str(pdf)], env=env
            )
            assert result.exit_code == 0, result.output
            output[name] = result.output
            pages[name] = _pages(pdf, pdftoppm, pdftotext, pdfimages)
    logging.getLogger("matplotlib").removeHandler(logged)
    warned = [f"{w.category.__name__}: {w.message}" for w in caught]
    warned += [f"{r.name}: {r.getMessage()}" for r in logged.records]
    yield Reports(pages, output, warned, video, still)


def _ink(page: Page) -> float:
    return float((page.image.min(axis=2) < 200).mean())


def _lowest_content(page: Page) -> float:
    """How far down the page (0 to 1) its lowest mark above the footer is."""
    height = page.image.shape[0]
    body = page.image[: height - int(FOOTER_MM / 297 * height)]
    rows = np.flatnonzero((body.min(axis=2) < 200).any(axis=1))
    return (rows.max() + 1) / height if rows.size else 0.0


def _near(page: Page, colour: str, tolerance: int = 6) -> float:
    """Share of the page's pixels within `tolerance` of a #rrggbb colour."""
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return float((np.abs(page.image.astype(int) - rgb).max(axis=2) <= tolerance).mean())


def _red(page: Page) -> float:
    """Share of strongly red pixels: the charts' posting marks and bars."""
    r, g, b = (page.image[..., i].astype(int) for i in range(3))
    return float(((r > 170) & (g < 130) & (b < 130)).mean())


def _text(pages: list[Page]) -> str:
    return "\n".join(p.text for p in pages)


@pytest.mark.parametrize("name", ["case", "incident-1", "incident-2"])
def test_no_page_is_mostly_empty(reports: Reports, name: str) -> None:
    pages = reports.pages[name]
    for number, page in enumerate(pages, start=1):
        words = re.sub(rf"page {number}/{len(pages)}", "", page.text).split()
        assert len(words) >= 8, f"{name} page {number} has almost no text: {words}"
        assert _ink(page) > INK_FLOOR, f"{name} page {number} is mostly empty"
        if number < len(pages):
            assert _lowest_content(page) > FILL_FLOOR, (
                f"{name} page {number} ends at {_lowest_content(page):.0%} of the page"
            )


def test_reports_print_no_warning(reports: Reports) -> None:
    assert reports.warned == []
    for output in reports.output.values():
        assert "warning" not in output.lower(), output


def test_case_report_counts_the_whole_store(reports: Reports) -> None:
    text = _text(reports.pages["case"])
    flat = re.sub(r"[ \t]+", " ", text)
    assert "4 assets, 5 captures, 1 footage group, 4 incidents" in flat
    for row in (
        r"image 1 0",
        r"video 3 1",
        r"no platform \(collected by file\) 2",
        r"telegram 2",
        r"(^|\n) ?x 1",
        r"2020-11 1",
        r"2020-12 2",
        r"posting time unknown 2",
        r"2 assets 1",
        r"still from 1",
        r"Party A 1",
        r"Party B 2",
        r"Verified 1",
        r"New 3",
        r"2020-10 1\n(.*\n)*2020-11 1\n(.*\n)*date unknown 2",
    ):
        assert re.search(row, flat), row
    assert "1 footage group (assets that show the same footage) holding 2 assets" in flat
    assert "2 assets in no group" in flat
    assert "broken.mp4" in flat and "cannot parse" in flat
    # group 1: its earliest asset (a cell of two lines), first posted where, then how many
    # dated postings the group has and the last of them
    lines = flat.splitlines()
    row = next(
        i
        for i, line in enumerate(lines)
        if "2020-11-20T10:00:00Z telegram Channel A 3 2020-12-02T08:00:00Z" in line
    )
    cell = " ".join(lines[row - 1 : row + 2])
    assert reports.video[:12] in cell and "strike.mp4" in cell, cell
    assert re.match(r" ?1 ", lines[row]), lines[row]


def test_case_report_has_charts_and_a_map(reports: Reports) -> None:
    pages = reports.pages["case"]
    text = _text(pages)
    assert "Captures by month of posting" in text and "Event dates against posting dates" in text
    map_page = next(p for p in pages if "Natural Earth" in p.text)
    assert map_page.chart()
    assert "Map" in map_page.text and "Incidents with a location: 3 of 4" in map_page.text
    assert _near(map_page, LAND) > 0.05  # the country outlines, filled
    months = next(p for p in pages if "Captures by the month" in p.text)
    assert months.chart() and _red(months) > 0.002  # the bars
    assert next(p for p in pages if "Event dates against posting dates" in p.text).chart()


def test_incident_report_has_a_map_and_a_timeline(reports: Reports) -> None:
    pages = reports.pages["incident-1"]
    text = _text(pages)
    map_page = next(p for p in pages if "Natural Earth" in p.text)
    assert map_page.chart() and _near(map_page, LAND) > 0.05
    assert "39.80000, 46.75000" in map_page.text and "within 1 km" in map_page.text
    assert "ringed one is the earliest" in text
    timeline = next(p for p in pages if "ringed one is the earliest" in p.text)
    assert timeline.chart() and _red(timeline) > 0.00003  # the posting crosses
    unplaced = _text(reports.pages["incident-2"])
    assert "No coordinates recorded; no map drawn." in unplaced
    assert "Natural Earth" not in unplaced


def test_incident_report_wording(reports: Reports) -> None:
    text = re.sub(r"\s+", " ", _text(reports.pages["incident-1"]))
    assert "unknown posted unknown" not in text and "needs_review" not in text
    assert "review: Verified — “Geolocated from the ridge line.”" in text
    assert "status: New → Needs review (ready)" in text
    assert "posted 2020-11-20T10:00:00Z" in text
    assert "Earliest known capture of this footage: posted 2020-11-20T10:00:00Z" in text
