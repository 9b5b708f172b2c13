"""What the bot knows of its rooms from the sync (``SyncedRooms``, part of
``bot.matrix.MatrixTransport``): members and their names, power levels, creators, encryption.
No request: nio's room state as last synced."""

from __future__ import annotations

import copy
from collections.abc import Iterable

from nio import AsyncClient, PowerLevelsEvent, RoomCreateEvent, RoomMemberEvent, SyncResponse

from bot.matrix_api import room_from_link
from commands.pills import RoomNames
from commands.ports import RoomFacts


class SyncedRooms:
    """The rooms' synced state, read; ``forget_room`` when the bot leaves one."""

    client: AsyncClient
    _names: RoomNames
    _creators: dict[str, set[str]]

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

    def _follow_creators(self, response: SyncResponse) -> None:
        """A room's creators, from its ``m.room.create`` event: every sync that (re)joins a room
        brings its state with it (and the full-state sync at start, every room's)."""
        for room_id, info in response.rooms.join.items():
            for event in (*info.state, *info.timeline.events):
                if isinstance(event, RoomCreateEvent):
                    content = event.source.get("content", {})
                    extra = content.get("additional_creators", [])
                    self._creators[room_id] = {event.sender, *(
                        str(user) for user in (extra if isinstance(extra, list) else []))}

    def creators(self, room_id: str) -> set[str]:
        """The room's creators (in room version 12 they outrank every power level), as synced;
        empty for a room the bot is not in."""
        return self._creators.get(room_id, set())

    def may_redact(self, room_id: str, user_id: str) -> bool:
        """Whether ``user_id`` may redact other people's events in ``room_id``, a room the bot
        is in: the room's ``redact`` power level, or a creator of it."""
        room = self.client.rooms.get(room_id)
        if room is None:
            return False
        return bool(room.power_levels.can_user_redact(user_id)
                    or user_id in self.creators(room_id))

    def forget_room(self, room_id: str) -> None:
        """Drops what is known of a room the bot is no longer in (nio 0.26 keeps a left room
        as it was: its members, power levels and creators would still be read). A room once
        encrypted stays known as encrypted."""
        self.client.rooms.pop(room_id, None)
        self.client.invited_rooms.pop(room_id, None)
        self._creators.pop(room_id, None)
        self._names.forget(room_id)

    def member_names(self, room_id: str) -> dict[str, str | None]:
        """The display names of a room's members, joined or invited (``None``: no name set), as
        last synced; empty for a room the bot is not in."""
        room = self.client.rooms.get(room_id)
        return {user_id: user.display_name for user_id, user in room.users.items()} if room else {}

    async def pill_names(self, room_id: str, users: Iterable[str]) -> dict[str, str]:
        """The names the pills of ``users`` may show in a room (``commands.pills.RoomNames``:
        the room's whole member list is read at its first message with pills only)."""
        return await self._names.shown(room_id, users, lambda: self.member_names(room_id))

    def _follow_names(self, response: SyncResponse) -> None:
        """The members a sync changed (joined, invited, renamed, gone), after nio applied it:
        the pills' names of their rooms follow."""
        for room_id, info in response.rooms.join.items():
            changed = {event.state_key for event in (*info.state, *info.timeline.events)
                       if isinstance(event, RoomMemberEvent)}
            room = self.client.rooms.get(room_id)
            for user_id in changed:
                user = room.users.get(user_id) if room is not None else None
                self._names.update(room_id, user_id, user.display_name if user else None)

    def is_encrypted(self, room_id: str) -> bool:
        """Whether the room is encrypted, or was when the bot was last in it (a room rejoined is
        known again only at the next sync: what is sent there meanwhile is encrypted too)."""
        room = self.client.rooms.get(room_id)
        return bool(room is not None and room.encrypted) or room_id in self.client.encrypted_rooms

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
