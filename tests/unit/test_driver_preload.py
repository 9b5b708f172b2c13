"""The database driver is imported before the bot's event loop runs (``storage.db.load_driver``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECK = """
import sys
from storage.db import load_driver
before = {name} in sys.modules
load_driver({url!r})
print(before, {name} in sys.modules)
"""


@pytest.mark.parametrize(("url", "driver"), [
    ("postgresql+asyncpg://cct@127.0.0.1/cct", "asyncpg"),
    ("sqlite+aiosqlite:///cct.db", "aiosqlite"),
])
def test_the_driver_of_the_url_is_imported(url: str, driver: str) -> None:
    code = CHECK.format(name=repr(driver), url=url)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=False)
    assert out.stdout.split() == ["False", "True"], out.stderr
