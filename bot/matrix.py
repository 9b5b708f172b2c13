"""The Matrix transport: login, sync, send, join, history. nio's error objects become
exceptions here and nowhere else; sends are retried until they go through or are refused."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import io
import json
import logging
import os
import random
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import ClientError
from nio import (
    AsyncClient,
    AsyncClientConfig,
    EncryptionError,
    JoinedMembersResponse,
    JoinResponse,
    LoginResponse,
    LogoutResponse,
    MegolmEvent,
    PowerLevelsEvent,
    RoomCreateResponse,
    RoomGetStateEventResponse,
    RoomGetStateResponse,
    RoomInviteResponse,
    RoomLeaveResponse,
    RoomMessagesResponse,
    RoomPutStateResponse,
    RoomResolveAliasResponse,
    RoomSendResponse,
    SyncResponse,
    UploadResponse,
    WhoamiResponse,
)
from nio.api import RelationshipType, RoomPreset
from nio.exceptions import LocalProtocolError
from nio.store import DefaultStore

from bot.config import MatrixSettings
from bot.threads import ThreadHeads
from commands.pills import RoomNames, has_pills, with_names
from commands.ports import RoomFacts
from commands.threads import awaits_latest, with_latest

log = logging.getLogger(__name__)

CREDENTIALS_FILE = "credentials.json"
MODERATOR = 50  # Element's « Modérateur »
REQUEST_TIMEOUT_S = 30.0  # a request made without nio, unless told otherwise
ATTEMPTS = 3  # tries of one request before its failure is the caller's (the outbox retries later)
LONGEST_WAIT_S = 60.0  # a 429 asking for longer is the caller's to wait (the outbox)
RATE_LIMITED_WAIT_S = 5.0  # a 429 that says nothing of how long to wait
STATE_TIMEOUT_S = 30.0  # a room's state asked while a batch or a command waits for it
THREAD_ASK_S = 10.0  # the latest event of a thread asked of the homeserver (else: its root)
PERMANENT_ERRORS = {"M_FORBIDDEN", "M_NOT_FOUND", "M_UNKNOWN_TOKEN", "M_BAD_JSON", "M_NOT_JSON",
                    "M_TOO_LARGE", "M_INVALID_PARAM", "M_MISSING_PARAM"}


class MatrixError(Exception):
    """A request the homeserver answered with an error, or did not answer in time (``code``
    ``None``: transient). ``retry_after``: the seconds it asked the bot to wait (a 429)."""

    def __init__(self, what: str, response: Any) -> None:
        code = getattr(response, "status_code", None)
        message = getattr(response, "message", None) or str(response) or type(response).__name__
        super().__init__(f"{what}: {code} {message}")
        self.code = code
        self.retry_after = retry_after(response)

    @property
    def permanent(self) -> bool:
        return self.code in PERMANENT_ERRORS


def retry_after(response: Any) -> float | None:
    """The wait a 429 asks for, in seconds: the ``Retry-After`` header (seconds), else the
    body's ``retry_after_ms``; ``None`` for any other answer."""
    transport = getattr(response, "transport_response", None)
    header = transport.headers.get("Retry-After") if transport is not None else None
    if header is not None:
        with contextlib.suppress(ValueError):
            return max(0.0, float(header))
    milliseconds = getattr(response, "retry_after_ms", None)
    if isinstance(milliseconds, int | float) and milliseconds >= 0:
        return float(milliseconds) / 1000
    status = getattr(transport, "status", None)
    return RATE_LIMITED_WAIT_S if getattr(response, "status_code", None) in (
        "M_LIMIT_EXCEEDED", 429) or status == 429 else None


def backoff(attempt: int, base: float = 1.0, cap: float = 30.0) -> float:
    """The wait before try ``attempt + 1``: exponential from ``base``, at most ``cap``, with
    jitter (×0.5 to ×1.5) so that the bot's many waits do not all end at once."""
    return min(cap, base * 2.0 ** (attempt - 1)) * random.uniform(0.5, 1.5)


class LoginFailed(MatrixError):
    """Neither the token nor the password let the bot in."""


