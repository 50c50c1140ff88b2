"""Faces across footage: off by default, the same face in two videos clustered, another face
not; roles, blurred crops with every view audited, citing a cluster, the migration."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from testament.accounts.models import AuditEntry, User
from testament.actors import actors, attributions
from testament.catalog.models import CustodyEvent
from testament.faces.detect import missing
from testament.investigate import incidents
from testament.investigate.fields import IncidentFields
from testament.store import Store
from tests import web_support as ws
from tests.media import scene_frame, write_frames
from tests.system import need

ASTRONAUT_FACE = (120, 20, 330, 260)  # the face and some hair and collar, in astronaut()


def _frames(face: Image.Image, seed: int, size: tuple[int, int], scale: float, seconds: int):
    """Two frames a second over a moving scene, the face pasted and drifting across it."""
    face = face.resize((round(face.width * scale), round(face.height * scale)))
    for index in range(seconds * 2):
        t = index / 2
        frame = Image.fromarray(scene_frame(seed, t, *size))
        frame.paste(face, (round(20 + 12 * t), round(10 + 4 * t)))
        yield np.asarray(frame)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two videos with the astronaut's face (moved, scaled, other scenes) and one with a
    face from Labeled Faces in the Wild, all from scikit-image's sample data."""
    need(missing() is None, f"{missing()}")
    from skimage import data

    folder = tmp_path_factory.mktemp("faces-media")
    astronaut = Image.fromarray(data.astronaut()).crop(ASTRONAUT_FACE)
    write_frames(folder / "first.mp4", _frames(astronaut, 3, (640, 360), 1.0, 3), fps=2)
    write_frames(folder / "second.mp4", _frames(astronaut, 8, (480, 270), 0.7, 2), fps=2)
    stranger = Image.fromarray((data.lfw_subset()[0] * 255).astype(np.uint8)).convert("RGB")
    stranger = stranger.resize((160, 160), Image.Resampling.BICUBIC)
    write_frames(folder / "other.mp4", _frames(stranger, 5, (480, 270), 1.0, 2), fps=2)
    return folder


def _users(store: Store) -> None:
    ws.make_user(store, "boss", "admin")
    ws.make_user(store, "inv", "investigator")
    ws.make_user(store, "look", "viewer")


def _names(cli) -> dict[str, str]:
    listed = json.loads(cli("assets", "--json").stdout)
    return {a["original_filename"]: a["sha256"] for a in listed}


@pytest.fixture
def analysed(store: Store, cli, media: Path) -> dict[str, str]:
    _users(store)
    assert cli("ingest", str(media)).exit_code == 0
    assert cli("faces", "enable", "--as", "boss").exit_code == 0
    ran = cli("analyse", "--only", "faces")
    assert ran.exit_code == 0 and ran.stdout.count("faces: ok") == 3, ran.output
    return _names(cli)


def test_faces_are_off_until_an_admin_turns_them_on(store: Store, cli, media: Path) -> None:
    _users(store)
    assert cli("ingest", str(media / "first.mp4")).exit_code == 0
    ran = cli("analyse")
    assert "skipped faces: off for this store" in ran.stderr
    assert "faces: ok" not in ran.stdout
    listed = cli("faces", "--as", "inv")
    assert listed.exit_code == 2 and "off for this store" in listed.stderr
    refused = cli("faces", "enable", "--as", "inv")
    assert refused.exit_code == 2
    assert refused.stderr.strip() == "error: only an admin turns faces on or off for the store"
    assert "faces are on" in cli("faces", "enable", "--as", "boss").stdout
    with store.read() as session:
        (event,) = session.query(CustodyEvent).filter_by(action="setting_changed").all()
    assert event.actor == "boss" and json.loads(event.details)["value"] == "on"
    assert "faces: ok" in cli("analyse", "--only", "faces").stdout
    assert "faces are off" in cli("faces", "disable", "--as", "boss").stdout
    assert cli("faces", "--as", "inv").exit_code == 2


