"""``!odj`` end to end on SQLite and PostgreSQL: suggestions, supports (command and 👍), the
coordinators' decisions, the time column (durations, DST), publication with pins, « ordre du
jour mis à jour » with only the change, the deadline; every refusal changes nothing."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from bot.clock import FakeClock
from bot.outbox import Outbox
from commands.agenda import agenda_summary, reactions, suggestions_deadline
from commands.agenda import render as agenda_render
from commands.agenda.lines import Line, schedule
from commands.effects import txn_id
from commands.events import Reaction, Redaction, RoomEvents
from commands.i18n import Translator
from commands.registry import Registry
from storage.db import Database
from tests.handlers.conftest import ALICE, COORDINATOR, ROOM, Harness, make_club, make_harness, table_snapshot
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.fakes import FakeTransport, Sent

BOB = "@bob:example.org"
CAROL = "@carol:example.org"
MAIN, NORTH, SOUTH = "!main:example.org", "!north:example.org", "!south:example.org"
PARIS = ZoneInfo("Europe/Paris")
TABLES = ("agenda_suggestions", "agenda_supports", "agenda_items", "agenda_states", "audit_log",
          "outbox")
T = Translator("fr")


def club():  # type: ignore[no-untyped-def]
    return replace(make_club(), rooms={"main": MAIN, "north": NORTH, "south": SOUTH},
                   coordinators=(COORDINATOR,))


@pytest.fixture
def bot(db: Database, clock: FakeClock, transport: FakeTransport, outbox: Outbox,  # noqa: F811
        registry: Registry) -> Harness:
    return make_harness(db, clock, transport, outbox, registry, club())


async def snapshot(bot: Harness) -> str:
    return await table_snapshot(bot.db, TABLES)


def plain(event: Sent) -> str:
    return str(event.content["body"]).replace("**", "")


async def ask(bot: Harness, body: str, sender: str = COORDINATOR, room_id: str = ROOM) -> str:
    return (await bot.reply_to(body, sender=sender, room_id=room_id)).replace("**", "")


async def refused(bot: Harness, body: str, sender: str = COORDINATOR,
                  room_id: str = ROOM) -> str:
    """The reply to a command that must change nothing."""
    before = await snapshot(bot)
    reply = await ask(bot, body, sender=sender, room_id=room_id)
    assert await snapshot(bot) == before, f"{body!r} changed the database"
    return reply


async def plan(bot: Harness, body: str = "jeudi 18h30-20h30 --territoire nord") -> None:
    """A rencontre: by default Thursday 8 January 2099, 18h30 in Paris, territory nord."""
    sent = await bot.command(f"!rencontre planifier {body}", sender=COORDINATOR)
    assert "planifié" in plain(sent[0]), plain(sent[0])


async def suggest(bot: Harness, what: str, sender: str = ALICE, room_id: str = ROOM) -> Sent:
    sent = await bot.command(f"!odj proposer {what}", sender=sender, room_id=room_id)
    assert len(sent) == 1 and "Proposition n°" in plain(sent[0]), plain(sent[0])
    return sent[0]


async def rows(bot: Harness, table: str) -> list[tuple[object, ...]]:
    async with bot.db.transaction() as repos:
        return [tuple(r) for r in (await repos.session.execute(
            text(f"SELECT * FROM {table} ORDER BY 1, 2"))).all()]


async def react(bot: Harness, events: RoomEvents) -> None:
    async with bot.db.transaction() as repos:
        assert await reactions.record_supports(repos, events, club(), T) == []


async def supporters(bot: Harness, number: int) -> list[str]:
    async with bot.db.transaction() as repos:
        return await repos.agenda.supporters(number)


# --- suggestions --------------------------------------------------------------------------------

async def test_suggest_for_the_next_rencontre_records_the_confirmation(bot: Harness) -> None:
    await plan(bot)
    reply = await suggest(bot, "Bilan de la fête du vélo")
    assert plain(reply).startswith("Proposition n°1 enregistrée pour la rencontre n°1 (jeudi 8 "
                                   "janvier 2099, 18h30–20h30).")
    assert "un 👍 sur ce message, ou `!odj soutenir 1`" in plain(reply)
    assert "ouvertes jusqu'au mardi 6 janvier 2099 à 18h30" in plain(reply)
    async with bot.db.transaction() as repos:
        suggestion = await repos.agenda.suggestion(1)
        assert suggestion is not None
        assert (suggestion.meeting_id, suggestion.author, suggestion.text, suggestion.status,
                suggestion.room_id) == (1, ALICE, "Bilan de la fête du vélo", "proposee", ROOM)
        # The confirmation is the command's reply: its transaction id is the one stored.
        assert suggestion.confirmation_txn == reply.txn_id
        assert reply.txn_id == txn_id("reply", "$cmd2")
        audit = await repos.audit.entries("agenda", 1)
        assert [e.action for e in audit] == ["suggested"]


async def test_english_command_and_another_rencontre(bot: Harness) -> None:
    await plan(bot)
    await plan(bot, "vendredi 9 janvier 18h --territoire sud")
    reply = await ask(bot, "!agenda suggest Covoiturage --rencontre 2", sender=BOB)
    assert reply.startswith("Proposition n°1 enregistrée pour la rencontre n°2 (vendredi 9 janvier")
    listing = await ask(bot, "!odj liste --rencontre 2", sender=BOB)
    assert "n°1 Covoiturage" in listing and "en attente" in listing
    assert "Aucune proposition" in await ask(bot, "!odj liste", sender=BOB)


async def test_suggestion_refusals(bot: Harness) -> None:
    assert "Aucune rencontre prévue" in await refused(bot, "!odj proposer Un point", ALICE)
    await plan(bot)
    assert "rencontre n°9" in await refused(bot, "!odj proposer Un point --rencontre 9", ALICE)
    await plan(bot, "vendredi 18h --territoire sud")
    await bot.command("!rencontre annuler 2 pluie", sender=COORDINATOR)
    assert "La rencontre n°2 est annulée" in await refused(
        bot, "!odj proposer Un point --rencontre 2", ALICE)
    assert "<" not in await refused(bot, "!odj proposer <b>gras</b>", ALICE)
    assert (await refused(bot, "!odj proposer", ALICE)).startswith("Il manque : texte.")
    # Past: the rencontre has started.
    bot.clock.set(datetime(2099, 1, 8, 17, 31, tzinfo=UTC))
    reply = await refused(bot, "!odj proposer Trop tard --rencontre 1", ALICE)
    assert "La rencontre n°1 (jeudi 8 janvier 2099, 18h30–20h30) a déjà eu lieu" in reply


async def test_suggestions_close_at_the_deadline_but_coordinators_still_add(bot: Harness) -> None:
    await plan(bot)
    async with bot.db.transaction() as repos:
        meeting = await repos.meetings.get(1)
        assert meeting is not None
        assert suggestions_deadline(meeting, club()) == datetime(2099, 1, 6, 17, 30, tzinfo=UTC)
    bot.clock.set(datetime(2099, 1, 6, 17, 29, tzinfo=UTC))
    await suggest(bot, "Juste à temps")
    bot.clock.set(datetime(2099, 1, 6, 17, 30, tzinfo=UTC))
    reply = await refused(bot, "!odj proposer Trop tard", ALICE)
    assert reply == ("Les propositions pour la rencontre n°1 sont closes depuis le mardi 6 "
                     "janvier 2099 à 18h30. La coordination peut encore ajouter un point : "
                     "adressez-vous à elle.")
    assert "Point n°1 ajouté" in await ask(bot, "!odj ajouter Point de dernière minute")
    assert await ask(bot, "!odj accepter 1") == (
        "Proposition n°1 retenue : point n°2, en position 2 (15 min).")
    listing = await ask(bot, "!odj liste", ALICE)
    assert "Propositions closes depuis le mardi 6 janvier 2099 à 18h30." in listing


async def test_deadline_is_configurable(db: Database, clock: FakeClock,  # noqa: F811
                                        transport: FakeTransport, outbox: Outbox,
                                        registry: Registry) -> None:
    """The same suggestion, at the same time, is refused under the default deadline (two days
    before) and accepted when the club sets none."""
    bot = make_harness(db, clock, transport, outbox, registry,
                       replace(club(), agenda_deadline=timedelta(0)))
    default = make_harness(db, clock, transport, outbox, registry, club())
    assert club().agenda_deadline == timedelta(days=2)
    await plan(bot)
    bot.clock.set(datetime(2099, 1, 8, 17, 0, tzinfo=UTC))  # half an hour before
    before = await snapshot(default)
    reply = await default.reply_to("!odj proposer Encore possible ?", sender=ALICE,
                                   event_id="$under-the-default-deadline")
    assert await snapshot(default) == before
    assert reply.replace("**", "").startswith("Les propositions pour la rencontre n°1 sont closes depuis le "
                            "mardi 6 janvier 2099 à 18h30."), reply
    await suggest(bot, "Encore possible")


# --- supports -----------------------------------------------------------------------------------

async def test_support_by_command_once_per_person_and_removable(bot: Harness) -> None:
    await plan(bot)
    await suggest(bot, "Atelier compost")
    assert await ask(bot, "!odj soutenir 1", BOB) == "Vous soutenez la proposition n°1 (1 soutien)."
    assert "Vous soutenez déjà la proposition n°1" in await refused(bot, "!odj soutenir 1", BOB)
    assert "est la vôtre" in await refused(bot, "!odj soutenir 1", ALICE)
    assert "Pas de proposition n°7" in await refused(bot, "!odj soutenir 7", BOB)
    assert await ask(bot, "!agenda support 1", CAROL) == (
        "Vous soutenez la proposition n°1 (2 soutiens).")
    assert await ask(bot, "!odj retirer-soutien 1", BOB) == "Soutien à la proposition n°1 retiré."
    assert "ne souteniez pas" in await refused(bot, "!odj retirer-soutien 1", BOB)
    assert await supporters(bot, 1) == [CAROL]
    listing = await ask(bot, "!odj liste", BOB)
    assert "n°1 Atelier compost — @alice:example.org — en attente — 1 soutien\n" in listing + "\n"


async def test_a_thumbs_up_on_the_confirmation_counts_and_its_removal_uncounts(
        bot: Harness) -> None:
    await plan(bot)
    confirmation = await suggest(bot, "Atelier compost")
    other = await suggest(bot, "Autre chose", sender=BOB)
    at = bot.clock.now()
    await react(bot, RoomEvents(reactions=[
        Reaction("$r1", ROOM, BOB, confirmation.event_id, "👍", at),
        Reaction("$r2", ROOM, CAROL, confirmation.event_id, "👍🏽", at),
        Reaction("$r3", ROOM, ALICE, confirmation.event_id, "👍", at),  # the author's own
        Reaction("$r4", ROOM, COORDINATOR, confirmation.event_id, "🎉", at),  # not a support
        Reaction("$r5", ROOM, COORDINATOR, "$unknown", "👍", at),  # not a confirmation
        Reaction("$r6", ROOM, CAROL, other.event_id, "+1", at),
        Reaction("$r7", ROOM, BOB, confirmation.event_id, "👍️", at),  # twice: once
    ]))
    assert sorted(await supporters(bot, 1)) == [BOB, CAROL]
    assert await supporters(bot, 2) == [CAROL]
    assert "Vous soutenez déjà" in await refused(bot, "!odj soutenir 1", BOB)
    await react(bot, RoomEvents(redactions=[Redaction("$x", ROOM, BOB, "$r1"),
                                            Redaction("$y", ROOM, BOB, "$unrelated")]))
    assert await supporters(bot, 1) == [CAROL]
    async with bot.db.transaction() as repos:
        entries = await repos.audit.entries("agenda", 1, limit=50)
    # Bob's 👍 taken back within the hour: one entry, his latest stance
    assert sorted((e.actor, e.action) for e in entries if e.action != "suggested") == [
        (BOB, "unsupported"), (CAROL, "supported"), (CAROL, "supported")]


async def test_a_thumbs_up_toggled_again_and_again_writes_one_audit_entry(
        bot: Harness) -> None:
    """Adding and removing a 👍 in a loop keeps the count right but leaves one audit entry
    per person and suggestion, its latest stance; a change over an hour later is a new one."""
    await plan(bot)
    confirmation = await suggest(bot, "Atelier compost")
    for turn in range(30):
        at = bot.clock.now() + timedelta(seconds=turn)
        await react(bot, RoomEvents(reactions=[
            Reaction(f"$r{turn}", ROOM, BOB, confirmation.event_id, "👍", at)]))
        assert await supporters(bot, 1) == [BOB]
        if turn < 29:
            await react(bot, RoomEvents(redactions=[Redaction(f"$x{turn}", ROOM, BOB,
                                                              f"$r{turn}", at)]))
            assert await supporters(bot, 1) == []
    async with bot.db.transaction() as repos:
        entries = await repos.audit.entries("agenda", 1, limit=50)
    entries = [e for e in entries if e.actor == BOB]
    assert [e.action for e in entries] == ["supported"]
    assert json.loads(entries[0].details) == {"suggestion": 1, "reaction": "$r29"}
    later = bot.clock.now() + timedelta(hours=2)
    await react(bot, RoomEvents(redactions=[Redaction("$x29", ROOM, BOB, "$r29", later)]))
    async with bot.db.transaction() as repos:
        entries = await repos.audit.entries("agenda", 1, limit=50)
    assert [e.action for e in entries if e.actor == BOB] == ["unsupported", "supported"]
    assert await supporters(bot, 1) == []


async def test_a_support_is_taken_back_only_in_its_room_by_its_author_or_a_moderator(
        bot: Harness) -> None:
    """The homeserver accepts a redaction naming any event id, even one of another room, and a
    redaction of someone else's event by a person without the power to redact (it then does not
    apply it): neither removes a support. A 👍 sent in another room naming the confirmation is
    not one either."""
    await plan(bot)
    confirmation = await suggest(bot, "Atelier compost")
    at = bot.clock.now()
    await react(bot, RoomEvents(reactions=[
        Reaction("$r1", ROOM, BOB, confirmation.event_id, "👍", at),
        Reaction("$r2", ROOM, CAROL, confirmation.event_id, "👍", at),
        Reaction("$r3", NORTH, COORDINATOR, confirmation.event_id, "👍", at),  # elsewhere
    ]))
    assert sorted(await supporters(bot, 1)) == [BOB, CAROL]
    mallory = "@mallory:example.org"
    await react(bot, RoomEvents(redactions=[
        Redaction("$x1", NORTH, mallory, "$r1", at, may_redact=True),  # a moderator elsewhere
        Redaction("$x2", NORTH, BOB, "$r1", at),  # Bob himself, but in another room
        Redaction("$x3", ROOM, mallory, "$r1", at),  # in the room, without the power
    ]))
    assert sorted(await supporters(bot, 1)) == [BOB, CAROL]
    await react(bot, RoomEvents(redactions=[
        Redaction("$x4", ROOM, BOB, "$r1", at),
        Redaction("$x5", ROOM, COORDINATOR, "$r2", at, may_redact=True),  # a moderator there
    ]))
    assert await supporters(bot, 1) == []
    async with bot.db.transaction() as repos:
        entries = await repos.audit.entries("agenda", 1, limit=50)
    assert sorted((e.actor, e.action) for e in entries if e.action == "unsupported") == [
        (BOB, "unsupported"), (COORDINATOR, "unsupported")]


async def test_reactions_after_the_rencontre_started_or_on_a_refused_one_do_not_count(
        bot: Harness) -> None:
    await plan(bot)
    first = await suggest(bot, "Un")
    second = await suggest(bot, "Deux")
    await ask(bot, "!odj refuser 2 hors sujet")
    at = bot.clock.now()
    await react(bot, RoomEvents(reactions=[Reaction("$r1", ROOM, BOB, second.event_id, "👍", at)]))
    late = datetime(2099, 1, 8, 18, 0, tzinfo=UTC)
    await react(bot, RoomEvents(reactions=[Reaction("$r2", ROOM, BOB, first.event_id, "👍", late)]))
    assert await supporters(bot, 1) == [] and await supporters(bot, 2) == []


# --- withdrawing --------------------------------------------------------------------------------

async def test_withdraw_by_author_or_coordinator_only(bot: Harness) -> None:
    await plan(bot)
    await suggest(bot, "Un")
    await suggest(bot, "Deux")
    assert "Seul·e l'auteur·e de la proposition n°1" in await refused(bot, "!odj retirer 1", BOB)
    assert await ask(bot, "!odj retirer 1", ALICE) == "Proposition n°1 retirée."
    assert "est retirée" in await refused(bot, "!odj retirer 1", ALICE)
    assert "est retirée : on ne peut plus la soutenir" in await refused(bot, "!odj soutenir 1", BOB)
    await ask(bot, "!odj accepter 2")
    assert await ask(bot, "!odj retirer 2") == "Proposition n°2 retirée."
    assert await rows(bot, "agenda_items") == []  # its item went with it


# --- deciding -----------------------------------------------------------------------------------

async def test_accept_turns_a_suggestion_into_an_item(bot: Harness) -> None:
    await plan(bot)
    await suggest(bot, "Bilan vélo")
    reply = await ask(bot, "!odj accepter 1 --duree 20min --animation tour de table "
                           "--intervenant @bob:example.org")
    assert reply == "Proposition n°1 retenue : point n°1, en position 1 (20 min)."
    async with bot.db.transaction() as repos:
        item = await repos.agenda.item(1)
        assert item is not None
        assert (item.title, item.minutes, item.method, item.presenter, item.suggestion_id) == (
            "Bilan vélo", 20, "tour de table", BOB, 1)
        suggestion = await repos.agenda.suggestion(1)
        assert suggestion is not None and (suggestion.status, suggestion.decided_by) == (
            "acceptee", COORDINATOR)
    assert "déjà retenue" in await refused(bot, "!odj accepter 1")
    await suggest(bot, "Deux")
    reply = await ask(bot, "!agenda accept 2")
    assert reply == "Proposition n°2 retenue : point n°2, en position 2 (15 min)."
    async with bot.db.transaction() as repos:
        second = await repos.agenda.item(2)
        assert second is not None and second.presenter == ALICE  # the author presents by default


async def test_refuse_tells_the_author_why_in_the_room_of_the_suggestion(bot: Harness) -> None:
    await plan(bot)
    await suggest(bot, "Hors sujet", room_id=NORTH)
    sent = await bot.command("!odj refuser 1 déjà traité en décembre", sender=COORDINATOR)
    assert (sent[0].room_id, plain(sent[0])) == (
        ROOM, "Proposition n°1 refusée ; je préviens son auteur·e dans le salon où elle a été "
              "faite.")
    told = sent[1]
    assert told.room_id == NORTH
    assert plain(told) == ("@alice:example.org, votre proposition n°1 « Hors sujet » n'est pas "
                           "retenue pour l'ordre du jour de la rencontre n°1. Raison : déjà "
                           "traité en décembre")
    assert told.content["m.mentions"] == {"user_ids": [ALICE]}
    assert "déjà refusée" in await refused(bot, "!odj refuser 1")
    # In the same room: the reply itself tells the author.
    await suggest(bot, "Autre")
    same = await bot.command("!odj refuser 2", sender=COORDINATOR)
    assert len(same) == 1 and "Raison : aucune raison donnée" in plain(same[0])
    assert ALICE in same[0].content["m.mentions"]["user_ids"]


@pytest.mark.parametrize("body", [
    "!odj accepter 1", "!odj refuser 1", "!odj ajouter Point", "!odj deplacer 1 1",
    "!odj supprimer 1", "!odj brouillon", "!odj publier", "!odj tour", "!odj modifier 1 --duree 5min",
])
async def test_coordinator_commands_are_refused_to_others(bot: Harness, body: str) -> None:
    await plan(bot)
    await suggest(bot, "Un")
    if body != "!odj accepter 1":
        await ask(bot, "!odj accepter 1")
    reply = await refused(bot, body, sender=BOB)
    assert "coordination" in reply.lower(), reply


# --- building the agenda and its time column ----------------------------------------------------

async def build(bot: Harness) -> None:
    await plan(bot)
    await ask(bot, "!odj ajouter Accueil --duree 10min --animation tour de table")
    await ask(bot, "!odj ajouter Tour des groupes --duree 45min --intervenant @bob:example.org")
    await ask(bot, "!odj ajouter Questions diverses --duree 1h05")


async def test_times_are_computed_from_the_start_and_the_durations(bot: Harness) -> None:
    await build(bot)
    listing = await ask(bot, "!odj liste")
    assert "| 1 | 18h30 | Accueil (n°1) | 10 min | tour de table | — |" in listing
    assert "| 2 | 18h40 | Tour des groupes (n°2) | 45 min | — | @bob:example.org |" in listing
    assert "| 3 | 19h25 | Questions diverses (n°3) | 65 min | — | — |" in listing
    assert "|  | 20h30 | Fin |" in listing
    assert "⚠️" not in listing
    await ask(bot, "!odj modifier 3 --duree 1h10")
    assert "L'ordre du jour finit à 20h35, après la fin prévue de la rencontre (20h30)" in await ask(
        bot, "!odj liste")


def _timed_column(start: datetime, minutes: list[int]) -> list[str]:
    lines = [Line(i, f"P{i}", m) for i, m in enumerate(minutes, start=1)]
    return [agenda_render._time(row.start, club(), T) for row in schedule(start, lines)]


def test_time_column_across_a_dst_weekend() -> None:
    # Saturday 27 March 2027, the evening before the change to summer time (UTC+1 that day).
    start = datetime(2027, 3, 27, 18, 30, tzinfo=PARIS)
    assert _timed_column(start, [15, 20, 45, 90]) == ["18h30", "18h45", "19h05", "19h50"]
    # A night session across the change (2h → 3h on Sunday 28 March): elapsed time.
    night = datetime(2027, 3, 28, 1, 30, tzinfo=PARIS)
    assert _timed_column(night, [20, 20, 20]) == ["1h30", "1h50", "3h10"]
    # And back to winter time on 31 October 2027: at 3h summer time it is 2h again.
    autumn = datetime(2027, 10, 31, 1, 30, tzinfo=PARIS)
    assert _timed_column(autumn, [30, 30, 30, 30]) == ["1h30", "2h", "2h30", "2h"]
    # Summer: one week later, UTC+2.
    summer = datetime(2027, 4, 3, 18, 30, tzinfo=PARIS)
    assert _timed_column(summer, [15, 15]) == ["18h30", "18h45"]


async def test_published_agenda_of_a_rencontre_on_the_dst_weekend(bot: Harness) -> None:
    bot.clock.set(datetime(2027, 3, 20, 9, 0, tzinfo=UTC))
    await plan(bot, "samedi 27 mars 2027 18h30-20h30 --territoire sud")
    await ask(bot, "!odj ajouter Accueil --duree 20min")
    await ask(bot, "!odj ajouter Débat --duree 1h")
    sent = await bot.command("!odj publier", sender=COORDINATOR)
    agenda = plain(next(s for s in sent if s.room_id == SOUTH))
    assert "| 1 | 18h30 | Accueil (n°1) | 20 min |" in agenda
    assert "| 2 | 18h50 | Débat (n°2) | 60 min |" in agenda
    assert "|  | 19h50 | Fin |" in agenda


async def test_move_and_its_refusals(bot: Harness) -> None:
    await build(bot)
    assert await refused(bot, "!odj deplacer 1 4") == (
        "Il n'y a pas de position 4 : l'ordre du jour compte 3 point(s).")
    assert "Le nombre doit être compris entre 1" in await refused(bot, "!odj deplacer 1 0")
    assert "Pas de point n°9" in await refused(bot, "!odj deplacer 9 1")
    assert "déjà en position 2" in await refused(bot, "!odj deplacer 2 2")
    assert await ask(bot, "!odj deplacer 3 1") == "Point n°3 déplacé en position 1."
    async with bot.db.transaction() as repos:
        assert [(i.id, i.position) for i in await repos.agenda.items(1)] == [(3, 1), (1, 2), (2, 3)]
    assert await ask(bot, "!agenda move 3 3") == "Point n°3 déplacé en position 3."
    async with bot.db.transaction() as repos:
        assert [i.id for i in await repos.agenda.items(1)] == [1, 2, 3]


async def test_remove_an_item_puts_its_suggestion_back(bot: Harness) -> None:
    await plan(bot)
    await suggest(bot, "Un")
    await ask(bot, "!odj accepter 1")
    await ask(bot, "!odj ajouter Deux")
    assert await ask(bot, "!odj supprimer 1") == ("Point n°1 enlevé de l'ordre du jour. "
                                                 "La proposition n°1 redevient en attente.")
    async with bot.db.transaction() as repos:
        assert [(i.id, i.position) for i in await repos.agenda.items(1)] == [(2, 1)]
        suggestion = await repos.agenda.suggestion(1)
        assert suggestion is not None and suggestion.status == "proposee"
    assert "Pas de point n°1" in await refused(bot, "!odj supprimer 1")


async def test_edit_needs_something_to_change(bot: Harness) -> None:
    await build(bot)
    assert "Rien à changer" in await refused(bot, "!odj modifier 1")
    assert await ask(bot, "!odj modifier 1 Accueil café --animation libre") == "Point n°1 modifié."


# --- the tour of project groups -----------------------------------------------------------------

async def seed_groups(bot: Harness) -> None:
    async with bot.db.transaction() as repos:
        made = []
        for name, territory, status in (("Vélo Embrun", "nord", "en-cours"),
                                        ("Compost Gap", "sud", "en-cours"),
                                        ("Énergie partagée", "tout", "idee"),
                                        ("Ancien projet", "nord", "realise")):
            group = await repos.groups.create(
                name=name, name_key=name.lower(), slug=name.lower().replace(" ", "-"),
                description="", theme="mobilite", territory=territory, status=status,
                created_by=BOB, at=bot.clock.now())
            await repos.groups.add_member(group.id, BOB, bot.clock.now(), tz=PARIS, referent=True)
            await repos.groups.add_member(group.id, CAROL, bot.clock.now(), tz=PARIS,
                                          referent=True)
            made.append(group)
        await repos.groups.add_progress(made[0].id, BOB, "Dix vélos réparés samedi",
                                        bot.clock.now() - timedelta(days=2))
        await repos.groups.add_progress(made[2].id, BOB, "Vieille nouvelle",
                                        bot.clock.now() - timedelta(days=40))


async def test_tour_adds_one_item_per_active_group_of_the_territory(bot: Harness) -> None:
    # A previous rencontre (held) 20 days ago: news older than it is not news.
    await seed_groups(bot)
    async with bot.db.transaction() as repos:
        old = await repos.meetings.create(starts_at=bot.clock.now() - timedelta(days=20),
                                          ends_at=bot.clock.now() - timedelta(days=20, hours=-2),
                                          place="", territory="nord", created_by=COORDINATOR,
                                          at=bot.clock.now())
        old.status = "tenue"
    await plan(bot)  # n°2, nord
    assert await ask(bot, "!odj tour") == ("Tour des groupes : 2 point(s) ajouté(s) à l'ordre "
                                           "du jour de la rencontre n°2.")
    listing = await ask(bot, "!odj liste")
    assert ("| 1 | 18h30 | Tour des groupes : Vélo Embrun (n°1) — dernières nouvelles (03/01) : "
            "Dix vélos réparés samedi | 10 min | — | @bob:example.org, @carol:example.org |"
            ) in listing
    assert "Tour des groupes : Énergie partagée (n°2) — pas de nouvelles depuis la dernière " \
           "rencontre" in listing
    assert "Compost Gap" not in listing and "Ancien projet" not in listing
    assert "Aucun groupe-projet actif" in await refused(bot, "!odj tour")


async def test_draft_with_groups_is_posted_with_the_deadline(bot: Harness) -> None:
    await seed_groups(bot)
    await plan(bot, "jeudi 18h30 --territoire commun")
    await suggest(bot, "Covoiturage")
    sent = await bot.command("!odj brouillon groupes", sender=COORDINATOR)
    assert plain(sent[0]) == ("Je poste le projet d'ordre du jour de la rencontre n°1 dans 3 "
                              "salons (3 groupes ajoutés au tour des groupes).")
    assert [s.room_id for s in sent[1:]] == [MAIN, NORTH, SOUTH]
    draft = plain(sent[1])
    assert draft.startswith("Projet d'ordre du jour — rencontre n°1, jeudi 8 janvier 2099")
    assert "| 1 | 18h30 | Tour des groupes : Vélo Embrun (n°1)" in draft
    assert "| 3 | 18h50 | Tour des groupes : Énergie partagée (n°3)" in draft
    assert "Propositions en attente (1) :\n- n°1 Covoiturage" in draft
    assert "jusqu'au mardi 6 janvier 2099 à 18h30 : `!odj proposer <votre point>`" in draft
    async with bot.db.transaction() as repos:
        state = await repos.agenda.state(1)
        assert state is not None and state.draft_posted_at == bot.clock.now()
        assert state.published_at is None
    assert not bot.transport.pinned


# --- publication --------------------------------------------------------------------------------

async def test_publish_refusals(bot: Harness) -> None:
    await plan(bot)
    assert "est vide : rien à publier" in await refused(bot, "!odj publier")
    await ask(bot, "!odj ajouter Accueil")
    assert "coordination" in (await refused(bot, "!odj publier", sender=ALICE)).lower()


async def test_publish_posts_and_pins_in_the_rooms_of_the_rencontre(bot: Harness) -> None:
    await build(bot)
    sent = await bot.command("!odj publier", sender=COORDINATOR)
    assert plain(sent[0]) == ("Je publie l'ordre du jour de la rencontre n°1 (version 1, 3 "
                              "points) dans : salon nord.")
    assert f'<a href="https://matrix.to/#/{NORTH}">salon nord</a>' in sent[0].content[
        "formatted_body"]
    posted = [s for s in sent if s.room_id == NORTH]
    assert len(posted) == 1
    agenda = plain(posted[0])
    assert agenda.startswith("Ordre du jour — rencontre n°1, jeudi 8 janvier 2099, 18h30–20h30")
    assert "| # | Heure | Point | Durée | Animation | Qui présente |" in agenda
    assert posted[0].content["formatted_body"].count("<tr>") == 5  # head, 3 items, end
    assert bot.transport.pinned == {NORTH: [posted[0].event_id]}
    async with bot.db.transaction() as repos:
        state = await repos.agenda.state(1)
        assert state is not None and state.version == 1 and json.loads(state.rooms) == [NORTH]
        assert [item["title"] for item in json.loads(state.published)] == [
            "Accueil", "Tour des groupes", "Questions diverses"]
        meeting = await repos.meetings.get(1)
        assert meeting is not None
        summary = await agenda_summary(repos, meeting, club(), T)
    assert summary == ("Ordre du jour de la rencontre n°1 :\n- 18h30 Accueil\n"
                       "- 18h40 Tour des groupes — [@bob:example\\.org](https://matrix.to/#/"
                       "@bob:example.org)\n- 19h25 Questions diverses")


async def test_agenda_summary_is_none_before_publication(bot: Harness) -> None:
    await build(bot)
    async with bot.db.transaction() as repos:
        meeting = await repos.meetings.get(1)
        assert meeting is not None
        assert await agenda_summary(repos, meeting, club(), T) is None


async def test_a_change_after_publication_posts_only_the_change(bot: Harness) -> None:
    await build(bot)
    publication = await bot.command("!odj publier", sender=COORDINATOR)
    pinned = next(s for s in publication if s.room_id == NORTH)
    sent = await bot.command("!odj deplacer 2 1", sender=COORDINATOR)
    assert plain(sent[0]) == ("Point n°2 déplacé en position 1. J'annonce la mise à jour dans 1 "
                              "salon et corrige l'ordre du jour publié.")
    change, edit = sent[1], sent[2]
    assert change.room_id == NORTH and "m.relates_to" not in change.content
    assert plain(change) == (
        "Ordre du jour mis à jour — rencontre n°1 (jeudi 8 janvier 2099, 18h30–20h30) :\n"
        "- point n°2 « Tour des groupes » déplacé en position 1\n"
        "- horaires : 18h30 « Tour des groupes », 19h15 « Accueil »")
    assert "Questions diverses" not in plain(change)  # unchanged: not repeated
    # The pinned message is edited to stay right; the pin does not move.
    assert edit.content["m.relates_to"] == {"rel_type": "m.replace", "event_id": pinned.event_id}
    assert "| 1 | 18h30 | Tour des groupes (n°2)" in edit.content["m.new_content"]["body"]
    assert bot.transport.pinned == {NORTH: [pinned.event_id]}
    # Adding and removing after publication: only those.
    sent = await bot.command("!odj ajouter Pot de l'amitié --duree 5min", sender=COORDINATOR)
    assert plain(sent[1]).endswith("- point n°4 « Pot de l'amitié » ajouté en position 4, à "
                                   "20h30 (5 min)\n- fin prévue à 20h35")
    sent = await bot.command("!odj supprimer 1", sender=COORDINATOR)
    assert "- point n°1 « Accueil » retiré" in plain(sent[1])
    assert "horaires : 19h15 « Questions diverses », 20h20 « Pot de l'amitié »" in plain(sent[1])
    async with bot.db.transaction() as repos:
        state = await repos.agenda.state(1)
        assert state is not None
        assert [item["id"] for item in json.loads(state.published)] == [2, 3, 4]


async def test_the_pinned_agenda_follows_a_moved_rencontre(bot: Harness) -> None:
    await build(bot)
    publication = await bot.command("!odj publier", sender=COORDINATOR)
    pinned = next(s for s in publication if s.room_id == NORTH)
    sent = await bot.command("!rencontre reporter 1 vendredi 9 janvier 2099 17h-19h",
                             sender=COORDINATOR)
    edits = [s for s in sent if s.content.get("m.relates_to", {}).get("rel_type") == "m.replace"]
    assert [(e.room_id, e.content["m.relates_to"]["event_id"]) for e in edits] == [
        (NORTH, pinned.event_id)]
    agenda = edits[0].content["m.new_content"]["body"].replace("**", "")
    assert agenda.startswith("Ordre du jour — rencontre n°1, vendredi 9 janvier 2099, 17h–19h")
    assert "| 1 | 17h | Accueil" in agenda and "| 2 | 17h10 | Tour des groupes" in agenda
    assert bot.transport.pinned == {NORTH: [pinned.event_id]}
    async with bot.db.transaction() as repos:  # reminders carry the new times too
        meeting = await repos.meetings.get(1)
        assert meeting is not None
        summary = await agenda_summary(repos, meeting, club(), T)
    assert summary is not None and "- 17h Accueil" in summary


async def test_a_cancelled_rencontre_s_agenda_is_unpinned(bot: Harness) -> None:
    await build(bot)
    bot.transport.pinned[NORTH] = ["$someone-else"]
    await bot.command("!odj publier", sender=COORDINATOR)
    sent = await bot.command("!rencontre annuler 1 salle indisponible", sender=COORDINATOR)
    assert "annulée" in plain(sent[0])
    assert bot.transport.pinned == {NORTH: ["$someone-else"]}


PIN_REFUSED = ("Impossible d'épingler l'ordre du jour : le bot doit être modérateur de ce salon "
               "(niveau 50). Il est publié, pas épinglé.")


async def test_a_pin_the_bot_may_not_make_is_told_once_in_the_room(bot: Harness) -> None:
    """Without the moderators' level in the rencontre's room, the agenda is posted, the reply
    claims no pin, and the room is told (once) why it is not pinned."""
    await build(bot)
    bot.transport.forbidden.add(("state", NORTH))
    sent = await bot.command("!odj publier", sender=COORDINATOR)
    assert "épingl" not in plain(sent[0])
    assert [(s.room_id, plain(s)[:20]) for s in sent[1:]] == [
        (NORTH, "Ordre du jour — renc"), (NORTH, PIN_REFUSED[:20])]
    assert plain(sent[2]) == PIN_REFUSED
    assert bot.transport.pinned == {}
    await bot.outbox.flush()
    assert bot.transport.bodies(NORTH).count(PIN_REFUSED) == 1
    # Cancelled: nothing was pinned, so nothing to unpin and nothing to say.
    await bot.command("!rencontre annuler 1 salle indisponible", sender=COORDINATOR)
    assert bot.transport.bodies(NORTH).count(PIN_REFUSED) == 1
    assert not [b for b in bot.transport.bodies() if "désépingler" in b]


async def test_with_the_moderators_level_the_agenda_is_pinned_and_nothing_more_said(
        bot: Harness) -> None:
    await build(bot)
    sent = await bot.command("!odj publier", sender=COORDINATOR)
    assert [s.room_id for s in sent] == [ROOM, NORTH]
    assert bot.transport.pinned == {NORTH: [sent[1].event_id]}
    bot.transport.forbidden.add(("state", NORTH))  # the bot lost its level since
    sent = await bot.command("!rencontre annuler 1 salle indisponible", sender=COORDINATOR)
    assert plain(sent[-1]) == ("Impossible de désépingler l'ordre du jour de la rencontre n°1 : "
                               "le bot doit être modérateur de ce salon (niveau 50).")
    assert sent[-1].room_id == NORTH


async def test_moving_an_unpublished_agenda_edits_nothing(bot: Harness) -> None:
    await build(bot)
    sent = await bot.command("!rencontre reporter 1 vendredi 9 janvier 2099 17h",
                             sender=COORDINATOR)
    assert not [s for s in sent if "m.new_content" in s.content]
    assert not bot.transport.pinned


async def test_publishing_again_unpins_the_previous_version(bot: Harness) -> None:
    await build(bot)
    bot.transport.pinned[NORTH] = ["$someone-else"]
    first = next(s for s in await bot.command("!odj publier", sender=COORDINATOR)
                 if s.room_id == NORTH)
    await bot.command("!odj deplacer 3 1", sender=COORDINATOR)
    # Published again (to bring it back down the room): a new full version, pinned instead.
    sent = await bot.command("!odj publier", sender=COORDINATOR)
    assert "de la rencontre n°1 (version 2, 3 points) dans : salon nord" in plain(sent[0])
    second = [s for s in sent if s.room_id == NORTH]
    assert len(second) == 1 and "| 1 | 18h30 | Questions diverses (n°3)" in plain(second[0])
    assert second[0].event_id != first.event_id
    assert bot.transport.pinned == {NORTH: ["$someone-else", second[0].event_id]}
    async with bot.db.transaction() as repos:
        state = await repos.agenda.state(1)
        assert state is not None and state.version == 2


async def test_a_joint_rencontre_is_published_in_every_room(bot: Harness) -> None:
    await plan(bot, "jeudi 18h30 --territoire commun")
    await ask(bot, "!odj ajouter Accueil")
    sent = await bot.command("!agenda publish", sender=COORDINATOR)
    assert sorted(bot.transport.pinned) == [MAIN, NORTH, SOUTH]
    assert plain(sent[0]).endswith("dans : salon principal, salon nord, salon sud.")


async def test_changes_to_a_past_or_cancelled_rencontre_are_refused(bot: Harness) -> None:
    await build(bot)
    await bot.command("!odj publier", sender=COORDINATOR)
    bot.clock.set(datetime(2099, 1, 8, 18, 0, tzinfo=UTC))
    assert "a déjà eu lieu" in await refused(bot, "!odj deplacer 1 2")
    assert "a déjà eu lieu" in await refused(bot, "!odj ajouter Encore --rencontre 1")
    assert "Aucune rencontre prévue" in await refused(bot, "!odj ajouter Encore")
    assert "a déjà eu lieu" in await refused(bot, "!odj publier --rencontre 1")
    # Still readable.
    assert "Ordre du jour publié (version 1)" in await ask(bot, "!odj liste --rencontre 1", ALICE)


async def test_changes_to_a_cancelled_rencontre_are_refused(bot: Harness) -> None:
    await build(bot)
    await suggest(bot, "Un")
    await bot.command("!rencontre annuler 1", sender=COORDINATOR)
    for body in ("!odj deplacer 1 2", "!odj accepter 1", "!odj refuser 1",
                 "!odj publier --rencontre 1", "!odj brouillon --rencontre 1"):
        assert "La rencontre n°1 est annulée" in await refused(bot, body), body
    assert "est annulée" in await refused(bot, "!odj soutenir 1", BOB)


async def test_a_text_of_several_lines_keeps_its_place_in_lists_and_in_the_table(
        bot: Harness) -> None:
    """A suggestion (or a remontée) written on several lines is shown on one line: its blank
    lines cannot end the list item, nor the agenda's table row, and write lines of their own
    in the bot's messages."""
    await plan(bot)
    await suggest(bot, "Atelier compost\n\nPoint 2 : budget voté")
    [listed] = await bot.command("!odj liste", sender=ALICE)
    html = listed.content["formatted_body"]
    assert "<p>Point 2" not in html
    item = html[html.index("<li>"):html.index("</li>")]
    assert "Atelier compost Point 2 : budget voté" in item
    await ask(bot, "!odj accepter 1")
    [table] = [html for sent in await bot.command("!odj brouillon", sender=COORDINATOR)
               if "<tbody>" in (html := str(sent.content.get("formatted_body", "")))]
    body_rows = table[table.index("<tbody>"):table.index("</tbody>")]
    assert body_rows.count("<tr>") == 2 and "Atelier compost Point 2" in body_rows  # and « Fin »
    await ask(bot, "!remontee Un abri vélo\n\nn°2 Un faux point", ALICE)
    [remontees] = await bot.command("!remontee liste", sender=ALICE)
    html = remontees.content["formatted_body"]
    assert "<p>n°2" not in html and html.count("<li>") == 1
