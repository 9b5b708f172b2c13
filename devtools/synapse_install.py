"""The throwaway Synapse's own virtualenv: found (``$CCT_SYNAPSE_PYTHON`` or
``<repo>/.venv-synapse``) or installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

SYNAPSE_REQUIREMENT = "matrix-synapse==1.163.2"
"""The pip requirement :func:`install_synapse` installs."""

_REPO_ROOT = Path(__file__).resolve().parent.parent


def find_synapse_python() -> str | None:
    """Return the python interpreter of a Synapse installation, if there is one.

    ``$CCT_SYNAPSE_PYTHON`` wins when set (a path made absolute: Synapse runs in a folder of
    its own; a bare name is looked up on ``PATH``); otherwise ``<repo>/.venv-synapse/bin/python``
    is used when it exists.  Returns ``None`` when neither is available.
    """
    env = os.environ.get("CCT_SYNAPSE_PYTHON")
    if env:
        return os.path.abspath(env) if os.sep in env else shutil.which(env) or env
    candidate = _REPO_ROOT / ".venv-synapse" / "bin" / "python"
    if candidate.exists() and _can_import_synapse(str(candidate)):
        return str(candidate)
    return None


def _can_import_synapse(python: str) -> bool:
    """Whether ``python`` has Synapse installed (a half-made venv does not)."""
    check = "import importlib.util, sys; sys.exit(importlib.util.find_spec('synapse') is None)"
    return subprocess.run([python, "-c", check], check=False).returncode == 0


def install_synapse(venv_dir: Path) -> str:
    """Create ``venv_dir`` and pip-install :data:`SYNAPSE_REQUIREMENT` into it.

    Returns the path of the new virtualenv's python interpreter.  Takes about
    half a minute (prebuilt wheels only).
    """
    venv_dir = Path(venv_dir)
    print(
        f"devserver: installing {SYNAPSE_REQUIREMENT} into {venv_dir} ...",
        file=sys.stderr,
        flush=True,
    )
    python = venv_dir / "bin" / "python"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv_dir)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             SYNAPSE_REQUIREMENT],
            check=True,
        )
    except BaseException:
        shutil.rmtree(venv_dir, ignore_errors=True)  # never leave a half-made venv behind
        raise
    return str(python)