def test_the_same_face_in_two_videos_is_one_cluster_and_another_face_is_not(
    cli, analysed: dict[str, str]
) -> None:
    shown = cli("faces", "--as", "inv", "--json")
    assert shown.exit_code == 0, shown.output
    found = json.loads(shown.stdout)
    assert "never an identification" in found["lead"]
    first, second, other = analysed["first.mp4"], analysed["second.mp4"], analysed["other.mp4"]
    together = [c for c in found["clusters"] if first in c["assets"]]
    assert len(together) == 1 and set(together[0]["assets"]) == {first, second}, found
    (alone,) = [c for c in found["clusters"] if other in c["assets"]]
    assert alone["assets"] == [other]
    member = together[0]["members"][0]
    assert member["time"] is not None and len(member["box"]) == 4 and member["crop_id"]
    assert len(together[0]["members"]) == 5  # one on each keyframe: 3 s and 2 s, one a second
    by_asset = json.loads(cli("faces", other[:12], "--as", "inv", "--json").stdout)
    assert [c["id"] for c in by_asset["clusters"]] == [alone["id"]]
    text = cli("faces", "--as", "inv").stdout
    assert text.startswith("A cluster is a lead, never an identification")
    assert "in 2 assets" in text and "2 clusters" in text
    assert cli("verify").exit_code == 0  # the crops are signed derivatives


def test_viewers_see_no_clusters_and_no_crops(store: Store, cli, analysed: dict[str, str]) -> None:
    refused = cli("faces", "--as", "look")
    assert refused.exit_code == 2
    assert "for investigators, reviewers and admins" in refused.stderr
    browser = ws.client(store)
    ws.login(browser, "look")
    for path in ("/faces", "/api/faces", "/faces/1/crop", "/faces/1/crop?clear=1"):
        assert browser.get(path).status_code == 403, path
    assert browser.get("/api/faces/setting").status_code == 403
    page = browser.get(f"/assets/{analysed['first.mp4']}")
    assert page.status_code == 200 and "clusters are for investigators" in page.text


def test_show_gives_where_faces_are_but_never_their_descriptors(
    cli, analysed: dict[str, str]
) -> None:
    shown = json.loads(cli("show", analysed["first.mp4"], "--json").stdout)
    (faces,) = [a for a in shown["analyses"] if a["analyser"] == "faces"]
    assert faces["result"]["faces"] and all(
        "descriptor" not in face and len(face["box"]) == 4 for face in faces["result"]["faces"]
    )


def test_crops_are_blurred_until_revealed_and_every_view_is_audited(
    store: Store, analysed: dict[str, str]
) -> None:
    browser = ws.client(store)
    ws.login(browser, "inv")
    page = browser.get("/faces")
    assert page.status_code == 200 and "never an identification" in page.text
    assert 'data-clear-src="/faces/1/crop?clear=1"' in page.text
    blurred = browser.get("/faces/1/crop")
    clear = browser.get("/faces/1/crop?clear=1")
    assert blurred.status_code == clear.status_code == 200
    assert blurred.headers["cache-control"] == "no-store"
    with Image.open(io.BytesIO(blurred.content)) as image:
        assert image.mode == "L"  # greyscale, and blurred
    with Image.open(io.BytesIO(clear.content)) as image:
        assert image.mode == "RGB"
    with store.read() as session:
        rows = session.query(AuditEntry).filter_by(action="view_face").order_by(AuditEntry.id)
        shown = [(r.username, r.details["face"], r.details["shown"]) for r in rows]
    assert shown == [("inv", 1, "blurred"), ("inv", 1, "clear")]
    assert browser.get("/faces/999999/crop").status_code == 404
    asset_page = browser.get(f"/assets/{analysed['first.mp4']}")
    assert f'href="/faces?sha256={analysed["first.mp4"]}"' in asset_page.text


