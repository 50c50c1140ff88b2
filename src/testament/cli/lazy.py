"""Commands registered by name and loaded when one runs, so that the CLI answers at once.

Building every command for `testament --help` imported each command module and laid out
every parameter of some sixty commands. Here the top-level group knows each command by
its name, where it lives and the first paragraph of its help: `--help` lists them from
that, and a command's module is imported, and its Click command built, only when it is
named on the command line. tests/test_cli_lazy.py holds the listing to the help the
commands themselves give.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any, ClassVar

import typer
import typer.main
from typer import _click
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandInfo, TyperInfo

from testament.cli.plain_values import convert_params, without_pydantic

# Typer's default; it only shapes tracebacks, which the CLI does not print (see main.py).
PRETTY_EXCEPTIONS_SHORT = True


@dataclass(frozen=True)
class Entry:
    """One top-level command: a function or a Typer group, found by `module:attribute`."""

    name: str
    target: str
    help: str  # the first paragraph of the command's own help, as `--help` lists it

    def load(self) -> Any:
        module, attribute = self.target.split(":")
        return getattr(import_module(module), attribute)


class _Built(Mapping[str, _click.Command]):
    """The group's commands by name, each built the first time it is looked up."""

    def __init__(self, group: LazyGroup) -> None:
        self._group = group
        self._entries = {entry.name: entry for entry in group.entries}
        self._built: dict[str, _click.Command] = {}

    def __getitem__(self, name: str) -> _click.Command:
        if name not in self._built:
            self._built[name] = self._group.build(self._entries[name])
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


class LazyGroup(TyperGroup):
    """A Typer group whose commands are the subclass's `entries`, built on first use."""

    entries: ClassVar[tuple[Entry, ...]] = ()

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.commands = _Built(self)  # type: ignore[assignment]
        self._listing = False
        convert_params(self)

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        """The command; while help is being written, only what the listing shows of it."""
        if self._listing:
            entry = next((e for e in self.entries if e.name == cmd_name), None)
            return None if entry is None else TyperCommand(name=entry.name, help=entry.help)
        return self.commands.get(cmd_name)

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def build(self, entry: Entry) -> _click.Command:
        """The Click command of `entry`, as Typer builds it when the command is registered."""
        target = entry.load()
        if isinstance(target, typer.Typer):
            command: _click.Command = typer.main.get_group_from_info(
                TyperInfo(target, name=entry.name),
                pretty_exceptions_short=PRETTY_EXCEPTIONS_SHORT,
                rich_markup_mode=self.rich_markup_mode,
                suggest_commands=self.suggest_commands,
            )
        else:
            command = typer.main.get_command_from_info(
                CommandInfo(name=entry.name, callback=target),
                pretty_exceptions_short=PRETTY_EXCEPTIONS_SHORT,
                rich_markup_mode=self.rich_markup_mode,
            )
        return without_pydantic(command)
