"""Every kind of event, ``!programme`` and registration with places, end to end on SQLite and
PostgreSQL: the details of an event in its announcement, card, list, ``.ics`` and reminders;
a place taken, the waiting list, a place given back and told in a direct message."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from commands.roles import Role
from tests.handlers.conftest import ALICE, COORDINATOR, ROOM, Harness, plain, unchanged
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.rencontres import MAIN, NORTH, SOUTH
from tests.handlers.test_personal_data import last_upload

BOB, CAROL, DAVE = "@bob:example.org", "@carol:example.org", "@dave:example.org"
ALICE_DM = "!alice-dm:example.org"
VISIO = "https://visio.example.org/cct-renovation"
WEBINAIRE = (f"!rencontre planifier 14/01 18h30-20h --type webinaire --titre Rénover sa maison "
             f"--theme énergie --lien {VISIO} --places 1 --description Les aides et les artisans.")


@pytest.fixture
def bot(build_bot: Callable[..., Harness]) -> Harness:
    return build_bot(main=MAIN, north=NORTH, south=SOUTH)


async def ask(bot: Harness, line: str, sender: str = COORDINATOR, room: str = ROOM) -> str:
    bot.clock.advance(timedelta(seconds=1))  # answers in the order they are given
    return plain((await bot.command(line, sender=sender, room_id=room))[0])


def vevent(data: bytes):  # type: ignore[no-untyped-def]
    return Calendar.from_ical(data).walk("VEVENT")[0]


# --- kinds and details --------------------------------------------------------------------------

async def test_a_webinaire_with_its_details_everywhere(bot: Harness) -> None:
    sent = await bot.command(WEBINAIRE, sender=COORDINATOR)
    assert plain(sent[0]).startswith("C'est planifié : Webinaire n°1 — Rénover sa maison, "
                                    "mercredi 14 janvier 2099, 18h30–20h, en ligne, commune")
    announce = plain(sent[1])
    assert announce.startswith("📅 Webinaire n°1 — Rénover sa maison — commune (nord et sud)")
    for line in ("Où : en ligne", f"En ligne : <{VISIO}>", "Thème : énergie",
                 "Places : 1, sur inscription", "Les aides et les artisans.",
                 "!rencontre inscrire 1"):
        assert line in announce, line
    assert "Organisation : @claire:example.org" in announce
    event = vevent(bot.transport.uploads[0][0])
    assert str(event["summary"]) == "Webinaire — Rénover sa maison"
    assert str(event["url"]) == VISIO and str(event["location"]) == VISIO
    assert [str(c) for c in event["categories"].cats] == ["Webinaire", "énergie"]
    description = str(event["description"])
    assert description.startswith("Webinaire n°1 du Club Climat et Transition")
    assert "Les aides et les artisans." in description and f"En ligne : {VISIO}" in description
    async with bot.db.transaction() as repos:
        meeting = await repos.meetings.get(1)
        assert meeting is not None
        assert (meeting.kind, meeting.title, meeting.theme, meeting.link, meeting.capacity,
                meeting.organiser) == ("webinaire", "Rénover sa maison", "energie", VISIO, 1,
                                       COORDINATOR)
    card = await ask(bot, "!rencontre info 1", sender=ALICE)
    assert card.startswith("Webinaire n°1 — Rénover sa maison — prévue")
    assert "Places : 0 inscrit sur 1, 1 libre, 0 en attente" in card
    listing = await ask(bot, "!rencontre liste", sender=ALICE)
    assert "Webinaire n°1 — Rénover sa maison — mercredi 14 janvier 2099" in listing


async def test_a_plain_rencontre_is_a_rencontre_du_club_answered_by_reactions(
        bot: Harness) -> None:
    sent = await bot.command("!rencontre planifier 14/01 18h30 --lieu Gap", sender=COORDINATOR)
    assert "Rencontre du club n°1 — commune" in plain(sent[1])
    assert "!rencontre present 1" in plain(sent[1]) and "Places" not in plain(sent[1])
    reaction = await bot.command("!rencontre inscrire 1", sender=ALICE)
    assert [s.event_type for s in reaction] == ["m.reaction"]
    event = vevent(bot.transport.uploads[0][0])
    assert str(event["summary"]) == "Rencontre du Club Climat et Transition — commune (nord et sud)"
    assert [str(c) for c in event["categories"].cats] == ["Rencontre du club"]
    assert "url" not in event


async def test_a_rencontre_of_the_north_or_south_is_territoriale_unless_typed(
        bot: Harness) -> None:
    await ask(bot, "!rencontre planifier 14/01 18h30 --territoire sud")
    await ask(bot, "!rencontre planifier 15/01 18h30 --territoire north")
    await ask(bot, "!rencontre planifier 16/01 18h30 --territoire nord --type rencontre")
    await ask(bot, "!rencontre planifier 17/01 18h30 --territoire tous")
    async with bot.db.transaction() as repos:
        kinds = [(await repos.meetings.get(n)).kind  # type: ignore[union-attr]
                 for n in (1, 2, 3, 4)]
    assert kinds == ["territoriale", "territoriale", "rencontre", "rencontre"]
    assert "- Rencontre territoriale n°1 — mercredi 14 janvier 2099" in await ask(
        bot, "!rencontre liste", sender=ALICE)


@pytest.mark.parametrize(("option", "expected"), [
    ("--lien http://visio.example.org/x", "« http://visio.example.org/x » n'est pas un lien web"),
    ("--lien visio.example.org/x", "n'est pas un lien web complet"),
    ("--lien javascript:alert(1)", "n'est pas un lien web complet"),
    ("--type conférence", "« conférence » n'est pas un type d'événement du club. Types : "
                          "Rencontre du club (`rencontre`), Rencontre territoriale"),
    ("--places 0", "Le nombre doit être compris entre 1 et 10000."),
    ("--organisateur @visitor:elsewhere.org", "n'est pas membre du club"),
    ("--groupe 1 --territoire nord", "pour un territoire (`--territoire`), pas les deux"),
    ("--titre <b>gras</b>", "Texte simple ou lien seulement"),
    ("--lien data:text/html,<script>alert(1)</script>", "n'est pas un lien web"),
    ("--lien https://visio.example.org/" + "x" * 600, "n'est pas un lien web"),
    ("--lien https://visio.example.org/<b>", "n'est pas un lien web"),
    ("--description Venez tous @room", "n'est pas permis ici : le bot ne prévient pas tout"),
    ("--lieu <img src=x onerror=alert(1)>", "Texte simple ou lien seulement"),
    ("--description " + "mot " * 1000, "trop long"),
])
async def test_bad_details_are_refused_and_nothing_is_planned(bot: Harness, option: str,
                                                              expected: str) -> None:
    bot.roles["@visitor:elsewhere.org"] = Role.VISITOR
    reply = await ask(bot, f"!rencontre planifier 14/01 18h30 {option}")
    assert expected in reply, reply
    async with bot.db.transaction() as repos:
        assert await repos.meetings.get(1) is None


async def test_kinds_typed_by_label_or_beginning_and_from_the_config(bot: Harness) -> None:
    await ask(bot, "!rencontre planifier 14/01 18h30 --type temps d'echange")
    await ask(bot, "!rencontre planifier 15/01 18h30 --type FORMA")
    bot.dispatcher.club = replace(bot.dispatcher.club, event_kinds=replace(
        bot.dispatcher.club.event_kinds, entries=(("cafe", "Café climat"),)))
    await ask(bot, "!rencontre planifier 16/01 18h30")  # the first configured kind by default
    async with bot.db.transaction() as repos:
        kinds = [(await repos.meetings.get(n)).kind for n in (1, 2, 3)]  # type: ignore[union-attr]
    assert kinds == ["echange", "formation", "cafe"]
    listing = await ask(bot, "!rencontre liste", sender=ALICE)
    assert "echange n°1" in listing and "Café climat n°3" in listing  # a kind no longer listed


async def test_help_tells_the_kinds_of_event(bot: Harness) -> None:
    reply = await ask(bot, "!aide rencontre")
    assert "Types d'événements (`--type`) : Rencontre du club (`rencontre`), Rencontre " \
           "territoriale (`territoriale`), Webinaire (`webinaire`)" in reply
    assert "Types d'événements" in await ask(bot, "!aide programme", sender=ALICE)
    assert "Types d'événements" not in await ask(bot, "!aide projet", sender=ALICE)


async def test_a_group_event_is_announced_in_the_group_room(bot: Harness) -> None:
    await ask(bot, "!projet creer Atelier vélo --territoire nord", sender=ALICE)
    async with bot.db.transaction() as repos:
        (await repos.groups.get(1)).room_id = "!velo:example.org"  # type: ignore[union-attr]
    sent = await bot.command("!rencontre planifier 14/01 18h30 --type groupe --groupe velo "
                             "--organisateur @alice:example.org", sender=COORDINATOR)
    assert [s.room_id for s in sent[1:]] == ["!velo:example.org", "!velo:example.org"]
    assert "Réunion de groupe-projet n°1 — groupe-projet « Atelier vélo » (atelier-velo)" in plain(
        sent[1])
    async with bot.db.transaction() as repos:
        meeting = await repos.meetings.get(1)
        assert meeting is not None
        assert (meeting.group_id, meeting.territory, meeting.organiser) == (1, "nord", ALICE)


async def test_a_date_poll_leads_to_any_kind(bot: Harness) -> None:
    await ask(bot, "!sondage dates Quand ? | 12/01 18h | 13/01 18h")
    reply = await ask(bot, "!sondage choisir 1 2 --type formation --titre Fresque du climat "
                           "--places 12 --lieu Embrun")
    assert "La rencontre n°1 est créée à partir du sondage n°1" in reply
    async with bot.db.transaction() as repos:
        meeting = await repos.meetings.get(1)
        assert meeting is not None
        assert (meeting.kind, meeting.title, meeting.capacity, meeting.place, meeting.poll_id) == (
            "formation", "Fresque du climat", 12, "Embrun", 1)


async def test_an_online_events_reminders_carry_its_link(bot: Harness) -> None:
    await bot.command(WEBINAIRE, sender=COORDINATOR)
    engine = bot.job("reminders")
    before = len(bot.transport.sent)
    async with bot.db.transaction() as repos:
        reminder = (await repos.reminders.of_meeting(1, ("meeting",)))[-1]  # H-2
    bot.clock.set(reminder.send_at)
    await engine.fire()
    await bot.outbox.flush()
    sent = [plain(s) for s in bot.transport.sent[before:]]
    assert len(sent) == 9 and all(f"En ligne : <{VISIO}>" in s for s in sent)  # 3 rooms × 3
    assert sent[-1].startswith("📅 Webinaire n°1 — Rénover sa maison dans 2 heure(s)")
    assert all("!rencontre inscrire 1" in s for s in sent)


# --- registration -------------------------------------------------------------------------------

async def test_register_wait_withdraw_and_the_first_waiting_is_told_privately(
        bot: Harness) -> None:
    await bot.command(WEBINAIRE, sender=COORDINATOR)
    assert (await ask(bot, "!rencontre inscrire 1", sender=ALICE)).startswith(
        "✅ Vous êtes inscrit·e : Webinaire n°1 — Rénover sa maison, mercredi 14 janvier 2099, "
        "18h30–20h. Reste 0 place libre.")
    assert (await ask(bot, "!rencontre present 1", sender=ALICE)).startswith(
        "Vous êtes déjà inscrit·e")
    assert (await ask(bot, "!rencontre inscrire 1", sender=BOB)).startswith(
        "⏳ C'est complet : vous êtes n°1 sur la liste d'attente")
    assert (await ask(bot, "!meeting register 1", sender=CAROL)).startswith(
        "⏳ C'est complet : vous êtes n°2")
    assert "liste d'attente de Webinaire n°1 — Rénover sa maison : n°2" in await ask(
        bot, "!rencontre inscrire 1", sender=CAROL)
    card = await ask(bot, "!rencontre info 1", sender=COORDINATOR)
    assert "Places : 1 inscrit sur 1, 0 libre, 2 en attente" in card
    assert card.count("Places :") == 1  # the places once, with the registrations
    assert card.index("alice") < card.index("bob") < card.index("carol")  # in its order
    for sender, own in ((CAROL, "Vous êtes n°2 sur la liste d'attente."),
                        (ALICE, "Vous êtes inscrit·e."), (DAVE, "Les noms des inscrits")):
        card = await ask(bot, "!rencontre info 1", sender=sender)  # counts, not names
        assert "Places : 1 inscrit sur 1, 0 libre, 2 en attente" in card and own in card
        assert not {"alice", "bob", "carol"} & set(re.findall(r"[a-z]+", card.split("Places")[1]))

    sent = await bot.command("!rencontre absent 1", sender=ALICE)
    assert plain(sent[0]) == ("Désinscription notée (Webinaire n°1 — Rénover sa maison) : votre "
                             "place revient à la première personne en attente ; je la préviens "
                             "en message privé.")
    assert bot.transport.direct == [(BOB, "!dm1:example.org")]
    told = [s for s in sent if s.room_id == "!dm1:example.org"]
    assert len(told) == 1 and plain(told[0]).startswith(
        "🎉 Une place s'est libérée : vous êtes inscrit·e à Webinaire n°1")
    assert f"En ligne : <{VISIO}>" in plain(told[0])
    async with bot.db.transaction() as repos:
        assert await repos.meetings.answered(1, "present") == [BOB]
        assert await repos.meetings.answered(1, "attente") == [CAROL]
        assert await repos.participants.direct_room(BOB) == "!dm1:example.org"

    await ask(bot, "!rencontre inscrire 1", sender=ALICE)  # Alice waits now, after Carol
    bot.matrix.direct.append((CAROL, "!carol-dm:example.org"))
    async with bot.db.transaction() as repos:
        await repos.participants.set_direct_room(CAROL, "!carol-dm:example.org")
    sent = await bot.command("!rencontre peutetre 1", sender=BOB)  # gives the place back too
    assert [s.room_id for s in sent[1:]] == ["!carol-dm:example.org"]  # her room, reused
    assert len(bot.transport.direct) == 2  # no new one
    left = await ask(bot, "!rencontre absent 1", sender=ALICE)
    assert left == "Vous n'êtes plus sur la liste d'attente de Webinaire n°1 — Rénover sa maison."
    async with bot.db.transaction() as repos:
        assert await repos.meetings.answered(1, "present") == [CAROL]
        assert await repos.meetings.answered(1, "attente") == []
        actions = [(e.actor, e.action) for e in await repos.audit.entries("meeting", 1)]
    assert (BOB, "place_given") in actions and (CAROL, "place_given") in actions


async def test_once_begun_no_sign_up_and_once_over_the_card_speaks_in_the_past(
        bot: Harness) -> None:
    await bot.command(WEBINAIRE, sender=COORDINATOR)  # 14 January, 18h30–20h (Paris)
    await ask(bot, "!rencontre inscrire 1", sender=ALICE)
    await ask(bot, "!rencontre inscrire 1", sender=BOB)  # waits
    tables = ("meetings", "meeting_rsvps", "audit_log", "participants")
    bot.clock.set(datetime(2099, 1, 14, 17, 40, tzinfo=UTC))  # under way
    for line, sender in (("!rencontre inscrire 1", CAROL), ("!rencontre absent 1", ALICE)):
        assert await unchanged(bot.db, tables, line, ask(bot, line, sender=sender)) == (
            "La rencontre n°1 a commencé : inscriptions et réponses sont closes.")
    assert "Vous êtes inscrit·e." in await ask(bot, "!rencontre info 1", sender=ALICE)
    bot.clock.set(datetime(2099, 1, 14, 19, 0, tzinfo=UTC))  # over
    for line, sender in (("!rencontre inscrire 1", CAROL), ("!rencontre present 1", ALICE),
                         ("!rencontre peutetre 1", BOB), ("!meeting register 1", DAVE)):
        assert await unchanged(bot.db, tables, line, ask(bot, line, sender=sender)) == (
            "La rencontre n°1 a déjà eu lieu : inscriptions et réponses sont closes.")
    registered = await ask(bot, "!rencontre info 1", sender=ALICE)
    assert "Vous étiez inscrit·e." in registered and "Vous êtes" not in registered
    waiting = await ask(bot, "!rencontre info 1", sender=BOB)
    assert "Vous étiez n°1 sur la liste d'attente." in waiting
    assert "Les noms des inscrits" in await ask(bot, "!rencontre info 1", sender=CAROL)


async def test_a_place_told_to_someone_who_withdrew_meanwhile_is_not_told(bot: Harness) -> None:
    await bot.command(WEBINAIRE, sender=COORDINATOR)
    await ask(bot, "!rencontre inscrire 1", sender=ALICE)
    await ask(bot, "!rencontre inscrire 1", sender=BOB)
    bot.transport.creating.clear()  # the homeserver is slow to open Bob's room
    await bot.dispatcher.handle(await bot.queue("!rencontre absent 1", sender=ALICE))
    sending = asyncio.create_task(bot.outbox.flush())
    before = len(bot.transport.sent)
    try:
        async with asyncio.timeout(5):
            while len(bot.transport.sent) == before:
                await asyncio.sleep(0.01)  # the reply is out; the room is being created
        await bot.dispatcher.handle(await bot.queue("!rencontre absent 1", sender=BOB))
    finally:
        bot.transport.creating.set()
    await sending
    await bot.outbox.flush()
    assert bot.transport.direct == [(BOB, "!dm1:example.org")]
    assert not [s for s in bot.transport.sent if s.room_id.startswith("!dm")]
    assert bot.transport.left == ["!dm1:example.org"]


async def test_a_place_that_cannot_be_told_privately_is_told_in_the_events_room(
        bot: Harness) -> None:
    """Bob's direct room cannot be opened: he is told, mentioned, in the room the event was
    announced in — not in the room where Alice withdrew (her own direct room, say)."""
    await bot.command(WEBINAIRE, sender=COORDINATOR)
    async with bot.db.transaction() as repos:
        announced = json.loads((await repos.meetings.get(1)).rooms)  # type: ignore[union-attr]
    await ask(bot, "!rencontre inscrire 1", sender=ALICE)
    await ask(bot, "!rencontre inscrire 1", sender=BOB)
    bot.transport.fail_creation = True
    sent = await bot.command("!rencontre absent 1", sender=ALICE, room_id=ALICE_DM)
    told = [s for s in sent if "une place s'est libérée" in plain(s)]
    assert [s.room_id for s in told] == [announced[0]] and announced[0] != ALICE_DM
    assert told[0].content["m.mentions"] == {"user_ids": [BOB]}
    assert [s.room_id for s in sent if s.room_id == ALICE_DM] == [ALICE_DM]  # her reply only


async def test_two_people_taking_the_last_place_at_once_one_gets_it(bot: Harness) -> None:
    await bot.command(WEBINAIRE, sender=COORDINATOR)
    first = await bot.queue("!rencontre inscrire 1", sender=ALICE)
    second = await bot.queue("!rencontre inscrire 1", sender=BOB)
    await asyncio.gather(bot.dispatcher.handle(first), bot.dispatcher.handle(second))
    async with bot.db.transaction() as repos:
        registered = await repos.meetings.answered(1, "present")
        waiting = await repos.meetings.answered(1, "attente")
    assert len(registered) == 1 and len(waiting) == 1
    assert set(registered + waiting) == {ALICE, BOB}


async def test_an_erased_registrant_gives_their_places_back(bot: Harness) -> None:
    """``!oublier-moi``: Alice's place goes to Bob (told privately), her waiting turn on
    another event is gone, and the list moves in the erasure's own transaction."""
    await bot.command(WEBINAIRE, sender=COORDINATOR)
    await bot.command(WEBINAIRE.replace("14/01", "15/01"), sender=COORDINATOR)
    for number, sender in ((1, ALICE), (1, BOB), (1, CAROL), (2, DAVE), (2, ALICE)):
        await ask(bot, f"!rencontre inscrire {number}", sender=sender)
    await ask(bot, "!oublier-moi", sender=ALICE)
    sent = await bot.command("!oublier-moi confirmer", sender=ALICE)
    assert bot.transport.direct == [(BOB, "!dm1:example.org")]
    told = [plain(s) for s in sent if s.room_id == "!dm1:example.org"]
    assert len(told) == 1 and told[0].startswith("🎉 Une place s'est libérée")
    async with bot.db.transaction() as repos:
        assert await repos.meetings.answered(1, "present") == [BOB]
        assert await repos.meetings.answered(1, "attente") == [CAROL]
        assert await repos.meetings.answered(2, "present") == [DAVE]
        assert await repos.meetings.answered(2, "attente") == []
        assert ALICE not in {r.user_id for n in (1, 2) for r in await repos.meetings.rsvps(n)}


