"""What one person may make the bot do (``[limits]``): groups, remontées and initiatives per
24 hours, suggestions waiting per rencontre. A person at a cap is told the limit and when to
try again, and nothing is written (no row, no participation); coordinators have no cap."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.outbox import Outbox
from commands.caps import Limits
from commands.registry import Registry
from commands.reports.erasure import purge_messages
from storage.db import Database
from tests.handlers.conftest import (
    ALICE,
    COORDINATOR,
    START,
    Harness,
    make_club,
    make_harness,
    table_snapshot,
)
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.fakes import FakeTransport

BOB = "@bob:example.org"
TABLES = ("project_groups", "group_members", "remontees", "initiatives", "agenda_suggestions",
          "audit_log", "participants", "participant_years", "outbox", "cap_uses")


@pytest.fixture
def bot(db: Database, clock: FakeClock, transport: FakeTransport, outbox: Outbox,  # noqa: F811
        registry: Registry) -> Harness:
    club = replace(make_club(), coordinators=(COORDINATOR,),
                   limits=Limits(groups_per_day=3, suggestions_per_meeting=2,
                                 remontees_per_day=2, initiatives_per_day=2))
    return make_harness(db, clock, transport, outbox, registry, club)


async def ask(bot: Harness, body: str, sender: str = ALICE) -> str:
    return await bot.reply_to(body, sender=sender)


async def refused(bot: Harness, body: str, sender: str = ALICE) -> str:
    """The reply to a command that must change nothing."""
    before = await table_snapshot(bot.db, TABLES)
    reply = await ask(bot, body, sender)
    assert await table_snapshot(bot.db, TABLES) == before, f"{body!r} changed the database"
    return reply


async def test_groups_per_day(bot: Harness) -> None:
    for number in range(3):
        assert "créé" in await ask(bot, f"!projet creer Groupe {number}")
        bot.clock.advance(timedelta(hours=1, seconds=30))
    reply = await refused(bot, "!projet creer Groupe 3")
    assert reply == ("Limite atteinte : vous avez déjà créé 3 groupes-projets ces dernières "
                     "24 heures. Vous pourrez en créer un autre le mardi 6 janvier 2099 à 10h.")
    assert "créé" in await ask(bot, "!projet creer Groupe de Bob", sender=BOB)  # her cap only
    for number in range(4):
        assert "créé" in await ask(bot, f"!projet creer Coordination {number}",
                                   sender=COORDINATOR)
    bot.clock.set(START + timedelta(hours=24))  # the first creation is 24 hours old
    assert "créé" in await ask(bot, "!projet creer Groupe 3")
    assert "Limite atteinte" in await refused(bot, "!projet creer Groupe 4")


async def test_erasing_oneself_does_not_give_the_daily_caps_back(bot: Harness) -> None:
    """What a person did in the day before ``!oublier-moi`` still counts in their caps, kept
    under their id (shown by ``!mes-donnees``) until the nightly purge finds it a day old."""
    for number in range(3):
        assert "créé" in await ask(bot, f"!projet creer Groupe {number}")
    bot.clock.advance(timedelta(hours=2))
    await ask(bot, "!oublier-moi")
    await ask(bot, "!oublier-moi confirmer")
    async with bot.db.transaction() as repos:
        kept = (await repos.personal.everything_about(ALICE))["cap_uses"]
        assert [(use["subject"], use["action"]) for use in kept] == \
            [("group", "created")] * 3 + [("person", "erased")]
    assert "Limite atteinte" in await refused(bot, "!projet creer Groupe 3")
    async with bot.db.transaction() as repos:
        await purge_messages(repos, bot.dispatcher.club, START + timedelta(hours=23), None)
    assert "Limite atteinte" in await refused(bot, "!projet creer Groupe 3")
    bot.clock.set(START + timedelta(hours=24, minutes=1))
    async with bot.db.transaction() as repos:
        await purge_messages(repos, bot.dispatcher.club, bot.clock.now(), None)
        kept = (await repos.personal.everything_about(ALICE))["cap_uses"]
        assert [(use["subject"], use["action"]) for use in kept] == [("person", "erased")]
    assert "créé" in await ask(bot, "!projet creer Groupe 3")
    bot.clock.set(START + timedelta(hours=26, minutes=1))
    async with bot.db.transaction() as repos:
        await purge_messages(repos, bot.dispatcher.club, bot.clock.now(), None)
        assert "cap_uses" not in await repos.personal.everything_about(ALICE)


async def test_one_erasure_of_oneself_a_day(bot: Harness) -> None:
    """Erasing oneself in a loop would free what the caps count by author (suggestions per
    rencontre, comments per poll) and scrub the database each time: a second erasure within
    24 hours is refused, asked or confirmed, and changes nothing; someone else's is not."""
    assert "Remontée n°" in await ask(bot, "!remontee Des bus le dimanche")
    asked = await ask(bot, "!oublier-moi")
    assert asked.endswith("Vous ne pourrez pas demander de nouvel effacement avant 24 heures "
                          "(1 par jour au plus) : l'heure de celui-ci reste sous votre "
                          "identifiant jusque-là.")
    await ask(bot, "!oublier-moi confirmer")
    bot.clock.advance(timedelta(hours=3))
    assert "Remontée n°" in await ask(bot, "!remontee Des bus le samedi")
    expected = ("Vos données ont déjà été effacées ces dernières 24 heures (1 effacement par "
                "jour au plus). Vous pourrez demander un nouvel effacement le mardi 6 janvier "
                "2099 à 10h ; si c'est urgent, adressez-vous à la coordination du club.")
    assert await refused(bot, "!oublier-moi") == expected
    assert await refused(bot, "!oublier-moi confirmer") == expected
    assert "confirmer" in await ask(bot, "!oublier-moi", sender=BOB)
    asked = await ask(bot, "!oublier-moi", sender=COORDINATOR)
    assert "confirmer" in asked and "nouvel effacement" not in asked  # no cap for them
    assert "C'est fait" in await ask(bot, "!oublier-moi confirmer", sender=COORDINATOR)
    async with bot.db.transaction() as repos:  # no cap: nothing kept under their id
        assert "cap_uses" not in await repos.personal.everything_about(COORDINATOR)
    bot.clock.set(START + timedelta(hours=24))
    assert "confirmer" in await ask(bot, "!oublier-moi")
    await ask(bot, "!oublier-moi confirmer")
    async with bot.db.transaction() as repos:
        assert "remontees" not in await repos.personal.everything_about(ALICE)


