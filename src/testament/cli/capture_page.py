"""`testament capture-page URL`: preserve a post's page found by hand (or a capture's)."""

from __future__ import annotations

from typing import Annotated

import typer

from testament.cli.common import (
    DatabaseOption,
    HomeOption,
    JsonOption,
    console,
    escape,
    fail,
    opened,
    print_json,
)

PART_NAMES = {
    "screenshot": "screenshot",
    "archive": "web archive (WACZ)",
    "certificates": "certificate chain",
    "headers": "response headers",
}


def capture_page(
    url: Annotated[
        str | None, typer.Argument(help="The post's address (omit with --capture).")
    ] = None,
    capture: Annotated[
        int | None,
        typer.Option("--capture", help="Capture the page of this capture (by id) instead."),
    ] = None,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
    json_output: JsonOption = False,
) -> None:
    """Preserve a post's page: full-page screenshot, WACZ archive, certificate chain, headers."""
    from dataclasses import asdict

    from testament.watch.page_capture import BrowserUnavailable, capture_post_page

    if (url is None) == (capture is None):
        fail("give either a URL or --capture ID")
    target: int | str = capture if capture is not None else url  # type: ignore[assignment]
    with opened(home, database_url) as store:
        try:
            result = capture_post_page(store, target)
        except BrowserUnavailable as exc:
            fail(str(exc))
    if json_output:
        print_json(asdict(result))
    elif result.ok:
        status = f"HTTP {result.status_code}" if result.status_code else "no status"
        console.print(
            f"captured {escape(result.url or '')} ({status}) as page capture "
            f"{result.page_capture_id} of capture {result.capture_id}",
            highlight=False,
        )
        for kind, sha256 in result.parts.items():
            console.print(f"  {PART_NAMES[kind]:<20} {sha256}", highlight=False)
    if not result.ok:
        fail(result.error or "", code=1)
