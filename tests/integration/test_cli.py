"""`cct-bot` as people run it: a real process, a real config file, signals."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory

from devtools.devserver import LocalSynapse
from storage.db import alembic_config
from tests.integration.conftest import unique

pytestmark = pytest.mark.integration


def write_config(path: Path, synapse: LocalSynapse, user_id: str, room: str, inviter: str,
                 log_format: str = "text") -> None:
    path.write_text(f"""
[matrix]
homeserver = "{synapse.url}"
user_id = "{user_id}"
device_id = "CLIBOT"
store_path = "data/store"
sync_timeout_ms = 5000
[database]
url = "sqlite+aiosqlite:///data/cct.db"
[club]
coordinators = ["{inviter}"]
allowed_inviters = ["{inviter}"]
charter = "On s'écoute."
[rooms]
main = "{room}"
[logging]
format = "{log_format}"
""", encoding="utf-8")


def start_bot(config: Path, password: str, *options: str) -> subprocess.Popen[bytes]:
    """``cct-bot run``; its output is appended to ``bot.log`` beside the config (a pipe nobody
    reads until the end would fill up and block the bot)."""
    env = {**os.environ, "CCT_BOT_PASSWORD": password}
    with (config.parent / "bot.log").open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--config",
                                 str(config), *options],
                                env=env, stdout=log, stderr=subprocess.STDOUT)


async def _logged(log: Path, text: str, timeout: float = 30, since: int = 0) -> None:
    """Waits until the bot's log holds ``text`` (past its first ``since`` bytes). A reply that
    is all its command did may arrive before the command's commit is logged."""
    async with asyncio.timeout(timeout):
        while text not in (await asyncio.to_thread(log.read_bytes))[since:].decode(errors="replace"):
            await asyncio.sleep(0.1)


@pytest.mark.parametrize(("signum", "log_format"), [(signal.SIGTERM, "text"),
                                                    (signal.SIGINT, "json")])
async def test_run_answers_then_stops_cleanly_on_signal(synapse, users, tmp_path, signum,
                                                        log_format) -> None:
    chargee = await users("chargee")
    bot_id = synapse.register(unique("clibot"), "cli-pw")
    room = await chargee.create_room(name="CCT", invite=[bot_id])
    config = tmp_path / "config.toml"
    write_config(config, synapse, bot_id, room, chargee.user_id, log_format)
    # the text run is --verbose (DEBUG): secrets stay out of the most detailed log too
    process = start_bot(config, "cli-pw", *(["--verbose"] if log_format == "text" else []))
    try:
        await chargee.wait_membership(room, bot_id, "join", timeout=60)
        event_id = await chargee.send_text(room, "!ping")
        reply = await chargee.wait_for_reply(room, event_id, timeout=60)
        assert "pong" in reply.body
        await _logged(tmp_path / "bot.log", "1 club room(s) of 1 configured")
        await _logged(tmp_path / "bot.log", "command handled")
        process.send_signal(signum)
        code = await asyncio.to_thread(process.wait, 30)
        output = (tmp_path / "bot.log").read_text(encoding="utf-8")
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0, output
    assert "cli-pw" not in output  # the password never reaches the log
    token = json.loads((tmp_path / "data" / "store" / "credentials.json").read_text())
    assert token["access_token"] not in output  # nor the access token
    assert "club room(s) of 1 configured" in output and "pending reminder(s)" in output
    if log_format == "json":  # every line a JSON object with the facts as fields
        lines = [json.loads(line) for line in output.splitlines() if line.strip()]
        handled = [line for line in lines if line["message"] == "command handled"]
        assert [(h["command"], h["outcome"], h["event"]) for h in handled] == [
            ("ping", "ok", event_id)]
        ready = next(line for line in lines if line.get("event_kind") == "ready")
        assert ready["configured_rooms"] == 1 and ready["database"] == "SQLite"
        # the configured room is joined in the background: the ready line says whether it is
        # still being joined, and then a second line says it is
        rooms = [line for line in lines if line.get("event_kind") == "rooms_ready"]
        if ready["rooms_joining"]:
            assert (ready["club_rooms"], ready["rooms_joining"]) == (0, 1)
            assert [(r["club_rooms"], r["joined_rooms"]) for r in rooms] == [(1, 1)]
        else:
            assert (ready["club_rooms"], ready["joined_rooms"], rooms) == (1, 1, [])
    else:
        assert f"command handled command=ping outcome=ok room={room} event={event_id}" in output
        assert "DEBUG bot.app: sync batch saved commands=1" in output  # --verbose says more
        assert "DEBUG bot.outbox: outbox: send sent action=send" in output
        assert "!ping" not in output  # still no message text
    data = tmp_path / "data"
    assert stat.S_IMODE((data / "store").stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "cct.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((data / "store" / "credentials.json").stat().st_mode) == 0o600
    with sqlite3.connect(data / "cct.db") as db:
        handled = db.execute("select count(*) from inbox where handled_at is not null").fetchone()
        unsent = db.execute("select count(*) from outbox where sent_at is null").fetchone()
    assert handled == (1,) and unsent == (0,)


def test_run_refuses_a_bad_config_with_every_problem(tmp_path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[matrix]\nhomeserver = "pas une url"\n[club]\nlanguage = "de"\n',
                      encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "bot.cli", "run", "--config", str(config)],
                            capture_output=True, text=True, timeout=60,
                            env={k: v for k, v in os.environ.items() if not k.startswith("CCT_BOT")})
    assert result.returncode == 2
    for key in ("matrix.homeserver", "matrix.user_id", "matrix.password", "club.language",
                "rooms.main"):
        assert key in result.stderr


