"""``!profil``, ``!mes-donnees`` and ``!oublier-moi`` end to end, on SQLite and PostgreSQL:
after ``!oublier-moi`` no column of any table holds the person's id or display name, and the
yearly counts are unchanged."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from bot.render import message_content
from commands.charter import configured
from commands.context import RoomOutcome
from commands.effects import Effect
from commands.i18n import Translator
from commands.meta import welcome
from commands.reports.erasure import purge_inactive
from commands.reports.privacy import DIRECT_ROOM_OPENED
from storage.models import Base, MeetingAttendance, MeetingRsvp, PollVote
from tests.handlers.conftest import ALICE, ROOM, START, Harness, make_club, retaining
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.seed_year import PARIS
from tests.report_facts import year_facts

BOB = "@bob:example.org"
ALICE_NAME = "Alice Martin"


async def purge(bot: Harness, days: int = 730) -> int:
    """The retention purge of people inactive for ``days``, now."""
    async with bot.db.transaction() as repos:
        return await purge_inactive(repos, make_club(), Translator("fr"), bot.clock.now(),
                                    timedelta(days=days))


async def ask(bot: Harness, body: str, **kwargs: object) -> str:
    return (await bot.reply_to(body, **kwargs)).replace("**", "")


async def holders(bot: Harness, *needles: str) -> list[str]:
    """Every ``table.column`` whose value holds one of ``needles`` (files in the outbox are
    decoded too)."""
    found = []
    async with bot.db.transaction() as repos:
        for table in Base.metadata.sorted_tables:
            for row in (await repos.session.execute(select(table))).mappings():
                for column, value in row.items():
                    texts = [str(value)]
                    if table.name == "outbox" and column == "content":
                        data = json.loads(value).get("data")
                        if data:
                            texts.append(base64.b64decode(data).decode("utf-8", "replace"))
                    if any(n.lower() in t.lower() for n in needles for t in texts):
                        found.append(f"{table.name}.{column}")
    return sorted(set(found))


async def alice_everywhere(bot: Harness) -> None:
    """Alice leaves a trace in every table that can name a person."""
    await ask(bot, "!profil territoire nord")
    await ask(bot, "!profil commune Guillestre")
    await ask(bot, "!rappel demain 9h appeler la mairie")
    await ask(bot, "!projet creer Atelier vélo --theme mobilité --territoire sud")
    await ask(bot, "!projet rejoindre atelier-velo", sender=BOB)
    await ask(bot, "!initiative ajouter Repair café --theme biens --commune Embrun")
    await ask(bot, "!mentions oui")
    await ask(bot, f"!rappel demain 10h appeler {ALICE}", sender=BOB)  # her id in Bob's text
    now = bot.clock.now()
    async with bot.db.transaction() as repos:
        meeting = await repos.meetings.create(starts_at=now, ends_at=now + timedelta(hours=2),
                                              place="Embrun", territory="commun",
                                              created_by=ALICE, at=now)
        meeting.status = "tenue"
        for who in (ALICE, BOB):
            repos.session.add(MeetingAttendance(meeting_id=meeting.id, user_id=who,
                                                recorded_at=now))
            repos.session.add(MeetingRsvp(meeting_id=meeting.id, user_id=who, answer="present",
                                          at=now))
        poll = await repos.polls.create(question="Quand ?", territory="tous", room_id=ROOM,
                                        closes_at=None, created_by=ALICE, at=now)
        slot = await repos.polls.add_slot(poll.id, 1, now, now + timedelta(hours=1))
        repos.session.add(PollVote(slot_id=slot.id, user_id=ALICE, poll_id=poll.id,
                                   answer="yes", source="text", voted_at=now, event_id="$v1"))
        suggestion = await repos.agenda.add_suggestion(meeting_id=meeting.id, author=ALICE,
                                                       text="Les bus", room_id=ROOM,
                                                       confirmation_txn="t1", at=now)
        await repos.agenda.add_support(suggestion.id, ALICE, now)
        await repos.agenda.add_item(meeting_id=meeting.id, title="Bus", minutes=10, method="",
                                    presenter=f"{ALICE} {BOB}", created_by=ALICE, at=now)
        remontee = await repos.remontees.add(author=ALICE, room_id=ROOM, text="Des bus", at=now)
        remontee.sent_by = remontee.answered_by = ALICE
        await repos.comments.add(poll_id=poll.id, author=ALICE, text="Le samedi, svp",
                                 at=now, event_id="$c1")
        bobs = await repos.remontees.add(author=BOB, room_id=ROOM, text="Un abri", at=now)
        await repos.remontees.add_support(bobs.id, ALICE, now, "$r1")
        await repos.charter.adopt(ALICE, "1", now, "$a1")
        await repos.groups.add_need(1, "competence", "Un mécanicien", ALICE, now)
        await repos.audit.record(actor=BOB, subject="group", subject_id=1, action="thanks", at=now,
                                 user=ALICE)
        await repos.welcomes.first_time(ALICE, ROOM, now)
        content = message_content(welcome(bot.dispatcher.t, make_club(), [ALICE], configured(make_club())))
        await repos.outbox.add(txn_id="welcome-alice", room_id=ROOM, content=content,
                               created_at=now)
    await bot.outbox.flush()


async def test_profile_is_optional_with_consent(bot: Harness) -> None:
    assert "pas rempli de profil" in await ask(bot, "!profil")
    reply = await ask(bot, "!profil territoire nord")
    assert reply.startswith("Merci : en remplissant votre profil, vous acceptez")
    assert "territoire nord, commune non renseigné, catégorie non renseigné" in reply
    assert "consentement donné le 05/01/2099" in reply
    reply = await ask(bot, "!profil commune Guillestre")
    assert not reply.startswith("Merci")
    reply = await ask(bot, "!profile category student")
    assert "commune Guillestre, catégorie étudiant·e" in reply
    assert "astronaute" in await ask(bot, "!profil categorie astronaute")
    assert "Profil effacé" in await ask(bot, "!profil effacer")
    assert "pas rempli de profil" in await ask(bot, "!profil")
    async with bot.db.transaction() as repos:
        person = await repos.participants.get(ALICE)
    assert person is not None and person.commune is None and person.consent_at is None


async def test_only_acts_of_participation_make_a_participant(bot: Harness) -> None:
    """Help, errors, refusals and reading lists are not participation; joining a group is, and
    each act widens the person's span."""
    from tests.handlers.conftest import COORDINATOR

    for line in ("!ping", "!aide", "!cadre", "!projet liste", "!inconnue", "!vote 9 1+",
                 "!sondage dates Quand ? | demain 18h", "!rappel demain 9h appeler"):
        await bot.command(line, sender=BOB)
    await bot.command("!rencontre liste", sender=COORDINATOR)
    async with bot.db.transaction() as repos:
        assert await repos.participants.get(BOB) is None
        assert await repos.participants.get(COORDINATOR) is None
        assert await repos.participants.active_in(2099) == set()
    await ask(bot, "!projet creer Atelier vélo")
    await ask(bot, "!projet rejoindre atelier-velo", sender=BOB)
    bot.clock.advance(timedelta(days=400))
    await ask(bot, "!projet avancement atelier-velo deux vélos réparés", sender=BOB)
    async with bot.db.transaction() as repos:
        person = await repos.participants.get(BOB)
        assert person is not None
        assert person.first_seen == START and person.last_seen == START + timedelta(days=400)
        assert await repos.participants.active_in(2099) == {ALICE, BOB}
        assert await repos.participants.active_in(2100) == {BOB}
        assert await repos.participants.active_in(2098) == set()


