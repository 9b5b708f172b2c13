"""Modules over 400 lines and functions over 40 lines in the project's packages (migrations
excepted), measured with ``ast``: the sizes docs/architecture.md asks code to stay under.

    .venv/bin/python scripts/code_size.py [--modules 400] [--functions 40] [paths…]

Prints one line per module or function over its limit, longest first, and exits 1 if there is
any (0 otherwise). A function's length runs from its ``def`` (decorators excluded) to its last
line; a nested function counts inside its parent too.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "commands", "storage", "matrix_ids", "devtools", "bench")
EXCLUDED = ("migrations",)


def python_files(paths: list[Path]) -> Iterator[Path]:
    """The ``.py`` files under ``paths``, migrations excluded."""
    for path in paths:
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        for file in files:
            if not any(part in EXCLUDED for part in file.parts):
                yield file


def long_functions(tree: ast.AST, limit: int) -> Iterator[tuple[str, int, int]]:
    """``(qualified name, first line, length)`` of each function longer than ``limit``."""

    def visit(node: ast.AST, prefix: str) -> Iterator[tuple[str, int, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    length = (child.end_lineno or child.lineno) - child.lineno + 1
                    if length > limit:
                        yield name, child.lineno, length
                yield from visit(child, f"{name}.")
            else:
                yield from visit(child, prefix)

    yield from visit(tree, "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=400, help="longest module, in lines")
    parser.add_argument("--functions", type=int, default=40, help="longest function, in lines")
    parser.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.paths or [ROOT / package for package in PACKAGES if (ROOT / package).exists()]
    modules: list[tuple[int, str]] = []
    functions: list[tuple[int, str]] = []
    for file in python_files(paths):
        source = file.read_text(encoding="utf-8")
        shown = file.relative_to(ROOT) if file.is_relative_to(ROOT) else file
        lines = len(source.splitlines())
        if lines > args.modules:
            modules.append((lines, f"{shown}: {lines} lines"))
        for name, line, length in long_functions(ast.parse(source), args.functions):
            functions.append((length, f"{shown}:{line} {name}: {length} lines"))
    for title, found in (("modules", modules), ("functions", functions)):
        print(f"{len(found)} {title} over the limit")
        for _, text in sorted(found, reverse=True):
            print(f"  {text}")
    return 1 if modules or functions else 0


if __name__ == "__main__":
    sys.exit(main())
