"""Tests that need a system tool or service fail under CI and skip, with a hint, elsewhere."""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(condition: bool, message: str) -> None:
    """Fail under CI, skip locally, when a system tool or service is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def need_tool(name: str, install_hint: str) -> str:
    """The tool's path, or a failure (CI) or skip (locally) saying how to install it."""
    path = shutil.which(name)
    need(path is not None, f"{name} not found; install it with: {install_hint}")
    assert path is not None
    return path