def test_db_upgrade_creates_the_schema(tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[matrix]\nhomeserver = "http://127.0.0.1:1"\nuser_id = "@b:localhost"\n'
                      'password = "x"\n[rooms]\nmain = "#cct:localhost"\n', encoding="utf-8")
    config.chmod(0o600)  # it holds a password
    result = subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade", "--config",
                             str(config)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert f"(révision {head})" in result.stdout
    with sqlite3.connect(tmp_path / "data" / "cct.db") as db:
        tables = {row[0] for row in db.execute("select name from sqlite_master where type='table'")}
    assert {"inbox", "outbox", "bot_state", "welcomes", "scheduled_messages", "project_groups",
            "initiatives", "audit_log"} <= tables


def test_db_backup_copies_the_database_while_it_is_open(tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[matrix]\nhomeserver = "http://127.0.0.1:1"\nuser_id = "@b:localhost"\n'
                      'password = "x"\n[rooms]\nmain = "#cct:localhost"\n', encoding="utf-8")
    config.chmod(0o600)  # it holds a password
    upgrade = subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade", "--config",
                              str(config)], capture_output=True, text=True, timeout=60)
    assert upgrade.returncode == 0, upgrade.stderr
    live = sqlite3.connect(tmp_path / "data" / "cct.db")  # held open, as by a running bot
    live.execute("INSERT INTO bot_state (key, value) VALUES ('sync_token', 's42')")
    live.commit()
    target = tmp_path / "backups" / "copy.db"
    result = subprocess.run([sys.executable, "-m", "bot.cli", "db", "backup", "--config",
                             str(config), "--output", str(target)],
                            capture_output=True, text=True, timeout=60)
    live.close()
    assert result.returncode == 0, result.stderr
    assert str(target) in result.stdout
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT value FROM bot_state").fetchall() == [("s42",)]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def _with_password(url: str, password: str) -> str:
    """``postgresql+asyncpg://user@host/db`` → ``postgresql+asyncpg://user:password@host/db``
    (the test server trusts 127.0.0.1: the password is carried, not checked)."""
    scheme, rest = url.split("://", 1)
    user, at, host = rest.partition("@")
    return f"{scheme}://{user}:{password}@{host}" if at else f"{scheme}://postgres:{password}@{rest}"


def cli(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *arguments], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


