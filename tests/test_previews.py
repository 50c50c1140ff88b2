"""Previews are made at ingest, so the library's first view never waits on a blank grid."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PIL.JpegImagePlugin import JpegImageFile

from testament.catalog.models import Asset, CustodyEvent, Derivative
from testament.collect.files import collect_path
from testament.collect.ingest import Ingest
from testament.collect.items import Sighting
from testament.media import thumbnails
from testament.media.thumbnails import make_previews
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


def test_a_long_video_is_sought_and_a_short_one_decoded_through_to_the_same_frames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(make_video(tmp_path / "long.mp4", seconds=62, fps=2, width=64, height=36))
    sought = make_previews(path, "video", 62.0)
    monkeypatch.setattr(thumbnails, "FORWARD_UP_TO", 1000.0)
    forward = make_previews(path, "video", 62.0)
    assert [kind for kind, _, _ in sought] == ["thumbnail"] + ["keyframe"] * 6
    assert [t for _, t, _ in sought] == [t for _, t, _ in forward]
    assert [t for _, t, _ in sought][1:] == pytest.approx(
        [62 * (i + 0.1) / 6 for i in range(6)], abs=0.5
    )
    assert [data for _, _, data in sought] == [data for _, _, data in forward]


def test_a_large_photo_is_decoded_small_turned_upright_and_looks_as_a_full_decode_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to show
    path = make_image(tmp_path / "photo.jpg", seed=4, width=2400, height=1800, exif=exif)
    [(kind, _, small)] = make_previews(str(path), "image", None)
    monkeypatch.setattr(JpegImageFile, "draft", lambda self, mode, size: None)
    [(_, _, full)] = make_previews(str(path), "image", None)
    drafted, decoded = Image.open(io.BytesIO(small)), Image.open(io.BytesIO(full))
    assert kind == "thumbnail"
    assert drafted.size == decoded.size == (360, 480)
    difference = np.abs(np.asarray(drafted, np.int16) - np.asarray(decoded, np.int16))
    assert 0 < difference.mean() < 4
