"""Proposals and polls on anything end to end without a homeserver (real SQLite and
PostgreSQL): who may open them, positions and votes by text and by native poll counted
together, reasons, anonymity, the reminder, the close, the outcome and ``!decisions``, the
caps, and what an attacker cannot make the bot do."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.outbox import Outbox
from commands.caps import Limits
from commands.context import Place
from commands.events import PollResponse
from commands.polls import native, service
from commands.registry import Registry
from commands.report_settings import IndicatorSpec
from commands.roles import Role
from commands.text import WORD_JOINER
from storage.db import Database
from tests.handlers.conftest import COORDINATOR, Harness, make_club, make_harness, table_snapshot
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.fakes import FakeTransport, Sent
from tests.handlers.test_personal_data import (
    MARKER,
    column,
    forget,
    last_upload,
    rows_naming,
)

BOB, CAROL, DAVE = "@bob:example.org", "@carol:example.org", "@dave:example.org"
ALICE, EVE = "@alice:example.org", "@eve:example.org"
MAIN, VELO = "!main:example.org", "!velo:example.org"
TABLES = ("polls", "poll_slots", "poll_votes", "participant_years", "outbox")
# The harness clock: Monday 5 January 2099, 10:00 in Paris; this closes on Friday 18:00.
CLOSE = "--cloture vendredi 9 janvier 18h"
FRIDAY = datetime(2099, 1, 9, 17, tzinfo=UTC)
PROPOSE = f"!proposition Acheter une remorque pour l'atelier {CLOSE}"
QUESTION = f'!sondage question "Quel thème ?" choix Mobilité | Énergie | Alimentation {CLOSE}'


def limited_club() -> Any:
    return replace(make_club(), rooms={"main": MAIN},
                   limits=replace(Limits(), proposals_per_day=2, outcomes_per_day=2))


@pytest.fixture
async def bot(db: Database, clock: FakeClock, transport: FakeTransport,  # noqa: F811
              outbox: Outbox, registry: Registry) -> Harness:
    """Group 1 « Atelier vélo » (referent Alice, member Bob) in room VELO; Eve is a visitor."""
    harness = make_harness(db, clock, transport, outbox, registry, limited_club())
    harness.places.update({VELO: Place.GROUP})
    harness.roles[EVE] = Role.VISITOR
    await harness.command("!projet creer Atelier vélo --territoire nord", sender=ALICE,
                          room_id=MAIN)
    await harness.command("!projet rejoindre velo", sender=BOB, room_id=MAIN)
    async with db.transaction() as repos:
        (await repos.groups.get(1)).room_id = VELO  # type: ignore[union-attr]
    return harness


def body(sent: Sent) -> str:
    return str(sent.content["body"]).replace("**", "")


async def said(bot: Harness, text: str, sender: str = BOB, room_id: str = VELO) -> str:
    return body((await bot.command(text, sender=sender, room_id=room_id))[0])


async def refused(bot: Harness, text: str, sender: str = BOB, room_id: str = VELO) -> str:
    before = await table_snapshot(bot.db, TABLES)
    reply = await said(bot, text, sender, room_id)
    assert await table_snapshot(bot.db, TABLES) == before, f"{text!r} changed the database"
    return reply


def starts(sent: list[Sent]) -> list[Sent]:
    return [s for s in sent if s.event_type == native.START]


async def native_vote(bot: Harness, start: Sent, sender: str, answer: str | None,
                      event_id: str, room_id: str = VELO) -> None:
    response = PollResponse(event_id, room_id, sender, bot.clock.now(), start.event_id,
                            (answer,) if answer else ())
    async with bot.db.transaction() as repos:
        await service.record_native(repos, [response], bot.dispatcher.club, bot.dispatcher.t)


async def results(bot: Harness, number: int = 1, sender: str = COORDINATOR) -> str:
    return await said(bot, f"!proposition resultats {number}", sender, MAIN)


# --- proposals ------------------------------------------------------------------------------------

async def test_a_member_opens_a_proposal_in_the_groups_room(bot: Harness) -> None:
    sent = await bot.command(PROPOSE, sender=BOB, room_id=VELO)
    reply, root, start = sent
    assert body(reply).startswith("Proposition n°1 ouverte jusqu'au vendredi 9 janvier 2099 "
                                  "à 18h")
    assert root.room_id == VELO and body(root).startswith("Proposition n°1 de ")
    assert "> Acheter une remorque pour l'atelier" in body(root)
    content = start.content[native.START]
    assert content["question"][native.TEXT] == (
        "Proposition n°1 : Acheter une remorque pour l'atelier")
    assert [(a["id"], a[native.TEXT]) for a in content["answers"]] == [
        ("agree", "D'accord"), ("abstain", "Abstention"), ("disagree", "Pas d'accord"),
        ("block", "Bloquer")]
    assert start.content["m.relates_to"]["event_id"] == root.event_id  # in its thread
    async with bot.db.transaction() as repos:
        poll = await repos.polls.get(1)
        assert poll is not None and (poll.kind, poll.room_id, poll.territory) == (
            "proposal", VELO, "nord")
    # Proposing is taking part.
    assert await column(bot, f"SELECT user_id FROM participant_years WHERE user_id = '{BOB}'"
                        ) == [BOB]


async def test_who_may_open_a_proposal(bot: Harness) -> None:
    assert "dans le salon d'un groupe-projet, tout membre" in await refused(
        bot, PROPOSE, room_id=MAIN)
    assert "dans le salon d'un groupe-projet, tout membre" in await refused(
        bot, PROPOSE, room_id="!dm:example.org")
    assert "Réservé aux membres du club" in await refused(bot, PROPOSE, sender=EVE)
    assert "Il manque l'option --cloture" in await refused(
        bot, "!proposition Acheter une remorque")
    assert "hier" in await refused(bot, "!proposition Acheter --cloture hier")
    assert "Texte trop long" in await refused(bot, "!proposition " + "x" * 2001 + " " + CLOSE)
    assert (await said(bot, PROPOSE, COORDINATOR, MAIN)).startswith("Proposition n°1 ouverte")


async def test_positions_by_text_and_by_element_are_counted_together_with_reasons(
        bot: Harness) -> None:
    start = starts(await bot.command(PROPOSE, sender=BOB, room_id=VELO))[0]
    assert await said(bot, "!position 1 d'accord on en a besoin") == (
        "Position enregistrée (proposition n°1) : D'accord — on en a besoin")
    await native_vote(bot, start, CAROL, "block", "$c1")
    assert "Pas d'accord" in await said(bot, "!position 1 pas d’accord trop cher", DAVE)
    await native_vote(bot, start, ALICE, "abstain", "$a1")
    shown = await results(bot)
    assert "D'accord : 1 · Abstention : 1 · Pas d'accord : 1 · Bloquer : 1" in shown
    assert f"{BOB} : on en a besoin" in shown and f"{DAVE} : trop cher" in shown
    assert f"{CAROL} : (raison non donnée)" in shown
    # A reason is added or changed until the close; an unchanged position keeps it.
    await said(bot, "!position 1 bloquer contraire au cadre de confiance", CAROL)
    await said(bot, "!position 1 pour", BOB)
    await native_vote(bot, start, DAVE, "disagree", "$d2")
    shown = await results(bot)
    assert f"{CAROL} : contraire au cadre de confiance" in shown
    assert f"{BOB} : on en a besoin" in shown and f"{DAVE} : trop cher" in shown
    # A changed position drops the old reason; withdrawing removes the position.
    await said(bot, "!position 1 contre", BOB)
    assert "on en a besoin" not in await results(bot)
    assert await said(bot, "!position 1 retirer", ALICE) == (
        "Votre position sur la proposition n°1 est retirée.")
    shown = await results(bot)
    assert "D'accord : 0 · Abstention : 0 · Pas d'accord : 2 · Bloquer : 1" in shown
    assert "3 personnes ont répondu" in shown
    # The proposal's message is kept up to date.
    edits = [s for s in bot.transport.sent if s.content.get("m.relates_to", {}).get(
        "rel_type") == "m.replace"]
    assert edits and "Pas d'accord : 2" in body(edits[-1])


@pytest.mark.parametrize(("line", "expected"), [
    ("!position 1 bloquer", "Bloquer demande une raison"),
    ("!position 1 peut-être", "Je ne comprends pas"),
    ("!position d'accord", "Je ne comprends pas"),
    ("!position 7 d'accord", "Pas de sondage n°7"),
    ("!position 1 d'accord " + "x" * 501, "Texte trop long"),
])
async def test_unreadable_positions_change_nothing(bot: Harness, line: str,
                                                   expected: str) -> None:
    await bot.command(PROPOSE, sender=BOB, room_id=VELO)
    assert expected in await refused(bot, line, CAROL)


async def test_an_anonymous_proposal_never_shows_names(bot: Harness) -> None:
    start = starts(await bot.command(PROPOSE + " --anonyme", sender=BOB, room_id=VELO))[0]
    await said(bot, "!position 1 d'accord super idée", CAROL)
    await native_vote(bot, start, DAVE, "block", "$d1")
    shown = await results(bot)  # even a coordinator sees no name
    assert "Anonyme" in shown and "super idée" in shown and "(raison non donnée)" in shown
    assert CAROL not in shown and DAVE not in shown
    edits = [s for s in bot.transport.sent if s.content.get("m.relates_to", {}).get(
        "rel_type") == "m.replace"]
    assert edits and all(CAROL not in body(e) and DAVE not in body(e) for e in edits)


async def test_the_reminder_goes_once_to_those_who_have_not_taken_part(bot: Harness) -> None:
    await bot.command(PROPOSE, sender=BOB, room_id=VELO)
    bot.transport.members[VELO] = [ALICE, BOB, CAROL, DAVE, bot.transport.user_id]
    await said(bot, "!position 1 d'accord", BOB)
    await said(bot, "!mentions oui", CAROL)
    source = bot.job("poll-remind")
    assert await source.pending() == [(1, datetime(2099, 1, 8, 17, tzinfo=UTC))]
    await source.fire(1)
    await bot.outbox.flush()
    reminder = bot.transport.sent[-1]
    assert reminder.room_id == VELO
    assert "3 personnes du salon n'ont pas encore pris position" in body(reminder)
    assert f"Pas encore pris position : {CAROL}" in body(reminder)
    assert reminder.content["m.mentions"] == {"user_ids": [CAROL]}
    await source.fire(1)
    assert bot.transport.sent[-1] is reminder and await source.pending() == []


async def test_an_anonymous_proposals_reminder_names_nobody(bot: Harness) -> None:
    """Naming who has not taken part in an anonymous proposal would show who has: its
    reminder counts them only, and mentions nobody."""
    await bot.command(PROPOSE + " --anonyme", sender=BOB, room_id=VELO)
    bot.transport.members[VELO] = [ALICE, BOB, CAROL, DAVE, bot.transport.user_id]
    await said(bot, "!position 1 d'accord", BOB)
    for member in (CAROL, DAVE):
        await said(bot, "!mentions oui", member)
    await bot.job("poll-remind").fire(1)
    await bot.outbox.flush()
    reminder = bot.transport.sent[-1]
    assert "3 personnes du salon n'ont pas encore pris position" in body(reminder)
    assert CAROL not in body(reminder) and DAVE not in body(reminder)
    assert "Pas encore pris position" not in body(reminder)
    assert reminder.content["m.mentions"] == {"user_ids": []}


async def test_the_deadline_closes_then_the_outcome_is_written_announced_and_listed(
        bot: Harness) -> None:
    start = starts(await bot.command(PROPOSE, sender=BOB, room_id=VELO))[0]
    await said(bot, "!position 1 d'accord", CAROL)
    assert "encore ouverte" in await refused(bot, "!proposition issue 1 Adoptée")
    source = bot.job("poll-close")
    assert await source.pending() == [(1, FRIDAY)]
    bot.clock.set(FRIDAY)
    before = len(bot.transport.sent)
    await source.fire(1)
    await bot.outbox.flush()
    new = bot.transport.sent[before:]
    [end] = [s for s in new if s.event_type == native.END]
    assert end.content["m.relates_to"] == {"rel_type": "m.reference", "event_id": start.event_id}
    assert end.content[native.TEXT].startswith("D'accord : 1, Abstention : 0")
    closing = new[-1]
    assert body(closing).startswith("La proposition n°1 est close.")
    assert "`!proposition issue 1 <texte>`" in body(closing)
    assert closing.content["m.mentions"]["user_ids"] == [BOB]  # its author (no coordinator set)
    assert "est clos : on ne peut plus voter" in await refused(bot, "!position 1 contre", DAVE)
    # The outcome: its author or a coordinator only.
    assert "Seul·e l'auteur·e de la proposition n°1" in await refused(
        bot, "!proposition issue 1 Rejetée", DAVE)
    announced = await said(bot, "!proposition issue 1 Adoptée : achat en février", BOB)
    assert announced.startswith("Issue de la proposition n°1")
    assert "Adoptée : achat en février" in announced
    listed = await said(bot, "!decisions", DAVE, MAIN)
    assert listed.startswith("Décisions (1)")
    assert "n°1" in listed and "Acheter une remorque" in listed and "Adoptée" in listed
    # A coordinator rewrites it from elsewhere: announced in the proposal's room.
    before = len(bot.transport.sent)
    # The reply says the announcement is on its way, not that it is made (it is queued).
    assert await said(bot, "!proposition issue 1 Adoptée, achat en mars", COORDINATOR,
                      MAIN) == ("Issue de la proposition n°1 modifiée : j'annonce la nouvelle "
                                "issue dans son salon.")
    elsewhere = [s for s in bot.transport.sent[before:] if s.room_id == VELO
                 and "Issue de la proposition" in body(s)]
    assert elsewhere and "achat en mars" in body(elsewhere[0])
    assert "Issue : Adoptée, achat en mars" in await results(bot)


async def two_proposals_one_decided(bot: Harness) -> None:
    """Two proposals, one decided; Carol and Dave took a position, Alice withdrew hers."""
    await bot.command(PROPOSE, sender=BOB, room_id=VELO)
    await bot.command(PROPOSE, sender=COORDINATOR, room_id=MAIN)
    await said(bot, "!position 1 d'accord", CAROL)
    await said(bot, "!position 2 contre", CAROL, MAIN)
    await said(bot, "!position 1 abstention", DAVE)
    await said(bot, "!position 2 pour", ALICE, MAIN)
    await said(bot, "!position 2 retirer", ALICE, MAIN)  # withdrawn: not counted
    await said(bot, "!proposition cloturer 1")
    await said(bot, "!proposition issue 1 Adoptée")


async def test_the_yearly_figures_count_proposals_decisions_and_who_took_a_position(
        bot: Harness) -> None:
    await two_proposals_one_decided(bot)
    stats = await said(bot, "!stats", COORDINATOR, MAIN)
    assert ("Décisions collectives : 2 propositions, 1 décision prise, 2 personnes y ont pris "
            "position") in stats


async def test_the_report_counts_proposals_decisions_and_who_took_a_position(
        bot: Harness) -> None:
    """The report's indicators ``proposals``, ``decisions_taken`` and ``decision_participants``
    (as configured in ``[report.indicators]``), in ``!bilan``'s summary and its CSV."""
    specs = (IndicatorSpec("propositions", "Propositions ouvertes", "proposals"),
             IndicatorSpec("decisions", "Décisions prises", "decisions_taken", target_per_year=3),
             IndicatorSpec("avis", "Personnes ayant pris position", "decision_participants"))
    club = bot.dispatcher.club
    bot.dispatcher.club = replace(club, report=replace(club.report, indicators=specs))
    await two_proposals_one_decided(bot)
    summary, *files = await bot.command("!bilan 2099", sender=COORDINATOR, room_id=MAIN)
    lines = body(summary).splitlines()
    assert "- Propositions ouvertes : 2" in lines
    assert "- Décisions prises : 1 (objectif 3, 33 %) ⚠️ en retard" in lines
    assert "- Personnes ayant pris position : 2" in lines
    [indicators] = [data for sent, (data, _mime, _name) in
                    zip(files, bot.transport.uploads[-len(files):], strict=True)
                    if sent.content["body"] == "bilan-2099-indicateurs.csv"]
    rows = indicators.decode("utf-8-sig").splitlines()[1:]
    assert [row.split(";")[:3] for row in rows] == [['"Propositions ouvertes"', "2", '""'],
                                                    ['"Décisions prises"', "1", "3"],
                                                    ['"Personnes ayant pris position"', "2", '""']]


