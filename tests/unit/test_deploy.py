"""The systemd unit in deploy/ is valid (``systemd-analyze verify``), runs what docs/deploy.md
installs (user, paths, config, secrets) and is sandboxed as the docs promise, as systemd itself
judges it (``systemd-analyze security``)."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path, PurePosixPath

import pytest

from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "cct-bot.service"
DOCS = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
INSTALLED = "/opt/cct-bot"  # where docs/deploy.md clones the project


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def _in_checkout(tmp_path: Path) -> Path:
    """The unit as installed in /opt/cct-bot, pointed at this checkout (its .venv must exist)."""
    unit = tmp_path / "cct-bot.service"
    unit.write_text(UNIT.read_text(encoding="utf-8").replace(INSTALLED, str(ROOT)),
                    encoding="utf-8")
    return unit


def _analyze() -> str:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        unavailable("systemd-analyze not installed (Debian package systemd)")
    assert analyze is not None
    return analyze


def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    result = subprocess.run([_analyze(), "verify", str(_in_checkout(tmp_path))],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "cct-bot.service" not in result.stderr, result.stderr


# What docs/deploy.md promises of the sandbox, as systemd's own security report names it.
SANDBOX = ("User=/DynamicUser=", "NoNewPrivileges=", "PrivateTmp=", "ProtectSystem=",
           "ProtectHome=", "UMask=")


def test_systemd_judges_the_sandbox_as_documented(tmp_path: Path) -> None:
    result = subprocess.run([_analyze(), "security", "--offline=true", "--no-pager",
                             str(_in_checkout(tmp_path))],
                            capture_output=True, text=True, timeout=60, check=False)
    verdicts = {match["name"]: match["mark"] == "✓" for match in
                re.finditer(r"^(?P<mark>[✓✗]) (?P<name>\S+)", result.stdout, re.MULTILINE)}
    assert verdicts, result.stdout + result.stderr
    assert {name: verdicts.get(name) for name in SANDBOX} == dict.fromkeys(SANDBOX, True)
    assert "strict read-only access" in result.stdout  # ProtectSystem=strict, not full


def test_the_service_runs_as_the_account_the_docs_create() -> None:
    service = _unit()["Service"]
    created = re.search(r"useradd --system --home (\S+) .*? (\S+)\n", DOCS)
    assert created is not None
    home, account = created.groups()
    assert service["User"] == service["Group"] == account
    assert PurePosixPath(home) == PurePosixPath("/var/lib") / service["StateDirectory"]
    assert int(service["StateDirectoryMode"], 8) & 0o077 == 0


def test_the_service_checks_then_runs_the_documented_config() -> None:
    service = _unit()["Service"]
    assert f"sudo git clone <dépôt> {INSTALLED}" in DOCS and service["WorkingDirectory"] == INSTALLED
    config = re.search(r"sudo cp config\.example\.toml (\S+)", DOCS)
    assert config is not None
    executable = f"{INSTALLED}/.venv/bin/cct-bot"
    assert shlex.split(service["ExecStartPre"]) == [executable, "check-config", config[1]]
    assert shlex.split(service["ExecStart"]) == [executable, "run", "--config", config[1]]
    secrets = re.search(r"sudo tee (\S+/secrets\.env)", DOCS)
    assert secrets is not None
    assert service["EnvironmentFile"] == f"-{secrets[1]}"  # optional: a token may be in config


def test_the_service_writes_only_where_the_docs_put_the_data() -> None:
    service = _unit()["Service"]
    assert service["ProtectSystem"] == "strict"  # the whole system read-only…
    writable = [PurePosixPath(path) for path in service["ReadWritePaths"].split()]
    writable.append(PurePosixPath("/var/lib") / service["StateDirectory"])
    store = re.search(r'store_path = "(/[^"]+)"', DOCS)
    database = re.search(r'url = "sqlite\+aiosqlite:///(/[^"]+)"', DOCS)
    assert store is not None and database is not None
    for path in (PurePosixPath(store[1]), PurePosixPath(database[1])):  # …but the data
        assert any(path.is_relative_to(folder) for folder in writable), path
    assert int(service["UMask"], 8) == 0o077  # files 0600, folders 0700


def test_the_service_restarts_on_failure_and_stops_cleanly() -> None:
    unit = _unit()
    service = unit["Service"]
    assert service["Restart"] == "on-failure" and int(service["RestartSec"]) > 0
    assert service["KillSignal"] == "SIGTERM" and int(service["TimeoutStopSec"]) >= 20
    assert "network-online.target" in unit["Unit"]["After"].split()
    assert "network-online.target" in unit["Unit"]["Wants"].split()
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    documentation = unit["Unit"]["Documentation"].removeprefix(f"file://{INSTALLED}/")
    assert (ROOT / documentation).is_file()


@pytest.mark.parametrize("command", [["db", "backup", "--help"], ["run", "--help"],
                                     ["check-config", "--help"]])
def test_documented_subcommands_exist(command: list[str]) -> None:
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "cct-bot"), *command],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    if command[0] == "run":
        assert "--config" in result.stdout
