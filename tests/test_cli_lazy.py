"""The lazily built CLI says and does what the commands would say and do if built at once.

`testament --help` lists the commands from the table in testament/cli/main.py; here that
listing is held to the help of the commands themselves, and the conversion of text and
path values without pydantic (testament/cli/plain_values.py) to Typer's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pytest
import typer
import typer.main
from typer import _click
from typer.testing import CliRunner

from testament import __version__
from testament.cli import main
from testament.cli.plain_values import without_pydantic


def _built_at_once() -> typer.Typer:
    """The same commands registered the usual way, each module imported now."""
    eager = typer.Typer(
        name="testament",
        help=main.app.info.help,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    eager.callback()(main.options)
    for entry in main.COMMANDS:
        target = entry.load()
        if isinstance(target, typer.Typer):
            eager.add_typer(target, name=entry.name)
        else:
            eager.command(entry.name)(target)
    return eager


def test_help_lists_every_command_with_its_own_help() -> None:
    runner = CliRunner()
    env = {"COLUMNS": "120"}
    lazy = runner.invoke(main.app, ["--help"], env=env)
    eager = runner.invoke(_built_at_once(), ["--help"], env=env)
    assert lazy.exit_code == eager.exit_code == 0
    assert lazy.output == eager.output
    for entry in main.COMMANDS:
        assert f" {entry.name} " in lazy.output


def test_every_command_is_built_under_its_name() -> None:
    group = typer.main.get_command(main.app)
    assert isinstance(group, main.Commands)
    context = _click.Context(group)
    for entry in main.COMMANDS:
        command = group.get_command(context, entry.name)
        assert command is not None and command.name == entry.name
        assert (command.help or "").startswith(entry.help)


@pytest.mark.parametrize(
    "arguments", [["match", "--help"], ["export", "--help"], ["export", "table", "--help"]]
)
def test_a_command_s_help_is_the_same_as_built_at_once(arguments: list[str]) -> None:
    runner = CliRunner()
    env = {"COLUMNS": "120"}
    lazy = runner.invoke(main.app, arguments, env=env)
    eager = runner.invoke(_built_at_once(), arguments, env=env)
    assert (lazy.exit_code, lazy.output) == (eager.exit_code, eager.output)


def test_a_mistyped_command_is_suggested_the_right_one() -> None:
    result = CliRunner().invoke(main.app, ["matc"])
    assert result.exit_code == 2
    assert "No such command 'matc'. Did you mean 'match'" in result.output


def test_version() -> None:
    result = CliRunner().invoke(main.app, ["--version"])
    assert (result.exit_code, result.output) == (0, f"testament {__version__}\n")


# A command with a parameter of each kind the conversion handles, or hands to Typer.
def _probe(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    resolved: Annotated[Path | None, typer.Option(resolve_path=True)] = None,
    folder: Annotated[Path | None, typer.Option(file_okay=False)] = None,
    text: Annotated[str, typer.Option()] = "default",
    count: Annotated[int, typer.Option(min=1)] = 1,
    words: Annotated[list[str] | None, typer.Option("--word")] = None,
) -> dict[str, Any]:
    return {
        "path": path,
        "resolved": resolved,
        "folder": folder,
        "text": text,
        "count": count,
        "words": words,
    }


def _outcome(command: _click.Command, arguments: list[str]) -> Any:
    try:
        return command.main(arguments, prog_name="probe", standalone_mode=False)
    except _click.exceptions.UsageError as exc:
        return ("error", exc.format_message())


def _commands() -> tuple[_click.Command, _click.Command]:
    def build() -> _click.Command:
        app = typer.Typer(add_completion=False)
        app.command()(_probe)
        return typer.main.get_command(app)

    return build(), without_pydantic(build())


@pytest.mark.parametrize(
    "arguments",
    [
        ["{file}"],
        ["{file}", "--resolved", "{folder}/../{name}", "--text", "é x", "--count", "3"],
        ["{file}", "--folder", "{folder}", "--word", "a", "--word", "b"],
        ["{missing}"],
        ["{folder}"],
        ["{file}", "--folder", "{file}"],
        ["{file}", "--count", "0"],
        ["{file}", "--count", "many"],
    ],
)
def test_values_are_converted_as_typer_converts_them(arguments: list[str], tmp_path: Path) -> None:
    file = tmp_path / "still.jpg"
    file.write_bytes(b"x")
    names = {"file": file, "folder": tmp_path, "name": file.name, "missing": tmp_path / "no"}
    arguments = [argument.format(**names) for argument in arguments]
    typer_own, here = _commands()
    assert _outcome(here, arguments) == _outcome(typer_own, arguments)