def test_a_cluster_is_cited_as_an_attribution_basis(
    store: Store, cli, analysed: dict[str, str]
) -> None:
    with store.write() as session:
        inv = session.query(User).filter_by(username="inv").one()
        incident = incidents.create(session, inv, IncidentFields(title="t"))
        person = actors.create(session, "inv", kind="individual", name="unnamed man, green cap")
        given = attributions.AttributionIn(incident.id, person.id, "present", "possible")
        attribution_id = attributions.propose(session, inv, given).id
    found = json.loads(cli("faces", "--as", "inv", "--json").stdout)
    (cluster,) = [c for c in found["clusters"] if len(c["assets"]) == 2]
    cited = cli("faces", "cite", str(cluster["id"]), str(attribution_id), "--as", "inv", "--json")
    assert cited.exit_code == 0, cited.output
    bases = json.loads(cited.stdout)
    assert {b["sha256"] for b in bases} == {analysed["first.mp4"], analysed["second.mp4"]}
    assert all(b["kind"] == "face in another video" for b in bases)
    assert all("not an identification" in b["note"] and b["region"] for b in bases)
    again = json.loads(cli("faces", "--as", "inv", "--json").stdout)
    (cluster,) = [c for c in again["clusters"] if c["id"] == cluster["id"]]
    assert len(cluster["bases"]) == 2
    viewer = cli("faces", "cite", str(cluster["id"]), str(attribution_id), "--as", "look")
    assert viewer.exit_code == 2
    missing_one = cli("faces", "cite", "999", str(attribution_id), "--as", "inv")
    assert missing_one.stderr.strip() == "error: no face cluster 999"


def test_an_incident_report_has_faces_only_for_a_reader_who_may_see_them(
    store: Store, cli, analysed: dict[str, str], tmp_path: Path
) -> None:
    from testament.catalog.models import Asset

    with store.write() as session:
        inv = session.query(User).filter_by(username="inv").one()
        incident = incidents.create(session, inv, IncidentFields(title="faces report"))
        asset = session.query(Asset).filter_by(sha256=analysed["first.mp4"]).one()
        incidents.link_asset(session, inv, incident, asset)
        number = incident.id
    plain, full = tmp_path / "plain.html", tmp_path / "full.html"
    assert cli("report", "incident", str(number), "--out", str(plain)).exit_code == 0
    assert "Faces: analysed; not shown in this report" in plain.read_text()
    refused = cli("report", "incident", str(number), "--out", str(full), "--faces-for", "look")
    assert refused.exit_code == 2 and "for investigators" in refused.stderr
    assert not full.exists()
    made = cli("report", "incident", str(number), "--out", str(full), "--faces-for", "inv")
    assert made.exit_code == 0, made.output
    report = full.read_text()
    assert "not shown in this report" not in report and "Faces (dlib" in report


def test_the_api_turns_faces_on_and_lists_clusters(store: Store, media: Path) -> None:
    _users(store)
    ws.ingest(store, media / "second.mp4")
    browser = ws.client(store)
    token = ws.login(browser, "boss")
    headers = {"X-CSRF-Token": token}
    off = browser.get("/api/faces")
    assert off.status_code == 409 and "off for this store" in off.json()["detail"]
    changed = browser.post("/api/faces/setting", json={"enabled": True}, headers=headers)
    assert changed.status_code == 200 and changed.json() == {"enabled": True}
    assert browser.get("/api/faces/setting").json() == {"enabled": True}
    assert browser.get("/api/faces").json()["clusters"] == []


def test_the_model_matches_migration_0011(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from testament.catalog import schema

    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), schema.Base.metadata)
    assert not [entry for entry in diff if "face" in repr(entry)], diff


def test_an_admin_turns_faces_on_and_off_on_the_admin_page(store: Store) -> None:
    _users(store)
    browser = ws.client(store)
    token = ws.login(browser, "boss")
    page = browser.get("/admin").text
    assert 'id="faces-state">off<' in page and "Identifying people is sensitive" in page
    assert browser.post("/admin/faces", data={"enabled": "true"}).status_code == 403  # no CSRF
    turned = browser.post("/admin/faces", data={"enabled": "true", "csrf_token": token})
    assert turned.status_code == 303 and turned.headers["location"] == "/admin#faces"
    assert 'id="faces-state">on<' in browser.get("/admin").text
    assert browser.post("/admin/faces", data={"csrf_token": token}).status_code == 303
    with store.read() as session:
        changed = session.query(CustodyEvent).filter_by(action="setting_changed")
        events = changed.order_by(CustodyEvent.seq).all()
    assert [(e.actor, json.loads(e.details)["value"]) for e in events] == [
        ("boss", "on"),
        ("boss", "off"),
    ]
    for name in ("inv", "look"):
        other = ws.client(store)
        other_token = ws.login(other, name)
        refused = other.post("/admin/faces", data={"enabled": "true", "csrf_token": other_token})
        assert refused.status_code == 403
    assert 'id="faces-state">off<' in browser.get("/admin").text