async def test_remontees_per_day(bot: Harness) -> None:
    for number in range(2):
        assert "Remontée n°" in await ask(bot, f"!remontee Des bus le dimanche {number}")
    bot.clock.advance(timedelta(minutes=10, seconds=20))
    reply = await refused(bot, "!remontee Encore des bus")
    assert reply == ("Limite atteinte : vous avez déjà fait 2 remontées ces dernières 24 heures. "
                     "Vous pourrez en faire une autre le mardi 6 janvier 2099 à 10h.")
    assert "Remontée n°" in await ask(bot, "!remontee Des bus", sender=COORDINATOR)
    bot.clock.set(START + timedelta(days=1))
    assert "Remontée n°" in await ask(bot, "!remontee Encore des bus")


async def test_initiatives_per_day_count_what_was_added_not_what_is_left(bot: Harness) -> None:
    for name in ("Repair café", "AMAP du Guil"):
        assert "ajoutée" in await ask(bot, f"!initiative ajouter {name} --theme energie "
                                           "--commune Embrun")
    assert "retirée" in await ask(bot, "!initiative retirer 2")  # removing one frees nothing
    reply = await refused(bot, "!initiative ajouter Vélo-école --theme mobilite --commune Embrun")
    assert reply.startswith("Limite atteinte : vous avez déjà ajouté 2 initiatives au panorama "
                            "ces dernières 24 heures. Vous pourrez en ajouter une autre le "
                            "mardi 6 janvier 2099 à 10h")
    assert "ajoutée" in await ask(bot, "!initiative ajouter Vélo-école --theme mobilite "
                                       "--commune Embrun", sender=COORDINATOR)


async def test_suggestions_waiting_per_meeting(bot: Harness) -> None:
    await bot.command("!rencontre planifier jeudi 18h30-20h30 --territoire nord",
                      sender=COORDINATOR)
    for what in ("Les bus", "Les vélos"):
        assert "Proposition n°" in await ask(bot, f"!odj proposer {what}")
    reply = await refused(bot, "!odj proposer Les trains")
    assert reply == ("Limite atteinte : vous avez déjà 2 propositions en attente pour l'ordre "
                     "du jour de la rencontre n°1. Vous pourrez en faire une autre quand la "
                     "coordination en aura traité une, ou après en avoir retiré une "
                     "(`!odj retirer <numéro>`).")
    assert "Proposition n°" in await ask(bot, "!odj proposer Les trains", sender=BOB)
    await ask(bot, "!odj refuser 1 hors sujet", sender=COORDINATOR)  # decided: room for one
    assert "Proposition n°" in await ask(bot, "!odj proposer Les trains")
    assert "Limite atteinte" in await refused(bot, "!odj proposer Les cars")
    await ask(bot, "!odj retirer 2")  # withdrawn: room for one
    assert "Proposition n°" in await ask(bot, "!odj proposer Les cars")


async def test_a_limit_of_zero_is_no_limit(db: Database, clock: FakeClock,  # noqa: F811
                                           transport: FakeTransport, outbox: Outbox,
                                           registry: Registry) -> None:
    club = replace(make_club(), limits=Limits(0, 0, 0, 0, 0))
    bot = make_harness(db, clock, transport, outbox, registry, club)
    for number in range(6):
        assert "créé" in await ask(bot, f"!projet creer Groupe {number}")
        assert "Remontée n°" in await ask(bot, f"!remontee Des bus {number}")