class RoomUnavailable(Exception):
    """A room the bot cannot enter: unknown, not invited, no permission…"""


@dataclass(frozen=True)
class NewRoom:
    """A room the bot created, and whether the space it was meant for refused to list it."""

    room_id: str
    space_refused: bool = False


@dataclass(frozen=True)
class History:
    """A page of a room's history, newest first, and the token to go further back."""

    events: list[Any]
    end: str | None


@dataclass(frozen=True)
class SavedLogin:
    """The device and access token kept in the store."""

    device_id: str
    token: str


async def api_request(client: AsyncClient, method: str, path: str, body: Mapping[str, Any],
                      timeout_s: float | None = None) -> tuple[int, dict[str, Any]]:
    """One JSON request to the client-server API (``/_matrix/client/v3/<path>``), for what nio
    has no method for: the status and the JSON answer; ``MatrixError`` when the homeserver does
    not answer within ``timeout_s`` (by default the client's request deadline)."""
    timeout_s = timeout_s or float(client.config.request_timeout) or REQUEST_TIMEOUT_S
    url = "/_matrix/client/v3/" + "/".join(quote(part, safe="") for part in path.split("/"))
    headers = {"Authorization": f"Bearer {client.access_token}",
               "Content-Type": "application/json"}
    try:
        async with asyncio.timeout(timeout_s):
            response = await client.send(method, url, json.dumps(body), headers,
                                         timeout=timeout_s)
            answer = await response.json(content_type=None)
    except (ClientError, TimeoutError, ValueError) as error:
        raise MatrixError(path, error) from error
    return response.status, answer if isinstance(answer, dict) else {}


def room_from_link(text: str) -> str:
    """``https://matrix.to/#/#salon:server?via=…`` → ``#salon:server``; ids and aliases as they are."""
    value = text.strip()
    for prefix in ("https://matrix.to/#/", "matrix:r/", "matrix:roomid/"):
        if value.startswith(prefix):
            value = unquote(value[len(prefix):]).split("?", 1)[0].split("/", 1)[0]
            if prefix == "matrix:r/":
                value = "#" + value
            elif prefix == "matrix:roomid/":
                value = "!" + value
    return value


def _check(what: str, response: Any, expected: type) -> Any:
    if isinstance(response, expected):
        return response
    raise MatrixError(what, response)


def sync_filter(timeline_limit: int = 100) -> dict[str, Any]:
    """Asks for large timelines (the server may cap them; gaps are backfilled) and lazy members."""
    return {
        "room": {
            "timeline": {"limit": timeline_limit},
            "state": {"lazy_load_members": True},
            "ephemeral": {"types": []},
        },
        "presence": {"types": []},
        "account_data": {"types": []},
    }


class BotStore(DefaultStore):  # type: ignore[misc]
    """nio's default store, except that a sync which found no newly encrypted room saves
    nothing: nio opens a store transaction on every sync to save that empty set, before the
    bot can read the batch."""

    def save_encrypted_rooms(self, rooms: set[str]) -> None:
        if rooms:
            super().save_encrypted_rooms(rooms)


