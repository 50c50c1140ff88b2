"""`testament demo`: build a synthetic case and run the main job on it, end to end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from testament.cli import assets, ingest, store
from testament.cli.common import DatabaseOption, HomeOption, console
from testament.demo import build_case


def _step(title: str, action: Callable[[], None]) -> None:
    console.rule(f"[bold]$ {title}", align="left")
    try:
        action()
    except typer.Exit as exit_:
        if exit_.exit_code:
            console.print(f"[dim](exit status {exit_.exit_code})[/]")


def demo(
    folder: Annotated[
        Path, typer.Option("--dir", help="Where to write the synthetic case.")
    ] = Path("demo-case"),
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Build a synthetic demo case (no real or graphic footage) and ingest, list and verify it."""
    console.print(f"Writing the synthetic demo case to {folder}/ …", highlight=False)
    targets = build_case(folder)
    opts = {"home": home, "database_url": database_url}
    _step("testament init", lambda: store.init(**opts))
    for target in targets:
        _step(f"testament ingest {target}", lambda t=target: ingest.ingest([str(t)], **opts))
    _step("testament assets", lambda: assets.assets(**opts))
    _step("testament verify", lambda: store.verify(**opts))
