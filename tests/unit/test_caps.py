"""Each daily cap declares what it counts (``commands.caps.Limits``), and every check names one."""

from __future__ import annotations

import ast
from dataclasses import fields
from pathlib import Path

from commands.caps import Limits, counted, counted_by_caps

COMMANDS = Path(__file__).resolve().parents[2] / "commands"


def _checked_caps() -> list[str]:
    """The cap named by each ``check_daily(ctx, "<cap>")`` call in ``commands/``."""
    names = []
    for path in COMMANDS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check_daily":
                argument = node.args[1]
                assert isinstance(argument, ast.Constant), f"{path}: a cap by its field's name"
                names.append(str(argument.value))
    return names


def test_every_daily_check_names_a_cap_that_declares_what_it_counts() -> None:
    checked = _checked_caps()
    assert len(checked) == len(set(checked)) == 10
    daily = {cap.name for cap in fields(Limits) if "counts" in cap.metadata}
    assert set(checked) == daily
    assert {(counted(cap).subject, counted(cap).action) for cap in daily} == counted_by_caps()
    assert ("group", "room_linked") in counted_by_caps()
    assert ("person", "erased") in counted_by_caps()
