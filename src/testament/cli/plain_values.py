"""Text and path parameters converted as Typer converts them, without loading pydantic.

Typer 0.29 turns every parameter value into its annotated type through a pydantic
`TypeAdapter`; importing pydantic and building the adapters costs a command some 0.07 s
of CPU before it does anything, a tenth of a still query. Most parameters of this CLI
are text or paths given as text: for those the conversion is Typer's own (a string is
kept as it is; a path goes through Typer's checks of existence, kind and access), a
missing value needs no conversion, and any other value is left to Typer's adapter. This
leans on Typer's internals, which is why Typer's version is pinned exactly;
tests/test_cli_lazy.py compares the outcome with Typer's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer import _click
from typer._coercion import RuntimeParam, build_runtime_param
from typer._param_types import coerce_cli_path, lenient_issubclass, routes_to_path
from typer.core import TyperGroup, _TyperParameter


@dataclass(frozen=True)
class _Plain(RuntimeParam):
    """Converts text for a `str` or `Path` parameter (`text`); hands any other value to
    Typer's own conversion, built only then. A missing value never needs one."""

    text: bool
    path_type: type[Path] | None

    def _coerce_value(self, value: Any, param: _TyperParameter, ctx: _click.Context) -> Any:
        if not (self.text and isinstance(value, str)):
            typer_own = build_runtime_param(param.type_descriptor)
            return typer_own._coerce_value(value, param=param, ctx=ctx)
        if self.path_type is None:
            return value
        return coerce_cli_path(
            self.path_type(value),
            self.parameter_info,
            path_type=self.path_type,
            param=param,
            ctx=ctx,
        )


def _plain(param: _TyperParameter) -> _Plain:
    descriptor = param.type_descriptor
    annotation, info = descriptor.annotation, descriptor.parameter_info
    single = param.nargs == 1 and not param.multiple
    if single and descriptor.file_annotation is None and info.parser is None:
        if annotation is str:
            return _Plain(info, annotation, text=True, path_type=None)
        path_type = info.path_type or annotation
        if routes_to_path(annotation, info) and lenient_issubclass(path_type, Path):
            return _Plain(info, annotation, text=True, path_type=path_type)
    return _Plain(info, annotation, text=False, path_type=None)


def convert_params(command: _click.Command) -> None:
    """Let `command`'s own parameters convert their values here (see the module's help),
    `--help` too: Click makes that option on first use, and keeps it."""
    help_option = command.get_help_option(_click.Context(command))
    for param in [*command.params, help_option]:
        if isinstance(param, _TyperParameter):
            param._runtime_param = _plain(param)


def without_pydantic(command: _click.Command) -> _click.Command:
    """`command`, and each command of a group, converting values here."""
    convert_params(command)
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            without_pydantic(sub)
    return command
