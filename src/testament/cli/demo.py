"""`testament demo`: build a synthetic case and run the main job on it, end to end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from testament.cli import assets, footage, ingest, serve, store
from testament.cli.common import DatabaseOption, HomeOption, console, fail, opened

# Inputs made bad on purpose, to show how the ingest reports them; their exit status is no fault.
PLANNED_FAILURES = {"links.csv": "as planned: the spreadsheet has one bad row"}


def _step(title: str, action: Callable[[], None], planned: str | None = None) -> None:
    console.rule(f"[bold]$ {title}", align="left")
    try:
        action()
    except typer.Exit as exit_:
        if exit_.exit_code:
            said = planned or f"exit status {exit_.exit_code}"
            console.print(f"[dim]({said})[/]", highlight=False)


def _demo_users(home: Path | None, database_url: str | None) -> list[tuple[str, str, str]]:
    """An admin and a reviewer for the demo (a second person is needed to verify)."""
    from testament.accounts import users

    accounts = []
    with opened(home, database_url) as store, store.write() as session:
        for name, role in (("demo-admin", "admin"), ("demo-reviewer", "reviewer")):
            existing = users.find_user(session, name)
            if existing is None:
                _user, password = users.add_user(session, name, role)
            else:
                password = users.reset_password(session, existing)
            accounts.append((name, role, password))
    return accounts


def demo(
    folder: Annotated[
        Path, typer.Option("--dir", help="Where to write the synthetic case.")
    ] = Path("demo-case"),
    open_workbench: Annotated[
        bool, typer.Option("--serve", help="Then serve the workbench on the demo case.")
    ] = False,
    port: Annotated[int, typer.Option(help="Port for --serve.")] = 8000,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Build a synthetic demo case (no real or graphic footage) and ingest, list and verify it."""
    from testament.demo import DemoFolderError, build_case

    console.print(f"Writing the synthetic demo case to {folder}/ …", highlight=False)
    try:
        targets = build_case(folder)
    except DemoFolderError as exc:
        fail(str(exc))
    opts = {"home": home, "database_url": database_url}
    _step("testament init", lambda: store.init(**opts))
    for target in targets:
        _step(
            f"testament ingest {target}",
            lambda t=target: ingest.ingest([str(t)], **opts),
            PLANNED_FAILURES.get(target.name),
        )
    _step("testament assets", lambda: assets.assets(**opts))
    _step("testament verify", lambda: store.verify(**opts))
    _step("testament footage", lambda: footage.footage(**opts))
    if not open_workbench:
        return
    console.rule("[bold]$ testament serve", align="left")
    for name, role, password in _demo_users(home, database_url):
        console.print(
            f"log in as {name} ({role}) with one-time password {password}", highlight=False
        )
    serve.serve(port=port, **opts)
