"""The files in deploy/ and docs/deploy.md agree with the code they configure.

Each systemd unit passes `systemd-analyze verify`; the Compose file passes
`docker-compose config`; both are also read here: every command line they run is parsed
by testament's own CLI (so an option that was renamed fails here, not on a server),
every TESTAMENT_* setting they set is one the code reads, and what one service names
(a volume, a host and port, a queue) is there.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from typer.core import TyperGroup
from typer.main import get_command

from testament.cli.main import app
from testament.jobs.registry import QUEUES
from testament.web.settings import DEFAULT_MAX_UPLOAD_BYTES
from tests.system import need_tool

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
GUIDE = ROOT / "docs" / "deploy.md"
INSTALLED = "/opt/testament/bin/testament"
SETTING = re.compile(r"\bTESTAMENT_[A-Z0-9_]*[A-Z0-9]\b")
UNITS = sorted(DEPLOY.glob("*.service")) + sorted(DEPLOY.glob("*.timer"))
TESTAMENT_SERVICES = ("init", "web", "worker", "watch")
SHELL_OPERATORS = {"|", "||", "&&", ";", ">", ">>", "2>&1"}
COMPOSE_SECRETS = {
    "POSTGRES_PASSWORD": "a",
    "S3_ACCESS_KEY": "b",
    "S3_SECRET_KEY": "c",
    "TESTAMENT_KEY_PASSPHRASE": "d",
}


def code_settings() -> set[str]:
    """Every TESTAMENT_* name that the code spells out as a string."""
    names: set[str] = set()
    for path in (ROOT / "src" / "testament").rglob("*.py"):
        names |= set(re.findall(r"[\"'](TESTAMENT_[A-Z0-9_]+)[\"']", path.read_text()))
    return names


def parse_command_line(args: list[str]) -> tuple[str, dict[str, Any]]:
    """The command and its parameters as testament's CLI reads `args`; nothing is run."""
    command: Any = get_command(app)
    name, context = "testament", None
    while True:
        context = command.make_context(name, list(args), parent=context)
        if not isinstance(command, TyperGroup):
            return command.name, context.params
        rest = [*context._protected_args, *context.args]
        name, command, args = command.resolve_command(context, rest)


def read_unit(path: Path) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    unit.read_string(path.read_text())
    return unit


def unit_command(unit: configparser.ConfigParser, instance: str = "ingest") -> list[str]:
    words = shlex.split(unit["Service"]["ExecStart"].replace("%i", instance))
    assert words[0] == INSTALLED, words[0]
    return words[1:]


def compose() -> dict[str, Any]:
    """compose.yaml as Compose reads it with COMPOSE_SECRETS in .env: ${X:?...}, ${X:-default}."""

    def value(found: re.Match[str]) -> str:
        name, kind, default = found[1], found[2], found[3]
        return COMPOSE_SECRETS.get(name, default if kind == "-" else "")

    text = (DEPLOY / "compose.yaml").read_text()
    return yaml.safe_load(re.sub(r"\$\{([A-Z0-9_]+):([?-])([^}]*)\}", value, text))


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    """Verified with the venv's testament standing in for the installed one."""
    analyze = need_tool("systemd-analyze", "apt-get install systemd")
    here = str(Path(sys.executable).parent / "testament")
    names = []
    for path in UNITS:
        (tmp_path / path.name).write_text(path.read_text().replace(INSTALLED, here))
        names.append(f"./{path.name.replace('@.', '@ingest.')}")
    done = subprocess.run(
        [analyze, "verify", "--man=no", *names],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "SYSTEMD_LOG_COLOR": "0"},
    )
    # Unknown keys and bad values are only warnings to systemd: any message is a failure.
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


@pytest.mark.parametrize("path", UNITS, ids=lambda path: path.name)
def test_each_unit_has_what_it_needs(path: Path) -> None:
    unit = read_unit(path)
    assert unit["Unit"]["Description"]
    if path.suffix == ".timer":
        assert unit["Timer"]["OnCalendar"] and unit["Install"]["WantedBy"] == "timers.target"
        assert (DEPLOY / path.with_suffix(".service").name).exists()
        return
    service = unit["Service"]
    assert service["User"] == "testament" and service["Group"] == "testament"
    assert service["EnvironmentFile"] == "/etc/testament/testament.env"
    assert service["StateDirectory"].split()[0] == "testament"  # /var/lib/testament
    assert service["ProtectSystem"] == "strict" and service["NoNewPrivileges"] == "yes"
    parse_command_line(unit_command(unit))
    if service.get("Type") != "oneshot":
        assert service["Restart"] == "on-failure"
        assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_the_web_unit_serves_many_processes_behind_the_proxy() -> None:
    command, params = parse_command_line(unit_command(read_unit(DEPLOY / "testament-web.service")))
    assert command == "serve" and params["workers"] > 1 and params["secure_cookies"]
    assert params["host"] == "127.0.0.1"  # only the reverse proxy reaches it
    proxy = (DEPLOY / "nginx-testament.conf").read_text()
    assert re.search(rf"server 127\.0\.0\.1:{params['port']};", proxy)
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in proxy
    size = re.search(r"client_max_body_size (\d+)g;", proxy)
    assert size and int(size[1]) << 30 >= DEFAULT_MAX_UPLOAD_BYTES