async def test_closing_early_is_for_the_author_or_a_coordinator(bot: Harness) -> None:
    await bot.command(PROPOSE, sender=BOB, room_id=VELO)
    assert "Seul·e l'auteur·e" in await refused(bot, "!proposition cloturer 1", CAROL)
    assert await said(bot, "!proposition cloturer 1") == (
        "Je clos la proposition n°1 : positions ci-dessous.")
    assert "déjà clos" in await refused(bot, "!proposition cloturer 1")
    assert await bot.job("poll-close").pending() == []


async def test_a_referent_does_not_close_a_members_proposal_through_sondage_cloturer(
        bot: Harness) -> None:
    """``!sondage cloturer`` lets a group's referents close their group's polls; a proposal
    stays closed early by its author or a coordinator only, whichever command is used."""
    await bot.command(PROPOSE, sender=BOB, room_id=VELO)
    assert "Seul·e l'auteur·e" in await refused(bot, "!sondage cloturer 1", ALICE)
    assert (await said(bot, "!sondage cloturer 1", COORDINATOR)).startswith("Je clos")
    await bot.command(PROPOSE, sender=ALICE, room_id=VELO)  # a referent's own proposal
    assert (await said(bot, "!sondage cloturer 2", ALICE)).startswith("Je clos")


async def test_a_member_opens_at_most_so_many_proposals_and_polls_a_day(bot: Harness) -> None:
    await said(bot, PROPOSE)
    await said(bot, QUESTION)
    assert "Limite atteinte : vous avez déjà ouvert 2 propositions ou sondages" in await refused(
        bot, PROPOSE)
    for _ in range(3):  # the coordinators have no cap
        assert "ouverte" in await said(bot, PROPOSE, COORDINATOR, VELO)


