"""The Matrix transport (``MatrixTransport``, nio): login (``bot.login``), sync, the synced rooms'
state (``bot.room_state``), one request per call for sends, joins, history and state. A call
that fails raises ``MatrixError`` (``bot.matrix_api``): whether to try again is the caller's
(the outbox for its rows, the sync loop for the sync)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from aiohttp import ClientError
from nio import (
    AsyncClient,
    EncryptionError,
    JoinedRoomsResponse,
    JoinResponse,
    MegolmEvent,
    RoomCreateResponse,
    RoomGetStateEventResponse,
    RoomInviteResponse,
    RoomLeaveResponse,
    RoomMessagesResponse,
    RoomPutStateResponse,
    RoomResolveAliasResponse,
    RoomSendResponse,
    SyncResponse,
    UploadResponse,
)
from nio.api import RelationshipType, RoomPreset
from nio.exceptions import LocalProtocolError

from bot import transport as protocol
from bot.attachments import PostedFiles, fetched
from bot.clock import Clock, SystemClock
from bot.keys import KeyUpkeep
from bot.login import Login, close_store, start_device
from bot.matrix_api import (
    History,
    MatrixError,
    RoomUnavailable,
    check,
    room_from_link,
    sync_filter,
)
from bot.members import Members, apply_members, joined_members
from bot.openings import find_opening, opening_state
from bot.room_state import SyncedRooms
from bot.settings import MatrixSettings
from bot.threads import ThreadHeads
from commands.pills import RoomNames, content_has_pills, pilled_users, with_names
from commands.ports import PostedFile
from commands.threads import awaits_latest, with_latest

log = logging.getLogger(__name__)

MODERATOR = 50  # Element's « Modérateur »
THREAD_ASK_S = 2.0  # the latest event of a thread asked of the homeserver (else: its root)


class MatrixTransport(Login, KeyUpkeep, SyncedRooms):
    """One logged-in Matrix client with a persistent device and encryption store."""

    def __init__(self, settings: MatrixSettings, clock: Clock | None = None,
                 client: AsyncClient | None = None) -> None:
        """``client``: the bot's, made before the loop ran (``prepared_client``); else made
        here."""
        self.settings = settings
        self.clock = clock or SystemClock()
        self.deadline = float(settings.request_timeout_seconds)
        self.answered_at = 0.0  # loop time of the homeserver's last successful answer
        self.client = client or self._new_client(start_device(settings))
        self._creators: dict[str, set[str]] = {}
        self._key_work: asyncio.Task[None] | None = None
        self._names = RoomNames()
        self.threads = ThreadHeads()
        self.files = PostedFiles()  # the latest CSV file of each person in each room

    async def sync(self, since: str | None, timeout_ms: int, *, full_state: bool = False,
                   timeline_limit: int | None = None) -> SyncResponse:
        # nio gives a long poll its timeout plus 15 s, and a full-state sync none: it may be
        # long (every room's state), not endless.
        deadline = max(4 * self.deadline, 120.0) if full_state else None
        async with self._answer("sync"), asyncio.timeout(deadline):
            response = await self.client.sync(
                timeout=timeout_ms, since=since,
                sync_filter=sync_filter(timeline_limit or self.settings.sync_timeline_limit),
                full_state=full_state)
        checked: SyncResponse = check("sync", response, SyncResponse)
        self.answered_at = asyncio.get_running_loop().time()
        self._follow_power_levels(checked)
        self._follow_creators(checked)
        self._follow_names(checked)
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
        checked = check(what, response, expected)
        self.answered_at = asyncio.get_running_loop().time()
        return checked

    async def send(self, room_id: str, content: dict[str, Any], txn_id: str,
                   event_type: str = "m.room.message") -> str:
        """Sends with a stable transaction id (one request); returns the event id.
        People's pills in a message show their display name in the room (``commands.pills``);
        a thread message that answers nobody falls back on the thread's latest event."""
        if event_type == "m.room.message" and content_has_pills(content):
            content = with_names(content, await self.pill_names(room_id, pilled_users(content)))
        thread = awaits_latest(content)
        if thread is not None:
            content = with_latest(content, await self.thread_latest(room_id, thread))
        await self._encryption_ready(room_id)
        response = await self._once(
            f"send to {room_id}", RoomSendResponse,
            lambda: self.client.room_send(room_id, event_type, content, tx_id=txn_id,
                                          ignore_unverified_devices=True))
        self.threads.sent(room_id, content, str(response.event_id))
        return str(response.event_id)

    async def thread_latest(self, room_id: str, root: str) -> str:
        """The latest event of the thread of ``root``: as seen by the sync or sent by the bot,
        else asked of the homeserver (a thread not seen since the start: a send waits
        ``THREAD_ASK_S`` at most); the root itself when the thread is empty or the homeserver
        does not say in time (kept: the thread's next sends do not wait again)."""
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
            latest = root
        self.threads.note(room_id, root, latest)
        return latest

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

        response = await self._once(f"upload {filename}", UploadResponse, once)
        uri = str(response.content_uri)
        if not encrypt:
            return {"url": uri}
        return {"file": {**keys[0], "url": uri, "mimetype": mimetype}}

    async def invite(self, room_id: str, user_id: str) -> None:
        """Invites a person; someone already in the room counts as done."""
        try:
            await self._once(f"invite {user_id} to {room_id}", RoomInviteResponse,
                             lambda: self.client.room_invite(room_id, user_id))
        except MatrixError as error:
            if error.code == "M_FORBIDDEN" and "already" in str(error).lower():
                return
            raise

    async def put_state(self, room_id: str, event_type: str, state_key: str,
                        content: dict[str, Any]) -> str:
        """Sets a state event; returns its event id."""
        response = await self._once(
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

    async def create_room(self, *, name: str, topic: str, space: str | None,
                          moderators: Sequence[str]) -> str:
        """A private room named ``name``, encrypted when the bot uses encryption, where
        ``moderators`` have the moderators' level, naming ``space`` as its parent (the space
        naming it as its child is the caller's next request). A refusal raises
        ``MatrixError``."""
        initial_state = self._encryption_state()
        if space:
            initial_state.append({"type": "m.space.parent", "state_key": space,
                                  "content": {"via": [self.server], "canonical": True}})
        response = await self._once(
            f"create room {name!r}", RoomCreateResponse, lambda: self.client.room_create(
                name=name, topic=topic or None, preset=RoomPreset.private_chat,
                initial_state=initial_state,
                power_level_override=({"users": dict.fromkeys(moderators, MODERATOR)}
                                      if moderators else None)))
        return str(response.room_id)

    async def direct_room(self, user_id: str, opening: str = "") -> str:
        """A new direct-message room with ``user_id``, who is invited to it; encrypted when the
        bot uses encryption (what it sends there may be personal data); marked ``opening`` for
        ``opened_room``. A refusal raises ``MatrixError``."""
        response = await self._once(
            f"create a direct room with {user_id}", RoomCreateResponse,
            lambda: self.client.room_create(
                preset=RoomPreset.trusted_private_chat, is_direct=True, invite=[user_id],
                initial_state=self._encryption_state() + opening_state(opening)))
        return str(response.room_id)

    async def opened_room(self, user_id: str, opening: str) -> str | None:
        """The room a ``direct_room`` call for ``user_id`` marked ``opening`` made, among the
        rooms the homeserver says the bot is in that the sync shows it created with ``user_id``
        in them (only after a lost answer; ``bot.openings``)."""
        response = await self._once("joined rooms", JoinedRoomsResponse, self.client.joined_rooms)

        def made_for(room_id: str) -> bool:
            return (self.user_id in self.creators(room_id)
                    and self.is_member(room_id, user_id))
        return await find_opening(response.rooms, opening, self.state_event, made_for)

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
        await self._once(f"leave {room_id}", RoomLeaveResponse,
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
        return list(await self._members(room_id))

    async def _members(self, room_id: str) -> Members:
        async with self._answer(f"members of {room_id}"), asyncio.timeout(self.deadline + 5):
            members = await joined_members(self.client, room_id, self.deadline)
        self.answered_at = asyncio.get_running_loop().time()
        return members

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
                    members = await self._members(room_id)
                if self.client.rooms.get(room_id) is room:
                    await apply_members(self.client, room, members)
                    self._names.forget(room_id)
            except (MatrixError, TimeoutError) as error:
                log.warning("the members of %s could not be read (%s)", room_id, error)

    def latest_file(self, room_id: str, user_id: str) -> PostedFile | None:
        return self.files.latest(room_id, user_id, self.clock.now())

    async def fetch_file(self, source: Mapping[str, Any]) -> dict[str, Any]:
        """A posted file's content (``bot.attachments.fetched``): deadline, size limit."""
        return await fetched(self.client, source)

    def decrypt(self, event: MegolmEvent) -> Any | None:
        """The decrypted event, or ``None`` while its room key is missing (then nothing is
        tried: a look-up, not nio's warning and wedged-session check, for each event kept)."""
        olm = self.client.olm
        if olm is not None and event.room_id and olm.inbound_group_store.get(
                event.room_id, event.sender_key, event.session_id) is None:
            return None
        try:
            return self.client.decrypt_event(event)
        except (EncryptionError, LocalProtocolError):
            return None

    async def close(self) -> None:
        if self._key_work is not None:
            self._key_work.cancel()
            await asyncio.gather(self._key_work, return_exceptions=True)
        await self.client.close()
        close_store(self.client)


def store_is_private(path: Path) -> bool:
    """Whether the store folder is closed to other users."""
    return (path.stat().st_mode & 0o077) == 0


def _implements(real: MatrixTransport) -> protocol.Transport:
    """mypy checks here that the real transport is a ``bot.transport.Transport``."""
    return real