def test_worker_instances_are_the_queues() -> None:
    unit = read_unit(DEPLOY / "testament-worker@.service")
    for queue in QUEUES:
        command, params = parse_command_line(unit_command(unit, queue))
        assert command == "worker"
        assert queue in str(params["queues"])
    header = (DEPLOY / "testament-worker@.service").read_text().split("[Unit]")[0]
    assert all(f"testament-worker@{queue}" in header for queue in QUEUES)


def test_compose_passes_docker_compose_config() -> None:
    tool = need_tool("docker-compose", "apt-get install --no-install-recommends docker-compose")
    done = subprocess.run(
        [tool, "-f", str(DEPLOY / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        env={**os.environ, **COMPOSE_SECRETS},
    )
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_compose_refuses_to_start_without_its_secrets() -> None:
    tool = need_tool("docker-compose", "apt-get install --no-install-recommends docker-compose")
    env = {k: v for k, v in os.environ.items() if k not in COMPOSE_SECRETS}
    done = subprocess.run(
        [tool, "-f", str(DEPLOY / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        env={**env, **COMPOSE_SECRETS, "POSTGRES_PASSWORD": ""},
    )
    assert done.returncode != 0 and "set POSTGRES_PASSWORD in .env" in done.stderr


def test_compose_names_only_what_exists() -> None:
    spec = compose()
    services = spec["services"]
    assert {"postgres", "seaweedfs", "redis", "rabbitmq", *TESTAMENT_SERVICES} <= set(services)
    declared = set(spec["volumes"])
    used = set()
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            if not source.startswith((".", "/")):
                used.add(source)
        for needed in service.get("depends_on", {}):
            assert needed in services, f"{name} depends on {needed}, which is not a service"
    assert used == declared, f"declared but unused or used but undeclared: {used ^ declared}"
    known = code_settings()
    for name, service in services.items():
        for variable in service.get("environment", {}):
            if variable.startswith("TESTAMENT_"):
                assert variable in known, f"{name} sets {variable}, which the code never reads"


def test_compose_services_reach_each_other() -> None:
    services = compose()["services"]
    environment = services["web"]["environment"]
    database = urlparse(environment["TESTAMENT_DATABASE_URL"])
    assert database.scheme == "postgresql" and database.hostname == "postgres"
    assert database.path.lstrip("/") == services["postgres"]["environment"]["POSTGRES_DB"]
    assert database.username == services["postgres"]["environment"]["POSTGRES_USER"]
    s3 = urlparse(environment["TESTAMENT_S3_ENDPOINT"])
    assert s3.hostname == "seaweedfs" and f"-s3.port={s3.port}" in services["seaweedfs"]["command"]
    queue = urlparse(environment["TESTAMENT_QUEUE_URL"])
    assert (queue.scheme, queue.hostname, queue.port) == ("redis", "redis", 6379)
    # The object store's one identity is the one testament signs its requests with.
    store_keys = services["seaweedfs"]["environment"]
    assert store_keys["AWS_ACCESS_KEY_ID"] == environment["AWS_ACCESS_KEY_ID"]
    assert store_keys["AWS_SECRET_ACCESS_KEY"] == environment["AWS_SECRET_ACCESS_KEY"]
    for name in TESTAMENT_SERVICES:
        service = services[name]
        parse_command_line([str(word) for word in service["command"]])
        assert "testament-home:/var/lib/testament" in service["volumes"]
        assert service["environment"]["TESTAMENT_HOME"] == "/var/lib/testament"
    for name in ("web", "worker", "watch"):
        needed = services[name]["depends_on"]["init"]
        assert needed == {"condition": "service_completed_successfully"}
    secrets = set(re.findall(r"^([A-Z0-9_]+)=", (DEPLOY / "compose.env.example").read_text(), re.M))
    asked = set(re.findall(r"\$\{([A-Z0-9_]+):\?", (DEPLOY / "compose.yaml").read_text()))
    assert asked <= secrets, f"compose.yaml asks for {asked - secrets}, not in the example .env"


def test_the_environment_file_sets_only_real_settings() -> None:
    known = code_settings()
    text = (DEPLOY / "testament.env").read_text()
    for variable in re.findall(r"^(TESTAMENT_[A-Z0-9_]+)=", text, re.M):
        assert variable in known, f"testament.env sets {variable}, which the code never reads"


def test_the_guide_names_every_setting_and_its_commands_parse() -> None:
    guide = GUIDE.read_text()
    missing = sorted(code_settings() - set(SETTING.findall(guide)))
    assert not missing, f"docs/deploy.md does not describe {', '.join(missing)}"
    unknown = sorted(set(SETTING.findall(guide)) - code_settings())
    assert not unknown, f"docs/deploy.md describes {', '.join(unknown)}, which the code never reads"
    for kind, block in re.findall(r"```(sh|console)\n(.*?)```", guide, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if kind == "console" and not line.startswith("$ "):
                continue  # output, not a command
            words = shlex.split(line.removeprefix("$ "), comments=True)
            if not words or words[0] != "testament":
                continue
            end = next((i for i, w in enumerate(words) if w in SHELL_OPERATORS), len(words))
            try:
                parse_command_line(words[1:end])
            except Exception as exc:
                raise AssertionError(f"docs/deploy.md: {line.strip()!r}: {exc}") from exc
    for path in [*UNITS, DEPLOY / "compose.yaml", DEPLOY / "nginx-testament.conf"]:
        assert f"deploy/{path.name}" in guide, f"docs/deploy.md does not mention {path.name}"