async def test_markup_and_room_mentions_in_texts_stay_inert(bot: Harness) -> None:
    sent = await bot.command(f"!proposition @room <b>gras</b> **fort** {CLOSE}", sender=BOB,
                             room_id=VELO)
    root, start = sent[1], starts(sent)[0]
    assert "<b>" not in root.content.get("formatted_body", "")
    assert f"@{WORD_JOINER}room" in root.content["body"]
    assert root.content.get("m.mentions", {}) in ({}, {"user_ids": []})
    question = start.content[native.START]["question"][native.TEXT]
    assert f"@{WORD_JOINER}room" in question
    await said(bot, "!position 1 contre @room <script>x</script>", CAROL)
    for sent_event in bot.transport.sent:
        formatted = sent_event.content.get("formatted_body", "")
        assert "<script>" not in formatted and "@room" not in sent_event.content.get("body", "")


async def test_nobody_answers_in_someone_elses_name_nor_pings_through_a_text(
        bot: Harness) -> None:
    """A position names its sender only; ids and @room written in reasons or « autre » texts
    notify nobody."""
    await bot.command(QUESTION + " --autre", sender=COORDINATOR, room_id=MAIN)
    await bot.command(PROPOSE, sender=BOB, room_id=VELO)
    await said(bot, f"!position 2 bloquer {DAVE} est contre @room", CAROL)
    await said(bot, f"!vote 1 autre {DAVE} @room", CAROL, MAIN)
    async with bot.db.transaction() as repos:
        voters = {v.user_id for poll in (1, 2) for v in await repos.polls.votes(poll)}
    assert voters == {CAROL}
    for sent in bot.transport.sent:
        assert DAVE not in sent.content.get("m.mentions", {}).get("user_ids", [])
        assert not sent.content.get("m.mentions", {}).get("room")
        assert "@room" not in str(sent.content.get("body", ""))


