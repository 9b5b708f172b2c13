"""``!calendrier``: the subscription links that fit the room (territory, group, whole club),
or, without the web server, what to do instead."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.outbox import Outbox
from commands.registry import Registry
from storage.db import Database
from tests.handlers.conftest import ALICE, START, Harness, make_club, make_harness
from tests.handlers.fakes import FakeTransport

MAIN, NORTH, SOUTH = "!main:example.org", "!north:example.org", "!south:example.org"
GROUP_ROOM = "!velo:example.org"
SITE = "https://agenda.example.org"


def harness(db: Database, clock: FakeClock, transport: FakeTransport, outbox: Outbox,
            registry: Registry, web_url: str) -> Harness:
    club = replace(make_club(), rooms={"main": MAIN, "north": NORTH, "south": SOUTH},
                   web_url=web_url)
    return make_harness(db, clock, transport, outbox, registry, club)


@pytest.fixture
def bot(db: Database, clock: FakeClock, transport: FakeTransport, outbox: Outbox,
        registry: Registry) -> Harness:
    return harness(db, clock, transport, outbox, registry, SITE)


async def ask(bot: Harness, line: str, room: str) -> str:
    bot.clock.advance(timedelta(seconds=1))
    return str((await bot.command(line, sender=ALICE, room_id=room))[0].content["body"])


async def test_the_south_room_gets_the_south_feed(bot: Harness) -> None:
    answer = await ask(bot, "!calendrier", SOUTH)
    assert "du territoire sud (et de tout le club)" in answer
    assert "`webcal://agenda.example.org/calendrier/territoire/sud.ics`" in answer
    assert f"{SITE}/calendrier/territoire/sud.ics" in answer
    assert f"{SITE}/calendrier.ics" in answer  # and the whole programme's
    assert "nord.ics" not in answer


async def test_the_main_room_gets_the_whole_programme(bot: Harness) -> None:
    answer = await ask(bot, "!calendar", MAIN)
    assert "de tout le club" in answer
    assert "`webcal://agenda.example.org/calendrier.ics`" in answer
    assert "territoire" not in answer.split("Mis à jour")[0].replace("territoire sud", "")


async def test_a_group_room_gets_its_group_feed(bot: Harness) -> None:
    async with bot.db.transaction() as repos:
        group = await repos.groups.create(name="Vélo *partagé*", name_key="velo partage",
                                          slug="velo", description="", theme="mobilite",
                                          territory="sud", status="actif",
                                          created_by=ALICE, at=START)
        group.room_id = GROUP_ROOM
    bot.clock.advance(timedelta(seconds=1))
    [sent] = await bot.command("!abonnement", sender=ALICE, room_id=GROUP_ROOM)
    answer = str(sent.content["body"])
    assert "du groupe-projet « Vélo *partagé* »" in answer
    assert "<em>" not in str(sent.content["formatted_body"])  # the name is not Markdown
    assert f"webcal://agenda.example.org/calendrier/groupe/{group.id}.ics" in answer


async def test_without_the_web_server(db: Database, clock: FakeClock, transport: FakeTransport,
                                      outbox: Outbox, registry: Registry) -> None:
    bot = harness(db, clock, transport, outbox, registry, "")
    answer = await ask(bot, "!calendrier", SOUTH)
    assert answer.startswith("Le site du club n'est pas activé")
    assert "!rencontre ics" in answer and "://" not in answer