async def test_registration_counts_as_participation_and_is_in_my_data(bot: Harness) -> None:
    await bot.command(WEBINAIRE, sender=COORDINATOR)
    await ask(bot, "!rencontre inscrire 1", sender=ALICE)
    await ask(bot, "!rencontre inscrire 1", sender=BOB)
    async with bot.db.transaction() as repos:
        everything = await repos.personal.everything_about(BOB)
        organiser = await repos.personal.everything_about(COORDINATOR)
        assert await repos.participants.get(BOB) is not None
    assert [row["answer"] for row in everything["meeting_rsvps"]] == ["attente"]
    assert any(row.get("organiser") == COORDINATOR for row in organiser["meetings"])


async def test_answers_to_a_cancelled_or_past_event_with_places_are_refused(bot: Harness) -> None:
    await bot.command(WEBINAIRE, sender=COORDINATOR)
    await bot.command(WEBINAIRE.replace("14/01", "15/01"), sender=COORDINATOR)
    await ask(bot, "!rencontre annuler 2 neige")
    assert "annulé" in await ask(bot, "!rencontre inscrire 2", sender=ALICE)
    bot.clock.set(bot.clock.now() + timedelta(days=30))
    assert "a déjà eu lieu" in await ask(bot, "!rencontre inscrire 1", sender=ALICE)
    async with bot.db.transaction() as repos:
        assert await repos.meetings.answered(1, "present") == []
        assert await repos.meetings.answered(2, "present") == []