async def test_positions_are_personal_data_exported_and_erased(bot: Harness) -> None:
    await bot.command(PROPOSE, sender=BOB, room_id=VELO)
    await said(bot, "!position 1 pas-d'accord mon voisin en a une", CAROL)
    await bot.command("!mes-donnees", sender=CAROL, room_id=MAIN)
    [row] = last_upload(bot)["tables"]["poll_votes"]
    assert (row["answer"], row["reason"]) == ("disagree", "mon voisin en a une")
    await forget(bot, CAROL)
    assert await column(bot, "SELECT reason FROM poll_votes") == [MARKER]
    assert await rows_naming(bot, "mon voisin en a une") == {}
    assert await column(bot, f"SELECT count(*) FROM poll_votes WHERE user_id = '{CAROL}'"
                        ) == [0]
    assert "Pas d'accord : 1" in await results(bot)  # the count stays


# --- polls on anything ----------------------------------------------------------------------------

async def test_a_single_choice_poll_by_element_and_by_text(bot: Harness) -> None:
    sent = await bot.command(QUESTION, sender=COORDINATOR, room_id=MAIN)
    assert body(sent[0]).startswith("Sondage n°1 ouvert avec 3 choix, jusqu'au vendredi")
    [start] = starts(sent)
    content = start.content[native.START]
    assert content["question"][native.TEXT] == "Quel thème ?"
    assert [(a["id"], a[native.TEXT]) for a in content["answers"]] == [
        ("1", "Mobilité"), ("2", "Énergie"), ("3", "Alimentation")]
    await native_vote(bot, start, BOB, "2", "$b1", MAIN)
    assert await said(bot, "!vote 1 3", CAROL, MAIN) == (
        "Vote enregistré (sondage n°1) : 3 (Alimentation).")
    assert "Un seul choix" in await refused(bot, "!vote 1 1 2", CAROL, MAIN)
    await said(bot, "!vote 1 1", CAROL, MAIN)  # a change of mind replaces the choice
    await native_vote(bot, start, DAVE, "9", "$d1", MAIN)  # not an answer: nothing chosen
    shown = await said(bot, "!sondage resultats 1", COORDINATOR, MAIN)
    assert "1. Mobilité — 1" in shown and "2. Énergie — 1" in shown
    assert "3. Alimentation — 0" in shown and CAROL in shown and BOB in shown
    assert "2 personnes ont répondu" in shown
    assert "pas un sondage de dates" in await refused(bot, "!sondage choisir 1 1", COORDINATOR,
                                                      MAIN)


