"""Personal data by exact key, end to end on SQLite and PostgreSQL: ``!mes-donnees`` gives the
asker's rows and no one else's; ``!oublier-moi`` erases by exact id (a lookalike id keeps
everything), never by display name, replaces what the person wrote by a neutral marker while
every count stays, and drops the event ids that would name them; the retention purge reaches
everyone recorded; old commands and messages are purged, except what the bot still needs."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select, text

from bot.effects import queue_effects
from bot.outbox import Outbox
from bot.render import message_content
from commands.agenda import reactions
from commands.agenda.service import version_key
from commands.charter import configured
from commands.effects import Reply, effect_txn
from commands.events import PollResponse, Reaction, RoomEvents
from commands.i18n import Translator
from commands.meta import welcome
from commands.polls import native
from commands.polls import service as polls
from commands.roles import Role
from commands.text import pill
from storage.models import Base, Initiative, OutboxMessage
from tests.handlers.conftest import (
    ALICE,
    COORDINATOR,
    ROOM,
    START,
    Harness,
    make_club,
    retaining,
)
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.fakes import FakeTransport, Sent
from tests.handlers.seed_year import PARIS
from tests.report_facts import year_facts

CO, COM = "@alice:example.co", "@alice:example.com"  # one is a prefix of the other
BOB = "@bob:example.org"
CAROL = "@carol:example.org"
MARKER = "[supprimé à la demande de son auteur]"
T = Translator("fr")


async def ask(bot: Harness, body: str, sender: str = ALICE, **kwargs: object) -> str:
    return (await bot.reply_to(body, sender=sender, **kwargs)).replace("**", "")


async def forget(bot: Harness, who: str) -> list[Sent]:
    await ask_forget(bot, who)
    return await bot.command("!oublier-moi confirmer", sender=who)


async def ask_forget(bot: Harness, who: str = ALICE) -> None:
    assert "confirmer" in await ask(bot, "!oublier-moi", sender=who)


async def rows_naming(bot: Harness, needle: str, *, skip: tuple[str, ...] = ()
                      ) -> dict[str, list[dict[str, Any]]]:
    """Every row (as text) of every table in which some value holds ``needle`` (a user id: as
    a whole, not as the start of a longer id)."""
    pattern = re.compile(re.escape(needle) + (r"(?![\w.:-])" if needle.startswith("@") else ""))
    found: dict[str, list[dict[str, Any]]] = {}
    async with bot.db.transaction() as repos:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            for row in (await repos.session.execute(select(table))).mappings():
                if any(pattern.search(str(value)) for value in row.values()):
                    found.setdefault(table.name, []).append({k: str(v) for k, v in row.items()})
    return found


async def nothing_names(bot: Harness, erased: str) -> None:
    """No row holds ``erased``'s id but the time of their erasure, kept for a day so that the
    next one waits for it (``cap_uses``)."""
    assert await rows_naming(bot, erased, skip=("cap_uses",)) == {}
    kept = (await rows_naming(bot, erased)).get("cap_uses", [])
    assert [(row["subject"], row["action"]) for row in kept] == [("person", "erased")]


async def column(bot: Harness, query: str) -> list[Any]:
    async with bot.db.transaction() as repos:
        return list((await repos.session.execute(text(query))).scalars())


async def plan_meeting(bot: Harness, days: int = 60) -> None:
    day = (bot.clock.now() + timedelta(days=days)).astimezone(PARIS)
    sent = await bot.command(f"!rencontre planifier {day:%d/%m/%Y} 18h30 --lieu Embrun",
                             sender=COORDINATOR)
    assert "Rencontre du club n°" in sent[0].content["body"], sent


def last_upload(bot: Harness) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(bot.transport.uploads[-1][0])
    return document


# --- access -------------------------------------------------------------------------------------

async def test_my_data_holds_the_askers_rows_and_nobody_elses(bot: Harness) -> None:
    await ask(bot, "!profil commune Briançon", sender=COM)
    await ask(bot, "!rappel demain 9h appeler la mairie", sender=COM)
    await ask(bot, "!projet creer Atelier vélo --theme mobilité --territoire sud", sender=COM)
    await ask(bot, "!remontee Des bus le dimanche", sender=COM)
    await ask(bot, "!profil commune Embrun", sender=CO)
    await bot.command("!mes-donnees", sender=CO)

    document = last_upload(bot)
    assert COM not in json.dumps(document, ensure_ascii=False)
    tables = document["tables"]
    assert [row["commune"] for row in tables["participants"]] == ["Embrun"]
    assert {row["sender"] for row in tables["inbox"]} == {CO}
    assert {row["user_id"] for row in tables["outbox_people"]} == {CO}
    assert not {"reminders", "remontees", "group_members", "project_groups"} & set(tables)


async def test_the_data_file_and_its_message_are_linked_to_the_person(bot: Harness) -> None:
    """Neither names the person (a direct room, a file): they are linked to her all the same,
    so that her erasure blanks them."""
    await ask(bot, "!profil commune Guillestre")
    await bot.command("!mes-donnees")
    async with bot.db.transaction() as repos:
        messages = (await repos.session.scalars(select(OutboxMessage).where(
            OutboxMessage.room_id == "!dm1:example.org"))).all()
    linked = await column(bot, f"SELECT outbox_id FROM outbox_people WHERE user_id = '{ALICE}'")
    assert len(messages) == 2 and {m.id for m in messages} <= set(linked)
    await forget(bot, ALICE)
    assert await rows_naming(bot, "Guillestre") == {}
    assert bot.transport.left == ["!dm1:example.org"]  # the bot leaves her direct room


# --- erasure by exact key -----------------------------------------------------------------------

async def test_erasing_someone_leaves_a_lookalike_id_untouched(bot: Harness) -> None:
    await ask(bot, "!profil commune Briançon", sender=COM)
    await ask(bot, "!rappel demain 9h appeler la mairie", sender=COM)
    await ask(bot, "!projet creer Atelier vélo --theme mobilité --territoire sud", sender=COM)
    await bot.command("!sondage dates Quand ? | 10/03 18h | 12/03 18h", sender=COORDINATOR)
    await bot.command("!vote 1+ 2-", sender=COM)
    await ask(bot, "!projet rejoindre atelier-velo", sender=CO)
    await bot.command("!vote 1- 2+", sender=CO)
    await ask(bot, "!rappel demain 10h arroser", sender=CO)
    before = await rows_naming(bot, COM, skip=("outbox", "outbox_people"))
    assert set(before) >= {"participants", "reminders", "group_members", "poll_votes", "inbox"}

    await forget(bot, CO)

    assert await rows_naming(bot, COM, skip=("outbox", "outbox_people")) == before
    await nothing_names(bot, CO)
    async with bot.db.transaction() as repos:
        member = await repos.groups.membership(1, COM)
        assert member is not None and member.referent
        assert len(await repos.reminders.pending_of(COM)) == 1
        assert set(await repos.polls.voters(1)) >= {COM}
        assert len(await repos.polls.voters(1)) == 2  # hers under a pseudonym


async def test_display_names_that_look_like_json_corrupt_nothing(bot: Harness) -> None:
    """The bot never uses display names to erase: a name such as ``": "`` changes no text."""
    names = ['": "', '"a"', '"{"', "a", "{"]
    bot.matrix.names[ALICE] = names
    async with bot.db.transaction() as repos:
        assert await repos.welcomes.first_time(ALICE, ROOM, bot.clock.now())
        await repos.outbox.add(txn_id="welcome-alice", room_id=ROOM, created_at=bot.clock.now(),
                               content=message_content(Reply(f"Bienvenue {pill(ALICE, names[0])}",
                                                             mentions=(ALICE,))))
    await bot.outbox.flush()
    await ask(bot, "!projet creer Atelier vélo --theme mobilité --territoire sud")
    await ask(bot, "!projet rejoindre atelier-velo", sender=BOB)
    await ask(bot, "!projet avancement atelier-velo ça roule", sender=BOB)
    await ask_forget(bot)
    async with bot.db.transaction() as repos:  # a message still to be sent, naming both
        await repos.outbox.add(
            txn_id="pending-1", room_id=ROOM, created_at=bot.clock.now(),
            content=message_content(Reply(f"Bravo {pill(BOB)} et {pill(ALICE)} !",
                                          mentions=(BOB, ALICE))))

    sent = await bot.command("!oublier-moi confirmer")

    later = next(s for s in sent if s.txn_id == "pending-1")
    assert ALICE not in json.dumps(later.content)
    assert later.content["m.mentions"] == {"user_ids": [BOB]}
    assert later.content["body"].startswith("Bravo @bob:example.org et anonyme-")
    for query in ("SELECT details FROM audit_log", "SELECT content FROM outbox"):
        for value in await column(bot, query):
            json.loads(value)
    history = await ask(bot, "!projet historique atelier-velo", sender=COORDINATOR)
    assert "a rejoint" in history and "Erreur interne" not in history
    assert "ça roule" in history  # Bob's words are his
    await Outbox(bot.db, FakeTransport(), bot.clock).flush()  # at the next start


async def test_forget_me_keeps_the_description_of_another_that_she_replaced(
        bot: Harness) -> None:
    await ask(bot, "!projet creer Compost --theme environnement --territoire nord "
                   "--description Le compost de Bob", sender=BOB)
    await ask(bot, "!projet rejoindre compost")
    assert "référent" in await ask(bot, f"!projet referent compost {ALICE}", sender=BOB)
    assert "→ Le compost d'Alice" in await ask(bot, "!projet modifier compost description Le compost d'Alice")
    await forget(bot, ALICE)
    edits = [json.loads(d) for d in await column(
        bot, "SELECT details FROM audit_log WHERE action = 'edited' ORDER BY id")]
    assert [(e["old"], e["new"]) for e in edits] == [("Le compost de Bob", MARKER)]


async def test_forget_me_keeps_the_same_text_retyped_by_another(bot: Harness) -> None:
    await ask(bot, "!projet creer Compost --theme environnement --territoire nord "
                   "--description Le compost")
    for value in ("Le compost", "Le compost du quartier"):  # retyped, then changed
        await ask(bot, f"!projet modifier compost description {value}", sender=COORDINATOR)
    await forget(bot, ALICE)
    edits = [json.loads(d) for d in await column(
        bot, "SELECT details FROM audit_log WHERE action = 'edited' ORDER BY id")]
    assert [(e["old"], e["new"]) for e in edits] == [
        (MARKER, "Le compost"), ("Le compost", "Le compost du quartier")]


async def test_forget_me_replaces_what_the_person_wrote_and_keeps_the_counts(
        bot: Harness) -> None:
    await plan_meeting(bot)
    await ask(bot, "!remontee Des bus le dimanche soir")
    await ask(bot, "!projet creer Atelier vélo --theme mobilité --territoire sud "
                   "--description Réparer les vélos")
    await ask(bot, "!projet modifier atelier-velo description Réparer les vélos de Guillestre")
    await ask(bot, "!projet creer Jardin partagé --theme alimentation --territoire nord "
                   "--description Un jardin")
    await ask(bot, "!projet modifier jardin description Le jardin de la gare",
              sender=COORDINATOR)
    await ask(bot, "!projet creer Compost --theme environnement --territoire nord "
                   "--description Le compost de Bob", sender=BOB)
    await ask(bot, "!projet avancement atelier-velo trois vélos réparés chez moi")
    await ask(bot, "!projet besoin atelier-velo un local rue des Lilas")
    await ask(bot, "!projet besoin atelier-velo --fait 1", sender=COORDINATOR)
    await bot.command("!odj proposer Parler du car de 7h12")
    await ask(bot, "!initiative ajouter Repair café --theme biens --commune Embrun "
                   "--description Chez moi au 3 rue Haute --contact 06 12 34 56 78")
    await ask(bot, "!rappel salon chaque lundi 9h réunion chez Alice")
    year = START.astimezone(PARIS).year
    async with bot.db.transaction() as repos:
        before = await year_facts(repos, year, PARIS)

    await forget(bot, ALICE)

    for query in ("SELECT text FROM remontees", "SELECT text FROM group_progress",
                  "SELECT text FROM group_needs", "SELECT text FROM agenda_suggestions"):
        assert await column(bot, query) == [MARKER], query
    descriptions = await column(bot, "SELECT description FROM project_groups ORDER BY id")
    assert descriptions == [MARKER, "Le jardin de la gare", "Le compost de Bob"]
    async with bot.db.transaction() as repos:
        [initiative] = (await repos.session.scalars(select(Initiative))).all()
        after = await year_facts(repos, year, PARIS)
    assert (initiative.name, initiative.description, initiative.contact) == (
        "Repair café", MARKER, MARKER)
    assert "rue haute" not in initiative.search_key and "repair cafe" in initiative.search_key
    assert await column(bot, "SELECT text FROM reminders WHERE kind IN ('personal', 'room')") == []
    audit_texts = [json.loads(d).get("text") for d in await column(
        bot, "SELECT details FROM audit_log WHERE action IN ('raised', 'progress', 'need', "
             "'need_met', 'suggested')")]
    assert audit_texts == [MARKER] * 5
    edits = [json.loads(d) for d in await column(
        bot, "SELECT details FROM audit_log WHERE action = 'edited' ORDER BY id")]
    assert [(e["old"], e["new"]) for e in edits] == [  # hers, the one she replaced or wrote
        (MARKER, MARKER), (MARKER, "Le jardin de la gare")]
    for words in ("Un jardin", "Réparer les vélos", "dimanche soir", "Guillestre", "chez moi",
                  "Lilas", "7h12", "3 rue Haute", "06 12 34", "chez Alice"):
        assert await rows_naming(bot, words) == {}, words
    for name in ("participants_year", "participants_total", "groups", "suggestions",
                 "remontees", "cumulative"):
        assert getattr(after, name) == getattr(before, name), name
    assert await column(bot, "SELECT count(*) FROM group_progress") == [1]
    assert await column(bot, "SELECT count(*) FROM group_needs") == [1]


async def test_forget_me_drops_the_event_ids_that_would_name_the_person(bot: Harness) -> None:
    await plan_meeting(bot)
    await bot.command("!odj proposer Les bus", sender=BOB)
    confirmation = await column(bot, "SELECT event_id FROM outbox WHERE content LIKE "
                                     "'%Proposition n°1%'")
    await bot.command("!sondage dates Quand ? | 10/03 18h | 12/03 18h", sender=COORDINATOR)
    start = await column(bot, "SELECT event_id FROM outbox WHERE event_type = "
                              f"'{native.START}' ORDER BY id")
    old = await bot.queue("!ping", age=timedelta(days=3))  # older than the catch-up window
    await bot.dispatcher.handle(old)
    recent = await bot.queue("!aide", thread_root="$thread-of-alice")
    await bot.dispatcher.handle(recent)
    await bot.outbox.flush()
    at = bot.clock.now()
    async with bot.db.transaction() as repos:
        response = PollResponse("$vote-alice", ROOM, ALICE, at, start[0], ("yes",))
        await polls.record_native(repos, [response], make_club(), T)
        await reactions.record_supports(repos, RoomEvents(reactions=[
            Reaction("$thumb-alice", ROOM, ALICE, confirmation[0], "👍", at)]), make_club(), T)

    await forget(bot, ALICE)

    for needle in ("$vote-alice", "$thumb-alice", old, recent, "$thread-of-alice"):
        assert await rows_naming(bot, needle, skip=("inbox",)) == {}, needle
    await nothing_names(bot, ALICE)
    inbox = {row["event_id"]: row for rows in (await rows_naming(bot, "$cmd")).values()
             for row in rows}
    assert old not in inbox  # gone
    assert inbox[recent]["sender"] == inbox[recent]["body"] == inbox[recent]["room_id"] == ""
    assert inbox[recent]["thread_root"] == "None"  # nor where she wrote it
    async with bot.db.transaction() as repos:  # the same command seen again is not run again
        assert not await repos.inbox.add_if_new(event_id=recent, room_id=ROOM, sender=ALICE,
                                                body="!aide", sent_at=at, received_at=at)
        assert len(await repos.agenda.supporters(1)) == 1  # counts stay
        assert len(await repos.polls.voters(1)) == 1


async def test_an_erasure_right_after_a_reply_is_sent_loses_no_message(bot: Harness) -> None:
    """The reply to ``!oublier-moi`` is sent, and marked sent in the database a moment later;
    the confirmation comes in between: its own message must go out all the same (a message
    row erased then would give its id to the next one, which the sender takes as sent)."""
    await ask(bot, "!ping")
    await bot.dispatcher.handle(await bot.queue("!oublier-moi"))
    await bot.outbox.flush(mark_now=False)  # sent; marked sent in 0.2 s
    await bot.dispatcher.handle(await bot.queue("!oublier-moi confirmer"))
    await bot.outbox.flush()
    assert bot.transport.bodies()[-1].startswith("C'est fait")
    assert await column(bot, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == [0]
    await nothing_names(bot, ALICE)


async def test_pending_messages_about_the_person_alone_are_withdrawn(bot: Harness) -> None:
    await ask_forget(bot)
    async with bot.db.transaction() as repos:
        await repos.outbox.add(txn_id="invite-alice", room_id=ROOM, action="invite",
                               content={"user_id": ALICE}, created_at=bot.clock.now())
        await repos.outbox.add(txn_id="to-alice", room_id=ROOM, created_at=bot.clock.now(),
                               content=message_content(Reply("Votre commune : Guillestre",
                                                             mentions=(ALICE,))))
    sent = await bot.command("!oublier-moi confirmer")
    assert [s.txn_id for s in sent if s.txn_id in ("invite-alice", "to-alice")] == []
    assert bot.transport.invites == []
    assert await rows_naming(bot, "Guillestre") == {}


# --- retention ----------------------------------------------------------------------------------

async def test_retention_reaches_people_only_welcomed_or_who_only_gave_a_thumbs_up(
        bot: Harness) -> None:
    dave, erin = "@dave:example.org", "@erin:example.org"
    await plan_meeting(bot, days=10)
    await bot.command("!odj proposer Les bus", sender=BOB)
    confirmation = await column(bot, "SELECT event_id FROM outbox WHERE content LIKE "
                                     "'%Proposition n°1%'")
    async with bot.db.transaction() as repos:
        assert await repos.welcomes.first_time(dave, ROOM, bot.clock.now())
        await repos.outbox.add(txn_id="welcome-dave", room_id=ROOM, created_at=bot.clock.now(),
                               content=message_content(welcome(T, make_club(), [dave],
                                                               configured(make_club()))))
        await reactions.record_supports(repos, RoomEvents(reactions=[
            Reaction("$thumb-erin", ROOM, erin, confirmation[0], "👍", bot.clock.now())]),
            make_club(), T)
        assert await repos.participants.get(dave) is None  # a welcome is no participation
    await bot.outbox.flush()
    bot.clock.advance(timedelta(days=700))
    await ask(bot, "!ping", sender=dave)  # Dave comes back: he is kept
    bot.clock.advance(timedelta(days=40))
    async with bot.db.transaction() as repos:
        latest = await repos.personal.last_activity()
    assert latest[erin] == START and latest[dave] == START + timedelta(days=700)

    job = bot.job("retention", retaining(730, 0))
    [(item, due)] = await job.pending()
    bot.clock.set(due)
    await job.fire(item)

    assert await rows_naming(bot, erin) == {}
    assert await rows_naming(bot, "$thumb-erin") == {}
    assert await rows_naming(bot, dave)
    assert await column(bot, "SELECT count(*) FROM agenda_supports") == [1]
    bot.clock.advance(timedelta(days=731))
    [(item, due)] = await job.pending()
    bot.clock.set(due)
    await job.fire(item)
    assert await rows_naming(bot, dave) == {}
    assert await column(bot, "SELECT count(*) FROM welcomes") == [0]


# --- the messages purge -------------------------------------------------------------------------

async def event_of(bot: Harness, txn: str) -> str:
    [event_id] = await column(bot, f"SELECT event_id FROM outbox WHERE txn_id = '{txn}'")
    assert event_id
    return str(event_id)


async def test_old_commands_and_messages_are_purged_but_what_the_bot_needs_stays(
        bot: Harness) -> None:
    await plan_meeting(bot)
    await bot.command("!odj proposer Les bus", sender=BOB)
    await bot.command("!odj ajouter Accueil --duree 10min", sender=COORDINATOR)
    await bot.command("!odj publier", sender=COORDINATOR)
    await bot.command("!sondage dates Quand ? | 10/03 18h | 12/03 18h", sender=COORDINATOR)
    await ask(bot, "!ping", sender=BOB)
    [confirmation_txn] = await column(bot, "SELECT confirmation_txn FROM agenda_suggestions")
    needed = {"confirmation": await event_of(bot, confirmation_txn),
              "agenda": await event_of(bot, effect_txn(version_key(1, 1, ROOM))),
              "root": await event_of(bot, effect_txn(polls.root_key(1))),
              "slot": await event_of(bot, effect_txn(polls.slot_key(1, 1)))}
    async with bot.db.transaction() as repos:  # waiting to be sent: never purged
        await repos.outbox.add(txn_id="pending-1", room_id="!gone:example.org",
                               created_at=bot.clock.now(), content={"body": "plus tard"})
    sent_before = (await column(bot, "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"))[0]
    assert await column(bot, "SELECT count(*) FROM inbox") == [6]

    job = bot.job("retention", retaining(730, 30))
    for days in (29, 2):
        bot.clock.advance(timedelta(days=days))
        [(item, due)] = await job.pending()
        bot.clock.set(due)
        await job.fire(item)
        if days == 29:  # not yet
            assert await column(bot, "SELECT count(*) FROM inbox") == [6]

    assert await column(bot, "SELECT count(*) FROM inbox") == [0]
    left = await column(bot, "SELECT event_id FROM outbox WHERE sent_at IS NOT NULL")
    assert set(needed.values()) <= set(left) and len(left) < sent_before - 5
    assert await column(bot, "SELECT txn_id FROM outbox WHERE sent_at IS NULL") == ["pending-1"]

    at = bot.clock.now()
    async with bot.db.transaction() as repos:
        # The open poll still counts native votes, and its message is edited.
        response = PollResponse("$vote-bob", ROOM, BOB, at, needed["slot"], ("yes",))
        [edit] = await polls.record_native(repos, [response], make_club(), T)
        # The suggestion still open counts a 👍 on its confirmation.
        await reactions.record_supports(repos, RoomEvents(reactions=[
            Reaction("$thumb-carol", ROOM, CAROL, needed["confirmation"], "👍", at)]),
            make_club(), T)
        assert await repos.agenda.supporters(1) == [CAROL]
        assert set(await repos.polls.voters(1)) == {BOB}
        await queue_effects(repos, [edit], "test-edit", at)
    before = len(bot.transport.sent)
    await bot.outbox.flush()
    # The published agenda is edited in place when it changes.
    await bot.command("!odj ajouter Tour de table --duree 20min", sender=COORDINATOR)
    edited = [s.content["m.relates_to"]["event_id"] for s in bot.transport.sent[before:]
              if s.content.get("m.relates_to", {}).get("rel_type") == "m.replace"]
    assert edited == [needed["root"], needed["agenda"]]


async def test_no_messages_purge_when_its_delay_is_zero(bot: Harness) -> None:
    await ask(bot, "!ping", sender=BOB)
    bot.clock.advance(timedelta(days=400))
    job = bot.job("retention", retaining(730, 0))
    [(item, due)] = await job.pending()
    bot.clock.set(due)
    await job.fire(item)
    assert await column(bot, "SELECT count(*) FROM inbox") == [1]


# --- the direct room ----------------------------------------------------------------------------

async def test_my_data_opens_a_new_direct_room_when_the_person_left_hers(bot: Harness) -> None:
    await bot.command("!mes-donnees")
    assert bot.transport.direct == [(ALICE, "!dm1:example.org")]
    bot.clock.advance(timedelta(hours=1))
    await bot.command("!mes-donnees")
    assert len(bot.transport.direct) == 1  # still hers
    bot.matrix.left.add(("!dm1:example.org", ALICE))
    bot.clock.advance(timedelta(hours=1))
    sent = await bot.command("!mes-donnees")
    assert bot.transport.direct == [(ALICE, "!dm1:example.org"), (ALICE, "!dm2:example.org")]
    assert [s.room_id for s in sent[1:]] == ["!dm2:example.org"] * 2
    async with bot.db.transaction() as repos:
        assert await repos.participants.direct_room(ALICE) == "!dm2:example.org"



async def test_my_data_is_sent_once_an_hour_whoever_asks_and_wherever(bot: Harness) -> None:
    """Leaving the direct room and asking again in a loop would have the bot open a room each
    time: one file (and at most one new room) an hour per person, the reply saying when."""
    bot.roles[ALICE] = Role.VISITOR  # an erased member, say: her data is still hers to ask
    await bot.command("!mes-donnees")
    assert bot.transport.direct == [(ALICE, "!dm1:example.org")]
    uploads = len(bot.transport.uploads)
    for minutes in (0, 30, 59):
        bot.matrix.left.add(("!dm1:example.org", ALICE))
        bot.clock.set(START + timedelta(minutes=minutes, seconds=30))
        sent = await bot.command("!mes-donnees", room_id=f"!elsewhere{minutes}:example.org")
        assert [s.content["body"] for s in sent] == [
            "Vos données vous ont été envoyées il y a moins d'une heure, en message privé. "
            "Vous pourrez les redemander le lundi 5 janvier 2099 à 11h."]
    assert len(bot.transport.direct) == 1 and len(bot.transport.uploads) == uploads
    async with bot.db.transaction() as repos:
        assert await repos.participants.direct_room(ALICE) == "!dm1:example.org"
    bot.clock.set(START + timedelta(hours=1))
    sent = await bot.command("!mes-donnees")
    assert bot.transport.direct == [(ALICE, "!dm1:example.org"), (ALICE, "!dm2:example.org")]
    assert len(bot.transport.uploads) == uploads + 1
    assert await bot.command("!mes-donnees", sender=BOB)  # someone else is not held back
    assert len(bot.transport.uploads) == uploads + 2


async def test_erasing_oneself_does_not_give_the_hourly_data_file_back(bot: Harness) -> None:
    """Asking for one's data, erasing oneself and asking again in a loop would have the bot
    open a direct room (and scrub the database) each time: the last export's time is kept
    through the erasure (``cap_uses``), so the next file waits for the hour."""
    await bot.command("!mes-donnees")
    uploads = len(bot.transport.uploads)
    bot.clock.set(START + timedelta(minutes=10))
    await bot.command("!oublier-moi")
    await bot.command("!oublier-moi confirmer")
    sent = await bot.command("!mes-donnees")
    assert [s.content["body"] for s in sent] == [
        "Vos données vous ont été envoyées il y a moins d'une heure, en message privé. "
        "Vous pourrez les redemander le lundi 5 janvier 2099 à 11h."]
    assert len(bot.transport.direct) == 1 and len(bot.transport.uploads) == uploads
    bot.clock.set(START + timedelta(hours=1))
    await bot.command("!mes-donnees")
    assert len(bot.transport.direct) == 2 and len(bot.transport.uploads) == uploads + 1
