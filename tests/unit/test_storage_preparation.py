"""What the first transaction would do in the bot's event loop is done before it runs
(``storage.db.prepare_storage``): the database's driver imported, the ORM's mappers configured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECK = """
import importlib, pkgutil, sys
from storage.db import prepare_storage
from storage.models import Base
import storage.models
before = {name} in sys.modules, any(mapper.configured for mapper in Base.registry.mappers)
prepare_storage({url!r})
for module in pkgutil.iter_modules(storage.models.__path__, "storage.models."):
    importlib.import_module(module.name)  # a model the bot would import later is one more
print(*before, {name} in sys.modules, all(m.configured for m in Base.registry.mappers))
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
