"""Secrets masked in the log and in the command line's messages."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from bot.config import parse_settings
from bot.logs import setup_logging
from bot.redaction import Redactor, mask_url_passwords, secrets_of

PG = "postgresql+asyncpg://cct:Db-S3cret-Pw@db.example.org:5432/cct"


@pytest.mark.parametrize(("text", "masked"), [
    (PG, "postgresql+asyncpg://cct:***@db.example.org:5432/cct"),
    (f"échec sur {PG} (réessai)", "échec sur postgresql+asyncpg://cct:***@db.example.org:5432/cct (réessai)"),
    ("https://bot:p%40ss@matrix.example.org/x", "https://bot:***@matrix.example.org/x"),
    ("redis://:only-a-password@h:6379/0", "redis://:***@h:6379/0"),
    ("postgresql://cct:pa/ss@h/db", "postgresql://cct:***@h/db"),
    ("url='postgresql://u:pw@h/db', autre='https://v:pw2@k'", "url='postgresql://u:***@h/db', autre='https://v:***@k'"),
])
def test_passwords_in_urls_are_masked(text: str, masked: str) -> None:
    assert mask_url_passwords(text) == masked


@pytest.mark.parametrize("text", ["https://matrix.to/#/@alice:example.org", "http://host:8008/path",
                                  "@alice:example.org", "sqlite+aiosqlite:///data/cct.db",
                                  "postgresql+asyncpg://cct@127.0.0.1:5432/cct"])
def test_urls_without_a_password_are_kept(text: str) -> None:
    assert mask_url_passwords(text) == text


def test_configured_secrets_are_masked_the_longest_first_and_short_ones_left() -> None:
    redactor = Redactor(["syt_Y2N0LWJvdA_token", "syt_Y2N0", "court"])
    assert redactor.mask("token=syt_Y2N0LWJvdA_token, mot court") == "token=***, mot court"
    assert redactor.mask("début syt_Y2N0 fin") == "début *** fin"


def test_the_secrets_of_a_config(tmp_path: Path) -> None:
    data = {"matrix": {"homeserver": "https://m.example.org", "user_id": "@b:example.org",
                       "password": "Matrix-Passw0rd"},
            "database": {"url": "postgresql+asyncpg://cct:a%2Fb-S3cret@h/db"},
            "rooms": {"main": "!r:example.org"}}
    settings = parse_settings(data, base=tmp_path, env={"CCT_BOT_ACCESS_TOKEN": "syt_token_123"})
    assert secrets_of(settings, env={"PGPASSWORD": "pg-env-secret"}) == (
        "Matrix-Passw0rd", "syt_token_123", "a%2Fb-S3cret", "a/b-S3cret", "pg-env-secret")


def _log_through_setup(kind: str, redactor: Redactor, emit: object) -> str:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    try:
        setup_logging("INFO", kind, redactor, stream=stream)
        emit()  # type: ignore[operator]
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    return stream.getvalue()


@pytest.mark.parametrize("kind", ["text", "json"])
def test_every_part_of_a_record_is_masked(kind: str) -> None:
    redactor = Redactor(["Matrix-Passw0rd"])
    log = logging.getLogger("some.library")

    def emit() -> None:
        log.info("connecting to %s as %s", PG, "Matrix-Passw0rd", extra={"url": PG})
        try:
            raise ConnectionError(f"cannot reach {PG} with Matrix-Passw0rd")
        except ConnectionError:
            log.exception("failed")
        log.warning("where", stack_info=True, extra={"note": "Matrix-Passw0rd"})

    output = _log_through_setup(kind, redactor, emit)
    assert "Db-S3cret-Pw" not in output and "Matrix-Passw0rd" not in output
    assert output.count("postgresql+asyncpg://cct:***@db.example.org") >= 3
    assert "ConnectionError: cannot reach" in output  # the traceback is still there
    if kind == "json":
        lines = [json.loads(line) for line in output.splitlines()]
        assert lines[0]["message"] == ("connecting to postgresql+asyncpg://cct:***@db.example.org"
                                       ":5432/cct as ***")
        assert lines[0]["url"] == "postgresql+asyncpg://cct:***@db.example.org:5432/cct"
        assert "ConnectionError" in lines[1]["exc_info"]
        assert lines[2]["note"] == "***"


def test_the_values_a_postgresql_error_quotes_are_masked() -> None:
    log = logging.getLogger("bot.dispatcher")

    def emit() -> None:
        try:
            raise RuntimeError('duplicate key value violates unique constraint "k"\n'
                               "DETAIL:  Key (name)=(Texte d'Alice) already exists.")
        except RuntimeError:
            log.exception("internal error")

    output = _log_through_setup("text", Redactor(), emit)
    assert "Texte d'Alice" not in output
    assert "DETAIL:  ***" in output and 'unique constraint "k"' in output


def test_masking_leaves_a_plain_record_alone() -> None:
    def emit() -> None:
        logging.getLogger("bot.app").info("sync restored after %.1f s", 2.5,
                                          extra={"room": "!a:example.org", "down_s": 2.5})

    output = _log_through_setup("text", Redactor(["Matrix-Passw0rd"]), emit)
    assert output.rstrip().endswith("INFO bot.app: sync restored after 2.5 s room=!a:example.org "
                                    "down_s=2.5")


def test_the_command_line_prints_an_unexpected_error_masked(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from bot import cli

    def fail(_args: object) -> int:
        raise OSError(f"could not open {PG}")

    monkeypatch.setattr(cli, "cmd_version", fail)
    assert cli.main(["version"]) == 1
    err = capsys.readouterr().err
    assert "OSError: could not open postgresql+asyncpg://cct:***@db.example.org" in err
    assert "Db-S3cret-Pw" not in err and "Traceback" in err
