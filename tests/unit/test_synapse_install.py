"""Finding the throwaway Synapse's interpreter (``devtools.synapse_install``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from devtools.synapse_install import find_synapse_python


def test_a_relative_path_in_the_environment_is_made_absolute(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Synapse is launched from its own folder: ``.venv-synapse/bin/python``, as the docs write
    it, must still name the repository's interpreter."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CCT_SYNAPSE_PYTHON", ".venv-synapse/bin/python")
    assert find_synapse_python() == str(tmp_path / ".venv-synapse" / "bin" / "python")


def test_a_bare_name_is_looked_up_on_the_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCT_SYNAPSE_PYTHON", "python3")
    found = find_synapse_python()
    assert found == shutil.which("python3") and found is not None and os.path.isabs(found)
