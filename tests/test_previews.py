"""Previews are made at ingest, so the library's first view never waits on a blank grid."""

from __future__ import annotations

from pathlib import Path

from testament.catalog.models import Asset, CustodyEvent, Derivative
from testament.collect.files import collect_path
from testament.collect.ingest import Ingest
from testament.collect.items import Sighting
from testament.store import Store
from testament.web.jobs import acting_as
from tests import web_support as ws
from tests.media import make_corrupt_video, make_image, make_video


def _derivatives(store: Store) -> dict[str, list[str]]:
    with store.read() as session:
        rows = session.query(Asset.original_filename, Derivative.kind).join(
            Derivative, Derivative.asset_id == Asset.id
        )
        found: dict[str, list[str]] = {}
        for name, kind in rows:
            found.setdefault(name, []).append(kind)
        return {name: sorted(kinds) for name, kinds in found.items()}


def test_ingest_makes_the_previews_in_the_ingesting_persons_name(
    store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "case"
    folder.mkdir()
    make_video(folder / "clip.mp4", seconds=2, seed=4)
    make_image(folder / "still.png", seed=4)
    make_corrupt_video(folder / "broken.mp4")
    Ingest(acting_as(store, "amira")).run(collect_path(folder, Sighting(method="file")))
    assert _derivatives(store) == {
        "clip.mp4": ["keyframe"] * 6 + ["thumbnail"],
        "still.png": ["thumbnail"],
    }
    with store.read() as session:
        derived = session.query(CustodyEvent).filter_by(action="derived").all()
    assert len(derived) == 8 and {e.actor for e in derived} == {"web:amira"}

    # The library and the asset page show them; nothing is made on the first request.
    ws.make_user(store, "vic", "viewer")
    browser = ws.client(store)
    ws.login(browser, "vic")
    library = browser.get("/library").text
    with store.read() as session:
        clip = session.query(Asset).filter_by(original_filename="clip.mp4").one()
    assert f"/assets/{clip.sha256}/thumbnail" in library
    assert browser.get(f"/assets/{clip.sha256}/thumbnail").headers["content-type"] == "image/jpeg"
    assert browser.get(f"/assets/{clip.sha256}").status_code == 200
    with store.read() as session:
        assert session.query(CustodyEvent).filter_by(action="derived").count() == 8


def test_ingesting_again_makes_no_second_previews(store: Store, tmp_path: Path) -> None:
    path = make_image(tmp_path / "still.png", seed=9)
    for _ in range(2):
        Ingest(store).run(collect_path(path, Sighting(method="file")))
    assert _derivatives(store) == {"still.png": ["thumbnail"]}
