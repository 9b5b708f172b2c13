"""Who belongs to the club, with which role, and where a command is said: read from the rooms'
state the bot syncs (no request to the homeserver while a command runs).

A club member is a member of one of the club's configured rooms, or of the room of a group
they joined (``!projet rejoindre``: only a club member can), or a coordinator named in the
config; anyone else is a visitor. Being in a group's room is not enough: its moderators (any
referent) may invite anyone there. Roles come from the main room's current power levels and
creators.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.matrix import MatrixTransport
from bot.settings import ClubSettings
from commands.context import Place, Standing
from commands.roles import Role
from storage.repositories import Repositories


class Standings:
    """The role and place of each command's sender, from the bot's synced state."""

    def __init__(self, transport: MatrixTransport, club: ClubSettings,
                 club_rooms: Callable[[], Mapping[str, str]],
                 main_room: Callable[[], str | None]) -> None:
        self.transport = transport
        self.club = club
        self.club_rooms = club_rooms  # room id -> role (main, north…) of the rooms joined
        self.main_room = main_room

    async def role_of(self, user_id: str) -> Role:
        """Coordinator if listed in the config, or moderator (power ≥ threshold) or creator of
        the main room; otherwise participant (membership is not checked here)."""
        if user_id in self.club.coordinators:
            return Role.COORDINATOR
        main = self.main_room()
        if main is None:
            return Role.PARTICIPANT
        if self.transport.power_level(main, user_id) >= self.club.coordinator_power_level:
            return Role.COORDINATOR
        if user_id in self.transport.creators(main):
            return Role.COORDINATOR
        return Role.PARTICIPANT

    async def is_member(self, user_id: str, repos: Repositories) -> bool:
        """Whether ``user_id`` is in one of the club's rooms, or in the room of a group they
        are a member of (read from the database only for people in no club room)."""
        if user_id in self.club.coordinators or self._in_any(self.club_rooms(), user_id):
            return True
        return self._in_any(await repos.groups.rooms_of(user_id), user_id)

    async def standing_of(self, user_id: str, room_id: str, repos: Repositories) -> Standing:
        """The sender's role (``VISITOR`` if not a member) and where they speak."""
        role = await self.role_of(user_id)
        if role < Role.COORDINATOR and not await self.is_member(user_id, repos):
            role = Role.VISITOR
        return Standing(role, await self._place(room_id, user_id, repos))

    async def _place(self, room_id: str, user_id: str, repos: Repositories) -> Place:
        if room_id in self.club_rooms():
            return Place.CLUB
        if self.transport.alone_with(room_id, user_id):
            return Place.DIRECT
        return Place.GROUP if room_id in await repos.groups.room_ids() else Place.OTHER

    def _in_any(self, rooms: Mapping[str, str] | set[str], user_id: str) -> bool:
        return any(self.transport.joined(room_id, user_id) for room_id in rooms)