async def test_someone_forgotten_is_a_new_participant_at_their_next_act(
        bot: Harness) -> None:
    await ask(bot, "!projet creer Atelier vélo")
    await ask(bot, "!oublier-moi")
    await bot.command("!oublier-moi confirmer")
    async with bot.db.transaction() as repos:
        assert await repos.participants.get(ALICE) is None
    bot.clock.advance(timedelta(minutes=1))
    await ask(bot, "!ping")
    async with bot.db.transaction() as repos:
        assert await repos.participants.get(ALICE) is None  # not an act
    await ask(bot, "!projet rejoindre atelier-velo")
    async with bot.db.transaction() as repos:
        person = await repos.participants.get(ALICE)
    assert person is not None and person.first_seen == START + timedelta(minutes=1)


async def test_my_data_arrives_in_a_direct_message(bot: Harness) -> None:
    await alice_everywhere(bot)
    sent = await bot.command("!mes-donnees")
    reply, intro, file = sent
    assert reply.room_id == ROOM and reply.content["body"] == (
        "Je vous envoie vos données en message privé : je vous invite dans un salon avec moi "
        "(acceptez l'invitation). Si je ne peux pas l'ouvrir, je vous le dis ici.")
    assert bot.transport.direct == [(ALICE, "!dm1:example.org")]
    assert intro.room_id == file.room_id == "!dm1:example.org"
    assert file.content["msgtype"] == "m.file" and file.content["body"].endswith(".json")
    data, mimetype, _name = bot.transport.uploads[-1]
    assert mimetype == "application/json"
    document = json.loads(data)
    assert document["user_id"] == ALICE
    tables = document["tables"]
    for table in ("participants", "group_members", "meeting_attendance", "meeting_rsvps",
                  "poll_votes", "agenda_suggestions", "remontees", "reminders", "people",
                  "audit_log", "initiatives", "welcomes", "inbox", "outbox", "agenda_items",
                  "poll_comments", "remontee_supports", "charter_adoptions"):
        assert table in tables, table
    assert tables["participants"][0]["commune"] == "Guillestre"
    assert all(row["user_id"] == ALICE for row in tables["poll_votes"])
    assert [row["text"] for row in tables["poll_comments"]] == ["Le samedi, svp"]
    assert [(row["remontee_id"], row["reaction_event_id"])
            for row in tables["remontee_supports"]] == [(2, "$r1")]
    assert [row["version"] for row in tables["charter_adoptions"]] == ["1"]
    # Again, an hour later: the same direct room, not a new one.
    bot.clock.advance(timedelta(hours=1))
    again = await bot.command("!my-data")
    assert again[0].content["body"] == ("Je vous envoie vos données en message privé (acceptez "
                                        "l'invitation si besoin).")
    assert len(bot.transport.direct) == 1
    assert bot.transport.sent[-1].room_id == "!dm1:example.org"


