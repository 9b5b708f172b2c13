"""Test doubles for the runtime: a transport that records what the Outbox sends."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.matrix import MatrixError
from commands.ports import RoomFacts, RoomUnavailable


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
    """The part of ``bot.matrix.Transport`` the Outbox uses: ``send``.

    ``calls`` records every request; ``sent`` only what really landed in a room. With
    ``dedupe_txn`` (the default, like a homeserver), a request repeating a transaction id gets the
    first event id back and posts nothing. ``refuse`` maps a room to a Matrix error code; a
    permanent code raises ``MatrixError`` like the real transport does after its retries.
    ``fail_next`` holds exceptions raised by the next calls, one each (network trouble…).
    """

    dedupe_txn: bool = True
    refuse: dict[str, str] = field(default_factory=dict)
    fail_next: list[BaseException] = field(default_factory=list)
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    invites: list[tuple[str, str]] = field(default_factory=list)
    states: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    _by_txn: dict[str, str] = field(default_factory=dict)

    uploads: list[tuple[bytes, str, str]] = field(default_factory=list)
    members: dict[str, list[str]] = field(default_factory=dict)
    user_id: str = "@cctbot:example.org"

    pinned: dict[str, list[str]] = field(default_factory=dict)

    async def pin(self, room_id: str, event_id: str, unpin: list[str]) -> str:
        current = [e for e in self.pinned.get(room_id, []) if e not in unpin and e != event_id]
        self.pinned[room_id] = [*current, event_id] if event_id else current
        return await self.put_state(room_id, "m.room.pinned_events", "",
                                    {"pinned": self.pinned[room_id]})

    async def joined_members(self, room_id: str) -> list[str]:
        return list(self.members.get(room_id, []))

    async def upload(self, room_id: str, data: bytes, mimetype: str,
                     filename: str) -> dict[str, Any]:
        self.uploads.append((data, mimetype, filename))
        return {"url": f"mxc://example.org/file{len(self.uploads)}"}

    left: list[str] = field(default_factory=list)

    async def leave(self, room_id: str) -> None:
        self.left.append(room_id)

    async def invite(self, room_id: str, user_id: str) -> None:
        self.calls.append((room_id, user_id, "invite"))
        if (room_id, user_id) not in self.invites:
            self.invites.append((room_id, user_id))

    async def put_state(self, room_id: str, event_type: str, state_key: str,
                        content: dict[str, Any]) -> str:
        self.calls.append((room_id, state_key, event_type))
        self.states.append((room_id, event_type, state_key, content))
        return f"$state{len(self.states)}"

    async def send(self, room_id: str, content: dict[str, Any], txn_id: str,
                   event_type: str = "m.room.message") -> str:
        self.calls.append((room_id, txn_id, event_type))
        if self.fail_next:
            raise self.fail_next.pop(0)
        code = self.refuse.get(room_id)
        if code is not None:
            error = MatrixError("send", FakeErrorResponse(code))
            raise error
        if self.dedupe_txn and txn_id in self._by_txn:
            return self._by_txn[txn_id]
        event_id = f"$fake{len(self.sent) + 1}"
        self._by_txn[txn_id] = event_id
        self.sent.append(Sent(room_id, event_type, content, txn_id, event_id))
        return event_id

    def bodies(self, room_id: str | None = None) -> list[str]:
        return [s.content.get("body", "") for s in self.sent if room_id in (None, s.room_id)]


@dataclass
class FakeMatrix:
    """What handlers may ask the homeserver at once (``commands.ports.MatrixPort``): rooms are
    created with made-up ids; ``rooms`` are the rooms the bot is in (address → id), with the
    power levels of their joined ``members`` ((room id, user) → level); the members of the
    rooms in ``members_unknown`` are not loaded yet."""

    created: list[dict[str, Any]] = field(default_factory=list)
    rooms: dict[str, str] = field(default_factory=dict)
    members: dict[tuple[str, str], int] = field(default_factory=dict)
    members_unknown: set[str] = field(default_factory=set)
    fail_creation: bool = False
    direct: list[tuple[str, str]] = field(default_factory=list)
    left: set[tuple[str, str]] = field(default_factory=set)  # (room, person) no longer there
    # People's display names, for tests showing the bot no longer uses them (it once erased
    # them from recorded texts with ``display_names``).
    names: dict[str, list[str]] = field(default_factory=dict)

    async def create_room(self, *, name: str, topic: str, space: str | None,
                          moderators: Mapping[str, int]) -> str:
        if self.fail_creation:
            raise RoomUnavailable("refused")
        room_id = f"!created{len(self.created) + 1}:example.org"
        self.created.append({"room_id": room_id, "name": name, "topic": topic, "space": space,
                             "moderators": dict(moderators)})
        return room_id

    async def display_names(self, user_id: str) -> list[str]:
        return list(self.names.get(user_id, []))

    def is_member(self, room_id: str, user_id: str) -> bool:
        """Someone is in the rooms made for them (direct ones) until they leave (``left``)."""
        return (user_id, room_id) in self.direct and (room_id, user_id) not in self.left

    async def direct_room(self, user_id: str) -> str:
        if self.fail_creation:
            raise RoomUnavailable("refused")
        room_id = f"!dm{len(self.direct) + 1}:example.org"
        self.direct.append((user_id, room_id))
        return room_id

    def room_facts(self, room: str, user_id: str) -> RoomFacts | None:
        room_id = self.rooms.get(room)
        if room_id is None:
            return None
        if (room_id, user_id) in self.members:
            return RoomFacts(room_id, True, self.members[room_id, user_id])
        return RoomFacts(room_id, None if room_id in self.members_unknown else False, 0)
