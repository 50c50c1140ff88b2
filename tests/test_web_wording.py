"""What the workbench says: error pages within the layout, and where a page sends people."""

from __future__ import annotations

from pathlib import Path

from testament.accounts import users
from tests import web_support as ws

NEW_PASSWORD = "a long new passphrase"


def test_an_unknown_address_is_named_on_a_page_with_navigation(store) -> None:
    ws.make_user(store, "amira", "viewer")
    browser = ws.client(store)
    ws.login(browser, "amira")
    page = browser.get("/no/such/page")
    assert page.status_code == 404
    assert "There is no page at /no/such/page." in page.text
    assert "Not Found" not in page.text
    assert '<nav aria-label="Main">' in page.text and ">amira</a>" in page.text


def test_an_unknown_address_shows_no_navigation_to_strangers(store) -> None:
    page = ws.client(store).get("/no/such/page")
    assert page.status_code == 404 and '<nav aria-label="Main">' not in page.text


def test_after_replacing_a_one_time_password_the_library_opens(store) -> None:
    with store.write() as session:
        _, one_time = users.add_user(session, "amira", "viewer")
    browser = ws.client(store)
    token = ws.login(browser, "amira", one_time)
    changed = browser.post(
        "/account/password",
        data={
            "current": one_time,
            "new": NEW_PASSWORD,
            "repeat": NEW_PASSWORD,
            "csrf_token": token,
        },
    )
    assert changed.status_code == 303 and changed.headers["location"] == "/library"
    again = browser.post(
        "/account/password",
        data={
            "current": NEW_PASSWORD,
            "new": "x" + NEW_PASSWORD,
            "repeat": "x" + NEW_PASSWORD,
            "csrf_token": token,
        },
    )
    assert again.headers["location"] == "/account?changed=1"  # a change by choice


def test_an_image_page_speaks_of_viewing_a_video_page_of_playing(store, tmp_path: Path) -> None:
    image = ws.hostile_image(store, tmp_path)
    video = ws.small_video(store, tmp_path)
    ws.make_user(store, "amira", "viewer")
    browser = ws.client(store)
    ws.login(browser, "amira")
    image_page = browser.get(f"/assets/{image}").text
    assert "Viewing it unblurred is recorded." in image_page and "Playing" not in image_page
    assert "Playing loads the original" in browser.get(f"/assets/{video}").text
