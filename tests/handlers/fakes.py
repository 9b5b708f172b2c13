"""Test doubles for the runtime: a transport that records what the Outbox sends."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.matrix_api import MatrixError
from bot.threads import ThreadHeads
from bot.transport import Transport
from commands.ports import FILE_SIZE_LIMIT, PostedFile, RoomFacts
from commands.threads import awaits_latest, with_latest


def record_sends(transport: Any) -> list[tuple[str, dict[str, Any], str]]:
    """Replaces ``transport.send`` by one that records (room, content, txn id) and succeeds."""
    sent: list[tuple[str, dict[str, Any], str]] = []

    async def send(room_id: str, content: dict[str, Any], txn_id: str,
                   event_type: str = "m.room.message") -> str:
        sent.append((room_id, content, txn_id))
        return f"$sent{len(sent)}"

    transport.send = send
    return sent


@dataclass(frozen=True)
class FakeErrorResponse:
    """What nio returns for a refused request: ``MatrixError`` reads these two attributes."""

    status_code: str
    message: str = "refused by the fake homeserver"


@dataclass(frozen=True)
class Sent:
    """One event as it landed in a room."""

    room_id: str
    event_type: str
    content: dict[str, Any]
    txn_id: str
    event_id: str


@dataclass
class FakeTransport:
    """A homeserver as the Outbox sees it (``bot.transport.Transport``).

    ``calls`` records every request; ``sent`` only what really landed in a room. With
    ``dedupe_txn`` (the default, like a homeserver), a request repeating a transaction id gets the
    first event id back and posts nothing. ``refuse`` maps a room to a Matrix error code; a
    permanent code raises ``MatrixError`` like the real transport does after its retries.
    ``fail_next`` holds exceptions raised by the next calls, one each (network trouble…).
    ``forbidden`` holds (``invite``/``state``, room) pairs the homeserver forbids to the bot
    (M_FORBIDDEN: its power level). Rooms are created with made-up ids (``created``,
    ``direct``), once ``creating`` is set (a slow homeserver), or refused (``fail_creation``);
    ``space_refused``: the club's space does not let the bot list a new room.
    """

    dedupe_txn: bool = True
    refuse: dict[str, str] = field(default_factory=dict)
    fail_next: list[BaseException] = field(default_factory=list)
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    invites: list[tuple[str, str]] = field(default_factory=list)
    states: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    _by_txn: dict[str, str] = field(default_factory=dict)
    forbidden: set[tuple[str, str]] = field(default_factory=set)
    created: list[dict[str, Any]] = field(default_factory=list)
    direct: list[tuple[str, str]] = field(default_factory=list)
    fail_creation: bool = False
    lose_creation_answers: int = 0  # direct rooms created whose answer is lost (a timeout)
    openings: dict[str, str] = field(default_factory=dict)  # a direct room's mark -> the room
    space_refused: bool = False
    creating: asyncio.Event = field(default_factory=asyncio.Event)
    threads: ThreadHeads = field(default_factory=ThreadHeads)  # as the real one (no requests)
    answered_at: float = 0.0  # loop time of the last request that went through
    refuse_body: dict[str, str] = field(default_factory=dict)  # a message's body -> error code
    creation_error: str | None = None  # every room creation fails with this code
    stalled: set[str] = field(default_factory=set)  # rooms whose sends wait for ``unstalled``
    unstalled: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.creating.set()

    def _forbid(self, kind: str, room_id: str) -> None:
        if (kind, room_id) in self.forbidden:
            raise MatrixError(kind, FakeErrorResponse("M_FORBIDDEN"))

    async def create_room(self, *, name: str, topic: str, space: str | None,
                          moderators: Sequence[str]) -> str:
        await self.creating.wait()
        if self.creation_error:
            raise MatrixError("create room", FakeErrorResponse(self.creation_error))
        if self.fail_creation:
            raise MatrixError("create room", FakeErrorResponse("M_FORBIDDEN"))
        room_id = f"!created{len(self.created) + 1}:example.org"
        self.created.append({"room_id": room_id, "name": name, "topic": topic, "space": space,
                             "moderators": list(moderators)})
        return room_id

    async def direct_room(self, user_id: str, opening: str = "") -> str:
        await self.creating.wait()
        if self.fail_creation:
            raise MatrixError("create direct room", FakeErrorResponse("M_FORBIDDEN"))
        room_id = f"!dm{len(self.direct) + 1}:example.org"
        self.direct.append((user_id, room_id))
        self.openings[opening] = room_id
        if self.lose_creation_answers:
            self.lose_creation_answers -= 1
            raise MatrixError("create direct room", TimeoutError("no answer"))
        return room_id

    async def opened_room(self, user_id: str, opening: str) -> str | None:
        room = self.openings.get(opening) if opening else None
        return room if room is not None and (user_id, room) in self.direct else None

    uploads: list[tuple[bytes, str, str]] = field(default_factory=list)
    members: dict[str, list[str]] = field(default_factory=dict)
    user_id: str = "@cctbot:example.org"

    pinned: dict[str, list[str]] = field(default_factory=dict)

    async def pin(self, room_id: str, event_id: str, unpin: list[str]) -> str:
        before = self.pinned.get(room_id, [])
        current = [e for e in before if e not in unpin and e != event_id]
        pinned = [*current, event_id] if event_id else current
        if pinned == before:
            return ""
        event = await self.put_state(room_id, "m.room.pinned_events", "", {"pinned": pinned})
        self.pinned[room_id] = pinned
        return event

    async def joined_members(self, room_id: str) -> list[str]:
        return list(self.members.get(room_id, []))

    async def relations(self, room_id: str, event_id: str) -> list[Any]:
        """No answers to native polls (the recount at start reads none)."""
        return []

    async def upload(self, room_id: str, data: bytes, mimetype: str,
                     filename: str) -> dict[str, Any]:
        self.uploads.append((data, mimetype, filename))
        return {"url": f"mxc://example.org/file{len(self.uploads)}"}

    left: list[str] = field(default_factory=list)
    encrypted: set[str] = field(default_factory=set)  # rooms whose messages are encrypted
    media: dict[str, bytes] = field(default_factory=dict)  # posted files by mxc url
    fetched: list[str] = field(default_factory=list)  # the urls fetched, in order
    files: dict[tuple[str, str], PostedFile] = field(default_factory=dict)  # (room, sender)

    def latest_file(self, room_id: str, user_id: str) -> PostedFile | None:
        return self.files.get((room_id, user_id))

    async def fetch_file(self, source: Mapping[str, Any]) -> dict[str, Any]:
        """As ``bot.attachments.fetched``: the content, or the problem."""
        url = str(source.get("url") or source.get("file", {}).get("url"))
        self.fetched.append(url)
        if url not in self.media:
            return {"problem": "unreadable"}
        if len(self.media[url]) > FILE_SIZE_LIMIT:
            return {"problem": "too_big"}
        return {"content": base64.b64encode(self.media[url]).decode()}

    def is_encrypted(self, room_id: str) -> bool:
        return room_id in self.encrypted

    async def leave(self, room_id: str) -> None:
        self.left.append(room_id)

    async def invite(self, room_id: str, user_id: str) -> None:
        self.calls.append((room_id, user_id, "invite"))
        self._forbid("invite", room_id)
        if (room_id, user_id) not in self.invites:
            self.invites.append((room_id, user_id))

    async def put_state(self, room_id: str, event_type: str, state_key: str,
                        content: dict[str, Any]) -> str:
        self.calls.append((room_id, state_key, event_type))
        self._forbid("state", room_id)
        if event_type == "m.space.child" and self.space_refused:
            raise MatrixError("space child", FakeErrorResponse("M_FORBIDDEN"))
        self.states.append((room_id, event_type, state_key, content))
        return f"$state{len(self.states)}"

    async def send(self, room_id: str, content: dict[str, Any], txn_id: str,
                   event_type: str = "m.room.message") -> str:
        self.calls.append((room_id, txn_id, event_type))
        if room_id in self.stalled:
            await self.unstalled.wait()
        if self.fail_next:
            raise self.fail_next.pop(0)
        code = self.refuse.get(room_id) or self.refuse_body.get(str(content.get("body")))
        if code is not None:
            error = MatrixError("send", FakeErrorResponse(code))
            raise error
        if self.dedupe_txn and txn_id in self._by_txn:
            return self._by_txn[txn_id]
        thread = awaits_latest(content)
        if thread is not None:
            content = with_latest(content, self.threads.latest(room_id, thread) or thread)
        event_id = f"$fake{len(self.sent) + 1}"
        self.threads.sent(room_id, content, event_id)
        self.answered_at = asyncio.get_running_loop().time()
        self._by_txn[txn_id] = event_id
        self.sent.append(Sent(room_id, event_type, content, txn_id, event_id))
        return event_id

    def bodies(self, room_id: str | None = None) -> list[str]:
        return [s.content.get("body", "") for s in self.sent if room_id in (None, s.room_id)]


@dataclass
class FakeMatrix:
    """What handlers may know of the homeserver (``commands.ports.MatrixPort``): ``rooms`` are
    the rooms the bot is in (address → id), with the power levels of their joined ``members``
    ((room id, user) → level); the members of the rooms in ``members_unknown`` are not loaded
    yet; ``direct`` are the direct rooms opened (the transport's, in a harness)."""

    rooms: dict[str, str] = field(default_factory=dict)
    members: dict[tuple[str, str], int] = field(default_factory=dict)
    members_unknown: set[str] = field(default_factory=set)
    direct: list[tuple[str, str]] = field(default_factory=list)
    left: set[tuple[str, str]] = field(default_factory=set)  # (room, person) no longer there
    # People's display names, for tests showing the bot no longer uses them (it once erased
    # them from recorded texts with ``display_names``).
    names: dict[str, list[str]] = field(default_factory=dict)

    async def display_names(self, user_id: str) -> list[str]:
        return list(self.names.get(user_id, []))

    files: dict[tuple[str, str], PostedFile] = field(default_factory=dict)  # (room, sender)

    def latest_file(self, room_id: str, user_id: str) -> PostedFile | None:
        return self.files.get((room_id, user_id))

    def is_member(self, room_id: str, user_id: str) -> bool:
        """Someone is in the rooms made for them (direct ones) until they leave (``left``)."""
        return (user_id, room_id) in self.direct and (room_id, user_id) not in self.left

    def room_facts(self, room: str, user_id: str) -> RoomFacts | None:
        room_id = self.rooms.get(room)
        if room_id is None:
            return None
        if (room_id, user_id) in self.members:
            return RoomFacts(room_id, True, self.members[room_id, user_id])
        return RoomFacts(room_id, None if room_id in self.members_unknown else False, 0)


def _implements(fake: FakeTransport) -> Transport:
    """mypy checks here that the fake is a ``Transport``."""
    return fake
