"""Date polls end to end without a homeserver (real SQLite and PostgreSQL): opening, the three
ways of voting counted together, results, reminders, closing by deadline or by command."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from bot.jobs import DeclaredJob, start_work
from commands.effects import effect_txn
from commands.errors import BadArgument
from commands.events import PollResponse
from commands.polls import native, service
from commands.polls.ballot import read_ballot
from commands.polls.tally import SlotResult, best
from tests.handlers.conftest import ALICE, COORDINATOR, ROOM, Harness, make_club
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.fakes import Sent
from tests.handlers.test_projects import BOB, CAROL, refused

# The harness clock: Monday 5 January 2099, 10:00 in Paris.
OPEN = ("!sondage dates Prochaine rencontre sud ? | mardi 13 janvier 18h30 | 15/01 18h-20h | "
        "samedi 17 janvier matin --cloture vendredi 9 janvier 18h --territoire sud")


async def said(bot: Harness, body: str, **kwargs: Any) -> str:
    """The reply to a command (the first message it sent), without bold marks."""
    return str((await bot.command(body, **kwargs))[0].content["body"]).replace("**", "")


async def open_poll(bot: Harness, body: str = OPEN) -> list[Sent]:
    return await bot.command(body, sender=COORDINATOR)


def slot_events(sent: list[Sent]) -> list[Sent]:
    return [s for s in sent if s.event_type == native.START]


async def native_vote(bot: Harness, start: Sent, sender: str, answer: str | None,
                      at: datetime, event_id: str, room_id: str = ROOM) -> list[Any]:
    response = PollResponse(event_id, room_id, sender, at, start.event_id,
                               (answer,) if answer else ())
    async with bot.db.transaction() as repos:
        return await service.record_native(repos, [response], make_club(), bot.dispatcher.t)


# --- opening ------------------------------------------------------------------------------------

async def test_opening_posts_the_message_then_one_native_poll_per_slot_in_its_thread(
        bot: Harness) -> None:
    sent = await open_poll(bot)
    reply, root, *polls = sent
    assert reply.content["body"].startswith("Sondage n°1 ouvert avec 3 créneaux, jusqu'au "
                                            "vendredi 9 janvier 2099 à 18h")
    assert root.content["msgtype"] == "m.notice" and "m.relates_to" not in root.content
    assert root.content["body"].startswith("**Sondage n°1 — Prochaine rencontre sud ?**")
    assert "Territoire : sud" in root.content["body"]
    assert [p.event_type for p in polls] == [native.START] * 3
    questions = [p.content[native.START]["question"][native.TEXT] for p in polls]
    assert questions == ["1. mardi 13 janvier 2099, 18h30–20h30",
                         "2. jeudi 15 janvier 2099, 18h–20h",
                         "3. samedi 17 janvier 2099, 9h–12h"]
    for poll in polls:
        start = poll.content[native.START]
        assert start["kind"] == "org.matrix.msc3381.poll.disclosed"
        assert start["max_selections"] == 1
        assert [(a["id"], a[native.TEXT]) for a in start["answers"]] == [
            ("yes", "Oui"), ("maybe", "Si nécessaire"), ("no", "Non")]
        assert start["question"] == {native.TEXT: start["question"][native.TEXT],
                                     "body": start["question"][native.TEXT], "msgtype": "m.text"}
        assert "body" not in poll.content  # as the JS SDK builds it: the m.text fallback only
        assert poll.content[native.TEXT].startswith(start["question"][native.TEXT] + "\n1. Oui")
    # In the message's thread, each falling back on the thread's latest event when sent.
    assert [p.content["m.relates_to"] for p in polls] == [
        {"rel_type": "m.thread", "event_id": root.event_id, "is_falling_back": True,
         "m.in_reply_to": {"event_id": latest.event_id}} for latest in (root, *polls[:-1])]


async def test_slots_are_sorted_by_date(bot: Harness) -> None:
    sent = await open_poll(bot, "!poll dates Quand ? | 15/01 18h | 13/01 18h")
    questions = [p.content[native.START]["question"][native.TEXT] for p in slot_events(sent)]
    assert questions[0].startswith("1. mardi 13 janvier") and questions[1].startswith("2. jeudi")


@pytest.mark.parametrize(("body", "expected"), [
    ("!sondage dates Quand ? | 13/01 18h", "au moins 2 créneaux"),
    ("!sondage dates Quand ?", "au moins 2 créneaux"),
    ("!sondage dates Quand ? | 13/01 18h | 13/01 à 18h", "proposé deux fois"),
    ("!sondage dates Quand ? | 13/01 18h | 05/01/2099 8h", "passé"),
    ("!sondage dates Quand ? | 13/01 18h | n'importe quand", "n'importe quand"),
    ("!sondage dates Quand ? | mardi 15 janvier 18h | 13/01 18h", "jeudi"),
    ("!sondage dates Quand ? | " + " | ".join(f"{d}/02 18h" for d in range(1, 22)),
     "21 créneaux : c'est trop (20 au plus)"),
    ("!sondage dates Quand ? | 13/01 18h | 15/01 18h --cloture 20/01 18h",
     "doit précéder le premier créneau"),
    ("!sondage dates Quand ? | 13/01 18h | 15/01 18h --cloture hier", "hier"),
    ("!sondage dates Quand ? | 13/01 18h | 15/01 18h --territoire est", "n'est pas un territoire"),
])
async def test_opening_refusals(bot: Harness, body: str, expected: str) -> None:
    assert expected in await refused(bot, body, sender=COORDINATOR)
    assert bot.transport.sent[-1].content["body"]  # a reply, and nothing posted beside it


async def test_only_coordinators_open_polls(bot: Harness) -> None:
    assert "Réservé à la coordination" in await refused(bot, OPEN, sender=ALICE)


# --- voting -------------------------------------------------------------------------------------

async def votes(bot: Harness, poll: int = 1) -> dict[tuple[str, int], str]:
    async with bot.db.transaction() as repos:
        slots = {s.id: s.position for s in await repos.polls.slots(poll)}
        return {(v.user_id, slots[v.slot_id]): str(v.answer) for v in await repos.polls.votes(poll)}


@pytest.mark.parametrize("ballot", ["1 oui 2 si-besoin 3 non", "1+ 2? 3-", "1 yes 2 maybe 3 no",
                                    "1 + 2 ? 3 -", "1 OUI, 2 si besoin, 3 NON", "1 1 oui 2 ? 3 -"])
async def test_text_votes_in_every_spelling(bot: Harness, ballot: str) -> None:
    await open_poll(bot)
    reply = await said(bot, f"!vote {ballot}", sender=BOB)
    assert reply == "Vote enregistré (sondage n°1) : 1 oui, 2 si nécessaire, 3 non."
    assert await votes(bot) == {(BOB, 1): "yes", (BOB, 2): "maybe", (BOB, 3): "no"}


async def test_a_slot_named_twice_in_a_ballot_keeps_its_first_answer(bot: Harness) -> None:
    await open_poll(bot)
    await said(bot, "!vote 1- 2-", sender=BOB)
    reply = await said(bot, "!vote 1+ 1- 2? 2+", sender=BOB)
    assert reply == "Vote enregistré (sondage n°1) : 1 oui, 2 si nécessaire."
    assert await votes(bot) == {(BOB, 1): "yes", (BOB, 2): "maybe"}


async def test_a_text_vote_updates_the_poll_message_by_an_edit(bot: Harness) -> None:
    sent = await open_poll(bot)
    root = sent[1]
    after = await bot.command("!vote 1+ 2? 3-", sender=BOB)
    edit = after[-1]
    assert edit.content["m.relates_to"] == {"rel_type": "m.replace", "event_id": root.event_id}
    body = edit.content["m.new_content"]["body"]
    assert "| 1 | **mardi 13 janvier 2099, 18h30–20h30** 🏆 | 1 | 0 | 0 | 2 | — |" in body
    assert f"| 3 | samedi 17 janvier 2099, 9h–12h | 0 | 0 | 1 | 0 | {BOB} |" in body
    assert "1 personne a voté" in body


async def test_the_vote_is_answered_before_the_poll_message_is_edited(bot: Harness) -> None:
    """The edit (a tally and the whole message rendered) is a follow-up: the voter's reply
    goes first, the edit comes after it, for the version of the results the vote made."""
    sent = await open_poll(bot)
    root = sent[1]
    event_id = await bot.queue("!vote 1+", sender=BOB)
    await bot.dispatcher.handle(event_id)
    await bot.outbox.flush()
    first = bot.transport.sent[-1]
    assert first.content["body"].startswith("Vote enregistré")  # no edit yet
    await bot.dispatcher.drain()
    await bot.outbox.flush()
    edit = bot.transport.sent[-1]
    assert edit.content["m.relates_to"] == {"rel_type": "m.replace", "event_id": root.event_id}
    assert "1 personne a voté" in edit.content["m.new_content"]["body"]


async def test_an_edit_lost_in_a_stop_is_made_at_start(bot: Harness,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    async def start() -> int:
        """What the capabilities do at start (``bot.jobs.start_work``): how many messages."""
        before = len(bot.transport.sent)
        await start_work(bot.dispatcher.registry, bot.db, bot.outbox, make_club(), bot.transport,
                         bot.clock.now())
        await bot.outbox.flush()
        return len(bot.transport.sent) - before

    sent = await open_poll(bot)
    assert await start() == 0

    async def stopped(_handled: object, _since: int) -> None:  # the bot stopped before it ran
        return None

    monkeypatch.setattr(bot.dispatcher.after, "_follow_up", stopped)
    after = await bot.command("!vote 1+ 2-", sender=BOB)
    assert len(after) == 1  # the reply only
    assert await start() == 1
    edit = bot.transport.sent[-1]
    assert edit.content["m.relates_to"]["event_id"] == sent[1].event_id
    assert "1 personne a voté" in edit.content["m.new_content"]["body"]
    # Up to date now: a second start edits nothing.
    assert await start() == 0


async def test_the_native_polls_recounted_at_start_are_read_in_bounded_statements(
        bot: Harness) -> None:
    """At start the answers to every open poll's native polls are read again: their events
    are found in three statements however many polls are open (the open polls, their slots, the
    native polls' events; one per poll and slot stalled the bot's loop for 0.5 s with the club's
    100 open polls), and every slot of every poll is there."""
    opened = [slot_events(await open_poll(bot)) for _ in range(3)]
    statements: list[str] = []

    def note(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        statements.append(sql.split()[0])

    event.listen(bot.db.engine.sync_engine, "before_cursor_execute", note)
    try:
        async with bot.db.transaction() as repos:
            targets = [target for answered in bot.dispatcher.registry.answered
                       for target in await answered(repos)]
    finally:
        event.remove(bot.db.engine.sync_engine, "before_cursor_execute", note)
    assert sorted(targets) == sorted((ROOM, s.event_id) for poll in opened for s in poll)
    assert len(targets) == 9
    assert statements.count("SELECT") == 3


async def test_event_ids_of_many_messages_are_read_in_batches(bot: Harness) -> None:
    """Transaction ids over a statement's batch are read in several statements, all found;
    unknown or unsent ones are left out."""
    sent = slot_events(await open_poll(bot))
    txns = [effect_txn(service.slot_key(1, position)) for position in (1, 2, 3)]
    async with bot.db.transaction() as repos:
        found = await repos.outbox.event_ids_of([*txns, "cct-unknown"], batch=2)
    assert found == {txn: s.event_id for txn, s in zip(txns, sent, strict=True)}


async def test_quick_votes_never_edit_twice_for_the_same_results(bot: Harness) -> None:
    await open_poll(bot)
    first = await bot.queue("!vote 1+", sender=BOB)
    second = await bot.queue("!vote 2-", sender=CAROL)
    await bot.dispatcher.handle(first)
    await bot.dispatcher.handle(second)  # its vote lands before the first vote's follow-up
    await bot.outbox.flush()
    await bot.dispatcher.drain()
    await bot.outbox.flush()
    edits = [s for s in bot.transport.sent if "m.new_content" in s.content]
    assert len(edits) == 1  # both follow-ups see version 2: one edit, with both votes
    assert "2 personnes ont voté" in edits[0].content["m.new_content"]["body"]


async def test_votes_of_a_burst_share_one_edit(bot: Harness) -> None:
    """Each vote is answered at once; the poll's message is edited once for the votes of the
    follow-up delay, after their replies."""
    import asyncio

    await open_poll(bot)
    bot.dispatcher.follow_up_delay_s = 0.3
    for sender, ballot in ((BOB, "1+"), (CAROL, "2-")):
        await bot.dispatcher.handle(await bot.queue(f"!vote {ballot}", sender=sender))
        await bot.outbox.flush()
        assert bot.transport.sent[-1].content["body"].startswith("Vote enregistré")
        await asyncio.sleep(0.05)  # the second vote comes while the first waits to be shown
    await bot.dispatcher.drain()
    await bot.outbox.flush()
    edits = [s for s in bot.transport.sent if "m.new_content" in s.content]
    assert len(edits) == 1
    assert "2 personnes ont voté" in edits[0].content["m.new_content"]["body"]


async def test_a_stopping_bot_does_not_wait_out_the_delay(bot: Harness) -> None:
    import asyncio

    await open_poll(bot)
    bot.dispatcher.follow_up_delay_s = 3600
    await bot.dispatcher.handle(await bot.queue("!vote 1+", sender=BOB))
    await bot.outbox.flush()
    bot.dispatcher.hurry()
    await asyncio.wait_for(bot.dispatcher.drain(), 30)
    await bot.outbox.flush()
    assert "1 personne a voté" in bot.transport.sent[-1].content["m.new_content"]["body"]


async def test_native_text_and_changes_of_mind_are_counted_together(bot: Harness) -> None:
    sent = await open_poll(bot)
    first, second, third = slot_events(sent)
    t0 = bot.clock.now()
    # Alice votes in Element, Bob with !vote, Carol changes her mind (Element, then !vote).
    await native_vote(bot, first, ALICE, "yes", t0, "$a1")
    await native_vote(bot, second, ALICE, "no", t0, "$a2")
    await native_vote(bot, third, ALICE, "maybe", t0, "$a3")
    await said(bot, "!vote 1- 2+ 3+", sender=BOB)
    await native_vote(bot, first, CAROL, "no", t0, "$c1")
    bot.clock.advance(timedelta(minutes=5))
    await said(bot, "!vote 1 oui", sender=CAROL)
    # An older native response arriving late (a recount) does not undo the newer text vote.
    await native_vote(bot, first, CAROL, "no", t0 - timedelta(minutes=1), "$c0")
    assert await votes(bot) == {(ALICE, 1): "yes", (ALICE, 2): "no", (ALICE, 3): "maybe",
                                (BOB, 1): "no", (BOB, 2): "yes", (BOB, 3): "yes",
                                (CAROL, 1): "yes"}
    results = await said(bot, "!sondage resultats")
    assert f"| 1 | mardi 13 janvier 2099, 18h30–20h30 🏆 | 2 | 0 | 1 | 4 | {BOB} |" in results
    assert f"| 2 | jeudi 15 janvier 2099, 18h–20h | 1 | 0 | 1 | 2 | {ALICE} |" in results
    assert "| 3 | samedi 17 janvier 2099, 9h–12h | 1 | 1 | 0 | 3 | — |" in results
    assert "3 personnes ont voté" in results


async def test_native_vote_refreshes_the_message_once_per_batch(bot: Harness) -> None:
    sent = await open_poll(bot)
    first = slot_events(sent)[0]
    effects = await native_vote(bot, first, ALICE, "yes", bot.clock.now(), "$x")
    assert len(effects) == 1 and effects[0].replaces
    # Responses to events that are not our polls are ignored.
    response = PollResponse("$y", ROOM, ALICE, bot.clock.now(), "$unknown", ("yes",))
    async with bot.db.transaction() as repos:
        assert await service.record_native(repos, [response], make_club(), bot.dispatcher.t) == []


async def test_a_native_vote_from_another_room_is_not_counted(bot: Harness) -> None:
    first = slot_events(await open_poll(bot))[0]
    assert await native_vote(bot, first, ALICE, "yes", bot.clock.now(), "$x", "!elsewhere:x") == []
    assert await votes(bot) == {}


async def test_a_native_vote_repeated_refreshes_nothing(bot: Harness) -> None:
    first = slot_events(await open_poll(bot))[0]
    assert len(await native_vote(bot, first, ALICE, "yes", bot.clock.now(), "$x")) == 1
    bot.clock.advance(timedelta(seconds=1))
    assert await native_vote(bot, first, ALICE, "yes", bot.clock.now(), "$y") == []
    bot.clock.advance(timedelta(seconds=1))
    assert len(await native_vote(bot, first, ALICE, "no", bot.clock.now(), "$z")) == 1
    assert await votes(bot) == {(ALICE, 1): "no"}


async def test_withdrawing_votes(bot: Harness) -> None:
    sent = await open_poll(bot)
    await said(bot, "!vote 1+ 2+ 3+", sender=BOB)
    assert await said(bot, "!vote 2 retirer", sender=BOB) == (
        "Vote enregistré (sondage n°1) : 1 oui, 3 oui.")
    await native_vote(bot, slot_events(sent)[0], BOB, None, bot.clock.now() + timedelta(1), "$w")
    assert await votes(bot) == {(BOB, 3): "yes"}
    assert await said(bot, "!vote retirer", sender=BOB) == (
        "Vos votes au sondage n°1 sont retirés.")
    assert await votes(bot) == {}


@pytest.mark.parametrize(("ballot", "expected"), [
    ("", "Il manque : n° réponse."),
    ("peut-être", "Je ne comprends pas « peut-être »"),
    ("5+", "Le sondage n°1 a 3 créneaux : pas de créneau 5."),
    ("9 1+", "Pas de sondage n°9."),
    ("<b>1</b>+", "Je ne comprends pas"),
])
async def test_vote_refusals(bot: Harness, ballot: str, expected: str) -> None:
    await open_poll(bot)
    assert expected in await refused(bot, f"!vote {ballot}", sender=BOB)


async def test_votes_go_to_the_rooms_open_poll_or_the_named_one(bot: Harness) -> None:
    await open_poll(bot)
    await bot.command("!sondage dates Autre | 20/01 18h | 21/01 18h", sender=COORDINATOR,
                      room_id="!nord:example.org")
    assert "sondage n°2" in await said(bot, "!vote 1+", sender=BOB, room_id="!nord:example.org")
    assert "sondage n°1" in await said(bot, "!vote 1+", sender=BOB)
    assert "sondage n°2" in await said(bot, "!vote 2 1-", sender=BOB)
    assert "Plusieurs sondages sont ouverts (n°2, n°1)" in await refused(
        bot, "!vote 1+", sender=BOB, room_id="!ailleurs:example.org")


# --- closing, reminders --------------------------------------------------------------------------

def deadlines(bot: Harness) -> DeclaredJob:
    return bot.job("poll-close", make_club)


async def test_the_deadline_closes_the_poll_with_end_events_and_the_outcome(bot: Harness) -> None:
    sent = await open_poll(bot)
    polls = slot_events(sent)
    await said(bot, "!vote 1- 2+ 3?", sender=BOB)
    await said(bot, "!vote 1? 2+ 3-", sender=CAROL)
    source = deadlines(bot)
    assert [(i, d) for i, d in await source.pending()] == [
        (1, datetime(2099, 1, 9, 17, tzinfo=UTC))]
    await source.fire(1)  # too early: nothing happens
    before = len(bot.transport.sent)
    bot.clock.set(datetime(2099, 1, 9, 17, tzinfo=UTC))
    await source.fire(1)
    await bot.outbox.flush()
    new = bot.transport.sent[before:]
    ends = [s for s in new if s.event_type == native.END]
    assert [e.content["m.relates_to"] for e in ends] == [
        {"rel_type": "m.reference", "event_id": p.event_id} for p in polls]
    assert ends[1].content[native.TEXT] == "jeudi 15 janvier 2099, 18h–20h : 2 oui, 0 si nécessaire, 0 non."
    # As the JS SDK's PollEndEvent builds it: the closing message is a text message.
    assert ends[1].content["body"] == ends[1].content[native.TEXT]
    assert ends[1].content["msgtype"] == "m.text" and ends[1].content[native.END] == {}
    closing = new[-1]
    assert closing.content["body"].startswith("**Le sondage n°1 est clos.**")
    assert "Date retenue par le sondage n°1 : **jeudi 15 janvier 2099, 18h–20h**" in closing.content["body"]
    assert "`!sondage choisir 1 2`" in closing.content["body"]
    assert closing.content["m.mentions"]["user_ids"] == [COORDINATOR]
    await source.fire(1)  # a second firing does nothing
    assert len(bot.transport.sent) == before + len(new)
    assert await source.pending() == []
    assert "est clos : on ne peut plus voter" in await refused(bot, "!vote 1+", sender=BOB)


async def test_close_now_by_command(bot: Harness) -> None:
    await open_poll(bot)
    reply = await said(bot, "!sondage cloturer", sender=COORDINATOR)
    assert reply == "Je clos le sondage n°1 : résultats ci-dessous."
    assert "personne ne peut venir" in bot.transport.sent[-1].content["body"]
    assert "déjà clos" in await refused(bot, "!sondage cloturer 1", sender=COORDINATOR)
    assert "Seuls la personne qui a ouvert le sondage n°1" in await refused(
        bot, "!sondage cloturer 1", sender=BOB)


async def test_reminder_mentions_only_those_who_opted_in(bot: Harness) -> None:
    await open_poll(bot)
    dave = "@dave:example.org"
    bot.transport.members[ROOM] = [ALICE, BOB, CAROL, dave, bot.transport.user_id]
    await said(bot, "!vote 1+", sender=BOB)
    assert (await said(bot, "!mentions oui", sender=CAROL)).startswith("C'est noté : vous serez")
    await said(bot, "!mentions oui", sender=BOB)  # voted already: not reminded
    source = bot.job("poll-remind", make_club)
    assert await source.pending() == [(1, datetime(2099, 1, 8, 17, tzinfo=UTC))]
    await source.fire(1)
    await bot.outbox.flush()
    reminder = bot.transport.sent[-1]
    assert "3 personnes du salon n'ont pas encore voté" in reminder.content["body"]
    assert f"Pas encore voté : {CAROL}" in reminder.content["body"]
    assert reminder.content["m.mentions"] == {"user_ids": [CAROL]}
    await source.fire(1)
    assert bot.transport.sent[-1] is reminder and await source.pending() == []


async def test_a_reminder_names_at_most_50_people_a_message(bot: Harness) -> None:
    """120 people who agreed to be mentioned have not voted: one reminder, its names in three
    messages of at most 50 (each named once), not one message per person."""
    await open_poll(bot)
    people = [f"@p{n:03d}:example.org" for n in range(120)]
    bot.transport.members[ROOM] = [*people, bot.transport.user_id]
    async with bot.db.transaction() as repos:
        for person in people:
            await repos.people.set_mentions(person, True, bot.clock.now())
    before = len(bot.transport.sent)
    await bot.job("poll-remind", make_club).fire(1)
    await bot.outbox.flush()
    sent = bot.transport.sent[before:]
    assert [len(s.content["m.mentions"]["user_ids"]) for s in sent] == [50, 50, 20]
    assert [user for s in sent for user in s.content["m.mentions"]["user_ids"]] == people
    assert "120 personnes du salon n'ont pas encore voté" in sent[0].content["body"]
    assert all(s.content["body"].startswith("Pas encore voté : ") for s in sent[1:])


async def test_poll_list_and_mentions_setting(bot: Harness) -> None:
    assert (await said(bot, "!sondage liste")).startswith("Aucun sondage ouvert")
    await open_poll(bot)
    assert "n°1 Prochaine rencontre sud ? — jusqu'au vendredi 9 janvier 2099 à 18h" in await said(
        bot, "!sondage liste")
    assert (await said(bot, "!mentions")).startswith("Vous n'êtes pas mentionné")
    await said(bot, "!mentions on")
    assert (await said(bot, "!mentions")).startswith("Vous êtes mentionné")


# --- pure parts ---------------------------------------------------------------------------------

def test_best_slot_ties() -> None:
    t0 = datetime(2099, 1, 1, tzinfo=UTC)
    a = SlotResult(1, 1, t0, t0, yes=1, maybe=2)  # score 4
    b = SlotResult(2, 2, t0 + timedelta(1), t0, yes=2, maybe=0)  # score 4, more yes
    c = SlotResult(3, 3, t0 + timedelta(2), t0, yes=2, maybe=0, no=1)
    assert best([a, b, c]) == b
    assert best([SlotResult(4, 1, t0, t0, no=3)]) is None


def test_reading_stable_and_unstable_responses() -> None:
    at = datetime(2099, 1, 1, tzinfo=UTC)
    unstable = {"org.matrix.msc3381.poll.response": {"answers": ["maybe"]},
                "m.relates_to": {"rel_type": "m.reference", "event_id": "$s"}}
    stable = {"m.selections": ["no"], "m.relates_to": {"rel_type": "m.reference", "event_id": "$s"}}
    assert native.read_response("$e", ROOM, ALICE, at, unstable).answers == ("maybe",)  # type: ignore[union-attr]
    assert native.read_response("$e", ROOM, ALICE, at, stable).answers == ("no",)  # type: ignore[union-attr]
    assert native.read_response("$e", ROOM, ALICE, at, {"m.selections": ["no"]}) is None
    # Answer ids are checked against the poll's when counted: an unknown one withdraws.
    odd = {"m.selections": ["autre"], "m.relates_to": {"rel_type": "m.reference", "event_id": "$s"}}
    assert native.read_response("$e", ROOM, ALICE, at, odd).answers == ("autre",)  # type: ignore[union-attr]
    junk = {"m.selections": [7, "x" * 17], "m.relates_to": {"rel_type": "m.reference", "event_id": "$s"}}
    assert native.read_response("$e", ROOM, ALICE, at, junk).answers == ()  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["", "oui", "1", "bla bla", "1 peutetre 2"])
def test_unreadable_ballots(text: str) -> None:
    with pytest.raises(BadArgument):
        read_ballot(text)


# --- choosing the date ----------------------------------------------------------------------------

async def test_choose_makes_the_slot_a_rencontre_announced_with_its_calendar(bot: Harness) -> None:
    from dataclasses import replace

    import icalendar

    rooms = {"main": ROOM, "north": "!nord:example.org", "south": "!sud:example.org"}
    bot.dispatcher.club = replace(make_club(), rooms=rooms)
    await open_poll(bot)
    await said(bot, "!vote 2+", sender=BOB)
    sent = await bot.command("!sondage choisir 1 2 --lieu Salle des fêtes, Guillestre",
                             sender=COORDINATOR)
    reply = sent[0].content["body"]
    assert reply.startswith("La rencontre n°1 est créée à partir du sondage n°1 : jeudi 15 "
                            "janvier 2099, 18h–20h.")
    assert any(s.event_type == native.END for s in sent)  # the poll was still open: closed
    south = [s for s in sent if s.room_id == "!sud:example.org"]
    assert [s.content["msgtype"] for s in south] == ["m.notice", "m.file"]
    assert "Salle des fêtes, Guillestre" in south[0].content["body"]
    data, mimetype, filename = bot.transport.uploads[-1]
    assert (mimetype, filename) == ("text/calendar", "rencontre-1.ics")
    event = next(c for c in icalendar.Calendar.from_ical(data).walk() if c.name == "VEVENT")
    assert event.decoded("dtstart") == datetime(2099, 1, 15, 18, tzinfo=make_club().tz)
    assert event.decoded("dtend") == datetime(2099, 1, 15, 20, tzinfo=make_club().tz)
    async with bot.db.transaction() as repos:
        poll = await repos.polls.get(1)
        meeting = await repos.meetings.get(1)
    assert poll is not None and poll.meeting_id == 1 and poll.status == "closed"
    assert meeting is not None and meeting.poll_id == 1 and meeting.territory == "sud"
    again = await refused(bot, "!sondage choisir 1 1", sender=COORDINATOR)
    assert "a déjà donné la rencontre n°1" in again and "`!rencontre reporter 1 <quand>`" in again


async def test_choose_refusals(bot: Harness) -> None:
    await open_poll(bot)
    assert "pas de créneau 7" in await refused(bot, "!sondage choisir 1 7", sender=COORDINATOR)
    assert "Pas de sondage n°4" in await refused(bot, "!sondage choisir 4 1", sender=COORDINATOR)
    assert "Réservé à la coordination" in await refused(bot, "!sondage choisir 1 1", sender=BOB)


@pytest.mark.parametrize(("closes", "until"), [
    ("dimanche minuit", "lundi 12 janvier 2099 à 0h"),  # the end of Sunday, not its start
    ("ce soir à minuit", "mardi 6 janvier 2099 à 0h"),
    ("vendredi en huit midi", "vendredi 16 janvier 2099 à 12h"),
])
async def test_deadlines_as_people_write_them(bot: Harness, closes: str, until: str) -> None:
    reply = await said(bot, "!sondage dates Quand ? | 18h jeudi 22 janvier | de 18 à 20h le 23/01 "
                            f"--cloture {closes}", sender=COORDINATOR)
    assert f"jusqu'au {until}" in reply, reply
