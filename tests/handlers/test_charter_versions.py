"""A new version of the cadre de confiance adopted through a proposal, end to end without a
homeserver (real SQLite and PostgreSQL): a coordinator proposes it in the main room, the
outcome says adopted or rejected, adopted it becomes the club's charter (``!cadre``, ✅,
``!cadre adhesions``, the welcome) and those of the older version are asked once; bad input
changes nothing; the config's version changed by the administrator later is predictable."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.jobs import start_work
from bot.outbox import Outbox
from commands import charter
from commands.context import Club
from commands.events import Reaction, RoomEvents
from commands.jobs import ARRIVALS
from commands.registry import Registry
from commands.roles import Role
from storage.db import Database
from tests.handlers.conftest import (
    COORDINATOR,
    ROOM,
    Harness,
    make_club,
    make_harness,
    table_snapshot,
)
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.fakes import FakeTransport, Sent
from tests.handlers.test_decisions import TABLES, body, said
from tests.handlers.test_personal_data import forget
from tests.handlers.test_support import consume

BOB, CAROL, DAN = "@bob:example.org", "@carol:example.org", "@dan:example.org"
MAIN = "!main:example.org"
CLOSE = "--cloture vendredi 9 janvier 18h"
NEW_TEXT = ("1. **Bienveillance** : chacun est bienvenu.\n2. _Écoute_.\n\n"
            "<b>gras</b> [un lien](https://evil.example) `code` @room")
PROPOSE = f"!cadre proposer 2 {CLOSE}\n{NEW_TEXT}"
CHARTER_TABLES = (*TABLES, "charter_versions", "charter_proposals", "charter_adoptions")


def text_of(sent: Sent) -> str:
    return str(sent.content.get("body", ""))


def club(version: str = "1", text: str = "1. Bienveillance.\n2. Écoute.") -> Club:
    return replace(make_club(), rooms={"main": MAIN}, charter=text, charter_version=version)


@pytest.fixture
async def bot(db: Database, clock: FakeClock, transport: FakeTransport,  # noqa: F811
              outbox: Outbox, registry: Registry) -> Harness:
    return make_harness(db, clock, transport, outbox, registry, club())


async def start(bot: Harness, config: Club, later: timedelta = timedelta(0)) -> list[Sent]:
    """The bot (re)started with ``config``: what it sent."""
    before = len(bot.transport.sent)
    bot.dispatcher.club = config
    await start_work(bot.dispatcher.registry, bot.db, bot.outbox, config, bot.matrix,
                     bot.clock.now() + later)
    await bot.outbox.flush()
    return bot.transport.sent[before:]


async def refused(bot: Harness, text: str, sender: str, room_id: str) -> str:
    """The reply to a command that must change nothing (the charter's tables included)."""
    before = await table_snapshot(bot.db, CHARTER_TABLES)
    reply = await said(bot, text, sender, room_id)
    assert await table_snapshot(bot.db, CHARTER_TABLES) == before, f"{text!r} changed the database"
    return reply


async def versions(bot: Harness) -> list[tuple[str, int | None]]:
    async with bot.db.transaction() as repos:
        return [(row.version, row.poll_id) for row in await repos.charter.versions()]


async def test_an_adopted_proposal_makes_the_new_version_the_clubs_charter(bot: Harness) -> None:
    await start(bot, club())
    assert await said(bot, "!cadre adherer", BOB, MAIN) == (
        "Merci ! Votre adhésion au cadre de confiance (version 1) est enregistrée.")
    await said(bot, "!mentions oui", BOB, MAIN)
    sent = await bot.command(PROPOSE, sender=COORDINATOR, room_id=ROOM)
    reply, root, _start = sent
    assert body(reply).startswith("Proposition n°1 (version « 2 » du cadre de confiance) "
                                  "ouverte dans le salon principal jusqu'au vendredi 9 janvier")
    assert root.room_id == MAIN and "> Adopter la version « 2 » du cadre de confiance" in body(
        root)
    html = root.content["formatted_body"]
    # The structure of the text stays; what would act is shown as text.
    assert "<strong>Bienveillance</strong>" in html and "<em>Écoute</em>" in html
    assert "&lt;b&gt;gras&lt;/b&gt;" in html and "evil.example\"" not in html
    assert "<code>code</code>" not in html and "`code`" in html and "<b>" not in html
    assert "[un lien](https://evil.example)" in root.content["body"]
    assert "@room" not in root.content["body"]
    assert (await said(bot, "!position 1 d'accord", CAROL, MAIN)).startswith(
        "Position enregistrée")
    assert "(version 1)" in await said(bot, "!cadre", CAROL, MAIN)  # not before the outcome
    await said(bot, "!proposition cloturer 1", COORDINATOR, MAIN)

    # The outcome must say adopted or rejected; anything else changes nothing.
    before = await versions(bot)
    assert "commence par « adoptée » ou « rejetée »" in await refused(
        bot, "!proposition issue 1 On verra bien", COORDINATOR, MAIN)
    assert await versions(bot) == before
    announced = await bot.command("!proposition issue 1 Adoptée à l'unanimité",
                                  sender=COORDINATOR, room_id=MAIN)
    assert "Le cadre de confiance du club est désormais la version « 2 »" in body(announced[0])
    [ask] = [s for s in announced if "a changé (version 2)" in text_of(s)]
    assert ask.room_id == MAIN and "1 personne avait adhéré" in body(ask)
    assert "<strong>Bienveillance</strong>" in ask.content["formatted_body"]
    assert ask.content["m.mentions"]["user_ids"] == [BOB]
    assert await versions(bot) == [("1", None), ("2", 1)]

    shown = await bot.command("!cadre", sender=DAN, room_id=MAIN)
    assert "Bienveillance : chacun est bienvenu" in body(shown[0])
    assert body(shown[0]).endswith("Pour adhérer à ce cadre (version 2) : un ✅ sur ce message, "
                                   "ou `!cadre adherer`.")
    await consume(bot, charter.record_adoptions, RoomEvents(reactions=[
        Reaction("$b", MAIN, BOB, ask.event_id, "✅", bot.clock.now()),
        Reaction("$d", MAIN, DAN, shown[0].event_id, "✅", bot.clock.now())]), club())
    listing = await said(bot, "!cadre adhesions", COORDINATOR, MAIN)
    assert listing.startswith("2 membres ont adhéré au cadre de confiance (version 2)")

    # Adopted stays adopted; the outcome can be reworded, without asking again.
    assert "ne peut plus dire « rejetée »" in await refused(
        bot, "!proposition issue 1 Rejetée finalement", COORDINATOR, MAIN)
    again = await bot.command("!proposition issue 1 Adoptée, 5 voix pour", sender=COORDINATOR,
                              room_id=MAIN)
    assert not [s for s in again if "a changé" in text_of(s)]
    assert "Adoptée, 5 voix pour" in await said(bot, "!decisions", CAROL, MAIN)

    # A newcomer is welcomed with the new version, and a ✅ there adopts it.
    async with bot.db.transaction() as repos:
        await repos.welcomes.first_time(CAROL, MAIN, bot.clock.now())
    bot.clock.advance(timedelta(seconds=2))
    await bot.job(ARRIVALS).fire()
    await bot.outbox.flush()
    [greeted] = [s for s in bot.transport.sent if "Bienvenue" in str(s.content.get("body"))]
    assert "Bienveillance : chacun est bienvenu" in body(greeted)
    await consume(bot, charter.record_adoptions, RoomEvents(reactions=[
        Reaction("$c", MAIN, CAROL, greeted.event_id, "✅", bot.clock.now())]), club())
    assert (await said(bot, "!cadre adhesions", COORDINATOR, MAIN)).startswith("3 membres")

    # A restart with the config unchanged keeps version 2 and asks nobody again.
    assert not [s for s in await start(bot, club(), timedelta(minutes=5))
                if "a changé" in text_of(s)]
    assert "(version 2)" in await said(bot, "!cadre", CAROL, MAIN)


async def test_bad_charter_proposals_change_nothing(bot: Harness) -> None:
    await start(bot, club())
    assert "Réservé à la coordination" in await refused(bot, PROPOSE, BOB, MAIN)
    for line, expected in [
        (f"!cadre proposer v2! {CLOSE}\nTexte.", "n'est pas une version"),
        (f"!cadre proposer {'9' * 65} {CLOSE}\nTexte.", "n'est pas une version"),
        (f"!cadre proposer 1 {CLOSE}\nTexte.", "La version « 1 » existe déjà"),
        (f"!cadre proposer 2 {CLOSE}", "Il manque"),
        (f"!cadre proposer 2 {CLOSE}\n   \n", "Il manque"),
        ("!cadre proposer 2\nTexte.", "Il manque"),
        (f"!cadre proposer 2 Texte {CLOSE}", "Il manque : nouveau texte du cadre, à la ligne"),
        (f"!cadre proposer 2 {CLOSE}\n" + "x" * 3801, "trop long"),
        ("!cadre proposer 2 --cloture hier\nTexte.", "passé"),
    ]:
        reply = await refused(bot, line, COORDINATOR, MAIN)
        assert expected in reply, (line[:60], reply)
    await bot.command(PROPOSE, sender=COORDINATOR, room_id=MAIN)
    # A label already proposed (the same once folded: case, full-width digits) is refused.
    for label in ("2", "２"):
        assert "« 2 » existe déjà" in await refused(
            bot, f"!cadre proposer {label} {CLOSE}\nAutre texte.", COORDINATOR, MAIN)


async def test_a_rejected_version_changes_nothing_and_may_be_proposed_again(
        bot: Harness) -> None:
    await start(bot, club())
    await bot.command(PROPOSE, sender=COORDINATOR, room_id=MAIN)
    await said(bot, "!proposition cloturer 1", COORDINATOR, MAIN)
    rejected = await bot.command("!proposition issue 1 Rejetée : trop tôt",
                                 sender=COORDINATOR, room_id=MAIN)
    assert "La version « 2 » du cadre de confiance n'est pas adoptée" in body(rejected[0])
    assert not [s for s in rejected if "a changé" in text_of(s)]
    assert "(version 1)" in await said(bot, "!cadre", CAROL, MAIN)
    assert await versions(bot) == [("1", None)]
    reply = await bot.command(f"!cadre proposer 2 {CLOSE}\nUn texte revu.", sender=COORDINATOR,
                              room_id=MAIN)
    assert body(reply[0]).startswith("Proposition n°2 ouverte jusqu'au")
    # Rewritten « adoptée » later, the first one adopts its text then.
    await said(bot, "!proposition cloturer 2", COORDINATOR, MAIN)
    await said(bot, "!proposition issue 2 adoptée", COORDINATOR, MAIN)
    assert "Un texte revu." in await said(bot, "!cadre", CAROL, MAIN)
    assert "depuis l'ouverture" in await refused(bot, "!proposition issue 1 adoptée",
                                                 COORDINATOR, MAIN)


async def test_an_ordinary_proposals_outcome_is_free(bot: Harness) -> None:
    await bot.command(f"!proposition Un vélo-cargo {CLOSE}", sender=COORDINATOR, room_id=MAIN)
    await said(bot, "!proposition cloturer 1", COORDINATOR, MAIN)
    assert (await said(bot, "!proposition issue 1 On verra bien", COORDINATOR, MAIN)
            ).startswith("Issue de la proposition n°1")


async def test_the_configs_version_changed_later_by_the_administrator(bot: Harness) -> None:
    """The club's charter is the version adopted last: a new label in the config is adopted at
    the start that first sees it; a label already known changes nothing (the text of a version
    from the config follows the config, that of a version a proposal adopted does not)."""
    await start(bot, club())
    await bot.command(PROPOSE, sender=COORDINATOR, room_id=MAIN)
    await said(bot, "!proposition cloturer 1", COORDINATOR, MAIN)
    await said(bot, "!proposition issue 1 adoptée", COORDINATOR, MAIN)
    assert "(version 2)" in await said(bot, "!cadre", CAROL, MAIN)
    await start(bot, club("1", "Texte 1 corrigé."), timedelta(minutes=1))
    assert "(version 2)" in await said(bot, "!cadre", CAROL, MAIN)  # the config's is older
    async with bot.db.transaction() as repos:
        one = await repos.charter.version("1")
        assert one is not None and one.text == "Texte 1 corrigé."
    await said(bot, "!cadre adherer", CAROL, MAIN)
    asked = await start(bot, club("3", "Texte 3."), timedelta(minutes=2))
    assert [s.room_id for s in asked if "a changé (version 3)" in text_of(s)] == [MAIN]
    assert "Texte 3." in await said(bot, "!cadre", CAROL, MAIN)
    await start(bot, club("1", "Texte 1 corrigé."), timedelta(minutes=3))  # back: ignored
    await start(bot, club("2", "Un autre texte 2."), timedelta(minutes=4))  # a proposal's label
    shown = await said(bot, "!cadre", CAROL, MAIN)
    assert "Texte 3." in shown and "(version 3)" in shown
    async with bot.db.transaction() as repos:
        two = await repos.charter.version("2")
        assert two is not None and two.text == NEW_TEXT
    assert await versions(bot) == [("1", None), ("2", 1), ("3", None)]
    assert "« 3 » existe déjà" in await refused(
        bot, f"!cadre proposer 3 {CLOSE}\nTexte.", COORDINATOR, MAIN)


async def test_forgetting_the_proposer_keeps_the_charter(bot: Harness) -> None:
    """The text of a version is the club's, not personal data: ``!oublier-moi`` of the
    coordinator who proposed it leaves it, and the proposal under a pseudonym."""
    await start(bot, club())
    await bot.command(PROPOSE, sender=COORDINATOR, room_id=MAIN)
    await said(bot, "!cadre adherer", COORDINATOR, MAIN)
    await said(bot, "!proposition cloturer 1", COORDINATOR, MAIN)
    await said(bot, "!proposition issue 1 adoptée", COORDINATOR, MAIN)
    await forget(bot, COORDINATOR)
    async with bot.db.transaction() as repos:
        assert await repos.charter.adoption(COORDINATOR) is None
        poll = await repos.polls.get(1)
        assert poll is not None and poll.created_by != COORDINATOR
        proposed = await repos.charter.proposal(1)
        assert proposed is not None and proposed.text == NEW_TEXT
    assert "Bienveillance : chacun est bienvenu" in await said(bot, "!cadre", CAROL, MAIN)


async def test_a_reworded_outcome_does_not_announce_a_version_no_longer_in_force(
        bot: Harness) -> None:
    """An adopted version's outcome may be reworded; once the club's charter is a later
    version, the announcement does not say the club's charter is now the older one."""
    await start(bot, club())
    await bot.command(PROPOSE, sender=COORDINATOR, room_id=MAIN)
    await said(bot, "!proposition cloturer 1", COORDINATOR, MAIN)
    await said(bot, "!proposition issue 1 adoptée", COORDINATOR, MAIN)
    await start(bot, club("3", "Texte 3."), timedelta(minutes=1))  # the config's, adopted later
    reworded = await said(bot, "!proposition issue 1 Adoptée à l'unanimité", COORDINATOR, MAIN)
    assert "désormais la version « 2 »" not in reworded
    assert "La version « 2 » du cadre de confiance a été adoptée par cette proposition ; le " \
           "cadre en vigueur est la version « 3 »" in reworded
    assert "Texte 3." in await said(bot, "!cadre", CAROL, MAIN)


async def test_only_a_coordinator_writes_a_charter_proposals_outcome(bot: Harness) -> None:
    """A charter proposal's author was a coordinator; no longer one, they may still write an
    ordinary proposal's outcome, not adopt or reject a version of the club's charter."""
    await start(bot, club())
    bot.roles[DAN] = Role.COORDINATOR
    await bot.command(PROPOSE, sender=DAN, room_id=MAIN)
    await said(bot, "!proposition cloturer 1", DAN, MAIN)
    bot.roles[DAN] = Role.PARTICIPANT  # no longer a coordinator
    assert "Réservé à la coordination" in await refused(bot, "!proposition issue 1 adoptée",
                                                        DAN, MAIN)
    assert await versions(bot) == [("1", None)]
    assert "(version 1)" in await said(bot, "!cadre", CAROL, MAIN)
    await said(bot, "!proposition issue 1 adoptée", COORDINATOR, MAIN)
    assert await versions(bot) == [("1", None), ("2", 1)]