# --- !programme ---------------------------------------------------------------------------------

async def programme_club(bot: Harness) -> None:
    await ask(bot, "!projet creer Atelier vélo --territoire sud", sender=ALICE)
    for line in (WEBINAIRE,
                 "!rencontre planifier 20/01 18h --type formation --territoire nord --places 10",
                 "!rencontre planifier 03/02 18h --type groupe --groupe velo --theme mobilite",
                 "!rencontre planifier 10/03 18h --territoire sud --lieu Gap",
                 "!rencontre planifier 11/03 18h --type echange --territoire sud"):
        await ask(bot, line)
    await ask(bot, "!rencontre annuler 5 neige")


async def test_the_programme_by_month_with_its_filters(bot: Harness) -> None:
    await programme_club(bot)
    await ask(bot, "!rencontre inscrire 1", sender=ALICE)
    whole = await ask(bot, "!programme", sender=ALICE)
    assert whole.startswith("Le programme du club : 4 événements à venir")
    assert whole.index("Janvier 2099") < whole.index("Webinaire n°1") < whole.index(
        "Formation n°2") < whole.index("Février 2099") < whole.index(
        "Réunion de groupe-projet n°3") < whole.index("Mars 2099") < whole.index(
        "Rencontre territoriale n°4")
    assert "Temps d'échange" not in whole  # cancelled
    assert "complet (liste d'attente)" in whole and "10 places libres" in whole

    async def shown(filters: str) -> list[int]:
        reply = await ask(bot, f"!programme {filters}", sender=ALICE)
        return [int(found) for found in re.findall(r"^- [^—\n]*? n°(\d+)", reply, re.M)]

    assert await shown("--type formation") == [2]
    assert await shown("--territoire nord") == [1, 2]  # the north's and the whole club's
    assert await shown("--territoire sud") == [1, 3, 4]
    assert await shown("--groupe velo") == [3]
    assert await shown("--theme énergie") == [1]
    assert await shown("--type webinaire --territoire sud") == [1]
    assert "Rien au programme" in await ask(bot, "!programme --type accelerateur", sender=ALICE)
    assert "n'est pas un type d'événement" in await ask(bot, "!programme --type bal")
    english = await ask(bot, "!program --kind webinaire", sender=ALICE)
    assert "Webinaire n°1" in english


