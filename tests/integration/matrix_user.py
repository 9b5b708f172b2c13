"""A human test user driving a real matrix-nio client, for integration tests.

Each :class:`MatrixUser` logs in with its own nio ``AsyncClient`` against a
:class:`devtools.devserver.LocalSynapse`, keeps a background sync loop running and
records every timeline event of its joined rooms (decrypted when the room is
encrypted), so tests can wait for the bot's answers without sleeping::

    alice = await MatrixUser.create(server, "alice")
    room_id = await alice.create_room(invite=[bot_user_id])
    await alice.wait_membership(room_id, bot_user_id)
    event_id = await alice.send_text(room_id, "!help")
    reply = await alice.wait_for_reply(room_id, event_id)
    await alice.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    Event,
    InviteMemberEvent,
    JoinError,
    LocalProtocolError,
    LoginResponse,
    MegolmEvent,
    MessageDirection,
    RoomCreateError,
    RoomInviteError,
    RoomLeaveError,
    RoomMemberEvent,
    RoomMessageNotice,
    RoomMessagesResponse,
    RoomSendResponse,
    SyncResponse,
)

from devtools.devserver import LocalSynapse

__all__ = ["MatrixUser", "reply_target"]

GAP_PAGES = 50  # at most 5,000 events read back to fill one limited timeline
# Room versions before 12 (MSC4289) list the creator in the power levels' users map.
_PRE_V12_ROOM_VERSIONS = frozenset(str(n) for n in range(1, 12))


def reply_target(event: Any) -> str | None:
    """Return the event id ``event`` replies to (``m.in_reply_to``), or ``None``."""
    source = getattr(event, "source", None)
    if not isinstance(source, dict):
        return None
    content = source.get("content")
    if not isinstance(content, dict):
        return None
    relates = content.get("m.relates_to")
    if not isinstance(relates, dict):
        return None
    in_reply_to = relates.get("m.in_reply_to")
    if not isinstance(in_reply_to, dict):
        return None
    target = in_reply_to.get("event_id")
    return target if isinstance(target, str) else None


def _describe(event: Any) -> str:
    """One-line summary of a recorded event, for timeout messages."""
    source = getattr(event, "source", {}) or {}
    body = getattr(event, "body", None)
    kind = type(event).__name__
    sender = getattr(event, "sender", "?")
    text = f" {body!r}" if body is not None else ""
    return f"{kind} from {sender}{text} ({source.get('event_id', '?')})"


class MatrixUser:
    """A registered account with a logged-in nio client and a running sync loop.

    Attributes:
        user_id: Full Matrix user id.
        password: The account password (``localpart + "-pw"``).
        client: The underlying ``nio.AsyncClient``; usable directly.
        events: Recorded timeline events per room id, in arrival order. Events
            that could not be decrypted yet are ``MegolmEvent`` and are replaced
            in place once their room key arrives.
        memberships: Latest known membership per room id and user id, from the
            sync's state and timeline sections.
    """

    def __init__(
        self,
        server: LocalSynapse,
        user_id: str,
        password: str,
        client: AsyncClient,
        temp_store: Path | None = None,
    ) -> None:
        """Wrap an already logged-in client; use :meth:`create` instead."""
        self.server = server
        self.user_id = user_id
        self.password = password
        self.client = client
        self.events: defaultdict[str, list[Event]] = defaultdict(list)
        self.memberships: defaultdict[str, dict[str, str]] = defaultdict(dict)
        self.sync_errors: list[str] = []
        self._condition = asyncio.Condition()
        self._key_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._temp_store = temp_store
        self._closed = False

    # ------------------------------------------------------------------ set up

    @classmethod
    async def create(
        cls,
        server: LocalSynapse,
        localpart: str,
        *,
        encryption: bool = False,
        store_dir: Path | None = None,
    ) -> MatrixUser:
        """Register ``localpart`` (if needed), log in, sync once, start the loop.

        Args:
            server: The running homeserver.
            localpart: Account name; the password is ``localpart + "-pw"`` and the
                device id ``"TEST" + localpart.upper()``.
            encryption: Enable end-to-end encryption (olm/megolm via vodozemac).
            store_dir: Where nio keeps its crypto store; a temporary directory
                (deleted by :meth:`close`) when ``None`` and encryption is on.
        """
        password = f"{localpart}-pw"
        user_id = await asyncio.to_thread(server.register, localpart, password)
        temp_store: Path | None = None
        if encryption:
            if store_dir is None:
                temp_store = Path(tempfile.mkdtemp(prefix=f"nio-{localpart}-"))
                store_dir = temp_store
            store_dir.mkdir(parents=True, exist_ok=True)
        config = AsyncClientConfig(
            encryption_enabled=encryption,
            store_sync_tokens=False,
            # Retry quickly after an outage instead of nio's 60 s back-off cap.
            max_timeout_retry_wait_time=2,
            request_timeout=60,
        )
        client = AsyncClient(
            server.url,
            user_id,
            device_id=f"TEST{localpart.upper()}",
            store_path=str(store_dir) if store_dir is not None else "",
            config=config,
        )
        user = cls(server, user_id, password, client, temp_store)
        try:
            resp = await client.login(password, device_name=f"test {localpart}")
            if not isinstance(resp, LoginResponse):
                raise RuntimeError(f"login of {user_id} failed: {resp}")
            if client.should_upload_keys:
                await client.keys_upload()
            first = await client.sync(timeout=0, full_state=True)
            if not isinstance(first, SyncResponse):
                raise RuntimeError(f"first sync of {user_id} failed: {first}")
            user._record(first)
            await user._key_maintenance()
        except BaseException:
            await user.close()
            raise
        user._task = asyncio.create_task(user._sync_loop(), name=f"sync-{user_id}")
        return user

    async def close(self) -> None:
        """Stop the sync loop and close the client (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        await self.client.close()
        if self._temp_store is not None:
            shutil.rmtree(self._temp_store, ignore_errors=True)

    # ------------------------------------------------------------------ sync loop

    async def _sync_loop(self) -> None:
        """Long-poll /sync forever, doing key maintenance like nio's sync_forever."""
        while True:
            try:
                resp = await self.client.sync(timeout=30000, since=self.client.next_batch)
                if isinstance(resp, SyncResponse):
                    gaps = {room_id: (len(self.events[room_id]), info.timeline.prev_batch)
                            for room_id, info in resp.rooms.join.items()
                            if info.timeline.limited and info.timeline.prev_batch}
                    self._record(resp)
                    for room_id, (at, token) in gaps.items():
                        await self._fill_gap(room_id, at, token)
                    self._retry_decryption()
                    async with self._condition:
                        self._condition.notify_all()
                    await self.client.send_to_device_messages()
                    await self._key_maintenance()
                else:
                    self.sync_errors.append(str(resp))
                    await asyncio.sleep(0.5)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # server restarts/outages: keep going
                self.sync_errors.append(repr(exc))
                await asyncio.sleep(0.5)

    async def _key_maintenance(self) -> None:
        """Upload, query and claim keys when nio says so (no-op without e2e)."""
        if self.client.olm is None:
            return
        async with self._key_lock:
            with contextlib.suppress(LocalProtocolError):
                if self.client.should_upload_keys:
                    await self.client.keys_upload()
            with contextlib.suppress(LocalProtocolError):
                if self.client.should_query_keys:
                    await self.client.keys_query()
            with contextlib.suppress(LocalProtocolError):
                if self.client.should_claim_keys:
                    await self.client.keys_claim(self.client.get_users_for_key_claiming())

    def _record(self, resp: SyncResponse) -> None:
        """Store timeline events and memberships of one sync response."""
        for room_id, info in resp.rooms.join.items():
            members = self.memberships[room_id]
            members[self.user_id] = "join"
            for event in info.state:
                if isinstance(event, RoomMemberEvent):
                    members[event.state_key] = event.membership
            for event in info.timeline.events:
                self.events[room_id].append(event)
                if isinstance(event, RoomMemberEvent):
                    members[event.state_key] = event.membership
        for room_id, invite in resp.rooms.invite.items():
            members = self.memberships[room_id]
            members[self.user_id] = "invite"
            for event in invite.invite_state:
                if isinstance(event, InviteMemberEvent):
                    members[event.state_key] = event.membership
        for room_id, info in resp.rooms.leave.items():
            members = self.memberships[room_id]
            members[self.user_id] = "leave"
            for event in info.timeline.events:
                self.events[room_id].append(event)
                if isinstance(event, RoomMemberEvent):
                    members[event.state_key] = event.membership

    async def _fill_gap(self, room_id: str, at: int, token: str) -> None:
        """A limited timeline (more events than the sync returns, 10 by default: a busy bot,
        a slow client) skipped events: they are read back from ``token`` with ``/messages``
        until a recorded one, and put in their place, before the sync's own events (``at``)."""
        known = {event.event_id for event in self.events[room_id]}
        missing: list[Event] = []
        for _page in range(GAP_PAGES):
            page = await self.client.room_messages(room_id, start=token,
                                                   direction=MessageDirection.back, limit=100)
            if not isinstance(page, RoomMessagesResponse):
                self.sync_errors.append(f"gap in {room_id} not filled: {page}")
                break
            older = [event for event in page.chunk if event.event_id not in known]
            missing += older
            if len(older) < len(page.chunk) or not page.chunk or not page.end:
                break
            token = page.end
        missing.reverse()  # /messages backwards: newest first
        self.events[room_id][at:at] = missing

    def _retry_decryption(self) -> None:
        """Decrypt recorded events whose room key arrived after them."""
        if self.client.olm is None:
            return
        for events in self.events.values():
            for index, event in enumerate(events):
                if isinstance(event, MegolmEvent):
                    with contextlib.suppress(Exception):
                        decrypted = self.client.decrypt_event(event)
                        if not isinstance(decrypted, MegolmEvent) and hasattr(decrypted, "source"):
                            events[index] = decrypted

    # ------------------------------------------------------------------ waiting

    async def _wait_until(self, check: Callable[[], Any], timeout: float, what: str) -> Any:
        """Wait until ``check()`` returns something truthy; return it."""

        async def waiter() -> Any:
            async with self._condition:
                while True:
                    result = check()
                    if result:
                        return result
                    await self._condition.wait()

        try:
            return await asyncio.wait_for(waiter(), timeout)
        except TimeoutError:
            raise TimeoutError(f"{self.user_id}: timed out after {timeout} s waiting for {what}") from None

    async def wait_for(
        self,
        room_id: str,
        predicate: Callable[[Event], bool],
        timeout: float = 30,
    ) -> Event:
        """Return the first recorded event in ``room_id`` matching ``predicate``.

        Looks at events already recorded, then at new ones as they arrive.

        Raises:
            TimeoutError: Nothing matched within ``timeout`` seconds (the message
                lists what was recorded in the room).
        """

        def check() -> Event | None:
            for event in self.events.get(room_id, []):
                if predicate(event):
                    return event
            return None

        try:
            result: Event = await self._wait_until(check, timeout, f"an event in {room_id}")
        except TimeoutError as exc:
            seen = "\n  ".join(_describe(e) for e in self.events.get(room_id, [])[-20:])
            raise TimeoutError(f"{exc}; last events:\n  {seen or '(none)'}") from None
        return result

    async def wait_for_reply(
        self,
        room_id: str,
        to_event_id: str,
        timeout: float = 30,
    ) -> RoomMessageNotice:
        """Wait for an ``m.notice`` replying (``m.in_reply_to``) to ``to_event_id``."""
        event: RoomMessageNotice = await self.wait_for(
            room_id,
            lambda e: isinstance(e, RoomMessageNotice) and reply_target(e) == to_event_id,
            timeout,
        )
        return event

    def replies_to(self, room_id: str, event_id: str) -> list[Event]:
        """All recorded notices in ``room_id`` replying to ``event_id``."""
        return [
            e
            for e in self.events.get(room_id, [])
            if isinstance(e, RoomMessageNotice) and reply_target(e) == event_id
        ]

    def unanswered(self, room_id: str, event_ids: list[str]) -> list[str]:
        """Those of ``event_ids`` that no recorded notice in ``room_id`` replies to."""
        answered = {reply_target(e) for e in self.events.get(room_id, [])
                    if isinstance(e, RoomMessageNotice)}
        return [event_id for event_id in event_ids if event_id not in answered]

    async def wait_until(self, check: Callable[[], Any], timeout: float, what: str) -> Any:
        """Wait until ``check()`` returns something truthy (checked after each sync)."""
        return await self._wait_until(check, timeout, what)

    async def wait_membership(
        self,
        room_id: str,
        user_id: str,
        membership: str = "join",
        timeout: float = 30,
    ) -> None:
        """Wait until this client has seen ``user_id``'s membership become ``membership``."""
        await self._wait_until(
            lambda: self.memberships.get(room_id, {}).get(user_id) == membership,
            timeout,
            f"{user_id} to {membership} {room_id}",
        )

    # ------------------------------------------------------------------ actions

    async def create_room(
        self,
        *,
        name: str = "test",
        invite: Sequence[str] = (),
        encrypted: bool = False,
        power_levels: dict[str, int] | None = None,
        room_version: str | None = None,
    ) -> str:
        """Create a private room and return its id once the sync loop has seen it.

        Args:
            name: Room name.
            invite: Users invited at creation.
            encrypted: Add ``m.room.encryption`` (megolm) to the initial state.
            power_levels: User id → power level for the ``users`` map. In room
                version 12 (Synapse's default) the creator has unlimited power and
                must not appear in that map, so it is left out; for older
                versions the creator is added at 100.
            room_version: Room version to create (server default when ``None``).
        """
        initial_state: list[dict[str, Any]] = []
        if encrypted:
            initial_state.append(
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            )
        override: dict[str, Any] | None = None
        if power_levels is not None:
            users = {u: level for u, level in power_levels.items() if u != self.user_id}
            if room_version in _PRE_V12_ROOM_VERSIONS:
                users[self.user_id] = power_levels.get(self.user_id, 100)
            override = {"users": users}
        resp = await self.client.room_create(
            name=name,
            invite=list(invite),
            initial_state=initial_state,
            power_level_override=override,
            room_version=room_version,
        )
        if isinstance(resp, RoomCreateError):
            raise RuntimeError(f"{self.user_id}: room creation failed: {resp}")
        room_id: str = resp.room_id
        await self.wait_membership(room_id, self.user_id, "join")
        await self._wait_until(lambda: room_id in self.client.rooms, 30, f"room {room_id}")
        return room_id

    async def invite(self, room_id: str, user_id: str) -> None:
        """Invite ``user_id`` into ``room_id``."""
        resp = await self.client.room_invite(room_id, user_id)
        if isinstance(resp, RoomInviteError):
            raise RuntimeError(f"{self.user_id}: inviting {user_id} failed: {resp}")

    async def join(self, room_id: str) -> None:
        """Join ``room_id`` and wait until the sync loop reports the room joined."""
        resp = await self.client.join(room_id)
        if isinstance(resp, JoinError):
            raise RuntimeError(f"{self.user_id}: joining {room_id} failed: {resp}")
        await self.wait_membership(room_id, self.user_id, "join")

    async def leave(self, room_id: str) -> None:
        """Leave ``room_id`` (or reject its invite) and wait until synced."""
        resp = await self.client.room_leave(room_id)
        if isinstance(resp, RoomLeaveError):
            raise RuntimeError(f"{self.user_id}: leaving {room_id} failed: {resp}")
        await self.wait_membership(room_id, self.user_id, "leave")

    async def send_text(self, room_id: str, body: str, *, html: str | None = None) -> str:
        """Send an ``m.text`` message (encrypted if the room is) and return its event id.

        For encrypted rooms the room's member list and device keys are refreshed
        first, so every member's device (the bot's included) gets the room key;
        unverified devices are accepted.
        """
        content: dict[str, Any] = {"msgtype": "m.text", "body": body}
        if html is not None:
            content["format"] = "org.matrix.custom.html"
            content["formatted_body"] = html
        await self._wait_until(lambda: room_id in self.client.rooms, 30, f"room {room_id}")
        room = self.client.rooms[room_id]
        if room.encrypted and self.client.olm is not None:
            await self.client.joined_members(room_id)
            await self._key_maintenance()
        resp = await self.client.room_send(
            room_id,
            "m.room.message",
            content,
            ignore_unverified_devices=True,
        )
        if not isinstance(resp, RoomSendResponse):
            raise RuntimeError(f"{self.user_id}: sending to {room_id} failed: {resp}")
        event_id: str = resp.event_id
        return event_id
