"""The alert inbox in a real browser: the post's media and its captured page stay blurred.

A watcher round over a local channel (a photo post with hostile text) raises the alert;
the post's page is captured by the same headless Chromium; the inbox then shows both
previews as the server's blurred, greyscale renderings, never the clear ones, until a
person reveals one, and the post's script never runs.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import select

from testament.watch.models import Alert
from testament.watch.page_capture import capture_post_page
from tests import web_support as ws
from tests.browser.test_workbench import ARTIFACTS, _login, browser, server
from tests.watch_site import Media, Site, serving
from tests.watch_support import media_bytes, watch_once

__all__ = ["browser", "server"]  # fixtures, shared with the workbench's browser test


def _greyscale(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as image:
        pixels = np.asarray(image.convert("RGB").resize((32, 32)), dtype=np.int16)
    return bool((pixels == pixels[..., :1]).all())


def test_inbox_previews_are_blurred_and_post_text_inert(server, browser, tmp_path: Path) -> None:
    base, store = server
    ws.make_user(store, "ana", "investigator")
    photo, _video = media_bytes(seed=3)
    with serving(Site()) as site:
        site.add_file("p.jpg", photo)
        site.channel("frontline").post(
            f"near the bridge {ws.HOSTILE}", [Media("photo", "p.jpg", photo)]
        )
        watch_once(store, f"{site.base}/s/frontline")
        with store.read() as session:
            alert = session.execute(select(Alert)).scalar_one()
        captured = capture_post_page(store, alert.capture_id, rate=50)
    assert captured.ok, captured.error

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url))
    _login(page, base, "ana")
    page.goto(base + "/alerts")
    card = page.locator(f"#alert-{alert.id}")
    images = card.locator("img.protected-thumb")
    assert images.count() == 2  # the media, and the screenshot of the post's page
    page.wait_for_function(
        "[...document.querySelectorAll('img.protected-thumb')]"
        ".every(i => i.complete && i.naturalWidth)"
    )
    shot = captured.parts["screenshot"]
    sources = [images.nth(i).get_attribute("src") or "" for i in range(2)]
    assert sources[1] == f"/assets/{shot}/thumbnail"
    for src in sources:
        assert "clear" not in src
        assert _greyscale(page.request.get(base + src).body())
    assert not [url for url in fetched if "clear=1" in url]
    assert "<script>" in card.locator(".posttext").inner_text()  # shown as text
    page.screenshot(path=ARTIFACTS / "12-alerts-blurred.png", full_page=True)

    card.get_by_role("button", name="Mark as seen").click()
    page.wait_for_url(re.compile(r"/alerts"))
    assert "seen by ana" in page.locator(f"#alert-{alert.id}").inner_text()
    assert dialogs == []  # the post's script never ran
    context.close()
