"""Import boundaries (design.md): who may import nio, apscheduler, SQLAlchemy, alembic, bot."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "commands", "storage")


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(path: Path) -> list[tuple[str, bool]]:
    """(top-level module, only under ``if TYPE_CHECKING:``) for every import of a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, typing_only: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for stmt in node.body:
                visit(stmt, True)
            for stmt in node.orelse:
                visit(stmt, typing_only)
            return
        if isinstance(node, ast.Import):
            found.extend((alias.name.split(".")[0], typing_only) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module.split(".")[0], typing_only))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "__import__" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append((node.args[0].value.split(".")[0], typing_only))
        for child in ast.iter_child_nodes(node):
            visit(child, typing_only)

    visit(tree, False)
    return found


def _violations(package: str, forbidden: set[str], *,
                typing_ok: frozenset[str] = frozenset()) -> list[str]:
    bad = []
    for path in _files(package):
        for module, typing_only in imports(path):
            if module in forbidden and not (typing_only and module in typing_ok):
                bad.append(f"{path.relative_to(ROOT)} imports {module}")
    return bad


def test_every_package_has_files() -> None:
    for package in PACKAGES:
        assert len(_files(package)) >= 3, package


def test_scanner_sees_imports_and_type_checking(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import nio.events\nfrom sqlalchemy import select\nimport typing\n"
        "if typing.TYPE_CHECKING:\n    from storage.repositories import Repositories\n"
        "def f():\n    import apscheduler\n    __import__('alembic')\n"
        "from . import sibling\n",
        encoding="utf-8",
    )
    assert imports(sample) == [("nio", False), ("sqlalchemy", False), ("typing", False),
                               ("storage", True), ("apscheduler", False), ("alembic", False)]


@pytest.mark.parametrize("module", ["nio", "apscheduler"])
def test_only_bot_imports_nio_and_apscheduler(module: str) -> None:
    for package in ("commands", "storage"):
        assert _violations(package, {module}) == []
    users = {p.name for p in _files("bot") if any(m == module for m, _ in imports(p))}
    assert users, f"bot/ no longer imports {module}: is the scan broken?"


@pytest.mark.parametrize("module", ["sqlalchemy", "alembic"])
def test_only_storage_imports_sqlalchemy_and_alembic(module: str) -> None:
    for package in ("bot", "commands"):
        assert _violations(package, {module}) == []
    users = {p.name for p in _files("storage") if any(m == module for m, _ in imports(p))}
    assert users


def test_commands_imports_no_runtime_and_storage_only_for_typing() -> None:
    assert _violations("commands", {"nio", "apscheduler", "sqlalchemy", "alembic", "bot",
                                    "aiosqlite", "asyncpg"}) == []
    assert _violations("commands", {"storage"}, typing_ok=frozenset({"storage"})) == []


def test_storage_imports_no_runtime() -> None:
    assert _violations("storage", {"nio", "apscheduler", "bot", "cmarkgfm", "nh3"}) == []


def test_whole_tree_parses() -> None:
    for package in PACKAGES:
        for path in _files(package):
            imports(path)
