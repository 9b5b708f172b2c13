"""The throwaway Synapse's configuration: generated once by Synapse itself (which also creates
the signing key), then rewritten as JSON (valid YAML: no YAML library needed), every rate
limit lifted but the one a test sets."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

# "Unlimited" rate limit: far above anything a test or benchmark produces.
_UNLIMITED: dict[str, float] = {"per_second": 100_000.0, "burst_count": 100_000}

# Every rate limiter Synapse 1.163 reads from the config (synapse/config/ratelimiting.py),
# by config path.  `rc_message` is handled separately (it may be given a real limit).
_RATE_LIMIT_KEYS: tuple[str, ...] = (
    "rc_registration",
    "rc_registration_token_validity",
    "rc_login.address",
    "rc_login.account",
    "rc_login.failed_attempts",
    "rc_admin_redaction",
    "rc_joins.local",
    "rc_joins.remote",
    "rc_joins_per_room",
    "rc_key_requests",
    "rc_3pid_validation",
    "rc_invites.per_room",
    "rc_invites.per_user",
    "rc_invites.per_issuer",
    "rc_third_party_invite",
    "rc_media_create",
    "rc_presence.per_user",
    "rc_delayed_event_mgmt",
    "rc_room_creation",
    "rc_reports",
    "rc_user_directory",
    "rc_profile",
)

# What every throwaway homeserver has, whatever its port, folder and secrets.
FIXED_SETTINGS: dict[str, Any] = {
    "enable_registration": False,
    "report_stats": False,
    "enable_metrics": False,
    "trusted_key_servers": [],
    "suppress_key_server_warning": True,
    "presence": {"enabled": False},
    "bcrypt_rounds": 4,
    "url_preview_enabled": False,
    # Outbound requests to loopback are allowed (Synapse blocks private addresses by
    # default): the fault tests put a server that never answers there.
    "ip_range_whitelist": ["127.0.0.1"],
}

_LOG_FORMAT = "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s"



def _set_path(config: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``config["a"]["b"] = value`` for ``dotted == "a.b"``, creating dicts."""
    parts = dotted.split(".")
    node = config
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def generate_config(python: str, server_name: str, config_path: Path, data_dir: Path,
                    signing_key: Path) -> None:
    """Lets Synapse generate a config and (above all) the signing key."""
    cmd = [python, "-m", "synapse.app.homeserver", "--server-name", server_name,
           "--config-path", str(config_path), "--data-directory", str(data_dir),
           "--generate-config", "--report-stats=no"]
    result = subprocess.run(cmd, cwd=config_path.parent, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0 or not signing_key.exists():
        raise RuntimeError(
            f"synapse --generate-config failed (exit {result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )


def write_log_config(path: Path, log_path: Path) -> None:
    """Synapse's logging: warnings and above, to ``log_path``."""
    log_config = {
        "version": 1,
        "formatters": {"precise": {"format": _LOG_FORMAT}},
        "handlers": {
            "file": {
                "class": "logging.FileHandler",
                "formatter": "precise",
                "filename": str(log_path),
                "encoding": "utf8",
            }
        },
        "root": {"level": "WARNING", "handlers": ["file"]},
        "disable_existing_loggers": False,
    }
    path.write_text(json.dumps(log_config, indent=2) + "\n", encoding="utf-8")


def lift_rate_limits(config: dict[str, Any], rc_message: tuple[float, int] | None) -> None:
    """Every rate limit lifted; ``rc_message``: ``(per_second, burst_count)`` of the message
    limiter, or ``None`` to lift it too."""
    for key in _RATE_LIMIT_KEYS:
        _set_path(config, key, dict(_UNLIMITED))
    if rc_message is None:
        config["rc_message"] = dict(_UNLIMITED)
    else:
        per_second, burst_count = rc_message
        config["rc_message"] = {"per_second": per_second, "burst_count": burst_count}


def write_json(path: Path, config: dict[str, Any]) -> None:
    """Writes ``config`` as JSON, atomically."""
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