async def test_a_multiple_choice_anonymous_poll_with_other_answers(bot: Harness) -> None:
    sent = await bot.command(QUESTION + " --multiple --anonyme --autre", sender=COORDINATOR,
                             room_id=MAIN)
    polls = starts(sent)  # one Yes / No poll per choice, « Autre » included
    assert [p.content[native.START]["question"][native.TEXT] for p in polls] == [
        "1. Mobilité", "2. Énergie", "3. Alimentation", "4. Autre"]
    assert [a["id"] for a in polls[0].content[native.START]["answers"]] == ["yes", "no"]
    assert "Plusieurs choix possibles · anonyme" in body(sent[1])
    assert (await said(bot, "!vote 1 1 3", BOB, MAIN)).startswith(
        "Vote enregistré (sondage n°1) : 1 (Mobilité), 3 (Alimentation)")
    await native_vote(bot, polls[1], CAROL, "yes", "$c1", MAIN)
    await native_vote(bot, polls[0], CAROL, "yes", "$c2", MAIN)
    await native_vote(bot, polls[0], CAROL, "no", "$c3", MAIN)  # changed her mind
    await said(bot, "!vote 1 2, autre Le vélo cargo", DAVE, MAIN)
    shown = await said(bot, "!sondage resultats 1", COORDINATOR, MAIN)
    assert "1. Mobilité — 1" in shown and "2. Énergie — 2" in shown
    assert "3. Alimentation — 1" in shown and "4. Autre — 1" in shown
    assert "« Le vélo cargo »" in shown and "3 personnes ont répondu" in shown
    assert not {BOB, CAROL, DAVE} & set(shown.split())
    assert all(p not in shown for p in (BOB, CAROL, DAVE))


@pytest.mark.parametrize(("line", "expected"), [
    ("!vote 1 autre Le vélo", "pas de réponse « autre »"),
    ("!vote 1 9", "« 9 » n'est pas un choix"),
    ("!vote 1 ²", "« ² » n'est pas un choix"),  # a digit to str.isdigit: an internal error
    ("!vote 1 oui", "« oui » n'est pas un choix"),
    ("!vote 1 ²", "« ² » n'est pas un choix"),  # a digit int() does not read
    ("!vote 1 ⑴", "« ⑴ » n'est pas un choix"),
    ("!vote 2 d'accord", "on y prend position avec `!position 2 d'accord"),
    ("!position 1 d'accord", "Le n°1 n'est pas une proposition"),
])
async def test_wrong_votes_change_nothing(bot: Harness, line: str, expected: str) -> None:
    await bot.command(QUESTION, sender=COORDINATOR, room_id=MAIN)
    await bot.command(PROPOSE, sender=BOB, room_id=VELO)
    assert expected in await refused(bot, line, CAROL, MAIN)


