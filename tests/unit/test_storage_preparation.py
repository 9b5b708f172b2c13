"""What the first transaction would do in the bot's event loop is done before it runs
(``storage.db.prepare_storage``): the database's driver imported, the ORM's mappers configured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECK = """
import sys
from storage.db import prepare_storage
from storage.models import Base
mappers = list(Base.registry.mappers)
before = {name} in sys.modules, any(mapper.configured for mapper in mappers)
prepare_storage({url!r})
print(*before, {name} in sys.modules, all(mapper.configured for mapper in mappers))
"""


@pytest.mark.parametrize(("url", "driver"), [
    ("postgresql+asyncpg://cct@127.0.0.1/cct", "asyncpg"),
    ("sqlite+aiosqlite:///cct.db", "aiosqlite"),
])
def test_the_driver_is_imported_and_the_mappers_configured(url: str, driver: str) -> None:
    code = CHECK.format(name=repr(driver), url=url)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=False)
    assert out.stdout.split() == ["False", "False", "True", "True"], out.stderr
