"""``!rencontre modifier``, end to end on SQLite and PostgreSQL: an event's details changed and
announced in its rooms with its updated ``.ics``; fewer places keep those registered, more
places go to the first people waiting, told in a direct message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from icalendar import Calendar

from tests.handlers.conftest import ALICE, COORDINATOR, ROOM, Harness, plain, unchanged
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.rencontres import MAIN, SOUTH

BOB, CAROL, DAVE = "@bob:example.org", "@carol:example.org", "@dave:example.org"
VISIO = "https://visio.example.org/cct"
TABLES = ("meetings", "meeting_rsvps", "reminders", "audit_log", "outbox")


@pytest.fixture
def bot(build_bot: Callable[..., Harness]) -> Harness:
    return build_bot(main=MAIN, south=SOUTH)


async def ask(bot: Harness, line: str, sender: str = COORDINATOR) -> str:
    bot.clock.advance(timedelta(seconds=1))  # answers in the order they are given
    return plain((await bot.command(line, sender=sender, room_id=ROOM))[0])


async def refused(bot: Harness, line: str, sender: str = COORDINATOR) -> str:
    return await unchanged(bot.db, TABLES, line, ask(bot, line, sender))


async def places(bot: Harness) -> tuple[int | None, list[str], list[str]]:
    async with bot.db.transaction() as repos:
        meeting = await repos.meetings.get(1)
        assert meeting is not None
        return (meeting.capacity, await repos.meetings.answered(1, "present"),
                await repos.meetings.answered(1, "attente"))


async def full_event(bot: Harness) -> None:
    """Event n°1 in the south, 2 places: Alice and Bob registered, Carol and Dave waiting."""
    await ask(bot, "!rencontre planifier 14/01 18h --territoire sud --places 2 --lieu Gap")
    for person in (ALICE, BOB, CAROL, DAVE):
        await ask(bot, "!rencontre inscrire 1", sender=person)


async def test_details_changed_and_announced_with_the_updated_calendar(bot: Harness) -> None:
    await ask(bot, "!rencontre planifier 14/01 18h --territoire sud --lieu Gap")
    sent = await bot.command(f"!rencontre modifier 1 --titre Rénover sa maison --lien {VISIO} "
                             "--theme énergie --lieu Mairie d'Embrun --description Les aides.",
                             sender=COORDINATOR, room_id=ROOM)
    assert plain(sent[0]) == (
        "Modifications de Rencontre territoriale n°1 — Rénover sa maison enregistrées (titre, lieu, "
        "lien, description, thème). J'annonce le changement dans 1 salon, avec le fichier "
        "d'agenda mis à jour.")
    assert [s.room_id for s in sent[1:]] == [SOUTH, SOUTH]
    announce = plain(sent[1])
    assert announce.startswith("✏️ Rencontre territoriale n°1 — Rénover sa maison : modifications — sud")
    for line in ("- Titre : Rénover sa maison", "- Où : Mairie d'Embrun",
                 f"- En ligne : <{VISIO}>", "- Thème : énergie", "- Description : Les aides."):
        assert line in announce, line
    event = Calendar.from_ical(bot.transport.uploads[-1][0]).walk("VEVENT")[0]
    assert int(event["sequence"]) == 1 and str(event["url"]) == VISIO
    async with bot.db.transaction() as repos:
        meeting = await repos.meetings.get(1)
        assert meeting is not None
        assert (meeting.title, meeting.place, meeting.link, meeting.theme, meeting.description) == (
            "Rénover sa maison", "Mairie d'Embrun", VISIO, "energie", "Les aides.")
        edits = [e for e in await repos.audit.entries("meeting", 1) if e.action == "edited"]
    assert len(edits) == 1 and edits[0].actor == COORDINATOR
    assert (await ask(bot, "!rencontre modifier 1 --lieu Mairie d'Embrun")) == (
        "Rien n'a changé pour la rencontre n°1 : c'était déjà cela.")


async def test_fewer_places_keep_those_registered(bot: Harness) -> None:
    await full_event(bot)
    reply = await ask(bot, "!rencontre modifier 1 --places 1")
    assert reply.endswith("2 personnes sont inscrites pour 1 place : elles gardent leur place ; "
                          "les suivantes iront sur la liste d'attente.")
    assert await places(bot) == (1, [ALICE, BOB], [CAROL, DAVE])
    await ask(bot, "!rencontre absent 1", sender=ALICE)  # still one too many: nobody moves up
    assert await places(bot) == (1, [BOB], [CAROL, DAVE])
    assert bot.transport.direct == []


async def test_more_places_go_to_the_first_people_waiting(bot: Harness) -> None:
    await full_event(bot)
    sent = await bot.command("!rencontre modifier 1 --places 3", sender=COORDINATOR,
                             room_id=ROOM)
    assert plain(sent[0]).endswith("1 personne en attente a maintenant une place : je la préviens "
                                  "en message privé.")
    assert await places(bot) == (3, [ALICE, BOB, CAROL], [DAVE])
    assert bot.transport.direct == [(CAROL, "!dm1:example.org")]
    told = [plain(s) for s in sent if s.room_id == "!dm1:example.org"]
    assert len(told) == 1 and told[0].startswith("🎉 Une place s'est libérée : vous êtes "
                                                 "inscrit·e à Rencontre territoriale n°1")
    announce = next(plain(s) for s in sent if s.room_id == SOUTH)
    assert "- Places : 3, sur inscription" in announce


async def test_places_on_an_event_without_them(bot: Harness) -> None:
    await ask(bot, "!rencontre planifier 14/01 18h")
    for person in (ALICE, BOB):  # answered by a reaction
        await bot.command("!rencontre present 1", sender=person)
    assert (await ask(bot, "!rencontre modifier 1 --places 2")).startswith("Modifications de")
    assert (await ask(bot, "!rencontre inscrire 1", sender=CAROL)).startswith(
        "⏳ C'est complet : vous êtes n°1 sur la liste d'attente")


@pytest.mark.parametrize(("line", "expected"), [
    ("!rencontre modifier 1", "Que faut-il changer ? Options : `--places`, `--titre`, `--lieu`"),
    ("!rencontre modifier 1 --places 0", "Le nombre doit être compris entre 1 et 10000."),
    ("!rencontre modifier 1 --titre <b>x</b>", "sans balises HTML"),
    ("!rencontre modifier 1 --description venez @room", "n'est pas permis ici"),
    ("!rencontre modifier 1 --lien http://visio.example.org", "n'est pas un lien web"),
    ("!rencontre modifier 1 --theme cuisine", "n'est pas un thème"),
    ("!rencontre modifier 1 --type webinaire", "Option inconnue : « --type »"),
    ("!rencontre modifier 9 --titre X", "Il n'y a pas de rencontre n°9."),
    ("!rencontre modifier 2 --titre X", "La rencontre n°2 est annulée : on ne peut plus la "
                                        "modifier."),
])
async def test_edit_refusals_change_nothing(bot: Harness, line: str, expected: str) -> None:
    await ask(bot, "!rencontre planifier 14/01 18h")
    await ask(bot, "!rencontre planifier 15/01 18h")
    await ask(bot, "!rencontre annuler 2")
    assert expected in await refused(bot, line)


async def test_a_past_event_is_not_edited(bot: Harness) -> None:
    await ask(bot, "!rencontre planifier 14/01 18h")
    bot.clock.set(bot.clock.now() + timedelta(days=10))
    assert await refused(bot, "!rencontre modifier 1 --places 5") == (
        "La rencontre n°1 a déjà commencé ou eu lieu : on ne peut plus la modifier.")


async def test_edit_in_english(bot: Harness) -> None:
    await ask(bot, "!rencontre planifier 14/01 18h")
    assert (await ask(bot, "!meeting edit 1 --seats 5 --title Repair")).startswith(
        "Modifications de Rencontre du club n°1 — Repair enregistrées (nombre de places, titre)")
