"""Support by a 👍 (``commands.agenda.by_reaction``), one test per check, for a suggestion for a
rencontre's agenda and for a remontée, on SQLite and PostgreSQL: each sends one reaction (or
redaction) that passes every check but the one tested and must change nothing, then one that
passes it too and counts, so that the test fails if the mechanism lost that check."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bot.clock import FakeClock
from bot.outbox import Outbox
from commands.agenda import cosign, reactions
from commands.effects import Effect
from commands.events import Consumer, Reaction, Redaction, RoomEvents
from commands.i18n import Translator
from commands.registry import Registry
from storage.db import Database
from tests.handlers.conftest import ALICE, COORDINATOR, ROOM, START, Harness, make_harness
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.fakes import FakeTransport
from tests.handlers.test_agenda import NORTH, club, plan, suggest

BOB, CAROL, DAN = "@bob:example.org", "@carol:example.org", "@dan:example.org"
T = Translator("fr")


@pytest.fixture
def bot(db: Database, clock: FakeClock, transport: FakeTransport, outbox: Outbox,  # noqa: F811
        registry: Registry) -> Harness:
    return make_harness(db, clock, transport, outbox, registry, club())


@dataclass(frozen=True)
class Kind:
    """What is supported: how one is raised (its confirmation's event id), its consumer, and
    where its audit entries are."""

    name: str
    raise_one: Callable[[Harness], Awaitable[str]]
    consumer: Consumer
    subject: str  # audit: the entries on subject number 1 (the rencontre, the remontée)
    named: str  # the detail naming the row


async def _suggestion(bot: Harness) -> str:
    await plan(bot)
    return (await suggest(bot, "Atelier compost")).event_id


async def _remontee(bot: Harness) -> str:
    sent = await bot.command("!remontee Un abri vélo à la gare", sender=ALICE)
    return sent[0].event_id


SUGGESTION = Kind("suggestion", _suggestion, reactions.record_supports, "agenda", "suggestion")
REMONTEE = Kind("remontee", _remontee, cosign.record_supports, "remontee", "remontee")
KINDS = pytest.mark.parametrize("kind", [SUGGESTION, REMONTEE], ids=lambda kind: kind.name)


async def consume(bot: Harness, kind: Kind, *items: Reaction | Redaction) -> None:
    events = RoomEvents(reactions=[i for i in items if isinstance(i, Reaction)],
                        redactions=[i for i in items if isinstance(i, Redaction)])
    async with bot.db.transaction() as repos:
        effects: list[Effect] = await kind.consumer(repos, events, club(), T)
    assert effects == []


async def supporters(bot: Harness, kind: Kind) -> set[str]:
    """Who supports suggestion or remontée n°1."""
    table, column = (("agenda_supports", "suggestion_id") if kind is SUGGESTION
                     else ("remontee_supports", "remontee_id"))
    async with bot.db.transaction() as repos:
        found = await repos.session.execute(
            text(f"SELECT user_id FROM {table} WHERE {column} = 1"))
        return {str(row[0]) for row in found.all()}


def thumbs_up(event_id: str, sender: str, target: str, *, key: str = "👍", room: str = ROOM,
              at: datetime = START) -> Reaction:
    return Reaction(event_id, room, sender, target, key, at)


async def stances(bot: Harness, kind: Kind) -> list[tuple[str, str, str]]:
    """The audit trail's supports given and withdrawn: actor, action, reaction."""
    async with bot.db.transaction() as repos:
        entries = await repos.audit.entries(kind.subject, 1, limit=50)
    return sorted((e.actor, e.action, json.loads(e.details).get("reaction", ""))
                  for e in entries if e.action in ("supported", "unsupported"))


async def nothing_changed(bot: Harness, kind: Kind) -> None:
    assert await supporters(bot, kind) == set()
    assert await stances(bot, kind) == []
    async with bot.db.transaction() as repos:
        assert await repos.participants.active_in(2099) <= {ALICE}  # the author, by command


async def counts(bot: Harness, kind: Kind, reaction: Reaction) -> None:
    """``reaction`` supports n°1: one support, one audit entry, its sender took part."""
    await consume(bot, kind, reaction)
    assert await supporters(bot, kind) == {reaction.sender}
    assert await stances(bot, kind) == [(reaction.sender, "supported", reaction.event_id)]
    async with bot.db.transaction() as repos:
        assert reaction.sender in await repos.participants.active_in(2099)


# --- the checks every kind shares -----------------------------------------------------------------

@KINDS
async def test_only_a_thumbs_up_supports(bot: Harness, kind: Kind) -> None:
    confirmation = await kind.raise_one(bot)
    await consume(bot, kind, thumbs_up("$r1", BOB, confirmation, key="🎉"),
                  thumbs_up("$r2", BOB, confirmation, key="👎"))
    await nothing_changed(bot, kind)
    await counts(bot, kind, thumbs_up("$r3", BOB, confirmation, key="👍🏽"))


@KINDS
async def test_only_a_thumbs_up_on_its_confirmation_supports(bot: Harness, kind: Kind) -> None:
    confirmation = await kind.raise_one(bot)
    other = (await bot.command("!aide", sender=BOB))[0].event_id  # another message of the bot
    await consume(bot, kind, thumbs_up("$r1", BOB, other), thumbs_up("$r2", BOB, "$unknown"))
    await nothing_changed(bot, kind)
    await counts(bot, kind, thumbs_up("$r3", BOB, confirmation))


@KINDS
async def test_a_thumbs_up_counts_only_in_the_room_it_was_raised_in(bot: Harness,
                                                                     kind: Kind) -> None:
    confirmation = await kind.raise_one(bot)
    await consume(bot, kind, thumbs_up("$r1", BOB, confirmation, room=NORTH))
    await nothing_changed(bot, kind)
    await counts(bot, kind, thumbs_up("$r2", BOB, confirmation))


@KINDS
async def test_its_author_does_not_support_their_own(bot: Harness, kind: Kind) -> None:
    confirmation = await kind.raise_one(bot)
    await consume(bot, kind, thumbs_up("$r1", ALICE, confirmation))
    await nothing_changed(bot, kind)
    await counts(bot, kind, thumbs_up("$r2", BOB, confirmation))


@KINDS
async def test_a_person_supports_once(bot: Harness, kind: Kind) -> None:
    confirmation = await kind.raise_one(bot)
    await counts(bot, kind, thumbs_up("$r1", BOB, confirmation))
    await consume(bot, kind, thumbs_up("$r2", BOB, confirmation, key="+1"))
    assert await supporters(bot, kind) == {BOB}
    assert await stances(bot, kind) == [(BOB, "supported", "$r1")]


@KINDS
async def test_a_support_is_withdrawn_in_its_room_by_its_author_or_a_moderator(
        bot: Harness, kind: Kind) -> None:
    confirmation = await kind.raise_one(bot)
    await consume(bot, kind, thumbs_up("$r1", BOB, confirmation),
                  thumbs_up("$r2", CAROL, confirmation))
    later = START + timedelta(hours=2)  # a new audit entry, not the support's restated
    await consume(bot, kind, Redaction("$x1", NORTH, BOB, "$r1", later),  # another room
                  Redaction("$x2", NORTH, DAN, "$r1", later, may_redact=True),  # a moderator there
                  Redaction("$x3", ROOM, DAN, "$r1", later),  # without the power to redact
                  Redaction("$x4", ROOM, BOB, "$unrelated", later))  # not a support
    assert await supporters(bot, kind) == {BOB, CAROL}
    await consume(bot, kind, Redaction("$x5", ROOM, BOB, "$r1", later),
                  Redaction("$x6", ROOM, COORDINATOR, "$r2", later, may_redact=True))
    assert await supporters(bot, kind) == set()
    assert await stances(bot, kind) == [
        (BOB, "supported", "$r1"), (BOB, "unsupported", "$r1"), (CAROL, "supported", "$r2"),
        (COORDINATOR, "unsupported", "$r2")]


@KINDS
async def test_the_audit_entries_are_on_the_subject_of_each_kind(bot: Harness,
                                                                  kind: Kind) -> None:
    confirmation = await kind.raise_one(bot)
    await consume(bot, kind, thumbs_up("$r1", BOB, confirmation))
    async with bot.db.transaction() as repos:
        [entry] = [e for e in await repos.audit.entries(kind.subject, 1)
                   if e.action == "supported"]
    assert (entry.actor, json.loads(entry.details)) == (BOB, {kind.named: 1, "reaction": "$r1"})


# --- the checks of a remontée ---------------------------------------------------------------------

async def test_an_answered_remontee_is_not_supported(bot: Harness) -> None:
    confirmation = await REMONTEE.raise_one(bot)
    await bot.command("!remontee reponse 1 Étudié au conseil de mars", sender=COORDINATOR)
    await consume(bot, REMONTEE, thumbs_up("$r1", BOB, confirmation))
    await nothing_changed(bot, REMONTEE)
    async with bot.db.transaction() as repos:
        row = await repos.remontees.get(1)
        assert row is not None
        row.status = "transmise"  # the same remontée, not answered
    await counts(bot, REMONTEE, thumbs_up("$r2", BOB, confirmation))


# --- the checks of a suggestion -------------------------------------------------------------------

@pytest.mark.parametrize("decision", ["!odj refuser 1 hors sujet", "!odj retirer 1"])
async def test_a_refused_or_withdrawn_suggestion_is_not_supported(bot: Harness,
                                                                  decision: str) -> None:
    confirmation = await SUGGESTION.raise_one(bot)
    await bot.command(decision, sender=COORDINATOR)
    await consume(bot, SUGGESTION, thumbs_up("$r1", BOB, confirmation))
    await nothing_changed(bot, SUGGESTION)
    async with bot.db.transaction() as repos:
        suggestion = await repos.agenda.suggestion(1)
        assert suggestion is not None
        suggestion.status = "acceptee"  # the same suggestion, open
    await counts(bot, SUGGESTION, thumbs_up("$r2", BOB, confirmation))


@pytest.mark.parametrize("status", ["annulee", "tenue"])
async def test_a_suggestion_of_a_cancelled_or_held_rencontre_is_not_supported(
        bot: Harness, status: str) -> None:
    confirmation = await SUGGESTION.raise_one(bot)
    await set_meeting_status(bot, status)
    await consume(bot, SUGGESTION, thumbs_up("$r1", BOB, confirmation))
    await nothing_changed(bot, SUGGESTION)
    await set_meeting_status(bot, "prevue")
    await counts(bot, SUGGESTION, thumbs_up("$r2", BOB, confirmation))


async def test_a_suggestion_is_not_supported_once_its_rencontre_started(bot: Harness) -> None:
    confirmation = await SUGGESTION.raise_one(bot)
    starts = datetime(2099, 1, 8, 17, 30, tzinfo=UTC)  # Thursday 18h30 in Paris
    await consume(bot, SUGGESTION, thumbs_up("$r1", BOB, confirmation, at=starts))
    await nothing_changed(bot, SUGGESTION)
    await counts(bot, SUGGESTION, thumbs_up("$r2", BOB, confirmation,
                                           at=starts - timedelta(seconds=1)))


async def set_meeting_status(bot: Harness, status: str) -> None:
    async with bot.db.transaction() as repos:
        meeting = await repos.meetings.get(1)
        assert meeting is not None
        meeting.status = status
