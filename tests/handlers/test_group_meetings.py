"""Groups run their own meetings, end to end on SQLite and PostgreSQL through the real
dispatcher: a group's referents plan, move, cancel, edit and record their group's events and
hold its date polls (in the group's room, or with ``--groupe``); the coordinators keep every
right; anyone else is refused, and a refusal changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from icalendar import Calendar

from commands.context import Place
from tests.handlers.conftest import ALICE, COORDINATOR, ROOM, Harness, plain, unchanged
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.rencontres import MAIN, NORTH

BOB, DAVE = "@bob:example.org", "@dave:example.org"
VELO, JARDIN = "!velo:example.org", "!jardin:example.org"
TABLES = ("meetings", "meeting_rsvps", "meeting_attendance", "meeting_headcounts", "meeting_guests",
          "polls", "poll_slots", "reminders", "audit_log", "outbox")
GROUP_ONLY = ("Réservé à la coordination, et aux référents d'un groupe-projet pour leur groupe "
              ": dans le salon du groupe, ou avec `--groupe`.")
VELO_ONLY = ("Seuls les référents de n°1 Atelier vélo et la coordination peuvent faire cela "
             "pour ce groupe.")


@pytest.fixture
async def bot(build_bot: Callable[..., Harness]) -> Harness:
    """Group 1 « Atelier vélo » (referent Alice, member Bob, room VELO, north) and group 2
    « Jardin partagé » (referent Dave, room JARDIN)."""
    harness = build_bot(main=MAIN, north=NORTH)
    harness.places.update({VELO: Place.GROUP, JARDIN: Place.GROUP})
    await harness.command("!projet creer Atelier vélo --territoire nord", sender=ALICE)
    await harness.command("!projet creer Jardin partagé", sender=DAVE)
    await harness.command("!projet rejoindre velo", sender=BOB)
    async with harness.db.transaction() as repos:
        (await repos.groups.get(1)).room_id = VELO  # type: ignore[union-attr]
        (await repos.groups.get(2)).room_id = JARDIN  # type: ignore[union-attr]
    return harness


async def ask(bot: Harness, line: str, sender: str = ALICE, room: str = ROOM) -> str:
    bot.clock.advance(timedelta(seconds=1))
    return plain((await bot.command(line, sender=sender, room_id=room))[0])


async def refused(bot: Harness, line: str, sender: str = ALICE, room: str = ROOM) -> str:
    """The reply to a command that must change nothing."""
    return await unchanged(bot.db, TABLES, line, ask(bot, line, sender, room))


async def meeting_of(bot: Harness, number: int = 1) -> tuple[int | None, str, str]:
    async with bot.db.transaction() as repos:
        meeting = await repos.meetings.get(number)
        assert meeting is not None
        return meeting.group_id, meeting.kind, meeting.status


# --- planning -----------------------------------------------------------------------------------

async def test_a_referent_plans_in_the_groups_room_for_the_group(bot: Harness) -> None:
    sent = await bot.command("!rencontre planifier 14/01 18h30 --places 8 --lieu Local vélo",
                             sender=ALICE, room_id=VELO)
    assert plain(sent[0]).startswith("C'est planifié : Réunion de groupe-projet n°1, mercredi "
                                    "14 janvier 2099, 18h30–20h30, Local vélo, groupe-projet "
                                    "« Atelier vélo » (atelier-velo).")
    assert [s.room_id for s in sent[1:]] == [VELO, VELO]  # the announcement and its .ics
    assert "!rencontre inscrire 1" in plain(sent[1])
    assert await meeting_of(bot) == (1, "groupe", "prevue")
    async with bot.db.transaction() as repos:
        reminders = await repos.reminders.of_meeting(1, ("meeting",))
    assert reminders and {r.room_id for r in reminders} == {VELO}  # its members reminded there


async def test_the_groups_referents_are_reminded_of_its_minutes_in_its_room(
        bot: Harness) -> None:
    await ask(bot, "!rencontre planifier 14/01 18h", room=VELO)
    async with bot.db.transaction() as repos:
        kinds = {r.kind for r in await repos.reminders.of_meeting(1, ("minutes_due",
                                                                      "progress_call"))}
        due = (await repos.reminders.of_meeting(1, ("minutes_due",)))[0]
    assert kinds == {"minutes_due"}  # the calls for news follow the club's events only
    before = len(bot.transport.sent)
    bot.clock.set(due.send_at)
    await bot.job("reminders").fire()
    await bot.outbox.flush()
    sent = [s for s in bot.transport.sent[before:] if "📝" in plain(s)]
    assert [(s.room_id, s.content["m.mentions"]) for s in sent] == [
        (VELO, {"user_ids": [ALICE]})]


async def test_a_groups_event_is_shown_with_the_groups_name(bot: Harness) -> None:
    """Never « groupe-projet n°1 »: its replies, announcement, lists, card, calendar file and
    reminders name the group (its current name), and its slug where it is the audience."""
    sent = await bot.command("!rencontre planifier 14/01 18h30 --lieu Local vélo", sender=ALICE,
                             room_id=VELO)
    announcement = plain(sent[1])
    assert announcement.startswith("📅 Réunion de groupe-projet n°1 — groupe-projet « Atelier vélo » "
                                   "(atelier-velo)")
    event = Calendar.from_ical(bot.transport.uploads[-1][0]).walk("VEVENT")[0]
    assert str(event["summary"]) == "Réunion de groupe-projet — Atelier vélo"
    assert "pour : groupe-projet « Atelier vélo » (atelier-velo)." in str(event["description"])
    listing = await ask(bot, "!rencontre liste", room=VELO)
    assert "Réunion de groupe-projet n°1 — mercredi 14 janvier 2099, 18h30–20h30 — groupe-projet « " \
           "Atelier vélo » (atelier-velo)" in listing
    card = await ask(bot, "!rencontre info 1", room=VELO)
    assert "Territoire : groupe-projet « Atelier vélo » (atelier-velo)" in card
    assert "groupe-projet « Atelier vélo » (atelier-velo)" in await ask(bot, "!programme")
    await ask(bot, "!projet modifier velo nom Atelier cycles", room=VELO)
    async with bot.db.transaction() as repos:
        due = (await repos.reminders.of_meeting(1, ("meeting",)))[0]
    before = len(bot.transport.sent)
    bot.clock.set(due.send_at)
    await bot.job("reminders").fire()
    await bot.outbox.flush()
    [reminder] = [plain(s) for s in bot.transport.sent[before:] if "📅" in plain(s)]
    assert reminder.startswith("📅 Réunion de groupe-projet n°1 (Atelier cycles) dans ")
    everything = "\n".join(plain(s) for s in bot.transport.sent)
    assert not re.search(r"(?<!Réunion de )groupe-projet n°\d", everything), everything


async def test_a_referent_plans_from_elsewhere_with_groupe(bot: Harness) -> None:
    sent = await bot.command("!rencontre planifier 14/01 18h30 --groupe velo --type formation",
                             sender=ALICE, room_id=ROOM)
    assert [s.room_id for s in sent[1:]] == [VELO, VELO]
    assert await meeting_of(bot) == (1, "formation", "prevue")  # the kind typed wins


@pytest.mark.parametrize(("line", "sender", "room", "expected"), [
    ("!rencontre planifier 14/01 18h", ALICE, ROOM, GROUP_ONLY),  # no group here
    ("!rencontre planifier 14/01 18h --territoire nord", ALICE, VELO, GROUP_ONLY),
    ("!rencontre planifier 14/01 18h --groupe velo", DAVE, ROOM, VELO_ONLY),
    ("!rencontre planifier 14/01 18h", DAVE, VELO, VELO_ONLY),  # another group's referent
    ("!rencontre planifier 14/01 18h", BOB, VELO, VELO_ONLY),  # a member, not a referent
    ("!rencontre planifier 14/01 18h --groupe jardin", ALICE, VELO,
     "Seuls les référents de n°2 Jardin partagé"),
    ("!rencontre planifier 14/01 18h --groupe potager", ALICE, VELO,
     "Aucun groupe ne correspond à « potager »"),
])
async def test_planning_refusals_change_nothing(bot: Harness, line: str, sender: str, room: str,
                                                expected: str) -> None:
    assert (await refused(bot, line, sender, room)).startswith(expected)


async def test_coordinators_keep_every_right(bot: Harness) -> None:
    await ask(bot, "!rencontre planifier 14/01 18h", sender=COORDINATOR, room=VELO)
    assert await meeting_of(bot, 1) == (1, "groupe", "prevue")  # the room's group by default
    sent = await bot.command("!rencontre planifier 15/01 18h --territoire nord",
                             sender=COORDINATOR, room_id=VELO)
    assert [s.room_id for s in sent[1:]] == [NORTH, NORTH]
    assert await meeting_of(bot, 2) == (None, "territoriale", "prevue")
    assert (await ask(bot, "!rencontre reporter 1 16/01 18h", sender=COORDINATOR)).startswith(
        "Rencontre n°1 déplacée")
    assert (await ask(bot, "!rencontre modifier 1 --titre Révision", sender=COORDINATOR)
            ).startswith("Modifications de Réunion de groupe-projet n°1 (Atelier vélo) — Révision "
                         "enregistrées")


# --- the group's events afterwards --------------------------------------------------------------

async def test_a_referent_runs_the_groups_event_and_not_the_clubs(bot: Harness) -> None:
    await ask(bot, "!rencontre planifier 14/01 18h", room=VELO)  # n°1, the group's
    await ask(bot, "!rencontre planifier 15/01 18h", sender=COORDINATOR)  # n°2, the club's
    sent = await bot.command("!rencontre reporter 1 16/01 18h30", sender=ALICE)
    assert plain(sent[0]).startswith("Rencontre n°1 déplacée")
    assert [s.room_id for s in sent[1:]] == [VELO, VELO]
    for line in ("!rencontre reporter 2 16/01 18h", "!rencontre annuler 2",
                 "!rencontre modifier 2 --places 4", f"!rencontre presences 2 {BOB}",
                 "!rencontre compte-rendu 2 https://pad.example.org/x"):
        expected = {"modifier": "Réservé à la coordination et à l'organisation de l'événement.",
                    "presences": "Seules l'organisation de l'événement et la coordination "
                                 "notent qui est venu."}.get(line.split()[1], GROUP_ONLY)
        assert await refused(bot, line) == expected, line
        assert (await refused(bot, line.replace(" 2", " 1", 1), sender=DAVE)).startswith(
            "Seuls "), line
        assert (await refused(bot, line.replace(" 2", " 1", 1), sender=BOB, room=VELO)
                ).startswith("Seuls "), line
    bot.clock.set(bot.clock.now() + timedelta(days=12))  # after the group's meeting
    assert (await ask(bot, f"!rencontre presences 1 {BOB}")).startswith("Rencontre n°1 tenue : 1")
    assert (await ask(bot, "!rencontre cr 1 https://pad.example.org/velo")).startswith(
        "Compte-rendu de la rencontre n°1 enregistré")
    assert (await ask(bot, "!rencontre annuler 2", sender=DAVE)).startswith("Réservé")


async def test_a_referent_cancels_the_groups_event(bot: Harness) -> None:
    await ask(bot, "!rencontre planifier 14/01 18h", room=VELO)
    sent = await bot.command("!rencontre annuler 1 atelier fermé", sender=ALICE, room_id=VELO)
    assert plain(sent[0]).startswith("Rencontre n°1 (mercredi 14 janvier 2099, 18h–20h) annulée")
    assert [s.room_id for s in sent[1:]] == [VELO, VELO]
    assert await meeting_of(bot) == (1, "groupe", "annulee")


async def test_the_organiser_edits_but_does_not_cancel(bot: Harness) -> None:
    await ask(bot, f"!rencontre planifier 14/01 18h --organisateur {BOB}", sender=COORDINATOR)
    assert (await ask(bot, "!rencontre modifier 1 --titre Covoiturage", sender=BOB)).startswith(
        "Modifications de Rencontre du club n°1 — Covoiturage enregistrées (titre)")
    assert await refused(bot, "!rencontre annuler 1", sender=BOB) == GROUP_ONLY
    assert await refused(bot, "!rencontre modifier 1 --places 3", sender=DAVE) == (
        "Réservé à la coordination et à l'organisation de l'événement.")
    await ask(bot, "!rencontre planifier 15/01 18h", room=VELO)  # n°2, organised by Alice
    assert await refused(bot, "!rencontre modifier 2 --places 3", sender=DAVE) == (
        "Seuls l'organisation de l'événement, les référents de n°1 Atelier vélo et la "
        "coordination peuvent le modifier.")


async def test_the_groups_referents_and_the_organiser_record_who_came(bot: Harness) -> None:
    """At a group's event organised by someone else, its referents record who came (members,
    guests, headcounts) and see the guests' names; a member of the group does not; nobody
    records anything before the event has begun."""
    await ask(bot, f"!rencontre planifier 14/01 18h --groupe velo --organisateur {DAVE}",
              sender=COORDINATOR)
    assert "n'a pas encore commencé" in await refused(bot, "!rencontre effectif 1 3 elus")
    bot.clock.set(bot.clock.now() + timedelta(days=12))  # after the meeting
    assert (await ask(bot, f"!rencontre presences 1 {BOB}")).startswith("Rencontre n°1 tenue : 1")
    assert (await ask(bot, "!rencontre effectif 1 3 élus")).startswith(
        "Effectif de l'événement n°1, nord : 3 élus")
    assert (await ask(bot, "!rencontre invite 1 Marie Durand", sender=DAVE)).startswith(
        "1 invité noté à l'événement n°1")
    for line in ("!rencontre effectif 1 9 élus", "!rencontre invite 1 Jean Martin",
                 "!rencontre oublier-invite 1 Marie Durand", "!rencontre feuille 1",
                 f"!rencontre presences 1 {DAVE}"):
        assert await refused(bot, line, sender=BOB) == (
            "Seuls l'organisation de l'événement, les référents de n°1 Atelier vélo et la "
            "coordination notent qui est venu."), line
    bot.places["!direct:example.org"] = Place.DIRECT
    assert "Invités : Marie Durand" in await ask(bot, "!rencontre info 1",
                                                  room="!direct:example.org")
    assert "Marie Durand" not in await ask(bot, "!rencontre info 1", sender=BOB,
                                           room="!direct:example.org")


# --- date polls ---------------------------------------------------------------------------------

async def test_a_referent_holds_the_groups_date_poll(bot: Harness) -> None:
    sent = await bot.command("!sondage dates Atelier ? | 12/01 18h | 13/01 18h --groupe velo",
                             sender=ALICE, room_id=ROOM)
    assert plain(sent[0]).startswith("Sondage n°1 ouvert dans le salon de n°1 Atelier vélo avec 2 "
                                    "créneaux")
    assert sent[0].room_id == ROOM and {s.room_id for s in sent[1:]} == {VELO}
    async with bot.db.transaction() as repos:
        poll = await repos.polls.get(1)
        assert poll is not None and (poll.room_id, poll.territory) == (VELO, "nord")
    sent = await bot.command("!sondage choisir 1 2 --places 6", sender=ALICE, room_id=VELO)
    assert "La rencontre n°1 est créée à partir du sondage n°1" in plain(sent[0])
    assert await meeting_of(bot) == (1, "groupe", "prevue")
    assert {s.room_id for s in sent[1:]} == {VELO}
    await ask(bot, "!sondage dates Encore ? | 19/01 18h | 20/01 18h", room=VELO)
    assert (await ask(bot, "!sondage cloturer 2", room=VELO)).startswith("Je clos le sondage n°2")


@pytest.mark.parametrize(("line", "sender", "room", "expected"), [
    ("!sondage dates Quand ? | 12/01 18h | 13/01 18h", ALICE, ROOM, GROUP_ONLY),
    ("!sondage dates Quand ? | 12/01 18h | 13/01 18h --groupe velo", DAVE, JARDIN, VELO_ONLY),
    ("!sondage dates Quand ? | 12/01 18h | 13/01 18h", BOB, VELO, VELO_ONLY),
    ("!sondage choisir 1 1", DAVE, VELO, VELO_ONLY),
    ("!sondage choisir 1 1 --groupe jardin", ALICE, VELO, "Seuls les référents de n°2"),
    ("!sondage cloturer 1", BOB, VELO, "Seuls la personne qui a ouvert le sondage n°1, "),
    ("!sondage cloturer 2", ALICE, ROOM, "Seuls la personne qui a ouvert le sondage n°2, "),
    ("!sondage dates Quand ? | 12/01 18h | 13/01 18h --groupe velo --territoire sud",
     COORDINATOR, ROOM, "Un événement est pour un groupe-projet (`--groupe`) ou pour un "
                        "territoire"),
])
async def test_poll_refusals_change_nothing(bot: Harness, line: str, sender: str, room: str,
                                            expected: str) -> None:
    await ask(bot, "!sondage dates Atelier ? | 12/01 18h | 13/01 18h", room=VELO)
    await ask(bot, "!sondage dates Club ? | 12/01 18h | 13/01 18h", sender=COORDINATOR)
    assert (await refused(bot, line, sender, room)).startswith(expected)


async def test_a_coordinator_choosing_a_groups_poll_makes_a_group_meeting(bot: Harness) -> None:
    await ask(bot, "!sondage dates Atelier ? | 12/01 18h | 13/01 18h", room=VELO)
    await ask(bot, "!sondage choisir 1 1", sender=COORDINATOR)
    assert await meeting_of(bot) == (1, "groupe", "prevue")


async def test_a_group_without_room_holds_no_poll_and_its_referents_plan_nothing(
        bot: Harness) -> None:
    async with bot.db.transaction() as repos:
        (await repos.groups.get(2)).room_id = None  # type: ignore[union-attr]
    assert (await refused(bot, "!sondage dates Q ? | 12/01 18h | 13/01 18h --groupe jardin",
                          sender=COORDINATOR)).startswith(
        "Le groupe n°2 Jardin partagé n'a pas encore de salon")
    # else its reminders would go to the room the command was said in, a club room
    assert await refused(bot, "!rencontre planifier 14/01 18h --groupe jardin", sender=DAVE) == (
        "Le groupe n°2 Jardin partagé n'a pas encore de salon : ses événements y sont annoncés, "
        "ouvrez-le d'abord (`!projet salon`).")
    sent = await bot.command("!rencontre planifier 14/01 18h --groupe jardin",
                             sender=COORDINATOR, room_id=ROOM)
    assert [s.room_id for s in sent] == [ROOM, ROOM, ROOM]  # the reply, the announcement, the .ics