class Transport:
    """One logged-in Matrix client with a persistent device and encryption store."""

    def __init__(self, settings: MatrixSettings) -> None:
        self.settings = settings
        store = settings.store_path
        store.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(store, 0o700)
        self._config = AsyncClientConfig(
            encryption_enabled=settings.encryption,
            store_sync_tokens=False,
            # A 429, a timeout or a lost connection comes back at once: the transport retries a
            # few times (``_until_done``), then the caller decides (the outbox retries later, the
            # sync loop syncs again). nio's own retries are endless.
            max_limit_exceeded=0,
            max_timeouts=0,
            request_timeout=settings.request_timeout_seconds,
            store=BotStore,
        )
        self.deadline = float(settings.request_timeout_seconds)
        self.answered_at = 0.0  # loop time of the homeserver's last successful answer
        self._credentials = store / CREDENTIALS_FILE
        saved = None if settings.access_token else self._saved()
        self.client = self._new_client(saved.device_id if saved else settings.device_id)
        self._creators: dict[str, set[str]] = {}
        self._key_work: asyncio.Task[None] | None = None
        self._names = RoomNames()
        self.threads = ThreadHeads()

    def _new_client(self, device_id: str) -> AsyncClient:
        return AsyncClient(self.settings.homeserver, self.settings.user_id, device_id=device_id,
                           store_path=str(self.settings.store_path), config=self._config)

    @property
    def user_id(self) -> str:
        return str(self.client.user_id or self.settings.user_id)

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
        saved = self._saved()
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
        self.client = self._new_client(f"{self.settings.device_id}-{secrets.token_hex(2).upper()}")
        await self._password_login()
        log.warning("the store had lost the keys of device %s: logged in as the new device %s",
                    lost, self.client.device_id,
                    extra={"event_kind": "new_device", "lost_device": lost,
                           "device": self.client.device_id})

    def _saved(self) -> SavedLogin | None:
        """The device and token of the store, if they are this account's, on this homeserver,
        and of the configured device (or of one that replaced it)."""
        try:
            data = json.loads(self._credentials.read_text())
        except (OSError, ValueError):
            return None
        device = str(data.get("device_id") or "")
        base = self.settings.device_id
        same = (data.get("user_id") == self.settings.user_id
                and data.get("homeserver") == self.settings.homeserver
                and (device == base or device.startswith(base + "-")))
        return SavedLogin(device, str(data["access_token"])) if same and data.get(
            "access_token") else None

    def _save_token(self, token: str) -> None:
        data = {"homeserver": self.settings.homeserver, "user_id": self.settings.user_id,
                "device_id": str(self.client.device_id), "access_token": token}
        tmp = self._credentials.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle)
        os.replace(tmp, self._credentials)

    async def sync(self, since: str | None, timeout_ms: int, *, full_state: bool = False,
                   ) -> SyncResponse:
        # nio gives a long poll its timeout plus 15 s, and a full-state sync none: it may be
        # long (every room's state), not endless.
        deadline = max(4 * self.deadline, 120.0) if full_state else None
        async with self._answer("sync"), asyncio.timeout(deadline):
            response = await self.client.sync(
                timeout=timeout_ms, since=since,
                sync_filter=sync_filter(self.settings.sync_timeline_limit), full_state=full_state)
        checked: SyncResponse = _check("sync", response, SyncResponse)
        self.answered_at = asyncio.get_running_loop().time()
        self._follow_power_levels(checked)
        return checked

    @contextlib.asynccontextmanager
    async def _answer(self, what: str) -> AsyncIterator[None]:
        """No answer in time, or no connection: a transient ``MatrixError``."""
        try:
            yield
        except (ClientError, TimeoutError, LocalProtocolError) as error:
            raise MatrixError(what, error) from error

    async def _once(self, what: str, expected: type, call: Callable[[], Awaitable[Any]]) -> Any:
        """One request (its deadline: nio's, ``request_timeout_seconds``); any failure raises
        ``MatrixError``."""
        async with self._answer(what), asyncio.timeout(self.deadline + 5):
            response = await call()
        checked = _check(what, response, expected)
        self.answered_at = asyncio.get_running_loop().time()
        return checked

    def _follow_power_levels(self, response: SyncResponse) -> None:
        """nio merges a room's new ``m.room.power_levels`` into the old one (someone taken out
        of its ``users`` keeps their level): the latest event of each room replaces them."""
        for room_id, info in response.rooms.join.items():
            latest = None
            for event in (*info.state, *info.timeline.events):
                if isinstance(event, PowerLevelsEvent):
                    latest = event
            room = self.client.rooms.get(room_id)
            if latest is not None and room is not None:
                room.power_levels = copy.deepcopy(latest.power_levels)

    def forget_room(self, room_id: str) -> None:
        """Drops what is known of a room the bot is no longer in (nio 0.26 keeps a left room
        as it was: its members, power levels and creators would still be read). A room once
        encrypted stays known as encrypted."""
        self.client.rooms.pop(room_id, None)
        self.client.invited_rooms.pop(room_id, None)
        self._creators.pop(room_id, None)

    def keep_keys_meanwhile(self) -> None:
        """Starts ``keep_keys`` in the background, as the homeserver's device list changes call
        for a query (a round trip) before a batch's commands can be answered otherwise; a send
        to an encrypted room waits for it (a member's new device must get the room key)."""
        if self._key_work is not None and self._key_work.done():
            error = None if self._key_work.cancelled() else self._key_work.exception()
            if error is not None:  # a batch failed before it was waited for
                log.warning("key maintenance failed (%s); trying again", error)
            self._key_work = None
        if self._key_work is None:
            self._key_work = asyncio.create_task(self.keep_keys())

    async def keys_kept(self) -> None:
        """Waits for the background key maintenance; raises what it raised."""
        if self._key_work is not None:
            work, self._key_work = self._key_work, None
            await work

    async def _encryption_ready(self, room_id: str) -> None:
        work = self._key_work
        if work is not None and not work.done() and self.is_encrypted(room_id):
            await asyncio.wait([work])  # its failure is the sync loop's to report

    async def keep_keys(self) -> None:
        """Uploads, queries and claims encryption keys when nio says it should (like sync_forever)."""
        if not self.client.olm:
            return
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        if self.client.should_query_keys:
            await self.client.keys_query()
        if self.client.should_claim_keys:
            await self.client.keys_claim(self.client.get_users_for_key_claiming())
        await self.client.send_to_device_messages()

    async def send(self, room_id: str, content: dict[str, Any], txn_id: str,
                   event_type: str = "m.room.message") -> str:
        """Sends with a stable transaction id; retries transient failures; returns the event id.
        People's pills in a message show their display name in the room (``commands.pills``);
        a thread message that answers nobody falls back on the thread's latest event."""
        if event_type == "m.room.message" and has_pills(content):
            content = with_names(content, self.pill_names(room_id))
        thread = awaits_latest(content)
        if thread is not None:
            content = with_latest(content, await self.thread_latest(room_id, thread))
        await self._encryption_ready(room_id)
        response = await self._until_done(
            f"send to {room_id}", RoomSendResponse,
            lambda: self.client.room_send(room_id, event_type, content, tx_id=txn_id,
                                          ignore_unverified_devices=True))
        self.threads.sent(room_id, content, str(response.event_id))
        return str(response.event_id)

    async def thread_latest(self, room_id: str, root: str) -> str:
        """The latest event of the thread of ``root``: as seen by the sync or sent by the bot,
        else asked of the homeserver (a thread not seen since the start); the root itself
        when the thread is empty or the homeserver does not say."""
        known = self.threads.latest(room_id, root)
        if known is not None:
            return known

        async def newest() -> str:
            async for event in self.client.room_get_event_relations(
                    room_id, root, RelationshipType.thread, limit=1):
                return str(event.event_id)
            return root
        try:
            latest = await asyncio.wait_for(newest(), THREAD_ASK_S)
        except Exception as error:  # a fallback: never worth failing a message for
            log.info("the latest event of the thread %s is unknown (%s)", root, error)
            return root
        self.threads.note(room_id, root, latest)
        return latest

    def member_names(self, room_id: str) -> dict[str, str | None]:
        """The display names of a room's members, joined or invited (``None``: no name set), as
        last synced; empty for a room the bot is not in."""
        room = self.client.rooms.get(room_id)
        return {user_id: user.display_name for user_id, user in room.users.items()} if room else {}

    def pill_names(self, room_id: str) -> dict[str, str]:
        """The names people's pills may show in a room (``commands.pills.shown_names``)."""
        return self._names.of(room_id, self.member_names(room_id))

    def is_encrypted(self, room_id: str) -> bool:
        """Whether the room is encrypted, or was when the bot was last in it (a room rejoined is
        known again only at the next sync: what is sent there meanwhile is encrypted too)."""
        room = self.client.rooms.get(room_id)
        return bool(room is not None and room.encrypted) or room_id in self.client.encrypted_rooms

    async def upload(self, room_id: str, data: bytes, mimetype: str,
                     filename: str) -> dict[str, Any]:
        """Uploads a file meant for ``room_id`` to the media repository; returns the content
        fields that name it: ``url``, or ``file`` (an EncryptedFile) when the room is encrypted,
        so that the homeserver never holds the file in clear."""
        encrypt = self.is_encrypted(room_id)
        keys: list[dict[str, Any]] = []

        async def once() -> Any:
            response, decryption = await self.client.upload(
                io.BytesIO(data), content_type=mimetype, filename=filename,
                encrypt=encrypt, filesize=len(data))  # AES-CTR: same size encrypted
            if decryption:
                keys[:] = [decryption]
            return response

        response = await self._until_done(f"upload {filename}", UploadResponse, once)
        uri = str(response.content_uri)
        if not encrypt:
            return {"url": uri}
        return {"file": {**keys[0], "url": uri, "mimetype": mimetype}}

    async def invite(self, room_id: str, user_id: str) -> None:
        """Invites a person; someone already in the room counts as done."""
        try:
            await self._until_done(f"invite {user_id} to {room_id}", RoomInviteResponse,
                                   lambda: self.client.room_invite(room_id, user_id))
        except MatrixError as error:
            if error.code == "M_FORBIDDEN" and "already" in str(error).lower():
                return
            raise

    async def put_state(self, room_id: str, event_type: str, state_key: str,
                        content: dict[str, Any]) -> str:
        """Sets a state event; returns its event id."""
        response = await self._until_done(
            f"state {event_type} in {room_id}", RoomPutStateResponse,
            lambda: self.client.room_put_state(room_id, event_type, content, state_key))
        return str(response.event_id)

    async def pin(self, room_id: str, event_id: str, unpin: list[str]) -> str:
        """Reads the room's pinned events, adds ``event_id``, removes ``unpin``, writes them back."""
        try:
            current = (await self.state_event(room_id, "m.room.pinned_events")).get("pinned", [])
        except MatrixError as error:
            if error.code != "M_NOT_FOUND":
                raise
            current = []
        pinned = [e for e in current if isinstance(e, str) and e not in unpin and e != event_id]
        if event_id:
            pinned.append(event_id)
        if pinned == current:
            return ""  # nothing to change (an unpin of what was never pinned): nothing to ask
        return await self.put_state(room_id, "m.room.pinned_events", "", {"pinned": pinned})

    async def _until_done(self, what: str, expected: type,
                          call: Callable[[], Awaitable[Any]]) -> Any:
        """Calls until the homeserver accepts, at most ``ATTEMPTS`` times, each within the
        request deadline, waiting in between (exponential, with jitter; a 429 as long as it
        asks). A permanent refusal, a 429 asking to wait longer than ``LONGEST_WAIT_S``, or the
        last failure raise ``MatrixError``: what to do next is the caller's."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await self._once(what, expected, call)
            except MatrixError as error:
                if error.permanent or attempt == ATTEMPTS or (
                        error.retry_after or 0) > LONGEST_WAIT_S:
                    raise
                if error.retry_after is not None:
                    wait = error.retry_after
                    log.warning("%s: rate-limited (429); retrying in %.1fs as asked", what, wait)
                else:
                    wait = backoff(attempt)
                    log.warning("%s failed (%s); retrying in %.1fs", what, error, wait)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    async def create_room(self, *, name: str, topic: str, space: str | None,
                          moderators: Sequence[str]) -> NewRoom:
        """A private room named ``name``, encrypted when the bot uses encryption, where
        ``moderators`` have the moderators' level; in ``space`` (both ways) when one is given.
        A refusal raises ``MatrixError``."""
        initial_state = self._encryption_state()
        server = self.user_id.split(":", 1)[-1]
        if space:
            initial_state.append({"type": "m.space.parent", "state_key": space,
                                  "content": {"via": [server], "canonical": True}})
        response = await self._until_done(
            f"create room {name!r}", RoomCreateResponse, lambda: self.client.room_create(
                name=name, topic=topic or None, preset=RoomPreset.private_chat,
                initial_state=initial_state,
                power_level_override=({"users": dict.fromkeys(moderators, MODERATOR)}
                                      if moderators else None)))
        room = NewRoom(str(response.room_id))
        if space:
            try:
                await self.put_state(space, "m.space.child", room.room_id, {"via": [server]})
            except MatrixError as error:  # refused for good (the bot's level in the space)
                log.warning("room %s created but not added to the space %s (%s)", room.room_id,
                            space, error)
                room = NewRoom(room.room_id, space_refused=True)
        return room

    async def direct_room(self, user_id: str) -> str:
        """A new direct-message room with ``user_id``, who is invited to it; encrypted when the
        bot uses encryption (what it sends there may be personal data). A refusal raises
        ``MatrixError``."""
        response = await self._until_done(
            f"create a direct room with {user_id}", RoomCreateResponse,
            lambda: self.client.room_create(preset=RoomPreset.trusted_private_chat,
                                            is_direct=True, invite=[user_id],
                                            initial_state=self._encryption_state()))
        return str(response.room_id)

    def _encryption_state(self) -> list[dict[str, Any]]:
        if not self.settings.encryption:
            return []
        return [{"type": "m.room.encryption", "state_key": "",
                 "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]

    async def enter_room(self, room: str) -> str:
        """Joins a room by id, alias or matrix.to link; returns its id."""
        target = room_from_link(room)
        if target in self.client.rooms:
            return target
        try:
            return await self.join(target)
        except MatrixError as error:
            raise RoomUnavailable(str(error)) from error

    async def join(self, room: str) -> str:
        """Joins a room by id or alias; returns the room id."""
        response = await self._once(f"join {room}", JoinResponse, lambda: self.client.join(room))
        return str(response.room_id)

    async def leave(self, room_id: str) -> None:
        await self._until_done(f"leave {room_id}", RoomLeaveResponse,
                               lambda: self.client.room_leave(room_id))

    async def resolve(self, room: str) -> str:
        """A room id from an id or an alias."""
        if room.startswith("!"):
            return room
        response = await self._once(f"resolve {room}", RoomResolveAliasResponse,
                                    lambda: self.client.room_resolve_alias(room))
        return str(response.room_id)

    async def history(self, room_id: str, start: str, limit: int = 100) -> History:
        """Older events of a room, from ``start`` backwards (decrypted where possible)."""
        page = await self._once("messages", RoomMessagesResponse, lambda: self.client.room_messages(
            room_id, start=start, limit=limit))
        return History(list(page.chunk), page.end)

    async def state_event(self, room_id: str, event_type: str, state_key: str = "") -> dict[str, Any]:
        response = await self._once("state", RoomGetStateEventResponse,
                                    lambda: self.client.room_get_state_event(
                                        room_id, event_type, state_key))
        return dict(response.content)

    async def joined_members(self, room_id: str) -> list[str]:
        """Who is in a room now (asked of the homeserver: lazy-loaded member lists are partial)."""
        response = await self._once(f"members of {room_id}", JoinedMembersResponse,
                                    lambda: self.client.joined_members(room_id))
        return [str(member.user_id) for member in response.members]

    async def relations(self, room_id: str, event_id: str) -> list[Any]:
        """Every event that references ``event_id`` (poll responses…), decrypted when possible."""
        found = []
        try:
            async with asyncio.timeout(self.deadline * 4):  # every page of them
                async for event in self.client.room_get_event_relations(
                        room_id, event_id, RelationshipType.reference):
                    found.append(self.decrypt(event) or event if isinstance(event, MegolmEvent)
                                 else event)
        except (LocalProtocolError, KeyError, TypeError, ClientError, TimeoutError) as error:
            raise MatrixError(f"relations of {event_id}", error) from error
        return found

    def joined(self, room_id: str, user_id: str) -> bool | None:
        """Whether ``user_id`` is joined to a room the bot is in, from the synced state;
        ``None`` when the bot cannot tell (not in the room, or its member list never loaded
        and the person not seen there)."""
        room = self.client.rooms.get(room_id)
        if room is None:
            return None
        if user_id in room.users and user_id not in room.invited_users:
            return True
        return False if room.members_synced else None

    def alone_with(self, room_id: str, user_id: str) -> bool:
        """Whether the room holds nobody but the bot and ``user_id`` (joined), nobody invited."""
        room = self.client.rooms.get(room_id)
        return (room is not None and room.joined_count + room.invited_count <= 2
                and self.joined(room_id, user_id) is True)

    def partly_known(self, room_ids: list[str]) -> list[str]:
        """Those of the rooms the bot is in whose member list it has not loaded."""
        return [room_id for room_id in room_ids if room_id in self.client.rooms
                and not self.client.rooms[room_id].members_synced]

    async def load_members(self, room_ids: list[str], limit_s: float = 30.0) -> None:
        """Asks the homeserver for the member lists nio knows only in part (members are
        lazy-loaded); nio keeps them up to date from the sync afterwards. A room that does not
        answer within ``limit_s`` is left as it is."""
        for room_id in room_ids:
            room = self.client.rooms.get(room_id)
            if room is None or room.members_synced:
                continue
            try:
                async with asyncio.timeout(limit_s):
                    await self.joined_members(room_id)
            except (MatrixError, TimeoutError) as error:
                log.warning("the members of %s could not be read (%s)", room_id, error)

    def room_facts(self, room: str, user_id: str) -> RoomFacts | None:
        """The room named by id, canonical alias or matrix.to link, if the bot is in it, with
        ``user_id``'s membership and power level there (no request: the synced state)."""
        target = room_from_link(room)
        found = self.client.rooms.get(target)
        if found is None and target.startswith("#"):
            found = next((r for r in self.client.rooms.values()
                          if r.canonical_alias == target), None)
        if found is None:
            return None
        return RoomFacts(found.room_id, self.joined(found.room_id, user_id),
                         self.power_level(found.room_id, user_id))

    def power_level(self, room_id: str, user_id: str) -> int:
        """The user's power level in a room the bot is in (0 when unknown)."""
        room = self.client.rooms.get(room_id)
        return int(room.power_levels.get_user_level(user_id)) if room else 0

    async def may_redact(self, room_id: str, user_id: str) -> bool:
        """Whether ``user_id`` may redact other people's events in ``room_id``, a room the bot
        is in: the room's ``redact`` power level, or a creator of it."""
        room = self.client.rooms.get(room_id)
        if room is None:
            return False
        return bool(room.power_levels.can_user_redact(user_id)
                    or user_id in await self.creators(room_id))

    async def creators(self, room_id: str) -> set[str]:
        """The room's creators: in room version 12 they outrank every power level. Asked once
        per room while the bot is in it (none, not kept, when the homeserver does not answer)."""
        if room_id not in self._creators:
            try:
                response = await self._once(f"state of {room_id}", RoomGetStateResponse,
                                            lambda: self.client.room_get_state(room_id))
            except MatrixError as error:
                log.warning("the creators of %s are unknown for now (%s)", room_id, error)
                return set()
            found: set[str] = set()
            for event in response.events:
                if event.get("type") == "m.room.create":
                    found.add(str(event["sender"]))
                    found.update(str(u) for u in event.get("content", {}).get("additional_creators", []))
            self._creators[room_id] = found
        return self._creators[room_id]

    def decrypt(self, event: MegolmEvent) -> Any | None:
        """The decrypted event, or ``None`` while its room key is missing."""
        try:
            return self.client.decrypt_event(event)
        except (EncryptionError, LocalProtocolError):
            return None

    def display_name(self, room_id: str, user_id: str) -> str:
        room = self.client.rooms.get(room_id)
        if room is None:
            return user_id
        return str(room.user_name(user_id) or user_id)

    def is_member(self, room_id: str, user_id: str) -> bool:
        """Whether ``user_id`` is in ``room_id`` (joined or invited) as the bot last synced it
        (nio's room state: no request); ``False`` for a room the bot is not in."""
        room = self.client.rooms.get(room_id)
        return room is not None and user_id in room.users

    def joined_room_ids(self) -> list[str]:
        return list(self.client.rooms)

    async def close(self) -> None:
        if self._key_work is not None:
            self._key_work.cancel()
            await asyncio.gather(self._key_work, return_exceptions=True)
        await self.client.close()


def store_is_private(path: Path) -> bool:
    """Whether the store folder is closed to other users."""
    return (path.stat().st_mode & 0o077) == 0
