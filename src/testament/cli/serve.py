"""`testament serve`: the investigator workbench in the browser."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from testament import config
from testament.cli.common import DatabaseOption, HomeOption, console, fail, opened


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Web processes sharing the port; sessions, login throttling and upload "
            "jobs live in the catalog, so any of them may answer any request.",
        ),
    ] = 1,
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="Mark cookies Secure (serve behind HTTPS).")
    ] = False,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Addresses of the reverse proxies whose X-Forwarded-For names the client "
            "(the login throttle counts per client) [env: FORWARDED_ALLOW_IPS; "
            "default: 127.0.0.1].",
            show_default=False,
        ),
    ] = None,
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

    from testament.web.app import SECURE_COOKIES_ENV, TILE_URL_ENV, create_app
    from testament.web.settings import SettingError, check_tile_url

    if tile_url:
        try:
            check_tile_url(tile_url)
        except SettingError as exc:
            fail(str(exc))
    served = {"host": host, "port": port, "log_level": "warning"}
    if forwarded_allow_ips is not None:
        served["forwarded_allow_ips"] = forwarded_allow_ips
    # Opened here even for many processes: the catalog is migrated once, and a store that
    # cannot be opened is one line here rather than one traceback per process.
    with opened(home, database_url) as store:
        plural = "es" if workers > 1 else ""
        console.print(
            f"testament workbench on http://{host}:{port}/ ({workers} process{plural}; "
            "Ctrl+C stops it)"
        )
        if workers == 1:
            app = create_app(store, secure_cookies=secure_cookies, tile_url=tile_url)
            uvicorn.run(app, **served)
            return
        # Each process builds its own app from the environment, which it inherits.
        os.environ[config.HOME_ENV] = str(store.settings.home)
        os.environ[config.DATABASE_ENV] = store.settings.database_url
        os.environ[config.BLOBS_ENV] = store.settings.blob_url
        os.environ[SECURE_COOKIES_ENV] = "1" if secure_cookies else "0"
        if tile_url is not None:
            os.environ[TILE_URL_ENV] = tile_url
    uvicorn.run("testament.web.app:app_from_environment", factory=True, workers=workers, **served)
