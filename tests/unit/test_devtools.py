"""Development tooling (the throwaway Synapse, the demo) stays out of the runtime: only
``cct-bot demo`` loads it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports_devtools(nodes: list[ast.stmt]) -> bool:
    for node in nodes:
        for child in ast.walk(node):
            if isinstance(child, ast.ImportFrom) and (child.module or "").startswith("devtools"):
                return True
            if isinstance(child, ast.Import) and any(
                    alias.name.startswith("devtools") for alias in child.names):
                return True
    return False


def test_the_runtime_imports_devtools_only_in_the_demo_command() -> None:
    importers = [path.name for path in sorted((ROOT / "bot").rglob("*.py"))
                 if _imports_devtools(ast.parse(path.read_text(encoding="utf-8")).body)]
    assert importers == ["cli.py"]
    cli = ast.parse((ROOT / "bot" / "cli.py").read_text(encoding="utf-8"))
    at_import = [node for node in cli.body if not isinstance(node, ast.FunctionDef)]
    assert not _imports_devtools(at_import)
    demo = next(node for node in cli.body
                if isinstance(node, ast.FunctionDef) and node.name == "cmd_demo")
    assert _imports_devtools([demo])


def test_loading_the_cli_and_the_bot_leaves_devtools_unloaded() -> None:
    code = ("import sys, bot.cli, bot.app; "
            "sys.exit(sorted(m for m in sys.modules if m.split('.')[0] == 'devtools') != [])")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False).returncode == 0
