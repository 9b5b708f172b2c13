"""The systemd unit in deploy/ is valid (``systemd-analyze verify``) and runs what exists."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "cct-bot.service"


def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        unavailable("systemd-analyze not installed (Debian package systemd)")
    assert analyze is not None
    # The unit as installed in /opt/cct-bot, pointed at this checkout (its .venv must exist).
    unit = tmp_path / "cct-bot.service"
    unit.write_text(UNIT.read_text(encoding="utf-8").replace("/opt/cct-bot", str(ROOT)),
                    encoding="utf-8")
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert "cct-bot.service" not in result.stderr, result.stderr


def test_the_unit_runs_the_documented_commands() -> None:
    text = UNIT.read_text(encoding="utf-8")
    assert "ExecStart=/opt/cct-bot/.venv/bin/cct-bot run --config /etc/cct-bot/config.toml" in text
    assert "KillSignal=SIGTERM" in text and "UMask=0077" in text
    docs = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert "deploy/cct-bot.service" in docs


@pytest.mark.parametrize("command", [["db", "backup", "--help"], ["run", "--help"]])
def test_documented_subcommands_exist(command: list[str]) -> None:
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "cct-bot"), *command],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
