"""The bot's nio store skips the store transaction nio opens on every sync for an empty set of
newly encrypted rooms, and still keeps the rooms that do become encrypted."""

from __future__ import annotations

import argparse
import json
from collections.abc import Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from nio.crypto import OlmAccount

from bot import cli
from bot.config import parse_settings
from bot.login import prepare_store
from bot.matrix import MatrixTransport
from bot.matrix_api import BotStore
from bot.settings import MatrixSettings, Settings


def open_store(folder: Path) -> BotStore:
    store = BotStore("@bot:localhost", "BOTDEVICE", str(folder), "")
    store.save_account(OlmAccount())
    return store


def test_an_empty_set_of_encrypted_rooms_touches_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(tmp_path)

    def no_transaction() -> None:
        raise AssertionError("the store was opened for nothing to save")

    monkeypatch.setattr(store.database, "atomic", no_transaction)
    monkeypatch.setattr(store, "_get_account", no_transaction)
    store.save_encrypted_rooms(set())


def test_newly_encrypted_rooms_are_kept_across_restarts(tmp_path: Path) -> None:
    open_store(tmp_path).save_encrypted_rooms({"!a:localhost", "!b:localhost"})
    reopened = BotStore("@bot:localhost", "BOTDEVICE", str(tmp_path), "")
    assert reopened.load_encrypted_rooms() == {"!a:localhost", "!b:localhost"}


def test_its_commits_wait_for_no_flush_to_disk(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    pragma = store.database.execute_sql
    assert pragma("PRAGMA journal_mode").fetchone() == ("wal",)
    assert pragma("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
    assert pragma("PRAGMA foreign_keys").fetchone() == (1,)


def _settings(folder: Path, **matrix: str) -> Settings:
    return parse_settings({
        "matrix": {"homeserver": "http://127.0.0.1:9", "user_id": "@bot:localhost",
                   "password": "x", "store_path": "store", **matrix},
        "database": {"url": "sqlite+aiosqlite:///data/cct.db"},
        "club": {"charter": "x"}, "rooms": {"main": "!main:localhost"},
    }, base=folder, env={})


def test_the_transport_uses_it(tmp_path: Path) -> None:
    assert MatrixTransport(_settings(tmp_path).matrix).client.config.store is BotStore


def _prepared_keys(settings: MatrixSettings, device: str) -> dict[str, str]:
    store = BotStore(settings.user_id, device, str(settings.store_path), "DEFAULT_KEY")
    account = store.load_account()
    assert account is not None, f"no account prepared for {device}"
    return dict(account.identity_keys)


def _logged_in_keys(settings: MatrixSettings, device: str) -> dict[str, str]:
    client = MatrixTransport(settings).client
    client.restore_login(settings.user_id, device, "token")
    return dict(client.olm.account.identity_keys)


def test_the_store_is_prepared_for_the_configured_device(tmp_path: Path) -> None:
    settings = _settings(tmp_path, device_id="BOTDEVICE").matrix
    prepare_store(settings)
    assert _logged_in_keys(settings, "BOTDEVICE") == _prepared_keys(settings, "BOTDEVICE")


def test_the_store_is_prepared_for_the_saved_device_that_replaced_it(tmp_path: Path) -> None:
    settings = _settings(tmp_path, device_id="BOTDEVICE").matrix
    settings.store_path.mkdir(parents=True)
    (settings.store_path / "credentials.json").write_text(json.dumps({
        "homeserver": settings.homeserver, "user_id": settings.user_id,
        "device_id": "BOTDEVICE-AB12", "access_token": "saved"}))
    prepare_store(settings)
    assert _logged_in_keys(settings, "BOTDEVICE-AB12") == _prepared_keys(settings,
                                                                         "BOTDEVICE-AB12")
    assert not (settings.store_path / "@bot:localhost_BOTDEVICE.db").exists()


def test_an_unencrypted_bot_prepares_no_store(tmp_path: Path) -> None:
    settings = _settings(tmp_path, device_id="BOTDEVICE").matrix
    prepare_store(replace(settings, encryption=False))
    assert list(settings.store_path.glob("*.db")) == []


def test_the_bot_prepares_its_store_and_its_database_driver_before_its_loop_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(tmp_path, device_id="BOTDEVICE")
    seen = []

    def loop(coroutine: Coroutine[Any, Any, None]) -> None:
        coroutine.close()
        seen.append(_prepared_keys(settings.matrix, "BOTDEVICE"))

    monkeypatch.setattr(cli, "_load", lambda args, path: settings)
    monkeypatch.setattr(cli, "setup_logging", lambda *args: None)
    monkeypatch.setattr(cli.asyncio, "run", loop)
    drivers = []
    monkeypatch.setattr(cli, "load_driver", drivers.append)
    assert cli.cmd_run(argparse.Namespace(config="cct.toml", verbose=False, redactor=None)) == 0
    assert len(seen) == 1 and drivers == [settings.database_url]