async def test_a_closed_poll_takes_no_vote_and_tells_its_results(bot: Harness) -> None:
    await bot.command(QUESTION, sender=COORDINATOR, room_id=MAIN)
    await said(bot, "!vote 1 2", BOB, MAIN)
    bot.clock.set(FRIDAY)
    before = len(bot.transport.sent)
    await bot.job("poll-close").fire(1)
    await bot.outbox.flush()
    new = bot.transport.sent[before:]
    [end] = [s for s in new if s.event_type == native.END]
    assert end.content[native.TEXT] == "Mobilité : 0, Énergie : 1, Alimentation : 0"
    assert body(new[-1]).startswith("Le sondage n°1 est clos.")
    assert "on ne peut plus voter" in await refused(bot, "!vote 1 1", CAROL, MAIN)


async def test_a_closed_poll_s_options_notify_no_one(bot: Harness) -> None:
    await bot.command(f'!sondage question "Qui ?" choix @room | Dave Martin | {DAVE} {CLOSE}',
                      sender=COORDINATOR, room_id=MAIN)
    bot.clock.set(FRIDAY)
    before = len(bot.transport.sent)
    await bot.job("poll-close").fire(1)
    await bot.outbox.flush()
    [end] = [s for s in bot.transport.sent[before:] if s.event_type == native.END]
    assert end.content["m.mentions"] == {}  # no name in its text notifies
    assert "@room" not in end.content["body"] and "@room" not in end.content[native.TEXT]
    assert f"Dave Martin : 0, {DAVE} : 0" in end.content["body"]


async def test_a_poll_is_closed_early_by_whoever_opened_it_not_by_other_members(
        bot: Harness) -> None:
    assert (await said(bot, QUESTION)).startswith("Sondage n°1 ouvert")  # Bob, in the group's room
    await bot.command("!projet rejoindre 1", sender=CAROL)
    assert (await said(bot, QUESTION, CAROL)).startswith("Sondage n°2 ouvert")
    assert (await refused(bot, "!sondage cloturer 2")).startswith(
        "Seuls la personne qui a ouvert le sondage n°2, la coordination et, pour le sondage d'un "
        "groupe, ses référents peuvent le clore")
    assert await said(bot, "!sondage cloturer 1") == "Je clos le sondage n°1 : résultats ci-dessous."
    assert await said(bot, "!sondage cloturer 2", ALICE) == (  # the group's referent
        "Je clos le sondage n°2 : résultats ci-dessous.")
    # A proposal: its author or the coordinators, as with ``!proposition cloturer``.
    assert (await said(bot, PROPOSE, CAROL)).startswith("Proposition n°3 ouverte")
    assert "Seul·e l'auteur·e" in await refused(bot, "!proposition cloturer 3", ALICE)
    assert await said(bot, "!proposition cloturer 3", CAROL) == (
        "Je clos la proposition n°3 : positions ci-dessous.")


async def test_members_open_polls_only_in_a_groups_room(bot: Harness) -> None:
    assert "Réservé à la coordination ici" in await refused(bot, QUESTION, room_id=MAIN)
    assert (await said(bot, QUESTION)).startswith("Sondage n°1 ouvert avec 3 choix")
    assert "proposé deux fois" in await refused(
        bot, '!sondage question "Quoi ?" choix A | a', COORDINATOR, MAIN)
    assert "au moins 2 choix" in await refused(bot, "!sondage question Quoi ? | A", COORDINATOR,
                                               MAIN)
    assert "ne prend pas de valeur" in await refused(
        bot, "!sondage question Quoi ? | A | B --anonyme oui", COORDINATOR, MAIN)


async def test_the_list_of_open_polls_tells_their_kind(bot: Harness) -> None:
    await bot.command(QUESTION, sender=COORDINATOR, room_id=MAIN)
    await bot.command(PROPOSE, sender=BOB, room_id=VELO)
    listed = await said(bot, "!sondage liste", CAROL, MAIN)
    assert "n°1 Sondage : Quel thème ?" in listed
    assert "n°2 Proposition : Acheter une remorque" in listed
    assert (await said(bot, "!decisions", CAROL, MAIN)).startswith("Aucune décision")


@pytest.mark.parametrize(("spec", "question", "options"), [
    ('"Quel thème ?" choix A | B | C', "Quel thème ?", ["A", "B", "C"]),
    ("« Quel thème ? » A | B", "Quel thème ?", ["A", "B"]),
    ("Quel thème ? choix A | B", "Quel thème ?", ["A", "B"]),
    ("Which topic? choices: A | B", "Which topic?", ["A", "B"]),
    ("Quelles options pour le local ? | Salle | Jardin", "Quelles options pour le local ?",
     ["Salle", "Jardin"]),
    ("Quel choix de thème ?\nMobilité\nÉnergie", "Quel choix de thème ?",
     ["Mobilité", "Énergie"]),
])
def test_reading_a_question_and_its_choices(spec: str, question: str,
                                            options: list[str]) -> None:
    from commands.polls.anything import question_and_options

    assert question_and_options(spec) == (question, options)