async def test_the_programme_in_pages(bot: Harness) -> None:
    for day in range(1, 36):
        await ask(bot, f"!rencontre planifier {day % 28 + 1}/{(day // 28) + 1} 18h --type webinaire")
    first = await ask(bot, "!programme", sender=ALICE)
    assert "Page 1 sur 2 — la suite : `!programme --page 2`" in first
    second = await ask(bot, "!programme --page 2", sender=ALICE)
    assert "Page 2 sur 2" in second and "Webinaire n°35" in second
    assert "Webinaire n°35" not in first


async def test_my_data_holds_no_one_else_s_registration(bot: Harness) -> None:
    """The organiser's list of registrations names Bob: his copy says it was sent, not what
    it says of the others."""
    await bot.command(WEBINAIRE.replace("--places 1", "--places 5"), sender=COORDINATOR)
    await ask(bot, "!rencontre inscrire 1", sender=ALICE)
    await ask(bot, "!rencontre inscrire 1", sender=BOB)
    listing = await ask(bot, "!rencontre info 1")
    assert ALICE in listing and BOB in listing
    await bot.command("!mes-donnees", sender=BOB)
    document = last_upload(bot)
    assert ALICE not in json.dumps(document, ensure_ascii=False)
    withheld = [row for row in document["tables"]["outbox"] if row["content"] is None]
    assert len(withheld) == 1 and withheld[0]["content_withheld"], withheld
    assert any(row["content"] for row in document["tables"]["outbox"])  # his own replies: kept
