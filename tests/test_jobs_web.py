"""Upload jobs live in the catalog: a second web process follows an upload the first began."""

from __future__ import annotations

import time
from pathlib import Path

from testament.store import Store
from testament.web.jobs import Jobs
from tests import web_support as ws
from tests.media import make_image


def test_an_upload_is_followed_through_another_web_process(store: Store, tmp_path: Path) -> None:
    ws.make_user(store, "ana", "investigator")
    first, second = ws.client(store), ws.client(store)  # two apps, each with its own memory
    assert first.app.state.jobs is not second.app.state.jobs
    token = ws.login(first, "ana")
    ws.login(second, "ana")
    image = make_image(tmp_path / "photo.png", seed=8).read_bytes()
    response = first.post(
        "/upload", data={"csrf_token": token}, files=[("files", ("photo.png", image, "image/png"))]
    )
    assert response.status_code == 303
    status_page = response.headers["location"]
    for _ in range(300):
        fragment = second.get(status_page + "/progress").text
        if "finished" in fragment:
            break
        time.sleep(0.1)
    assert "Upload finished" in fragment and "1 of 1 preserved" in fragment
    assert "photo.png" in second.get(status_page).text
    assert Jobs().get(store, status_page.rsplit("/", 1)[1]) is not None
    assert second.get("/upload/" + "0" * 32).status_code == 404