@pytest.mark.parametrize(("line", "answer", "reason"), [
    ("3 d'accord", "agree", None),
    ("n°3 D’accord : parce que", "agree", "parce que"),
    ("3 pour", "agree", None),
    ("3 agree fine by me", "agree", "fine by me"),
    ("3 abstention", "abstain", None),
    ("3 abstain", "abstain", None),
    ("3 pas d'accord trop cher", "disagree", "trop cher"),
    ("3 pas-d'accord", "disagree", None),
    ("3 contre", "disagree", None),
    ("3 disagree", "disagree", None),
    ("3 bloquer — contraire au cadre", "block", "contraire au cadre"),
    ("3 block against our charter", "block", "against our charter"),
    ("3 retirer", "withdraw", None),
])
def test_reading_positions(line: str, answer: str, reason: str | None) -> None:
    from commands.polls.choices import read_position

    read = read_position(line)
    assert (read.poll, read.answer, read.reason) == (3, answer, reason)


async def test_the_native_polls_read_again_at_start_are_those_of_every_open_kind(
        bot: Harness) -> None:
    """At start the bot reads again the answers to the native polls of the open polls: a
    proposal's one poll, a single choice's one, a multiple choice's one per option; a closed
    poll's are left alone."""
    from commands.polls import jobs

    proposal = starts(await bot.command(PROPOSE, sender=BOB, room_id=VELO))
    single = starts(await bot.command(QUESTION, sender=COORDINATOR, room_id=MAIN))
    several = starts(await bot.command(QUESTION + " --multiple", sender=COORDINATOR,
                                       room_id=MAIN))
    closed = starts(await bot.command(QUESTION, sender=COORDINATOR, room_id=MAIN))
    await said(bot, "!sondage cloturer 4", COORDINATOR, MAIN)
    [read_again] = jobs.ANSWERED
    async with bot.db.transaction() as repos:
        targets = set(await read_again(repos))
    assert targets == {(s.room_id, s.event_id) for s in (*proposal, *single, *several)}
    assert not {s.event_id for s in closed} & {event for _, event in targets}


async def test_the_native_polls_of_proposals_and_polls_are_read_again_at_start(
        bot: Harness) -> None:
    """At start the answers given in Element while the bot was away are read again: a
    proposal's one poll, a single choice's one poll and each option's poll of a multiple choice
    are all among the events read."""
    sent = [*await bot.command(PROPOSE, sender=BOB, room_id=VELO),
            *await bot.command(QUESTION, sender=COORDINATOR, room_id=MAIN),
            *await bot.command(QUESTION + " --multiple",
                               sender=COORDINATOR, room_id=MAIN)]
    started = [(s.room_id, s.event_id) for s in starts(sent)]
    assert len(started) == 1 + 1 + 3
    async with bot.db.transaction() as repos:
        targets = [target for answered in bot.dispatcher.registry.answered
                   for target in await answered(repos)]
    assert sorted(targets) == sorted(started)


async def test_the_messages_purge_keeps_the_native_polls_of_every_open_kind(
        bot: Harness) -> None:
    """``messages_retention_days`` purges old messages but the native polls of the open polls:
    a proposal's and a single choice's one poll too (not only a poll per option), so that a
    month-long proposal still counts the positions given in Element."""
    from datetime import timedelta

    from tests.handlers.conftest import retaining

    close = "--cloture 20/02 18h"
    proposal = starts(await bot.command(f"!proposition Acheter une remorque {close}",
                                        sender=BOB, room_id=VELO))[0]
    single = starts(await bot.command(
        f'!sondage question "Quel thème ?" choix Mobilité | Énergie {close}',
        sender=COORDINATOR, room_id=MAIN))[0]
    job = bot.job("retention", retaining(730, 30))
    bot.clock.advance(timedelta(days=31))
    [(item, due)] = await job.pending()
    bot.clock.set(due)
    await job.fire(item)
    await native_vote(bot, proposal, CAROL, "agree", "$c1")
    await native_vote(bot, single, DAVE, "2", "$d1", MAIN)
    assert "D'accord : 1" in await results(bot)
    assert "2. Énergie — 1" in await said(bot, "!sondage resultats 2", COORDINATOR, MAIN)


async def test_each_outcome_written_from_elsewhere_is_announced_even_within_a_second(
        bot: Harness) -> None:
    """Two outcomes written in the same second (commands read together after a restart): the
    second, the one that stands, is announced in the proposal's room too."""
    await bot.command(PROPOSE, sender=BOB, room_id=VELO)
    await said(bot, "!proposition cloturer 1", BOB)
    for text in ("Adoptée", "Adoptée, achat en mars"):
        await said(bot, f"!proposition issue 1 {text}", COORDINATOR, MAIN)
    announced = [body(s) for s in bot.transport.sent if s.room_id == VELO
                 and str(s.content.get("body", "")).startswith("**Issue de la proposition")]
    assert len(announced) == 2 and "achat en mars" in announced[-1]


