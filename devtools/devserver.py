"""A throwaway local Synapse homeserver for tests, the demo and benchmarks.

Standard library only: the homeserver runs from its own virtualenv (see
:func:`find_synapse_python` and :func:`install_synapse`) as a subprocess in its
own process group, listening on ``127.0.0.1`` only.

The configuration is generated once by Synapse itself (which also creates the
signing key) and then rewritten as JSON, which is valid YAML, so no YAML
library is needed.  Secrets and the chosen port live in the rewritten
``homeserver.yaml`` so that a restart keeps the same data, port and tokens.

Typical use::

    python = find_synapse_python() or install_synapse(Path(".venv-synapse"))
    with LocalSynapse(tmp_path, python=python) as server:
        user_id = server.register("alice", "alice-pw")
        token = server.login_token(user_id, "alice-pw")
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from devtools.synapse_config import (
    FIXED_SETTINGS,
    generate_config,
    lift_rate_limits,
    write_json,
    write_log_config,
)
from devtools.synapse_install import SYNAPSE_REQUIREMENT, find_synapse_python, install_synapse

__all__ = [
    "SYNAPSE_REQUIREMENT",
    "LocalSynapse",
    "find_synapse_python",
    "install_synapse",
]

def _free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 40) -> str:
    """Return the last ``lines`` lines of a text file ("" if it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class LocalSynapse:
    """A Synapse homeserver in ``base_dir``, started and stopped on demand.

    Attributes:
        url: The client-server API base URL, ``http://127.0.0.1:<port>``.
        port: The listening port (chosen once, kept across restarts).
        server_name: The Matrix server name (the part after ``:`` in user ids).
        registration_shared_secret: Secret for the shared-secret registration API.
        base_dir: Directory holding the config, data, media store and logs.
    """

    def __init__(
        self,
        base_dir: Path,
        *,
        python: str,
        port: int | None = None,
        server_name: str = "localhost",
        rc_message: tuple[float, int] | None = None,
        extra_config: dict[str, Any] | None = None,
    ) -> None:
        """Prepares (but does not start) a homeserver in ``base_dir`` (created if missing;
        reused, with its data and secrets, if it holds one made by this class), run by
        ``python`` (a virtualenv with matrix-synapse), on ``port`` (a free one if ``None``).
        ``rc_message``: ``(per_second, burst_count)`` of the message rate limiter (``None``
        lifts it like every other); ``extra_config``: top-level keys merged over the config
        last."""
        self.base_dir = Path(base_dir).resolve()
        self.python = python
        self.server_name = server_name
        self.rc_message = rc_message
        self.extra_config: dict[str, Any] = dict(extra_config or {})
        self.port: int = port if port is not None else _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config_path = self.base_dir / "homeserver.yaml"
        self.log_config_path = self.base_dir / "log.config"
        self.log_path = self.base_dir / "homeserver.log"
        self.output_path = self.base_dir / "synapse.out"
        self.data_dir = self.base_dir / "data"
        self._process: subprocess.Popen[bytes] | None = None
        self._atexit_registered = False
        previous = self._read_previous_config()
        self.registration_shared_secret: str = str(
            previous.get("registration_shared_secret") or secrets.token_urlsafe(32)
        )
        self._macaroon_secret_key = str(previous.get("macaroon_secret_key") or secrets.token_urlsafe(32))
        self._form_secret = str(previous.get("form_secret") or secrets.token_urlsafe(32))

    # ------------------------------------------------------------------ lifecycle

    @property
    def running(self) -> bool:
        """Whether the Synapse process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """Process id of the running Synapse, or ``None``."""
        return self._process.pid if self.running and self._process is not None else None

    def start(self, timeout: float = 90) -> None:
        """Start Synapse and wait until its client API answers.

        Generates the config on first use, rewrites it every time (so the
        constructor arguments always apply), launches the server and polls
        ``/_matrix/client/versions``.

        Raises:
            RuntimeError: If the server exits or does not answer within ``timeout``
                seconds (the message carries the tail of its logs).
        """
        if self.running:
            return
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self._signing_key_path().exists():
            generate_config(self.python, self.server_name, self.config_path, self.data_dir,
                            self._signing_key_path())
        write_log_config(self.log_config_path, self.log_path)
        self._write_config()

        self._launch()
        self._wait_ready(timeout)

    def _launch(self) -> None:
        with self.output_path.open("ab") as out:
            self._process = subprocess.Popen(
                [self.python, "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
                cwd=self.base_dir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True

    def _wait_ready(self, timeout: float) -> None:
        """Polls ``/_matrix/client/versions`` until it answers."""
        deadline = time.monotonic() + timeout
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                raise RuntimeError(f"synapse exited with code {code} during startup\n{self._log_tails()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"synapse did not answer within {timeout} s\n{self._log_tails()}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop Synapse: SIGTERM, up to 15 s grace, then SIGKILL. Idempotent."""
        proc = self._process
        if proc is None:
            return
        if proc.poll() is None:
            self._signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._signal_group(proc, signal.SIGKILL)
                proc.wait()
        self._process = None

    def kill(self) -> None:
        """Kill Synapse abruptly with SIGKILL (simulates a crash/outage)."""
        proc = self._process
        if proc is None:
            return
        if proc.poll() is None:
            self._signal_group(proc, signal.SIGKILL)
            proc.wait()
        self._process = None

    def restart(self) -> None:
        """Stop and start again with the same port, data and secrets."""
        self.stop()
        self.start()

    def __enter__(self) -> LocalSynapse:
        """Start the server."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()

    # ------------------------------------------------------------------ accounts

    def register(
        self,
        localpart: str,
        password: str,
        *,
        admin: bool = False,
        displayname: str | None = None,
    ) -> str:
        """Create an account with the shared-secret admin registration API.

        Returns the full user id.  An already existing user is not an error:
        its id is returned (its password is *not* changed).
        """
        _, nonce_body = self._request("GET", "/_synapse/admin/v1/register")
        nonce = str(nonce_body["nonce"])
        mac = hmac.new(self.registration_shared_secret.encode("utf-8"), digestmod=hashlib.sha1)
        mac.update(nonce.encode("utf-8"))
        mac.update(b"\x00")
        mac.update(localpart.encode("utf-8"))
        mac.update(b"\x00")
        mac.update(password.encode("utf-8"))
        mac.update(b"\x00")
        mac.update(b"admin" if admin else b"notadmin")
        body: dict[str, Any] = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": mac.hexdigest(),
        }
        if displayname is not None:
            body["displayname"] = displayname
        status, resp = self._request("POST", "/_synapse/admin/v1/register", body, check=False)
        if status == 200:
            return str(resp["user_id"])
        if resp.get("errcode") == "M_USER_IN_USE":
            return f"@{localpart.lower()}:{self.server_name}"
        raise RuntimeError(f"registering {localpart!r} failed: HTTP {status} {resp}")

    def login_token(self, user_id: str, password: str, device_id: str | None = None) -> str:
        """Log in with a password and return the new access token."""
        body: dict[str, Any] = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user_id},
            "password": password,
        }
        if device_id is not None:
            body["device_id"] = device_id
        _, resp = self._request("POST", "/_matrix/client/v3/login", body)
        return str(resp["access_token"])

    def set_ratelimit_override(
        self,
        admin_token: str,
        user_id: str,
        messages_per_second: float = 0,
        burst_count: int = 0,
    ) -> None:
        """Override ``rc_message`` for one user (0/0 exempts the user entirely).

        Uses the admin API, so ``admin_token`` must belong to an admin account.
        Handy when a test lowers ``rc_message`` but only the bot should feel it.
        """
        path = f"/_synapse/admin/v1/users/{urllib.parse.quote(user_id)}/override_ratelimit"
        self._request(
            "POST",
            path,
            {"messages_per_second": messages_per_second, "burst_count": burst_count},
            token=admin_token,
        )

    # ------------------------------------------------------------------ internals

    def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        check: bool = True,
        timeout: float = 30,
    ) -> tuple[int, dict[str, Any]]:
        """Send one JSON request; return ``(status, decoded body)``.

        With ``check`` a non-2xx answer raises ``RuntimeError``.
        """
        data = json.dumps(body).encode("utf-8") if body is not None else None
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token is not None:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status = int(resp.status)
                raw = resp.read()
        except urllib.error.HTTPError as err:
            status = err.code
            raw = err.read()
        try:
            decoded = json.loads(raw) if raw else {}
        except ValueError:
            decoded = {"raw": raw.decode("utf-8", errors="replace")}
        if not isinstance(decoded, dict):
            decoded = {"value": decoded}
        if check and not 200 <= status < 300:
            raise RuntimeError(f"{method} {path} failed: HTTP {status} {decoded}")
        return status, decoded

    def _signing_key_path(self) -> Path:
        return self.base_dir / f"{self.server_name}.signing.key"

    def _read_previous_config(self) -> dict[str, Any]:
        """Return the JSON config a previous run wrote, or ``{}``."""
        try:
            previous = json.loads(self.config_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return previous if isinstance(previous, dict) else {}

    def build_config(self) -> dict[str, Any]:
        """Return the homeserver config this instance writes (before ``extra_config``)."""
        config: dict[str, Any] = {
            **FIXED_SETTINGS,
            "server_name": self.server_name,
            "public_baseurl": f"{self.url}/",
            "listeners": [{"port": self.port, "bind_addresses": ["127.0.0.1"], "type": "http",
                           "tls": False, "x_forwarded": False,
                           "resources": [{"names": ["client"], "compress": False}]}],
            "database": {"name": "sqlite3",
                         "args": {"database": str(self.data_dir / "homeserver.db")}},
            "log_config": str(self.log_config_path),
            "media_store_path": str(self.data_dir / "media_store"),
            "signing_key_path": str(self._signing_key_path()),
            "registration_shared_secret": self.registration_shared_secret,
            "macaroon_secret_key": self._macaroon_secret_key,
            "form_secret": self._form_secret,
        }
        lift_rate_limits(config, self.rc_message)
        return config

    def _write_config(self) -> None:
        config = self.build_config()
        config.update(self.extra_config)
        write_json(self.config_path, config)

    def _log_tails(self) -> str:
        parts = []
        for path in (self.output_path, self.log_path):
            tail = _tail(path)
            if tail:
                parts.append(f"--- {path} ---\n{tail}")
        return "\n".join(parts) or "(no log output)"

    @staticmethod
    def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        """Send ``sig`` to the process group led by ``proc`` (ignore if gone)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