async def test_secrets_stay_out_of_the_output_and_the_log(synapse, users, tmp_path,
                                                          postgres_url) -> None:
    """A database URL with a password and the Matrix password: neither is printed by
    check-config, db upgrade or a failing command, nor written in the log of a run."""
    db_password, matrix_password = "Db-S3cret-Pw-42", "Matrix-Passw0rd-42"
    chargee = await users("chargee")
    bot_id = synapse.register(unique("secretbot"), matrix_password)
    room = await chargee.create_room(name="CCT", invite=[bot_id])
    config = tmp_path / "config.toml"
    write_config(config, synapse, bot_id, room, chargee.user_id)
    url = _with_password(postgres_url, db_password)
    config.write_text(config.read_text(encoding="utf-8").replace(
        "sqlite+aiosqlite:///data/cct.db", url), encoding="utf-8")
    config.chmod(0o600)
    env = {"CCT_BOT_PASSWORD": matrix_password}

    outputs = [cli("check-config", str(config), env=env),
               cli("db", "upgrade", "--config", str(config), env=env)]
    assert [o.returncode for o in outputs] == [0, 0], outputs
    unreachable = tmp_path / "unreachable.toml"
    unreachable.write_text(config.read_text(encoding="utf-8").replace(":5432/", ":1/"),
                           encoding="utf-8")
    unreachable.chmod(0o600)
    failed = cli("db", "upgrade", "--config", str(unreachable), env=env)
    assert failed.returncode == 1 and "Traceback" in failed.stderr
    refused = tmp_path / "refused.toml"  # the usual slip: the driver left out of the URL
    refused.write_text(config.read_text(encoding="utf-8").replace("postgresql+asyncpg://",
                                                                  "postgresql://"), encoding="utf-8")
    refused.chmod(0o600)
    wrong = cli("check-config", str(refused), env=env)
    assert wrong.returncode == 2 and "postgresql://" in wrong.stderr and ":***@" in wrong.stderr
    outputs += [failed, wrong]

    process = start_bot(config, matrix_password, "--verbose")
    try:
        await chargee.wait_membership(room, bot_id, "join", timeout=60)
        event_id = await chargee.send_text(room, "!ping")
        assert "pong" in (await chargee.wait_for_reply(room, event_id, timeout=60)).body
        await _logged(tmp_path / "bot.log", "command handled command=ping outcome=ok")
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    log = (tmp_path / "bot.log").read_text(encoding="utf-8")
    token = json.loads((tmp_path / "data" / "store" / "credentials.json").read_text())
    for text in [log, *(o.stdout + o.stderr for o in outputs)]:
        assert db_password not in text and matrix_password not in text
        assert token["access_token"] not in text


async def _ping(user: Any, room: str) -> str:
    event_id = await user.send_text(room, "!ping")
    return str((await user.wait_for_reply(room, event_id, timeout=60)).body)


async def test_a_restarted_bot_reads_and_writes_in_an_encrypted_room_as_the_same_device(
        synapse, users, tmp_path) -> None:
    """``cct-bot run`` prepares its client before its loop (the store made at the first start,
    read again with its sessions at the next): after a restart the bot is the same device, its
    keys the ones the homeserver holds, and decrypts the room's messages with the room key its
    store kept."""
    chargee = await users("chargee", encryption=True)
    bot_id = synapse.register(unique("e2ebot"), "e2e-pw")
    room = await chargee.create_room(name="CCT", invite=[bot_id], encrypted=True)
    config = tmp_path / "config.toml"
    write_config(config, synapse, bot_id, room, chargee.user_id)
    credentials, log = tmp_path / "data" / "store" / "credentials.json", tmp_path / "bot.log"
    devices, logs = [], []
    for _ in range(2):
        written = log.stat().st_size if log.exists() else 0
        process = start_bot(config, "e2e-pw")
        try:
            await chargee.wait_membership(room, bot_id, "join", timeout=60)
            assert "pong" in await _ping(chargee, room)
            await _logged(log, "command handled", since=written)
            process.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(process.wait, 30) == 0
        finally:
            if process.poll() is None:
                process.kill()
        devices.append(json.loads(credentials.read_text())["device_id"])
        logs.append(log.read_bytes()[written:].decode())
    assert devices == ["CLIBOT", "CLIBOT"], logs
    assert all("command handled command=ping outcome=ok" in text for text in logs), logs
    restarted = logs[1]  # the room's key came from the store, the device is the same
    assert "cannot decrypt" not in restarted and "new device" not in restarted, restarted
    assert "holds other keys" not in restarted, restarted