async def test_a_direct_room_the_homeserver_refuses_is_told_where_asked(bot: Harness) -> None:
    bot.transport.fail_creation = True
    reply, told = await bot.command("!mes-donnees")
    assert reply.content["body"].startswith("Je vous envoie vos données en message privé")
    assert told.room_id == ROOM
    assert told.content["body"] == (f"{ALICE}, je n'ai pas pu ouvrir de message privé avec vous :"
                                    " le serveur l'a refusé, ou n'a pas répondu pendant des heures."
                                    " Réessayez plus tard (`!mes-donnees`).")
    assert told.content["m.mentions"] == {"user_ids": [ALICE]}
    assert bot.transport.uploads == []
    async with bot.db.transaction() as repos:
        assert await repos.participants.direct_room(ALICE) is None


async def test_forgotten_while_the_direct_room_opens_gets_no_data(bot: Harness) -> None:
    """An erasure confirmed while the homeserver creates the room withdraws the request: the
    room is not remembered, no data is posted there, and the bot leaves it."""
    await alice_everywhere(bot)
    bot.transport.creating.clear()
    await bot.dispatcher.handle(await bot.queue("!mes-donnees"))
    sending = asyncio.create_task(bot.outbox.flush())
    try:
        async with asyncio.timeout(5):
            while not bot.transport.sent:
                await asyncio.sleep(0.01)  # the reply is out; the room is being created
        for body in ("!oublier-moi", "!oublier-moi confirmer"):
            await bot.dispatcher.handle(await bot.queue(body))
    finally:
        bot.transport.creating.set()
    await sending
    await bot.outbox.flush()
    assert bot.transport.direct == [(ALICE, "!dm1:example.org")]
    assert bot.transport.left == ["!dm1:example.org"]
    assert bot.transport.uploads == []
    assert not [s for s in bot.transport.sent if s.room_id == "!dm1:example.org"]
    async with bot.db.transaction() as repos:
        assert await repos.participants.direct_room(ALICE) is None


