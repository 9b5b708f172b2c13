"""``!rencontre`` end to end on SQLite and PostgreSQL: every command and every refusal."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from commands.i18n import Translator
from commands.meetings import create_meeting
from commands.meetings.details import EventDetails
from storage.models import Reminder
from tests.handlers.conftest import ALICE, COORDINATOR, ROOM, Harness, plain, unchanged
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.fakes import Sent
from tests.handlers.rencontres import MAIN, NORTH, SOUTH

BOB = "@bob:example.org"
CAROL = "@carol:example.org"
TABLES = ("meetings", "meeting_rsvps", "meeting_attendance", "audit_log", "outbox")
PARIS = "Europe/Paris"


@pytest.fixture
def bot(build_bot: Callable[..., Harness]) -> Harness:
    return build_bot(main=MAIN, north=NORTH, south=SOUTH)


async def ask(bot: Harness, body: str, sender: str = COORDINATOR) -> str:
    return (await bot.reply_to(body, sender=sender)).replace("**", "")


async def refused(bot: Harness, body: str, sender: str = COORDINATOR) -> str:
    """The reply to a command that must change nothing."""
    return await unchanged(bot.db, TABLES, body, ask(bot, body, sender=sender))


async def plan(bot: Harness, body: str = "jeudi 18h30 --lieu Salle des fêtes, Embrun "
                                         "--territoire nord") -> list[Sent]:
    return await bot.command(f"!rencontre planifier {body}", sender=COORDINATOR)


def events(sent: list[Sent]) -> list[tuple[str, str]]:
    """(room, kind) of each event: ``notice`` for a message, ``file``, ``reaction``."""
    kinds = []
    for event in sent:
        if event.event_type == "m.reaction":
            kinds.append((event.room_id, "reaction"))
        else:
            kinds.append((event.room_id, event.content["msgtype"].removeprefix("m.")))
    return kinds


def vevent(data: bytes):  # type: ignore[no-untyped-def]
    return Calendar.from_ical(data).walk("VEVENT")[0]


async def meeting_row(bot: Harness, number: int = 1):  # type: ignore[no-untyped-def]
    async with bot.db.transaction() as repos:
        meeting = await repos.meetings.get(number)
        assert meeting is not None
        return meeting


# --- planifier ----------------------------------------------------------------------------------

async def test_plan_announces_in_the_territory_rooms_with_the_calendar_file(bot: Harness) -> None:
    sent = await plan(bot)
    assert events(sent) == [(ROOM, "notice"), (NORTH, "notice"), (NORTH, "file")]
    reply = plain(sent[0])
    assert reply.startswith("C'est planifié : Rencontre territoriale n°1, jeudi 8 janvier 2099, "
                            "18h30–20h30, Salle des fêtes, Embrun, nord. Je l'annonce dans 1 salon")
    announce = plain(sent[1])
    assert "📅 Rencontre territoriale n°1 — nord" in announce
    assert "Organisation : @claire:example.org" in announce
    assert "Quand : jeudi 8 janvier 2099, 18h30–20h30" in announce
    assert "Où : Salle des fêtes, Embrun" in announce
    assert "!rencontre present 1" in announce and "!rencontre peutetre 1" in announce
    assert plain(sent[2]) == "rencontre-1.ics"
    data, mimetype, filename = bot.transport.uploads[0]
    assert (mimetype, filename) == ("text/calendar", "rencontre-1.ics")
    event = vevent(data)
    assert event.decoded("dtstart") == datetime(2099, 1, 8, 18, 30, tzinfo=event.decoded(
        "dtstart").tzinfo)
    assert str(event["location"]) == "Salle des fêtes, Embrun"
    meeting = await meeting_row(bot)
    assert meeting.starts_at == datetime(2099, 1, 8, 17, 30, tzinfo=UTC)
    assert meeting.ends_at == datetime(2099, 1, 8, 19, 30, tzinfo=UTC)
    assert (meeting.territory, meeting.status, meeting.sequence, meeting.poll_id) == (
        "nord", "prevue", 0, None)
    assert json.loads(meeting.rooms) == [NORTH]
    assert meeting.created_by == COORDINATOR
    async with bot.db.transaction() as repos:
        audit = await repos.audit.entries("meeting", 1)
        assert [(e.actor, e.action) for e in audit] == [(COORDINATOR, "created")]


async def test_plan_defaults_to_a_joint_meeting_in_every_club_room(bot: Harness) -> None:
    sent = await plan(bot, "14/01 18h30-20h")
    assert len(sent) == 7  # each room's in order, the rooms independently
    for room in (MAIN, NORTH, SOUTH):
        assert [e for e in events(sent) if e[0] == room] == [(room, "notice"), (room, "file")]
    assert "commune (nord et sud)" in plain(sent[0])
    assert "lieu à préciser" in plain(sent[0])
    meeting = await meeting_row(bot)
    assert meeting.territory == "commun" and json.loads(meeting.rooms) == [MAIN, NORTH, SOUTH]
    assert meeting.ends_at - meeting.starts_at == timedelta(hours=1, minutes=30)


@pytest.mark.parametrize(("words", "territory", "rooms"), [
    ("--territoire sud", "sud", [SOUTH]),
    ("--territoire SUD", "sud", [SOUTH]),
    ("--territoire tous", "commun", [MAIN, NORTH, SOUTH]),
    ("--territoire tout", "commun", [MAIN, NORTH, SOUTH]),
    ("--territory both", "commun", [MAIN, NORTH, SOUTH]),
    ("--territory joint", "commun", [MAIN, NORTH, SOUTH]),
    ("--territory north", "nord", [NORTH]),
    ("—territoire south", "sud", [SOUTH]),
])
async def test_territory_words(bot: Harness, words: str, territory: str, rooms: list[str]) -> None:
    await plan(bot, f"demain 18h {words}")
    meeting = await meeting_row(bot)
    assert meeting.territory == territory and json.loads(meeting.rooms) == rooms


async def test_plan_in_english_with_a_video_link(bot: Harness) -> None:
    sent = await bot.command("!meeting plan friday 6pm --place https://meet.jit.si/cct-sud "
                             "--territory south", sender=COORDINATOR)
    assert events(sent) == [(ROOM, "notice"), (SOUTH, "notice"), (SOUTH, "file")]
    assert '<a href="https://meet.jit.si/cct-sud">' in sent[1].content["formatted_body"]
    event = vevent(bot.transport.uploads[0][0])
    assert str(event["url"]) == "https://meet.jit.si/cct-sud"
    meeting = await meeting_row(bot)
    assert meeting.starts_at == datetime(2099, 1, 9, 17, 0, tzinfo=UTC)


async def test_place_markup_is_escaped_when_shown(bot: Harness) -> None:
    sent = await plan(bot, "demain 18h --lieu **Chez Léa** [3e étage]")
    html = sent[1].content["formatted_body"]
    assert "<strong>Chez Léa</strong>" not in html and "**Chez Léa** [3e étage]" in html


async def test_plan_without_club_rooms_announces_in_the_command_room(
        build_bot: Callable[..., Harness]) -> None:
    bot = build_bot()
    sent = await plan(bot)
    assert events(sent) == [(ROOM, "notice"), (ROOM, "notice"), (ROOM, "file")]
    assert plain(sent[0]).endswith("Je l'annonce dans 1 salon, avec son fichier d'agenda.")
    assert "Rencontre territoriale n°1 — nord" in plain(sent[1])
    assert json.loads((await meeting_row(bot)).rooms) == [ROOM]
    async with bot.db.transaction() as repos:  # its reminders planned once: none cancelled
        rows = (await repos.session.scalars(select(Reminder))).all()
    assert rows and {(r.status, r.room_id) for r in rows} == {("pending", ROOM)}
    moved = await bot.command("!rencontre reporter 1 vendredi 18h30", sender=COORDINATOR)
    assert events(moved) == [(ROOM, "notice"), (ROOM, "notice"), (ROOM, "file")]


@pytest.mark.parametrize(("body", "expected"), [
    ("!rencontre planifier", "Il manque : quand."),
    ("!rencontre planifier bientôt", "Je ne comprends pas la date « bientôt »"),
    ("!rencontre planifier 04/01/2099 18h", "c'est passé"),
    ("!rencontre planifier aujourd'hui 8h", "c'est passé"),
    ("!rencontre planifier mardi 8 janvier 18h", "est un jeudi, pas un mardi"),
    ("!rencontre planifier demain", "à quelle heure ?"),
    ("!rencontre planifier demain 18h --territoire est", "« est » n'est pas un territoire de "
                                                        "rencontre. Territoires : nord, sud"),
    ("!rencontre planifier demain 18h --lieu " + "x" * 301, "300 caractères au plus"),
    ("!rencontre planifier demain 18h --lieu <b>Mairie</b>", "sans balises HTML"),
    ("!rencontre planifier demain 18h --lieu @room mairie", "n'est pas permis ici"),
    ("!rencontre planifier demain 18h --couleur verte", "Option inconnue : « --couleur »"),
    ("!rencontre planifier demain 18h " + "x" * 4000, "Message trop long pour une commande"),
])
async def test_plan_refusals_change_nothing(bot: Harness, body: str, expected: str) -> None:
    reply = await refused(bot, body)
    assert expected in reply


async def test_only_coordinators_plan_for_the_club(bot: Harness) -> None:
    reply = await refused(bot, "!rencontre planifier demain 18h", sender=ALICE)
    assert reply == ("Réservé à la coordination, et aux référents d'un groupe-projet pour leur "
                     "groupe : dans le salon du groupe, ou avec `--groupe`.")


async def test_create_meeting_for_the_polls(bot: Harness) -> None:
    """The function a date poll calls: same announcements, the poll remembered."""
    now = bot.clock.now()
    async with bot.db.transaction() as repos:
        meeting, effects = await create_meeting(
            repos, bot.dispatcher.club, Translator("fr"), start=now + timedelta(days=3),
            end=now + timedelta(days=3, hours=2),
            details=EventDetails(kind="rencontre", place="Gap", territory="tous"),
            created_by=COORDINATOR, now=now, poll_id=4)
        assert meeting.territory == "commun" and meeting.poll_id == 4
        assert [(type(e).__name__, e.room_id) for e in effects] == [
            ("Post", MAIN), ("Upload", MAIN), ("Post", NORTH), ("Upload", NORTH),
            ("Post", SOUTH), ("Upload", SOUTH)]
    reply = await ask(bot, "!rencontre info", sender=ALICE)
    assert "Date choisie par le sondage n°4" in reply


# --- present / absent / peutetre ----------------------------------------------------------------

async def test_answers_are_reactions_and_replace_each_other(bot: Harness) -> None:
    await plan(bot)
    sent = await bot.command("!rencontre present", sender=ALICE)
    assert [(s.event_type, s.content) for s in sent] == [
        ("m.reaction", {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$cmd2",
                                         "key": "✅"}})]
    async with bot.db.transaction() as repos:
        assert await repos.meetings.rsvp(1, ALICE) == "present"
    sent = await bot.command("!rencontre absent 1", sender=ALICE)
    assert [s.content["m.relates_to"]["key"] for s in sent] == ["❌"]
    sent = await bot.command("!rencontre peut-être", sender=BOB)
    assert [s.content["m.relates_to"]["key"] for s in sent] == ["🤔"]
    sent = await bot.command("!meeting yes 1", sender=CAROL)
    assert [s.content["m.relates_to"]["key"] for s in sent] == ["✅"]
    sent = await bot.command("!meeting maybe", sender=CAROL)
    assert [s.content["m.relates_to"]["key"] for s in sent] == ["🤔"]
    assert all(s.event_type == "m.reaction" for s in bot.transport.sent[3:])
    async with bot.db.transaction() as repos:
        answers = {r.user_id: r.answer for r in await repos.meetings.rsvps(1)}
        assert answers == {ALICE: "absent", BOB: "peutetre", CAROL: "peutetre"}
        actions = [e.action for e in await repos.audit.entries("meeting", 1)]
        assert actions.count("rsvp") == 5


async def test_answer_goes_to_the_next_planned_meeting(bot: Harness) -> None:
    await plan(bot, "vendredi 18h")
    await plan(bot, "jeudi 18h")
    await bot.command("!rencontre annuler 2", sender=COORDINATOR)
    await plan(bot, "mercredi 18h")
    await bot.command("!rencontre present", sender=ALICE)
    async with bot.db.transaction() as repos:
        assert await repos.meetings.rsvp(3, ALICE) == "present"
        assert await repos.meetings.rsvp(1, ALICE) is None


async def test_answer_refusals(bot: Harness) -> None:
    reply = await refused(bot, "!rencontre present", sender=ALICE)
    assert reply.startswith("Aucune rencontre prévue à venir.")
    await plan(bot, "demain 18h")
    await plan(bot, "mercredi 18h")
    await bot.command("!rencontre annuler 2", sender=COORDINATOR)
    assert "Il n'y a pas de rencontre n°9" in await refused(bot, "!rencontre present 9", ALICE)
    assert "La rencontre n°2 est annulée" in await refused(bot, "!rencontre absent 2", ALICE)
    bot.clock.advance(timedelta(days=1, hours=9, minutes=30))  # 1 started half an hour ago
    assert await refused(bot, "!rencontre present 1", ALICE) == (
        "La rencontre n°1 a commencé : inscriptions et réponses sont closes.")
    bot.clock.advance(timedelta(hours=2))  # and ended
    assert await refused(bot, "!rencontre absent 1", ALICE) == (
        "La rencontre n°1 a déjà eu lieu : inscriptions et réponses sont closes.")
    assert "« x » n'est pas un nombre" in await refused(bot, "!rencontre present x", ALICE)


# --- liste / info / ics -------------------------------------------------------------------------

async def test_list_upcoming_soonest_first_then_past_most_recent_first(bot: Harness) -> None:
    assert (await ask(bot, "!rencontre liste", ALICE)).startswith("Aucune rencontre pour l'instant")
    await plan(bot, "demain 18h --territoire nord")          # 1: Tuesday 6
    await plan(bot, "mercredi 18h --territoire sud")         # 2: Wednesday 7
    await plan(bot, "15/01 18h --lieu Gap")                  # 3
    await plan(bot, "12/01 18h")                             # 4
    await plan(bot, "13/01 18h")                             # 5
    await bot.command("!rencontre annuler 5 neige", sender=COORDINATOR)
    await bot.command("!rencontre present 4", sender=ALICE)
    await bot.command("!rencontre peutetre 4", sender=BOB)
    bot.clock.set(datetime(2099, 1, 10, 9, 0, tzinfo=UTC))
    await bot.command(f"!rencontre presences 1 {ALICE} {BOB} {CAROL}", sender=COORDINATOR)
    reply = await ask(bot, "!rencontre liste", ALICE)
    lines = reply.splitlines()
    assert lines[0] == "Rencontres à venir (3) :"
    assert lines[1].startswith("- Rencontre du club n°4 — lundi 12 janvier 2099, 18h–20h") and \
        lines[1].endswith("1 présent, 1 peut-être")
    assert lines[2].startswith("- ~~Rencontre du club n°5 — mardi 13 janvier 2099") and \
        lines[2].endswith("annulée")
    assert lines[3].startswith("- Rencontre du club n°3 — jeudi 15 janvier 2099") and "Gap" in lines[3]
    assert lines[5] == "Rencontres passées (2, les plus récentes d'abord) :"
    assert lines[6].startswith("- Rencontre territoriale n°2 — mercredi 7 janvier 2099") and \
        lines[6].endswith("présences non notées")
    assert lines[7].startswith("- Rencontre territoriale n°1 — mardi 6 janvier 2099") and \
        lines[7].endswith("tenue, 3 présents")


async def test_list_shows_every_past_meeting_latest_first(bot: Harness) -> None:
    for day in range(6, 18):
        await plan(bot, f"{day}/01 18h")
    bot.clock.set(datetime(2099, 2, 1, 9, 0, tzinfo=UTC))
    reply = await ask(bot, "!meetings list", ALICE)
    assert "Aucune rencontre à venir pour l'instant." in reply
    assert "Rencontres passées (12, les plus récentes d'abord) :" in reply
    numbers = [line.split(" — ")[0] for line in reply.splitlines() if line.startswith("- ")]
    assert numbers == [f"- Rencontre du club n°{n}" for n in range(12, 0, -1)]
    assert "Page " not in reply


async def test_info_defaults_to_the_next_one_and_tells_everything(bot: Harness) -> None:
    await plan(bot, "vendredi 18h --lieu Mairie de Guillestre --territoire nord")
    await plan(bot, "jeudi 18h30")
    await bot.command("!rencontre present 2", sender=ALICE)
    await bot.command("!rencontre present 2", sender=BOB)
    await bot.command("!rencontre absent 2", sender=CAROL)
    reply = await ask(bot, "!rencontre info", ALICE)
    assert reply.startswith("Rencontre du club n°2 — prévue\n- Quand : jeudi 8 janvier 2099, 18h30–20h30")
    assert "Territoire : commune (nord et sud)" in reply
    assert "Réponses : 2 présents, 0 peut-être, 1 absent\n" in reply
    assert f"présents : {ALICE}, {BOB}" in reply and f"absents : {CAROL}" in reply
    assert "!rencontre present 2" in reply and "!rencontre ics 2" in reply
    reply = await ask(bot, "!meeting show 1", ALICE)
    assert reply.startswith("Rencontre territoriale n°1 — prévue")  # English command, the club's language
    assert "Où : Mairie de Guillestre" in reply and "Territoire : nord" in reply


async def test_info_of_a_held_and_a_cancelled_meeting(bot: Harness) -> None:
    await plan(bot, "demain 18h")
    await plan(bot, "mercredi 18h")
    await bot.command("!rencontre annuler 2 Salle indisponible", sender=COORDINATOR)
    bot.clock.advance(timedelta(days=1, hours=10))
    await bot.command(f"!rencontre presences 1 {ALICE}", sender=COORDINATOR)
    await bot.command("!rencontre compte-rendu 1 https://pad.example.org/cr-1", sender=COORDINATOR)
    reply = await ask(bot, "!rencontre info 1", ALICE)
    assert reply.startswith("Rencontre du club n°1 — tenue")
    assert f"Venus (1) : {ALICE}" in reply
    assert "Compte-rendu :\n\n<https://pad.example.org/cr-1>" in reply
    reply = await ask(bot, "!rencontre info 2", ALICE)
    assert reply.startswith("Rencontre du club n°2 — annulée")
    assert "Raison de l'annulation : Salle indisponible" in reply
    assert "!rencontre present" not in reply


async def test_info_and_ics_refusals(bot: Harness) -> None:
    assert "Aucune rencontre prévue à venir" in await refused(bot, "!rencontre info", ALICE)
    assert "Aucune rencontre prévue à venir" in await refused(bot, "!rencontre ics", ALICE)
    assert "pas de rencontre n°3" in await refused(bot, "!rencontre info 3", ALICE)


async def test_ics_uploads_the_file_here(bot: Harness) -> None:
    await plan(bot)
    sent = await bot.command("!rencontre ics", sender=ALICE)
    assert events(sent) == [(ROOM, "notice"), (ROOM, "file")]
    assert plain(sent[0]) == ("Fichier d'agenda de la rencontre n°1 "
                                       "(jeudi 8 janvier 2099, 18h30–20h30) :")
    data, mimetype, filename = bot.transport.uploads[-1]
    assert (mimetype, filename) == ("text/calendar", "rencontre-1.ics")
    assert str(vevent(data)["uid"]) == "rencontre-1@cct-bot"


async def test_the_ics_is_uploaded_once_per_version_of_the_event(bot: Harness) -> None:
    """The file of the announcement is posted again, not uploaded again; once the event
    changed, or in an encrypted room (never a file in clear there), it is uploaded anew."""
    await plan(bot)
    assert len(bot.transport.uploads) == 1  # with the announcement
    first = (await bot.command("!rencontre ics", sender=ALICE))[-1].content["url"]
    again = (await bot.command("!rencontre ics", sender=ALICE))[-1].content["url"]
    assert again == first == "mxc://example.org/file1" and len(bot.transport.uploads) == 1
    bot.transport.encrypted.add(NORTH)
    await bot.command("!rencontre ics", sender=ALICE, room_id=NORTH)
    assert len(bot.transport.uploads) == 2
    await bot.command("!rencontre reporter 1 vendredi 18h30", sender=COORDINATOR)
    moved = (await bot.command("!rencontre ics", sender=ALICE))[-1].content["url"]
    assert moved != first and vevent(bot.transport.uploads[-1][0])["sequence"] == 1


# --- reporter -----------------------------------------------------------------------------------

async def test_reschedule_announces_in_the_same_rooms_with_the_updated_file(bot: Harness) -> None:
    await plan(bot, "jeudi 18h-21h --territoire nord")
    await bot.command("!rencontre present", sender=ALICE)
    sent = await bot.command("!rencontre reporter 1 vendredi 18h30", sender=COORDINATOR)
    assert events(sent) == [(ROOM, "notice"), (NORTH, "notice"), (NORTH, "file")]
    assert plain(sent[0]).startswith("Rencontre n°1 déplacée : vendredi 9 janvier 2099, "
                                              "18h30–21h30")  # same duration
    announce = plain(sent[1])
    assert "Nouvelle date : vendredi 9 janvier 2099, 18h30–21h30" in announce
    assert "Au lieu de : jeudi 8 janvier 2099, 18h–21h" in announce
    first, moved = vevent(bot.transport.uploads[0][0]), vevent(bot.transport.uploads[-1][0])
    assert str(first["uid"]) == str(moved["uid"]) == "rencontre-1@cct-bot"
    assert (first["sequence"], moved["sequence"]) == (0, 1)
    assert moved.decoded("dtstart").replace(tzinfo=None) == datetime(2099, 1, 9, 18, 30)
    meeting = await meeting_row(bot)
    assert meeting.sequence == 1 and meeting.starts_at == datetime(2099, 1, 9, 17, 30, tzinfo=UTC)
    async with bot.db.transaction() as repos:
        assert await repos.meetings.rsvp(1, ALICE) == "present"  # answers are kept
        assert (await repos.audit.entries("meeting", 1))[0].action == "rescheduled"


async def test_reschedule_keeps_the_rooms_of_the_first_announcement(bot: Harness) -> None:
    await plan(bot, "jeudi 18h --territoire sud")
    bot.dispatcher.club = replace(bot.dispatcher.club, rooms={"main": MAIN})  # the club's rooms changed since
    sent = await bot.command("!meeting move 1 friday 6pm-8pm --place Briançon",
                             sender=COORDINATOR)
    assert events(sent) == [(ROOM, "notice"), (SOUTH, "notice"), (SOUTH, "file")]
    assert str(vevent(bot.transport.uploads[-1][0])["location"]) == "Briançon"


@pytest.mark.parametrize(("body", "expected"), [
    ("!rencontre reporter 9 vendredi 18h", "pas de rencontre n°9"),
    ("!rencontre reporter 1", "Il manque : quand."),
    ("!rencontre reporter 1 04/01/2099 18h", "c'est passé"),
    ("!rencontre reporter 1 n'importe quand", "Je ne comprends pas la date"),
    ("!rencontre reporter 2 vendredi 18h", "La rencontre n°2 est annulée"),
    ("!rencontre reporter 1 jeudi 18h30", "déjà à cette date et à ce lieu"),
    ("!rencontre reporter 1 vendredi 18h --lieu <i>x</i>", "sans balises HTML"),
])
async def test_reschedule_refusals(bot: Harness, body: str, expected: str) -> None:
    await plan(bot, "jeudi 18h30")
    await plan(bot, "vendredi 18h30")
    await bot.command("!rencontre annuler 2", sender=COORDINATOR)
    assert expected in await refused(bot, body)


async def test_reschedule_and_cancel_are_for_coordinators(bot: Harness) -> None:
    await plan(bot)
    for body in ("!rencontre reporter 1 vendredi 18h", "!rencontre annuler 1",
                 "!rencontre compte-rendu 1 texte"):
        assert (await refused(bot, body, sender=ALICE)).startswith("Réservé à la coordination")
    assert await refused(bot, f"!rencontre presences 1 {ALICE}", sender=ALICE) == (
        "Seules l'organisation de l'événement et la coordination notent qui est venu.")


# --- annuler ------------------------------------------------------------------------------------

async def test_cancel_announces_in_the_same_rooms_with_a_cancelled_file(bot: Harness) -> None:
    await plan(bot, "jeudi 18h --territoire sud")
    sent = await bot.command("!rencontre annuler 1 Tempête de neige sur le col", sender=COORDINATOR)
    assert events(sent) == [(ROOM, "notice"), (SOUTH, "notice"), (SOUTH, "file")]
    assert plain(sent[0]).startswith("Rencontre n°1 (jeudi 8 janvier 2099, 18h–20h) "
                                              "annulée.")
    assert "Raison : Tempête de neige sur le col" in plain(sent[1])
    data = bot.transport.uploads[-1][0]
    calendar = Calendar.from_ical(data)
    assert str(calendar["method"]) == "CANCEL"
    assert str(vevent(data)["status"]) == "CANCELLED" and vevent(data)["sequence"] == 1
    meeting = await meeting_row(bot)
    assert (meeting.status, meeting.cancel_reason, meeting.sequence) == (
        "annulee", "Tempête de neige sur le col", 1)
    async with bot.db.transaction() as repos:
        assert (await repos.audit.entries("meeting", 1))[0].action == "cancelled"


async def test_cancel_in_english_without_reason(bot: Harness) -> None:
    await plan(bot)
    sent = await bot.command("!meeting cancel 1", sender=COORDINATOR)
    assert events(sent) == [(ROOM, "notice"), (NORTH, "notice"), (NORTH, "file")]
    assert "Raison" not in plain(sent[1])


async def test_cancel_refusals(bot: Harness) -> None:
    await plan(bot, "demain 18h")
    await plan(bot, "mercredi 18h")
    await bot.command("!rencontre annuler 2", sender=COORDINATOR)
    assert "pas de rencontre n°7" in await refused(bot, "!rencontre annuler 7")
    assert "déjà annulée" in await refused(bot, "!rencontre annuler 2")
    assert "sans balises HTML" in await refused(bot, "!rencontre annuler 1 <script>x</script>")
    assert "n'est pas permis ici" in await refused(bot, "!rencontre annuler 1 désolé @room")
    assert "500 caractères au plus" in await refused(bot, "!rencontre annuler 1 " + "x" * 501)
    bot.clock.advance(timedelta(days=2))
    assert "déjà commencé ou eu lieu" in await refused(bot, "!rencontre annuler 1")


# --- presences ----------------------------------------------------------------------------------

async def test_attendance_named_or_from_the_answers(bot: Harness) -> None:
    await plan(bot, "demain 18h")
    await bot.command("!rencontre present", sender=ALICE)
    await bot.command("!rencontre present", sender=BOB)
    await bot.command("!rencontre absent", sender=CAROL)
    bot.clock.advance(timedelta(days=1, hours=9))  # 18h, it starts
    reply = await ask(bot, "!rencontre presences 1")
    assert reply.startswith("Rencontre n°1 tenue : 2 personnes venues")
    async with bot.db.transaction() as repos:
        assert sorted(a.user_id for a in await repos.meetings.attendance(1)) == [ALICE, BOB]
    reply = await ask(bot, f"!meeting attendance 1 {CAROL}, {ALICE} "
                           f"https://matrix.to/#/{BOB}")
    assert "3 personnes venues" in reply
    meeting = await meeting_row(bot)
    assert meeting.status == "tenue"
    async with bot.db.transaction() as repos:
        assert [a.user_id for a in await repos.meetings.attendance(1)] == sorted([ALICE, BOB, CAROL])
        actions = [e.action for e in await repos.audit.entries("meeting", 1)]
        assert actions[:2] == ["attendance", "attendance"]
    assert "a déjà eu lieu" in await refused(bot, "!rencontre reporter 1 jeudi 18h")


async def test_attendance_refusals(bot: Harness) -> None:
    await plan(bot, "demain 18h")
    await plan(bot, "mercredi 18h")
    await bot.command("!rencontre annuler 2", sender=COORDINATOR)
    assert "n'a pas encore commencé" in await refused(bot, f"!rencontre presences 1 {ALICE}")
    bot.clock.advance(timedelta(days=3))
    assert "est annulée" in await refused(bot, f"!rencontre presences 2 {ALICE}")
    assert "Personne n'a répondu présent" in await refused(bot, "!rencontre presences 1")
    assert "« bob » n'est pas une personne" in await refused(
        bot, f"!rencontre presences 1 {ALICE} bob")
    assert "n'est pas une personne" in await refused(bot, "!rencontre presences 1 @room")
    assert "pas de rencontre n°5" in await refused(bot, f"!rencontre presences 5 {ALICE}")


# --- compte-rendu -------------------------------------------------------------------------------

async def test_minutes_saved_posted_in_the_rooms_then_replaced_by_an_edit(bot: Harness) -> None:
    await plan(bot, "demain 18h --territoire nord")
    bot.clock.advance(timedelta(days=2))
    sent = await bot.command("!rencontre compte-rendu 1 Douze présents. Vélo : **3** ateliers. "
                             "@alice:example.org", sender=COORDINATOR)
    assert events(sent) == [(ROOM, "notice"), (NORTH, "notice")]
    assert plain(sent[0]) == ("Compte-rendu de la rencontre n°1 enregistré. "
                             "Publié dans 1 salon de la rencontre.")
    posted = sent[1].content
    assert plain(sent[1]).startswith("📝 Compte-rendu — Rencontre territoriale n°1, ")
    assert "Vélo : **3** ateliers." in posted["body"]  # Markdown shown, not rendered
    assert "<strong>3</strong>" not in posted["formatted_body"]
    assert posted["m.mentions"] == {"user_ids": []}  # a name in the text pings no one
    original = sent[1].event_id
    sent = await bot.command("!rencontre cr 1 https://pad.example.org/cr", sender=COORDINATOR)
    assert events(sent) == [(ROOM, "notice"), (NORTH, "notice")]
    assert plain(sent[0]) == ("Compte-rendu de la rencontre n°1 remplacé. "
                             "Le message déjà publié est modifié dans 1 salon.")
    edit = sent[1].content
    assert edit["m.relates_to"] == {"rel_type": "m.replace", "event_id": original}
    assert "https://pad.example.org/cr" in edit["m.new_content"]["body"]
    assert (await meeting_row(bot)).minutes == "https://pad.example.org/cr"


async def test_minutes_replaced_after_the_first_message_is_gone_are_posted_anew(
        bot: Harness) -> None:
    await plan(bot, "demain 18h --territoire nord")
    bot.clock.advance(timedelta(days=2))
    first = await bot.command("!rencontre cr 1 Premier texte", sender=COORDINATOR)
    async with bot.db.transaction() as repos:  # the retention purge took the first message
        await repos.personal.purge_messages(bot.clock.now() + timedelta(seconds=1), ())
    sent = await bot.command("!meeting minutes 1 Second texte", sender=COORDINATOR)
    assert plain(sent[0]) == ("Compte-rendu de la rencontre n°1 remplacé. Publié à nouveau dans "
                             "1 salon (l'ancien message n'y est plus connu).")
    assert "m.relates_to" not in sent[1].content and sent[1].room_id == NORTH
    assert first[1].event_id != sent[1].event_id


async def test_minutes_of_an_event_without_room_say_they_are_posted_nowhere(
        bot: Harness) -> None:
    async with bot.db.transaction() as repos:
        start = bot.clock.now() - timedelta(days=1)
        await repos.meetings.create(starts_at=start, ends_at=start + timedelta(hours=2),
                                    place="", territory="nord", created_by=COORDINATOR,
                                    at=start, rooms="[]")
    sent = await bot.command("!rencontre cr 1 Douze présents", sender=COORDINATOR)
    assert [plain(s) for s in sent] == [
        "Compte-rendu de la rencontre n°1 enregistré. Publié nulle part : la rencontre n'a pas "
        "de salon."]


async def test_minutes_refusals(bot: Harness) -> None:
    await plan(bot, "demain 18h")
    await plan(bot, "mercredi 18h")
    await bot.command("!rencontre annuler 2", sender=COORDINATOR)
    assert "n'a pas encore eu lieu" in await refused(bot, "!rencontre compte-rendu 1 texte")
    bot.clock.advance(timedelta(days=3))
    assert "est annulée" in await refused(bot, "!rencontre compte-rendu 2 texte")
    assert "Il manque : texte." in await refused(bot, "!rencontre compte-rendu 1")
    assert "sans balises HTML" in await refused(bot, "!rencontre cr 1 <img src=x>")
    assert "n'est pas permis ici" in await refused(bot, "!rencontre cr 1 merci @room")
    assert "Message trop long" in await refused(bot, "!rencontre cr 1 " + "x" * 4100)


async def test_help_lists_the_meeting_commands_by_role(bot: Harness) -> None:
    participant = await ask(bot, "!aide rencontre", ALICE)
    assert "!rencontre present [n°]" in participant
    assert "!rencontre planifier" not in participant  # named among those kept for others
    await bot.command("!projet creer Atelier vélo", sender=ALICE)  # a group's referent may plan
    participant = await ask(bot, "!aide rencontre", ALICE)
    assert "— planifier un événement de tout type et l'annoncer (coordination ; référents pour " \
           "leur groupe)" in participant
    assert ("!rencontre modifier <n°> [--places <nombre de places>] [--titre <titre>] "
            "[--lieu <lieu>] [--lien <lien>] [--description <description>] [--theme <thème>]"
            ) in participant
    coordinator = await ask(bot, "!aide rencontre")
    assert ("!rencontre planifier <quand…> [--type <type>] [--titre <titre>] [--theme <thème>] "
            "[--description <description>] [--lieu <lieu>] [--lien <lien>] [--groupe <groupe>] "
            "[--places <nombre de places>] [--organisateur <@organisateur>] "
            "[--territoire <territoire>]") in coordinator
    assert "!rencontre presences <n°> [@personne @personne…]" in coordinator
