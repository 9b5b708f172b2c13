"""The peer bots ``bench.latency`` compares cct-bot with, each in its own virtualenv.

    .venv/bin/python -m bench.peers          # installs them now (otherwise the bench does)

matrix-reminder-bot (PyPI ``matrix-reminder-bot``) goes into ``<repo>/.venv-peers/``, apart from
cct-bot's own ``.venv`` because its pins (``matrix-nio``, ``apscheduler``, ``python-dateutil``…)
may clash with ours.  It needs ``matrix-nio[e2e]``, which since nio 0.25 uses vodozemac wheels:
no libolm to build.  The install is redone only when the pinned version changes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PEERS_VENV = REPO / ".venv-peers"
REMINDER_BOT_REQUIREMENT = "matrix-reminder-bot==0.4.0"


def ensure_peers(venv: Path = PEERS_VENV) -> Path:
    """Creates ``venv`` and installs the peer bots if needed; returns matrix-reminder-bot's
    entry point."""
    executable = venv / "bin" / "matrix-reminder-bot"
    stamp = venv / ".cct-peers-installed"
    if executable.exists() and stamp.exists() and stamp.read_text() == REMINDER_BOT_REQUIREMENT:
        return executable
    print(f"bench: installing {REMINDER_BOT_REQUIREMENT} into {venv} ...", file=sys.stderr,
          flush=True)
    try:
        if not (venv / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", REMINDER_BOT_REQUIREMENT], check=True)
    except BaseException:
        shutil.rmtree(venv, ignore_errors=True)  # never leave a half-made venv behind
        raise
    stamp.write_text(REMINDER_BOT_REQUIREMENT)
    return executable


def peer_version(venv: Path = PEERS_VENV) -> str:
    """The installed matrix-reminder-bot and matrix-nio versions, for the report."""
    code = ("import importlib.metadata as m; "
            "print(m.version('matrix-reminder-bot'), m.version('matrix-nio'))")
    result = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True,
                            text=True, check=False)
    parts = result.stdout.split()
    return f"{parts[0]} (matrix-nio {parts[1]})" if len(parts) == 2 else "unknown"


def reminder_bot_config(*, homeserver: str, user_id: str, password: str, folder: Path,
                        timezone: str = "Europe/Paris") -> dict[str, Any]:
    """matrix-reminder-bot's ``config.yaml`` (as a mapping; JSON is valid YAML), after its
    ``sample.config.yaml``: SQLite store and nio store in ``folder``, no allow- or blocklist (it
    then accepts every invite), warnings only on its console."""
    return {
        "command_prefix": "!",
        "matrix": {"user_id": user_id, "user_password": password, "homeserver_url": homeserver,
                   "device_id": "REMINDERBENCH", "device_name": "matrix-reminder-bot (bench)"},
        "storage": {"database": f"sqlite://{folder / 'reminders.db'}",
                    "store_path": str(folder / "store")},
        "reminders": {"timezone": timezone},
        "allowlist": {"enabled": False, "regexes": []},
        "blocklist": {"enabled": False, "regexes": []},
        # Every key spelled out: its config reader takes a missing ``false`` default as missing.
        "logging": {"level": "WARNING", "console_logging": {"enabled": True},
                    "file_logging": {"enabled": False, "filepath": str(folder / "bot.log")}},
    }


if __name__ == "__main__":
    print(ensure_peers())
    print(f"matrix-reminder-bot {peer_version()}")