async def test_forget_me_erases_the_person_and_keeps_the_counts(bot: Harness) -> None:
    await alice_everywhere(bot)
    await bot.command("!mes-donnees")  # a file in the outbox that names her
    year = START.astimezone(PARIS).year
    async with bot.db.transaction() as repos:
        before = await year_facts(repos, year, PARIS)
    assert before.participants_year == 2 and before.attended == 2
    assert await holders(bot, ALICE, ALICE_NAME) == [
        "agenda_items.created_by", "agenda_items.presenter", "agenda_suggestions.author",
        "agenda_supports.user_id", "audit_log.actor", "audit_log.details",
        "audit_people.user_id", "charter_adoptions.user_id", "group_members.user_id",
        "group_needs.created_by", "inbox.body", "inbox.sender", "initiatives.created_by",
        "meeting_attendance.user_id", "meeting_rsvps.user_id", "meetings.created_by",
        "meetings.organiser",
        "outbox.content", "outbox_people.user_id", "participant_years.user_id",
        "participants.user_id", "people.user_id", "poll_comments.author",
        "poll_votes.user_id", "polls.created_by", "project_groups.created_by", "reminders.owner",
        "reminders.text", "remontee_supports.user_id", "remontees.answered_by", "remontees.author",
        "remontees.sent_by", "welcomes.user_id"]

    reply = await ask(bot, "!oublier-moi")
    assert "`!oublier-moi confirmer` dans les 10 minutes" in reply
    bot.clock.advance(timedelta(minutes=3))
    sent = await bot.command("!oublier-moi confirmer")
    assert [s.content["body"] for s in sent] == [
        "C'est fait : vos données personnelles ont été effacées ou anonymisées."]
    assert sent[0].content["m.mentions"] == {"user_ids": []}

    # Her id stays only inside the text Bob wrote (his reminder, his command): Bob's data; and,
    # for a day, beside what her daily caps count of her last day (test_limits).
    assert await holders(bot, ALICE, ALICE_NAME, "Guillestre") == [
        "cap_uses.user_id", "inbox.body", "reminders.text"]
    async with bot.db.transaction() as repos:
        texts = (await repos.session.execute(text(
            "SELECT sender, body FROM inbox WHERE body LIKE '%appeler%' UNION ALL "
            "SELECT owner, text FROM reminders WHERE text LIKE '%appeler%'"))).all()
    assert {who for who, _ in texts} == {BOB}
    async with bot.db.transaction() as repos:
        after = await year_facts(repos, year, PARIS)
        assert await repos.reminders.pending_of(ALICE) == []
    # Every count stays; only her profile's territory is no longer known.
    assert after.by_territory == {"non-renseigne": 2}
    assert before.by_territory == {"nord": 1, "non-renseigne": 1}
    same = ("participants_year", "participants_total", "new_participants", "attended",
            "meetings", "groups", "groups_by_status", "suggestions", "remontees", "cumulative")
    for name in same:
        assert getattr(after, name) == getattr(before, name), name
    async with bot.db.transaction() as repos:
        comment = (await repos.comments.latest(1, 5))[0]
        assert (comment.text, comment.event_id) == ("[supprimé à la demande de son auteur]", None)
        assert await repos.charter.adoptions() == []  # adopting served her alone: gone
        assert await repos.remontees.support_counts() == {2: 1}  # the co-signature counts
    assert await holders(bot, "$r1", "$c1", "$a1") == []  # the event ids that find her
    # Bob is untouched.
    assert "group_members.user_id" in await holders(bot, BOB)