async def test_a_members_outcomes_are_capped_each_being_announced(bot: Harness) -> None:
    """Each outcome written or rewritten is announced in the proposal's room: a member may
    write ``limits.outcomes_per_day`` of them in 24 hours (2 here), the coordinators any."""
    from datetime import timedelta

    await bot.command(PROPOSE, sender=BOB, room_id=VELO)
    await said(bot, "!proposition cloturer 1", BOB)
    for text in ("Adoptée", "Adoptée, achat en mars"):
        await said(bot, f"!proposition issue 1 {text}", BOB, MAIN)

    def announced() -> list[str]:
        return [body(s) for s in bot.transport.sent if s.room_id == VELO
                and str(s.content.get("body", "")).startswith("**Issue de la proposition")]

    assert len(announced()) == 2
    refusal = await refused(bot, "!proposition issue 1 Adoptée, achat en avril", BOB, MAIN)
    assert refusal.startswith("Limite atteinte : vous avez déjà écrit 2 issues de proposition "
                              "ces dernières 24 heures"), refusal
    assert len(announced()) == 2
    await said(bot, "!proposition issue 1 Adoptée, achat en avril", COORDINATOR, MAIN)
    bot.clock.advance(timedelta(hours=24))
    await said(bot, "!proposition issue 1 Adoptée, achat en mai", BOB, MAIN)
    assert len(announced()) == 4 and "achat en mai" in announced()[-1]


@pytest.mark.parametrize("word", ["autré", "Autres", "ａｕｔｒｅ"])
async def test_the_other_answer_is_read_whatever_the_accents_or_width(bot: Harness,
                                                                      word: str) -> None:
    """« autre » is recognised folded (accents, case, full width): the text after it is the
    answer (it was an internal error when the written word differed from ``autre``)."""
    await bot.command(QUESTION + " --autre", sender=COORDINATOR, room_id=MAIN)
    assert (await said(bot, f"!vote 1 {word} Le vélo cargo", BOB, MAIN)).startswith(
        "Vote enregistré (sondage n°1) : 4 (Autre)")
    assert "« Le vélo cargo »" in await said(bot, "!sondage resultats 1", COORDINATOR, MAIN)


async def test_an_outcome_written_long_after_the_opening_edits_the_proposals_message(
        bot: Harness) -> None:
    """A closed proposal's message is kept by the messages purge: its outcome, written (or
    rewritten) any time, is shown there by an edit of it."""
    from datetime import timedelta

    from tests.handlers.conftest import retaining

    root = (await bot.command(PROPOSE, sender=BOB, room_id=VELO))[1]
    await said(bot, "!proposition cloturer 1", BOB)
    job = bot.job("retention", retaining(730, 30))
    bot.clock.advance(timedelta(days=31))
    [(item, due)] = await job.pending()
    bot.clock.set(due)
    await job.fire(item)
    before = len(bot.transport.sent)
    await said(bot, "!proposition issue 1 Adoptée", BOB)
    edits = [s for s in bot.transport.sent[before:]
             if s.content.get("m.relates_to", {}).get("rel_type") == "m.replace"]
    assert [e.content["m.relates_to"]["event_id"] for e in edits] == [root.event_id]
    assert "Issue : Adoptée" in body(edits[0])


async def test_a_multi_line_outcome_or_proposal_keeps_its_place_in_the_bots_messages(
        bot: Harness) -> None:
    """A proposal's text and its outcome may take several lines: the announcement quotes the
    whole proposal and shows the outcome as text (no heading made of ``===``), and
    ``!decisions`` gives each decision one list item (no paragraph escaping the list)."""
    await said(bot, f"!proposition Un vélo-cargo\n\nIssue de la proposition n°9 : rejetée {CLOSE}",
               BOB, VELO)
    await said(bot, "!proposition cloturer 1", BOB, VELO)
    [announced, *_] = await bot.command(
        "!proposition issue 1 Adoptée\n===\n\n- oui\n\nsuite", sender=BOB, room_id=VELO)
    html = announced.content["formatted_body"]
    assert "<h1>" not in html and "<h2>" not in html and "<li>" not in html
    quoted = html[html.index("<blockquote>"):html.index("</blockquote>")]
    assert "Un vélo-cargo" in quoted and "Issue de la proposition n°9" in quoted
    [listed] = await bot.command("!decisions", sender=CAROL, room_id=MAIN)
    listing = listed.content["formatted_body"]
    assert "<h1>" not in listing and listing.count("<li>") == 1
    item = listing[listing.index("<li>"):listing.index("</li>")]
    assert "Issue de la proposition n°9" in item and "suite" in item


async def test_a_reason_or_an_other_text_cannot_write_lines_of_the_poll_message(
        bot: Harness) -> None:
    """A reason or an « autre » text of several lines is shown on one line, in its list item:
    it cannot add lines to the bot's message that read like its counts."""
    fake = "\n\nPas d'accord : 0\n\n12 personnes ont répondu."
    await said(bot, PROPOSE, BOB, VELO)
    assert (await said(bot, f"!position 1 d'accord ok{fake}", CAROL, VELO)).startswith(
        "Position enregistrée (proposition n°1) : D'accord — ok Pas d'accord : 0 12 personnes")
    await said(bot, QUESTION.replace("--cloture", "--autre --cloture"), BOB, VELO)
    await said(bot, f"!vote 2 autre vélo{fake}", CAROL, VELO)
    await bot.outbox.flush()
    edits = [s.content["m.new_content"]["formatted_body"] for s in bot.transport.sent
             if "m.new_content" in s.content]
    assert edits
    for html in edits:
        assert "<p>12 personnes ont répondu.</p>" not in html
        assert "<p>Pas d'accord : 0</p>" not in html
    results = await bot.command("!sondage resultats 2", sender=CAROL, room_id=VELO)
    assert "<p>12 personnes" not in results[0].content["formatted_body"]
