"""The layers and import boundaries (docs/architecture.md), as import-linter contracts
(pyproject.toml, importlinter-runtime.toml): they hold, and each of them catches what it
forbids."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONFIGS = ("pyproject.toml", "importlinter-runtime.toml")
PACKAGES = ("bot", "web", "commands", "storage", "matrix_ids")


def lint_imports(root: Path, config: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo", config], cwd=root,
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "COLUMNS": "500"})  # a contract's name on one line


@pytest.mark.parametrize("config", CONFIGS)
def test_the_contracts_hold(config: str) -> None:
    result = lint_imports(ROOT, config)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# What each contract forbids, written into a copy of the tree: (file, line added, the contract
# it breaks, what the report names).
VIOLATIONS = (
    ("storage/report_statements.py", "from commands.errors import UserError",
     "bot above web above commands above storage",
     "storage.report_statements -> commands.errors"),
    ("matrix_ids/__init__.py", "import storage", "bot above web above commands above storage",
     "matrix_ids -> storage"),
    ("commands/text.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
     "    from commands.paging import Section", "no import cycle between", ".text -> .paging"),
    ("commands/csvfiles.py", "import nio", "only bot/ talks to the homeserver",
     "commands.csvfiles -> nio"),
    ("storage/report_statements.py", "import apscheduler", "only bot/ talks to the homeserver",
     "storage.report_statements -> apscheduler"),
    ("bot/clock.py", "import sqlalchemy", "only storage/ talks to the database",
     "bot.clock -> sqlalchemy"),
    ("storage/statements.py", "import nh3", "storage/ renders nothing",
     "storage.statements -> nh3"),
    ("storage/faults.py", "import devtools.demo", "the development tooling (devtools)",
     "storage.faults -> devtools"),
    ("bot/scheduled.py", "from commands.reminders.jobs import REMINDERS",
     "bot/ wires the registry, never a capability by name",
     "bot.scheduled -> commands.reminders.jobs"),
    ("commands/text.py", "from web import server", "bot above web above commands",
     "commands.text -> web.server"),
    ("web/feeds.py", "import nio", "web/ serves HTTP only", "web.feeds -> nio"),
    ("web/api.py", "import sqlalchemy", "only storage/ talks to the database",
     "web.api -> sqlalchemy"),
    ("web/public.py", "from storage.models import Meeting as M",
     "web/ reads through storage/'s repositories, named in types only",
     "web.public -> storage.models"),
    ("commands/ports.py", "from storage.models import Person",
     "commands/ names storage/'s rows and repositories in types only",
     "commands.ports -> storage.models"),
)


def _copy_tree(target: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, target / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.toml", "*.ini"))
    for config in CONFIGS:
        shutil.copy(ROOT / config, target / config)


def test_each_contract_catches_what_it_forbids(tmp_path: Path) -> None:
    _copy_tree(tmp_path)
    for path, line, _, _ in VIOLATIONS:
        with (tmp_path / path).open("a", encoding="utf-8") as file:
            file.write(f"\n{line}\n")
    output = "".join(lint_imports(tmp_path, config).stdout for config in CONFIGS)
    broken = {line.split(" BROKEN")[0] for line in output.splitlines() if " BROKEN" in line}
    for path, _, contract, evidence in VIOLATIONS:
        assert any(name.startswith(contract) for name in broken), (path, contract, output)
        assert evidence in output, (path, evidence, output)


def test_cli_may_import_devtools(tmp_path: Path) -> None:
    _copy_tree(tmp_path)
    with (tmp_path / "bot/cli.py").open("a", encoding="utf-8") as file:
        file.write("\nimport devtools.demo\n")
    result = lint_imports(tmp_path, "pyproject.toml")
    assert result.returncode == 0, result.stdout