async def test_forget_me_needs_a_recent_request(bot: Harness) -> None:
    await ask(bot, "!profil commune Guillestre")
    reply = await ask(bot, "!oublier-moi confirmer")
    assert "Pas de demande en attente" in reply
    await ask(bot, "!forget-me")
    bot.clock.advance(timedelta(minutes=11))
    assert "Pas de demande en attente" in await ask(bot, "!forget-me confirm")
    async with bot.db.transaction() as repos:
        assert await repos.participants.get(ALICE) is not None


async def test_retention_purges_inactive_participants(bot: Harness) -> None:
    await ask(bot, "!profil commune Guillestre")
    bot.clock.advance(timedelta(days=700))
    await ask(bot, "!ping", sender=BOB)
    assert await purge(bot) == 0
    bot.clock.advance(timedelta(days=40))
    assert await purge(bot) == 1
    assert await holders(bot, ALICE, "Guillestre") == []
    assert await holders(bot, BOB)




async def test_retention_reaches_people_who_never_wrote_a_command(bot: Harness) -> None:
    """A native poll vote or a presence marked by the coordinator is participation: the person
    gets a participant row, and the purge forgets them once inactive, like anyone else."""
    from tests.handlers.conftest import COORDINATOR
    from tests.handlers.test_polls import OPEN, native_vote, slot_events

    start = slot_events(await bot.command(OPEN, sender=COORDINATOR))[0]
    assert await native_vote(bot, start, BOB, "yes", bot.clock.now(), "$bob1")
    carol, day = "@carol:example.org", bot.clock.now() + timedelta(days=20)
    await bot.command(f"!rencontre planifier {day:%d/%m/%Y} 18h30 --lieu Embrun",
                      sender=COORDINATOR)
    bot.clock.advance(timedelta(days=21))
    await bot.command(f"!rencontre presences 1 {carol}", sender=COORDINATOR)
    async with bot.db.transaction() as repos:
        for person in (BOB, carol):
            assert await repos.participants.get(person) is not None, person
    bot.clock.advance(timedelta(days=714))  # 735 days after Bob's vote, 715 after the rencontre
    assert await purge(bot) == 1
    assert await holders(bot, BOB) == []
    assert await holders(bot, carol)
    bot.clock.advance(timedelta(days=25))
    assert await purge(bot) == 2  # Carol, and the coordinator's last command
    assert await holders(bot, carol) == []


async def test_the_daily_retention_job(bot: Harness) -> None:
    await ask(bot, "!profil commune Guillestre")
    job = bot.job("retention", retaining(730, 30))
    [(item, due)] = await job.pending()
    assert due.astimezone(PARIS).hour == 4 and due > bot.clock.now()
    await job.fire(item)  # not due yet: nothing
    bot.clock.advance(timedelta(days=731))
    [(item, due)] = await job.pending()
    bot.clock.advance(due - bot.clock.now())
    await job.fire(item)
    assert await holders(bot, ALICE, "Guillestre") == []


async def test_an_outcome_handler_that_fails_is_told_once_not_tried_again(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """The direct room opened, its handler fails: the person is told where they asked (an
    error reference), the row is done; no second room, nothing sent again."""
    calls: list[str] = []

    async def failing(done: RoomOutcome) -> tuple[Effect, ...]:
        calls.append(str(done.room_id))
        raise RuntimeError("a bug in the handler")

    monkeypatch.setitem(bot.dispatcher.registry.outcomes, DIRECT_ROOM_OPENED, failing)
    reply, told = await bot.command("!mes-donnees")
    assert told.room_id == ROOM and told.content["body"].startswith("Erreur interne (réf. ")
    assert told.content["m.mentions"] == {"user_ids": [ALICE]}
    await bot.outbox.flush()
    await bot.outbox.flush()
    assert calls == ["!dm1:example.org"]
    assert bot.transport.direct == [(ALICE, "!dm1:example.org")]
    async with bot.db.transaction() as repos:
        assert list(await repos.outbox.pending()) == []
