"""The bot's nio store skips the store transaction nio opens on every sync for an empty set of
newly encrypted rooms, and still keeps the rooms that do become encrypted; ``cct-bot run``
loads it before its event loop runs, for the device the login uses."""

from __future__ import annotations

import argparse
import gc
import json
from dataclasses import replace
from pathlib import Path

import pytest
from nio import AsyncClient, LoginResponse, LogoutResponse
from nio.crypto import OlmAccount

from bot import cli
from bot.app import Bot
from bot.config import parse_settings
from bot.login import own_device_store, prepared_client
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
    """The identity keys of ``device``'s account in its store file, read apart."""
    store = BotStore(settings.user_id, device, str(settings.store_path), "DEFAULT_KEY")
    account = store.load_account()
    store.database.close()
    assert account is not None, f"no account prepared for {device}"
    return dict(account.identity_keys)


def _logs_in_with_it(settings: MatrixSettings, client: AsyncClient, device: str) -> None:
    """The transport given ``client`` logs in as ``device`` with the store already loaded."""
    olm = client.olm
    transport = MatrixTransport(settings, client=client)
    transport.client.restore_login(settings.user_id, device, "token")
    assert transport.client is client and client.olm is olm


def test_the_client_is_prepared_for_the_configured_device(tmp_path: Path) -> None:
    settings = _settings(tmp_path, device_id="BOTDEVICE").matrix
    client = prepared_client(settings)
    prepared = _prepared_keys(settings, "BOTDEVICE")
    _logs_in_with_it(settings, client, "BOTDEVICE")
    assert dict(client.olm.account.identity_keys) == prepared


def test_the_client_is_prepared_for_the_saved_device_that_replaced_it(tmp_path: Path) -> None:
    settings = _settings(tmp_path, device_id="BOTDEVICE").matrix
    settings.store_path.mkdir(parents=True)
    (settings.store_path / "credentials.json").write_text(json.dumps({
        "homeserver": settings.homeserver, "user_id": settings.user_id,
        "device_id": "BOTDEVICE-AB12", "access_token": "saved"}))
    client = prepared_client(settings)
    prepared = _prepared_keys(settings, "BOTDEVICE-AB12")
    _logs_in_with_it(settings, client, "BOTDEVICE-AB12")
    assert dict(client.olm.account.identity_keys) == prepared
    assert not (settings.store_path / "@bot:localhost_BOTDEVICE.db").exists()


def test_an_unencrypted_bot_prepares_no_store(tmp_path: Path) -> None:
    settings = _settings(tmp_path, device_id="BOTDEVICE").matrix
    client = prepared_client(replace(settings, encryption=False))
    assert client.olm is None and list(settings.store_path.glob("*.db")) == []


def test_a_login_given_another_device_loads_that_device_s_store(tmp_path: Path) -> None:
    settings = _settings(tmp_path, device_id="BOTDEVICE").matrix
    client = prepared_client(settings)
    asked = dict(client.olm.account.identity_keys)
    client.device_id = "GIVEN"  # what nio does with the homeserver's answer
    own_device_store(client)
    assert client.store.device_id == "GIVEN" and client.olm.device_id == "GIVEN"
    assert dict(client.olm.account.identity_keys) == _prepared_keys(settings, "GIVEN") != asked
    own_device_store(client)  # its own: nothing loaded again
    assert client.store.device_id == "GIVEN"


def test_the_bot_prepares_its_client_and_its_storage_before_its_loop_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(tmp_path, device_id="BOTDEVICE")
    given: list[AsyncClient] = []
    storages: list[str] = []
    monkeypatch.setattr(cli, "_load", lambda args, path: settings)
    monkeypatch.setattr(cli, "setup_logging", lambda *args: None)
    monkeypatch.setattr(cli, "settle_memory", lambda: None)
    monkeypatch.setattr(cli, "prepare_storage", storages.append)
    monkeypatch.setattr(cli, "run_bot", lambda settings, client: given.append(client))
    monkeypatch.setattr(cli.asyncio, "run", lambda ran: None)
    assert cli.cmd_run(argparse.Namespace(config="cct.toml", verbose=False, redactor=None)) == 0
    assert storages == [settings.database_url]
    assert [dict(client.olm.account.identity_keys) for client in given] == [
        _prepared_keys(settings.matrix, "BOTDEVICE")]


def test_the_bot_logs_in_with_the_client_given(tmp_path: Path) -> None:
    settings = _settings(tmp_path, device_id="BOTDEVICE")
    client = prepared_client(settings.matrix)
    assert Bot(settings, client=client).transport.client is client


async def test_a_password_login_given_another_device_uses_that_device_s_store(
        tmp_path: Path) -> None:
    settings = _settings(tmp_path, device_id="BOTDEVICE").matrix
    transport = MatrixTransport(settings, client=prepared_client(settings))
    client = transport.client

    async def login(password: str, device_name: str) -> LoginResponse:
        response = LoginResponse(settings.user_id, "GIVEN", "token")
        client._handle_login(response)  # what nio's login does with the answer
        return response

    client.login = login
    await transport._password_login()
    assert client.device_id == "GIVEN" and client.store.device_id == "GIVEN"
    assert dict(client.olm.account.identity_keys) == _prepared_keys(settings, "GIVEN")
    saved = json.loads((settings.store_path / "credentials.json").read_text())
    assert saved["device_id"] == "GIVEN"


async def test_the_transport_s_close_closes_its_store_file(tmp_path: Path) -> None:
    settings = _settings(tmp_path, device_id="BOTDEVICE").matrix
    transport = MatrixTransport(settings, client=prepared_client(settings))
    store = transport.client.store
    assert not store.database.is_closed()
    await transport.close()
    assert store.database.is_closed()
    assert transport.client.olm is not None  # a late send would still be encrypted


async def test_a_device_replaced_after_a_store_loss_closes_the_old_store_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(tmp_path, device_id="BOTDEVICE").matrix
    transport = MatrixTransport(settings, client=prepared_client(settings))
    old = transport.client

    async def logout() -> LogoutResponse:
        return LogoutResponse()

    async def password_login() -> None:
        return None

    old.logout = logout
    monkeypatch.setattr(transport, "_password_login", password_login)
    await transport._new_device()
    assert transport.client is not old and old.store.database.is_closed()


class _StartedBot:
    """What ``run_bot`` needs of a bot: a start, a run that ends at once, a stop."""

    def __init__(self, settings: Settings, client: AsyncClient) -> None:
        self.stages: list[str] = []

    def request_stop(self) -> None: ...

    async def start(self) -> None:
        self.stages.append("started")

    async def run_until_stopped(self) -> None:
        self.stages.append("ran")

    async def stop(self) -> None:
        self.stages.append("stopped")


async def test_once_started_the_bot_freezes_its_memory_without_a_collection_on_its_loop(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    collections: list[int] = []
    monkeypatch.setattr(cli, "Bot", _StartedBot)
    monkeypatch.setattr(gc, "collect", lambda generation=2: collections.append(generation) or 0)
    frozen = gc.get_freeze_count()
    made_at_start = [[index] for index in range(1000)]  # tracked by the collector
    try:
        await cli.run_bot(_settings(tmp_path), AsyncClient("http://localhost"))
        assert gc.get_freeze_count() >= frozen + len(made_at_start)
        assert collections == []
    finally:
        gc.unfreeze()
