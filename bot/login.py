"""How the bot logs in (``Login``, part of ``bot.matrix.MatrixTransport``): the configured
token, else the token saved in the store, else the password; a new device when the store lost
the keys of its own."""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from nio import AsyncClient, AsyncClientConfig, LoginResponse, LogoutResponse, WhoamiResponse

from bot.matrix_api import BotStore, LoginFailed, MatrixError, api_request
from bot.nio_client import BotClient
from bot.settings import MatrixSettings

log = logging.getLogger("bot.matrix")
CREDENTIALS_FILE = "credentials.json"


@dataclass(frozen=True)
class SavedLogin:
    """The device and access token kept in the store."""

    device_id: str
    token: str


def client_config(settings: MatrixSettings) -> AsyncClientConfig:
    """nio's configuration of the bot's client."""
    return AsyncClientConfig(
        encryption_enabled=settings.encryption,
        store_sync_tokens=False,
        # A 429, a timeout or a lost connection comes back at once as a ``MatrixError``: the
        # caller decides (the outbox tries its row again later, the sync loop syncs again).
        # nio's own retries are endless.
        max_limit_exceeded=0,
        max_timeouts=0,
        request_timeout=settings.request_timeout_seconds,
        store=BotStore,
    )


def credentials_file(settings: MatrixSettings) -> Path:
    return settings.store_path / CREDENTIALS_FILE


def saved_login(settings: MatrixSettings) -> SavedLogin | None:
    """The device and token of the store, if they are this account's, on this homeserver,
    and of the configured device (or of one that replaced it)."""
    try:
        data = json.loads(credentials_file(settings).read_text())
    except (OSError, ValueError):
        return None
    device = str(data.get("device_id") or "")
    base = settings.device_id
    same = (data.get("user_id") == settings.user_id
            and data.get("homeserver") == settings.homeserver
            and (device == base or device.startswith(base + "-")))
    return SavedLogin(device, str(data["access_token"])) if same and data.get(
        "access_token") else None


def start_device(settings: MatrixSettings) -> str:
    """The device the bot starts as: the configured one with an access token, else the saved
    one, else the configured one."""
    saved = None if settings.access_token else saved_login(settings)
    return saved.device_id if saved else settings.device_id


def new_client(settings: MatrixSettings, device_id: str) -> BotClient:
    """The bot's nio client for ``device_id``, its store directory made (readable by the bot
    only)."""
    store = settings.store_path
    store.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(store, 0o700)
    return BotClient(settings.homeserver, settings.user_id, device_id=device_id,
                     store_path=str(store), config=client_config(settings))


def prepared_client(settings: MatrixSettings) -> BotClient:
    """The client of the device the bot starts as, its store loaded (with encryption):
    ``cct-bot run`` makes it before its event loop runs, as loading the store stops everything
    else (at the first start the store's file and the device's Olm account are created; later,
    nio reads every Olm and Megolm session it holds). The login finds it loaded."""
    client = new_client(settings, start_device(settings))
    if settings.encryption:
        client.user_id = settings.user_id  # nio sets it at the login
        client.load_store()
    return client


def own_device_store(client: AsyncClient) -> None:
    """After a password login: the store loaded is the device's the homeserver gave (a client
    prepared for the device asked, given another one, loads that one's). The user id is not
    compared: the homeserver may spell the configured one otherwise (case), same account."""
    store = client.store
    if store is not None and store.device_id != client.device_id:
        close_store(client)
        client.store = client.olm = None
        client.load_store()


def close_store(client: AsyncClient) -> None:
    """Closes the client's store file, if one is loaded. The store and the Olm machine stay:
    a late use reopens the file (nothing is ever sent unencrypted for want of them)."""
    if client.store is not None:
        client.store.database.close()


class Login:
    """The login part of the transport: ``client`` is replaced when a new device is made."""

    settings: MatrixSettings
    client: AsyncClient

    def _new_client(self, device_id: str) -> AsyncClient:
        return new_client(self.settings, device_id)

    @property
    def user_id(self) -> str:
        return str(self.client.user_id or self.settings.user_id)

    @property
    def server(self) -> str:
        """The bot's homeserver name (the ``via`` of the rooms it lists)."""
        return self.user_id.split(":", 1)[-1]

    async def login(self) -> None:
        """Token from config, else the saved token, else the password (token then saved).
        A device whose keys the store has lost (the homeserver holds others: other people's
        clients would go on encrypting for them) is replaced by a new device,
        ``<device_id>-XXXX``, when the password is known."""
        await self._log_in()
        if not await self._device_keys_lost():
            return
        if not self.settings.password:
            log.warning("the homeserver holds other keys for device %s than the store's (the "
                        "store was lost?): people's clients may not encrypt for the bot; with "
                        "the password instead of an access token, the bot logs in as a new "
                        "device", self.client.device_id)
            return
        await self._new_device()

    async def _log_in(self) -> None:
        if self.settings.access_token:
            self.client.restore_login(self.settings.user_id, self.settings.device_id,
                                      self.settings.access_token)
            await self._whoami()
            return
        saved = saved_login(self.settings)
        if saved:
            self.client.restore_login(self.settings.user_id, saved.device_id, saved.token)
            try:
                await self._whoami()
                return
            except MatrixError as error:
                log.warning("saved token refused (%s), logging in with the password", error.code)
        await self._password_login()

    async def _password_login(self) -> None:
        response = await self.client.login(self.settings.password, device_name="cct-bot")
        if not isinstance(response, LoginResponse):
            raise LoginFailed("login", response)
        own_device_store(self.client)
        self._save_token(response.access_token)

    async def _whoami(self) -> None:
        response = await self.client.whoami()
        if not isinstance(response, WhoamiResponse):
            raise LoginFailed("whoami", response)

    async def _device_keys_lost(self) -> bool:
        """Whether the homeserver holds identity keys for the bot's device other than those of
        its store (a store lost, then a new one: nio made new keys for the same device)."""
        if self.client.olm is None:
            return False
        device = str(self.client.device_id)
        try:
            status, answer = await api_request(self.client, "POST", "keys/query",
                                               {"device_keys": {self.user_id: [device]}})
        except MatrixError as error:
            log.warning("the keys of device %s could not be checked (%s)", device, error)
            return False
        known = answer.get("device_keys", {}).get(self.user_id, {}).get(device)
        ours = self.client.olm.account.identity_keys["ed25519"]
        return (status == 200 and isinstance(known, dict)
                and known.get("keys", {}).get(f"ed25519:{device}") != ours)

    async def _new_device(self) -> None:
        """Logs out of the device whose keys were lost (the homeserver deletes it) and logs in
        as a new one."""
        lost = str(self.client.device_id)
        if not isinstance(await self.client.logout(), LogoutResponse):
            log.warning("device %s could not be logged out", lost)
        await self.client.close()
        close_store(self.client)
        self.client = self._new_client(f"{self.settings.device_id}-{secrets.token_hex(2).upper()}")
        await self._password_login()
        log.warning("the store had lost the keys of device %s: logged in as the new device %s",
                    lost, self.client.device_id,
                    extra={"event_kind": "new_device", "lost_device": lost,
                           "device": self.client.device_id})

    def _save_token(self, token: str) -> None:
        data = {"homeserver": self.settings.homeserver, "user_id": self.settings.user_id,
                "device_id": str(self.client.device_id), "access_token": token}
        credentials = credentials_file(self.settings)
        tmp = credentials.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle)
        os.replace(tmp, credentials)
