"""`testament serve`: the investigator workbench in the browser."""

from __future__ import annotations

from typing import Annotated

import typer

from testament.cli.common import DatabaseOption, HomeOption, console, fail, opened


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="Mark cookies Secure (serve behind HTTPS).")
    ] = False,
    tile_url: Annotated[
        str | None,
        typer.Option(
            help="Map tile URL with {z}/{x}/{y} [env: TESTAMENT_TILE_URL]; none by default, "
            "as a tile server sees which places are looked at. "
            "An admin's choice in the workbench wins.",
            show_default=False,
        ),
    ] = None,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Serve the workbench (log in with a user from `testament user add`)."""
    import uvicorn

    from testament.web.app import create_app
    from testament.web.settings import SettingError, check_tile_url

    if tile_url:
        try:
            check_tile_url(tile_url)
        except SettingError as exc:
            fail(str(exc))
    with opened(home, database_url) as store:
        app = create_app(store, secure_cookies=secure_cookies, tile_url=tile_url)
        console.print(f"testament workbench on http://{host}:{port}/ (Ctrl+C stops it)")
        uvicorn.run(app, host=host, port=port, log_level="warning")
