"""The bot's nio store skips the store transaction nio opens on every sync for an empty set of
newly encrypted rooms, and still keeps the rooms that do become encrypted."""

from __future__ import annotations

from pathlib import Path

import pytest
from nio.crypto import OlmAccount

from bot.config import parse_settings
from bot.matrix import MatrixTransport
from bot.matrix_api import BotStore


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


def test_the_transport_uses_it(tmp_path: Path) -> None:
    settings = parse_settings({
        "matrix": {"homeserver": "http://127.0.0.1:9", "user_id": "@bot:localhost",
                   "password": "x", "store_path": "store"},
        "database": {"url": "sqlite+aiosqlite:///data/cct.db"},
        "club": {"charter": "x"}, "rooms": {"main": "!main:localhost"},
    }, base=tmp_path, env={})
    assert MatrixTransport(settings.matrix).client.config.store is BotStore
