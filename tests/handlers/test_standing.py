"""Who is a club member, with which role, and where a command is said (``bot.standing``), from
the rooms' state (a stand-in for nio's) and the groups' rooms in a real database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast
from zoneinfo import ZoneInfo

from bot.matrix import MatrixTransport
from bot.settings import ClubSettings
from bot.standing import Standings
from commands.context import Place, Standing
from commands.roles import Role
from storage.db import Database
from tests.handlers.conftest import START

MAIN, NORTH, GROUP, DIRECT, OTHER = (f"!{name}:example.org" for name in
                                     ("main", "north", "velo", "direct", "partners"))
ALICE, BOB, CAROL, DAVE = (f"@{name}:example.org" for name in ("alice", "bob", "carol", "dave"))
CHAIR = "@chair:example.org"
UTC = ZoneInfo("UTC")


@dataclass
class Rooms:
    """What the transport knows of the rooms: who is joined (``None``: not known yet), power
    levels, creators."""

    joined: dict[str, set[str]] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)
    levels: dict[tuple[str, str], int] = field(default_factory=dict)

    def joined_to(self, room_id: str, user_id: str) -> bool | None:
        if user_id in self.joined.get(room_id, set()):
            return True
        return None if room_id in self.unknown or room_id not in self.joined else False

    def alone_with(self, room_id: str, user_id: str) -> bool:
        return self.joined.get(room_id) == {"@bot:example.org", user_id}

    def power_level(self, room_id: str, user_id: str) -> int:
        return self.levels.get((room_id, user_id), 0)

    def creators(self, room_id: str) -> set[str]:
        return {CHAIR} if room_id == MAIN else set()


def standings(rooms: Rooms, main: str | None = MAIN) -> Standings:
    transport = cast(MatrixTransport, type("T", (), {
        "joined": staticmethod(rooms.joined_to), "alone_with": staticmethod(rooms.alone_with),
        "power_level": staticmethod(rooms.power_level),
        "creators": staticmethod(rooms.creators)})())
    club = ClubSettings(name="CCT", timezone="Europe/Paris", language="fr", prefix="!",
                        coordinators=(DAVE,), allowed_inviters=(), welcome_message="",
                        charter="")
    return Standings(transport, club, lambda: {MAIN: "main", NORTH: "north"}, lambda: main)


async def test_members_roles_and_places(db: Database) -> None:
    rooms = Rooms(joined={MAIN: {"@bot:example.org", ALICE, CHAIR}, NORTH: {BOB},
                          GROUP: {CAROL, ALICE}, DIRECT: {"@bot:example.org", ALICE},
                          OTHER: {ALICE, "@eve:example.org"}},
                  levels={(MAIN, ALICE): 50})
    found = standings(rooms)
    async with db.transaction() as repos:
        assert await found.standing_of(BOB, NORTH, repos) == Standing(Role.PARTICIPANT,
                                                                       Place.CLUB)
        # Carol is only in a room no group has yet: a visitor.
        assert await found.standing_of(CAROL, GROUP, repos) == Standing(Role.VISITOR,
                                                                        Place.OTHER)
        group = await repos.groups.create(name="Vélo", name_key="velo", slug="velo",
                                          description="", theme="mobilite", territory="sud",
                                          status="idee", created_by=ALICE, at=START)
        group.room_id = GROUP
    async with db.transaction() as repos:
        # A group's room now, but Carol is not a member of the group: a visitor still.
        assert await found.standing_of(CAROL, GROUP, repos) == Standing(Role.VISITOR,
                                                                        Place.GROUP)
        assert not await found.is_member(CAROL, repos)
        await repos.groups.add_member(group.id, CAROL, START, tz=UTC)
    async with db.transaction() as repos:
        assert await found.standing_of(CAROL, GROUP, repos) == Standing(Role.PARTICIPANT,
                                                                        Place.GROUP)
        assert await found.is_member(CAROL, repos)
        assert await found.standing_of(ALICE, DIRECT, repos) == Standing(Role.COORDINATOR,
                                                                         Place.DIRECT)
        assert await found.standing_of(ALICE, OTHER, repos) == Standing(Role.COORDINATOR,
                                                                        Place.OTHER)
        # Eve is only in the partners' room; Dave is a coordinator by the config, anywhere.
        assert await found.standing_of("@eve:example.org", OTHER, repos) == Standing(
            Role.VISITOR, Place.OTHER)
        assert not await found.is_member("@eve:example.org", repos)
        assert await found.standing_of(DAVE, OTHER, repos) == Standing(Role.COORDINATOR,
                                                                       Place.OTHER)
        assert await found.is_member(DAVE, repos)
        assert await found.role_of(CHAIR) == Role.COORDINATOR  # the main room's creator
        # Members not loaded yet are not assumed to be there.
        rooms.unknown.add(NORTH)
        rooms.joined[NORTH] = set()
        assert (await found.standing_of(BOB, NORTH, repos)).role == Role.VISITOR
        # Without the main room (the bot is out of it), its levels decide nothing.
        assert await standings(rooms, main=None).role_of(ALICE) == Role.PARTICIPANT


async def test_people_a_referent_invites_into_a_group_s_room_are_not_club_members(
        db: Database) -> None:
    """A referent moderates their group's room (created by the bot, or one they linked) and may
    invite anyone there: only the group's own members, who joined it as club members, count;
    they still do once they left the club's rooms."""
    rooms = Rooms(joined={MAIN: {ALICE}, GROUP: {ALICE, BOB, "@eve:example.org"}})
    found = standings(rooms)
    async with db.transaction() as repos:
        group = await repos.groups.create(name="Vélo", name_key="velo", slug="velo",
                                          description="", theme="mobilite", territory="sud",
                                          status="idee", created_by=ALICE, at=START)
        await repos.groups.add_member(group.id, ALICE, START, tz=UTC, referent=True)
        await repos.groups.add_member(group.id, BOB, START, tz=UTC)
        group.room_id = GROUP
    rooms.joined[MAIN].discard(ALICE)  # Alice left the main room, Bob never was there
    async with db.transaction() as repos:
        for member in (ALICE, BOB):
            assert await found.is_member(member, repos)
            assert (await found.standing_of(member, GROUP, repos)).role == Role.PARTICIPANT
        assert not await found.is_member("@eve:example.org", repos)
        assert await found.standing_of("@eve:example.org", GROUP, repos) == Standing(
            Role.VISITOR, Place.GROUP)
        # Bob left the group: being in its room no longer makes him a member.
        await repos.groups.remove_member(group.id, BOB)
        assert not await found.is_member(BOB, repos)
