"""`testament analyse` and `testament search`: what the footage shows and says."""

from __future__ import annotations

from typing import Annotated

import typer

from testament.cli.common import (
    DatabaseOption,
    HomeOption,
    JsonOption,
    asset_or_fail,
    console,
    counted,
    err_console,
    escape,
    fail,
    opened,
    print_json,
)


def analyse(
    sha256_prefixes: Annotated[
        list[str] | None,
        typer.Argument(
            help="Assets by sha256 or a prefix of it; none: every asset.", show_default=False
        ),
    ] = None,
    only: Annotated[
        str | None,
        typer.Option(
            "--only", help="Comma-separated analysers: ocr, language, audio, faces, speech."
        ),
    ] = None,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
    json_output: JsonOption = False,
) -> None:
    """Read on-screen text and languages of assets; each result is a signed record."""
    from sqlalchemy import select

    from testament.catalog.models import Asset
    from testament.enrich.run import Runner, analysers

    try:
        chosen = analysers(
            None if only is None else [n.strip() for n in only.split(",") if n.strip()]
        )
    except ValueError as exc:
        fail(str(exc))
    with opened(home, database_url) as store:
        with store.read() as session:
            if sha256_prefixes:
                assets = [asset_or_fail(session, prefix) for prefix in sha256_prefixes]
            else:
                assets = list(session.execute(select(Asset).order_by(Asset.id)).scalars())
        runner = Runner(store, chosen)
        for why in runner.unavailable.values():
            err_console.print(f"[yellow]skipped[/] {escape(why)}", highlight=False)
        outcomes = []
        for asset in assets:
            for outcome in runner.run(asset):
                outcomes.append(outcome)
                if not json_output:
                    colour = {"ok": "green", "failed": "red"}.get(outcome.status, "dim")
                    console.print(
                        f"{outcome.sha256[:12]} {outcome.analyser}: [{colour}]{outcome.status}[/] "
                        f"{escape(outcome.message)}",
                        highlight=False,
                    )
    if json_output:
        print_json([vars(outcome) for outcome in outcomes])
        return
    failed = sum(o.status == "failed" for o in outcomes)
    console.print(
        f"{counted(len(assets), 'asset')} analysed, {counted(failed, 'failure')} recorded",
        highlight=False,
    )


def search(
    words: Annotated[
        str, typer.Argument(help="Words to find in on-screen text, transcripts and post texts.")
    ],
    home: HomeOption = None,
    database_url: DatabaseOption = None,
    json_output: JsonOption = False,
) -> None:
    """Find assets whose on-screen text, transcript or post text holds these words."""
    from testament.enrich.search import search_analyses

    with opened(home, database_url) as store, store.read() as session:
        hits = search_analyses(session, words)
    if json_output:
        print_json(hits)
        return
    for hit in hits:
        where = (
            f"post text of capture {hit['capture_id']}"
            if hit["source"] == "post"
            else hit["source"]
        )
        language = f" [{hit['language']}]" if hit["language"] else ""
        console.print(
            f"{hit['sha256'][:12]} {where}{language}: …{hit['snippet']}…",
            highlight=False,
            markup=False,
        )
    console.print(counted(len(hits), "match", "matches"), highlight=False)
