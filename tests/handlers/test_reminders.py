"""Reminders with a fake clock (no sleeping), on SQLite and PostgreSQL: personal, room and
recurring ones, the automatic ones of a rencontre, quiet hours, lateness, exactly once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.jobs import DeclaredJob
from bot.scheduler import Scheduler
from commands.context import Club
from commands.roles import Role
from tests.handlers.conftest import ALICE, COORDINATOR, ROOM, Harness, make_club
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.fakes import Sent
from tests.handlers.test_projects import BOB, ask, refused

PARIS = ZoneInfo("Europe/Paris")
NORTH, SOUTH = "!nord:example.org", "!sud:example.org"


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]



def club_with_rooms() -> Club:
    return replace(make_club(), rooms={"main": ROOM, "north": NORTH, "south": SOUTH},
                   coordinators=(COORDINATOR,))


def engine(bot: Harness) -> DeclaredJob:
    return bot.job("reminders")


async def run_until(bot: Harness, moment: datetime) -> list[Sent]:
    """Moves the clock to ``moment`` firing the engine at every send time on the way, as the
    scheduler would; returns what was sent."""
    before = len(bot.transport.sent)
    reminders = engine(bot)
    while True:
        pending = await reminders.pending()
        if not pending or pending[0][1] > moment:
            break
        bot.clock.set(max(pending[0][1], bot.clock.now()))
        await reminders.fire()
        await bot.outbox.flush()
    bot.clock.set(moment)
    return bot.transport.sent[before:]


def bodies(sent: list[Sent]) -> list[tuple[str, str]]:
    return [(s.room_id, str(s.content["body"])) for s in sent]


# --- personal and room reminders -------------------------------------------------------------------

async def test_a_personal_reminder_comes_once_at_its_time_mentioning_its_owner(bot: Harness) -> None:
    reply = await ask(bot, "!rappel demain 9h appeler la mairie")
    assert reply == ("Rappel n°1 noté pour le mardi 6 janvier 2099 à 9h. Pour l'annuler : "
                     "`!rappel annuler 1`.")
    assert await run_until(bot, paris(2099, 1, 6, 8, 59)) == []
    sent = await run_until(bot, paris(2099, 1, 6, 12))
    assert bodies(sent) == [(ROOM, f"⏰ Rappel pour {ALICE} : appeler la mairie")]
    assert sent[0].content["m.mentions"] == {"user_ids": [ALICE]}
    assert await run_until(bot, paris(2099, 1, 9)) == []  # never twice
    assert (await ask(bot, "!rappel liste")).startswith("Aucun rappel en attente")


@pytest.mark.parametrize(("spec", "when"), [
    ("dans 2 jours relancer Paul", "mercredi 7 janvier 2099 à 10h"),
    ("le 12/01 à 14h réunion vélo", "lundi 12 janvier 2099 à 14h"),
    ("lundi prochain préparer l'AG", "lundi 12 janvier 2099 à 9h"),
    ("in 10 minutes call back", "lundi 5 janvier 2099 à 10h10"),
    ("tomorrow 9am call", "mardi 6 janvier 2099 à 9h"),
])
async def test_french_and_english_phrasing(bot: Harness, spec: str, when: str) -> None:
    assert f"noté pour le {when}." in await ask(bot, f"!rappel {spec}")


@pytest.mark.parametrize(("spec", "expected"), [
    ("le 05/01/2099 à 8h appeler", "passé"),
    ("quand tu veux appeler", "quand tu veux"),
    ("demain 9h", "Il manque : texte."),
    ("", "Il manque : quand."),
])
async def test_bad_times_are_refused_with_examples(bot: Harness, spec: str, expected: str) -> None:
    assert expected in await refused(bot, f"!rappel {spec}")


async def test_recurring_reminder_keeps_its_wall_clock_time_across_dst(bot: Harness) -> None:
    bot.clock.set(paris(2099, 3, 20, 12))  # DST: Sunday 29 March and 25 October 2099
    reply = await ask(bot, "!rappel chaque lundi 9h point d'équipe")
    assert "chaque lundi à 9h" in reply and "lundi 23 mars 2099 à 9h" in reply
    sent = await run_until(bot, paris(2099, 4, 7))
    assert len(sent) == 3  # 23 and 30 March, 6 April
    times = [s.event_id for s in sent]
    assert len(set(times)) == 3
    async with bot.db.transaction() as repos:
        reminder = await repos.reminders.get(1)
    assert reminder is not None and reminder.due_at == paris(2099, 4, 13, 9)
    assert reminder.due_at.astimezone(PARIS).utcoffset() == timedelta(hours=2)
    bot.clock.set(paris(2099, 10, 20, 12))
    async with bot.db.transaction() as repos:
        reminder = await repos.reminders.get(1)
        assert reminder is not None
        reminder.due_at = reminder.send_at = paris(2099, 10, 19, 9)
    await run_until(bot, paris(2099, 10, 27))
    async with bot.db.transaction() as repos:
        reminder = await repos.reminders.get(1)
    assert reminder is not None and reminder.due_at == paris(2099, 11, 2, 9)
    assert reminder.due_at.astimezone(PARIS).utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize("body", ["!rappel tous les jours 8h30 arroser",
                                  "!rappel chaque jour 8h30 arroser",
                                  "!remind every day 8:30 water",
                                  "!rappel chaque 1er mardi du mois 18h réunion"])
async def test_recurring_phrasings(bot: Harness, body: str) -> None:
    assert "Rappel n°1 : " in await ask(bot, body)


async def test_list_cancel_move_by_short_number(bot: Harness) -> None:
    await ask(bot, "!rappel demain 9h un")
    await ask(bot, "!rappel chaque lundi 9h deux")
    await ask(bot, "!rappel demain 10h trois", sender=BOB)
    listing = await ask(bot, "!rappel liste")
    assert "- n°1 — mardi 6 janvier 2099 à 9h : un" in listing
    assert "- n°2 — chaque lundi à 9h — prochain le lundi 12 janvier 2099 à 9h : deux" in listing
    assert "trois" not in listing
    assert "n'est pas le vôtre" in await refused(bot, "!rappel annuler 3")
    assert "Pas de rappel n°9" in await refused(bot, "!rappel annuler 9")
    assert await ask(bot, "!rappel annuler 1") == "Rappel n°1 annulé (un)."
    assert "Pas de rappel n°1 en attente" in await refused(bot, "!rappel annuler 1")
    assert await ask(bot, "!rappel reporter 2 mercredi 15h") == (
        "Rappel n°2 déplacé au mercredi 7 janvier 2099 à 15h.")
    sent = await run_until(bot, paris(2099, 1, 8))
    assert bodies(sent) == [(ROOM, f"⏰ Rappel pour {BOB} : trois"),
                            (ROOM, f"⏰ Rappel pour {ALICE} : deux")]


async def test_at_most_100_pending_reminders_per_person(bot: Harness) -> None:
    """The 101st pending reminder is refused and nothing is saved; a cancelled one, or another
    person's, does not count."""
    from commands.reminders.handlers import MAX_PER_PERSON

    for number in range(MAX_PER_PERSON):
        assert f"Rappel n°{number + 1}" in await ask(bot, f"!rappel demain 9h n{number}")
    refusal = await refused(bot, "!rappel demain 9h un de trop")
    assert refusal.startswith("Vous avez déjà 100 rappels en attente")
    assert "!rappel liste" in refusal
    async with bot.db.transaction() as repos:
        assert await repos.reminders.count_pending_of(ALICE) == MAX_PER_PERSON
    assert "Rappel n°101" in await ask(bot, "!rappel demain 9h pour Bob", sender=BOB)
    assert await ask(bot, "!rappel annuler 1") == "Rappel n°1 annulé (n0)."
    assert "Rappel n°102" in await ask(bot, "!rappel demain 9h à nouveau")


async def test_room_reminders_for_coordinators_and_group_members_in_their_room(bot: Harness) -> None:
    assert "réservé à la coordination" in await refused(bot, "!rappel salon demain 9h réunion")
    assert "Rappel n°1 pour le salon" in await ask(bot, "!rappel salon demain 9h réunion",
                                                   sender=COORDINATOR)
    await ask(bot, "!projet creer Atelier vélo")
    await bot.command("!projet salon velo")
    group_room = bot.transport.created[0]["room_id"]
    assert "Rappel n°2 pour le salon" in await ask(bot, "!rappel salon demain 18h atelier",
                                                   room_id=group_room)
    sent = await run_until(bot, paris(2099, 1, 7))
    assert bodies(sent) == [(ROOM, f"⏰ Rappel de {COORDINATOR} : réunion"),
                            (group_room, f"⏰ Rappel de {ALICE} : atelier")]
    assert all(s.content["m.mentions"] == {"user_ids": []} for s in sent)


async def test_leaving_a_group_cancels_the_reminders_one_set_for_its_room(bot: Harness) -> None:
    """The reminders a member set in their group's room (for the room, which only a member may
    set there, or for themselves) stop when they leave the group; their personal ones
    elsewhere, another member's and a coordinator's stay."""
    await ask(bot, "!projet creer Atelier vélo")
    await bot.command("!projet salon velo")
    group_room = bot.transport.created[0]["room_id"]
    for sender in (BOB, COORDINATOR):
        await ask(bot, "!projet rejoindre velo", sender=sender)
    await ask(bot, "!rappel salon chaque lundi 9h ranger", room_id=group_room)
    await ask(bot, "!rappel salon demain 18h atelier", room_id=group_room)
    await ask(bot, "!rappel salon demain 19h de Bob", room_id=group_room, sender=BOB)
    await ask(bot, "!rappel salon demain 20h de la coordination", room_id=group_room,
              sender=COORDINATOR)
    await ask(bot, "!rappel chaque mardi 9h pour moi dans le salon du groupe", room_id=group_room)
    await ask(bot, "!rappel demain 9h appeler")
    left = await ask(bot, "!projet quitter velo")
    assert "quitté n°1 Atelier vélo. Les 3 rappels que vous aviez mis dans son salon sont " \
        "annulés." in left
    assert "rappel" not in await ask(bot, "!projet quitter velo", sender=COORDINATOR)
    sent = await run_until(bot, paris(2099, 1, 13))
    assert sorted(body for _, body in bodies(sent)) == [
        f"⏰ Rappel de {BOB} : de Bob", f"⏰ Rappel de {COORDINATOR} : de la coordination",
        f"⏰ Rappel pour {ALICE} : appeler"]


async def test_one_who_became_a_coordinator_leaving_cancels_what_they_set_as_a_member(
        bot: Harness) -> None:
    """A reminder set for the group's room as its member would no longer be sent once its owner
    left: it is cancelled then, and said, even if they have become a coordinator since."""
    await ask(bot, "!projet creer Atelier vélo")
    await bot.command("!projet salon velo")
    group_room = bot.transport.created[0]["room_id"]
    await ask(bot, "!projet rejoindre velo", sender=BOB)
    await ask(bot, "!rappel salon demain 9h ranger", room_id=group_room, sender=BOB)
    bot.roles[BOB] = Role.COORDINATOR
    await ask(bot, "!rappel salon demain 10h réunion", room_id=group_room, sender=BOB)
    left = await ask(bot, "!projet quitter velo", sender=BOB)
    assert "Le rappel que vous aviez mis dans son salon est annulé." in left
    sent = await run_until(bot, paris(2099, 1, 7))
    assert bodies(sent) == [(group_room, f"⏰ Rappel de {BOB} : réunion")]


async def test_a_members_room_reminder_stops_when_the_room_is_no_longer_their_groups(
        bot: Harness) -> None:
    """A member may set a reminder for their group's room only as its member: once the group has
    another room, theirs in the old one is no longer sent (a coordinator's still is)."""
    await ask(bot, "!projet creer Atelier vélo")
    await bot.command("!projet salon velo")
    group_room = bot.transport.created[0]["room_id"]
    await ask(bot, "!projet rejoindre velo", sender=BOB)
    await ask(bot, "!rappel salon chaque jour 9h ranger", room_id=group_room, sender=BOB)
    await ask(bot, "!rappel salon demain 10h de la coordination", room_id=group_room,
              sender=COORDINATOR)
    other = "!other:example.org"
    bot.matrix.rooms[other] = other
    bot.matrix.members[other, COORDINATOR] = 50
    assert "est maintenant celui de" in await ask(bot, f"!projet salon velo {other}",
                                                  sender=COORDINATOR)
    sent = await run_until(bot, paris(2099, 1, 9))
    assert bodies(sent) == [(group_room, f"⏰ Rappel de {COORDINATOR} : de la coordination")]
    async with bot.db.transaction() as repos:
        assert await repos.reminders.pending_of(BOB) == []  # dropped, not sent each day


async def test_a_reminder_due_while_the_bot_was_down_is_sent_once_marked_late(bot: Harness) -> None:
    await ask(bot, "!rappel demain 9h appeler")
    bot.clock.set(paris(2099, 1, 6, 15))  # the bot was down at 9h
    await engine(bot).fire()
    await bot.outbox.flush()
    assert bot.transport.bodies()[-1] == f"⏰ Rappel (en retard) pour {ALICE} : appeler"
    await engine(bot).fire()
    assert len([b for b in bot.transport.bodies() if "appeler" in b]) == 1


# --- the rencontre's reminders ------------------------------------------------------------------

async def plan(bot: Harness, when: str, territory: str = "sud") -> None:
    bot.dispatcher.club = club_with_rooms()
    await bot.command(f"!rencontre planifier {when} --territoire {territory} --lieu Salle des "
                      "fêtes", sender=COORDINATOR)


async def test_meeting_reminders_at_the_right_wall_clock_times_across_dst(bot: Harness) -> None:
    bot.clock.set(paris(2099, 3, 10, 12))
    await plan(bot, "mardi 31 mars 2099 18h30")  # DST on Sunday 29 March 2099
    sent = await run_until(bot, paris(2099, 4, 1))
    meeting_reminders = [(s.room_id, s.content["body"]) for s in sent
                         if "Rencontre territoriale n°1 dans" in str(s.content["body"])]
    assert [body.split(" : ")[0] for _, body in meeting_reminders] == [
        "📅 Rencontre territoriale n°1 dans 7 jour(s)", "📅 Rencontre territoriale n°1 dans 1 jour(s)",
        "📅 Rencontre territoriale n°1 dans 2 heure(s)"]
    assert {room for room, _ in meeting_reminders} == {SOUTH}
    assert "Lieu : Salle des fêtes" in meeting_reminders[0][1]
    assert "`!rencontre present 1`" in meeting_reminders[0][1]
    async with bot.db.transaction() as repos:
        assert await repos.reminders.of_meeting(1, ("meeting",)) == []  # all sent


ALL_KINDS = ("meeting", "agenda_call", "agenda_deadline", "minutes_due", "progress_call")


@pytest.mark.parametrize(("when", "expected"), [
    # Summer time starts on Sunday 29 March 2099.
    ("mardi 31 mars 2099 18h30", [
        ("agenda_call", "J-14", paris(2099, 3, 17, 18, 30)),
        ("meeting", "J-7", paris(2099, 3, 24, 18, 30)),
        ("agenda_deadline", "D-1", paris(2099, 3, 28, 18, 30)),
        ("meeting", "J-1", paris(2099, 3, 30, 18, 30)),
        ("meeting", "H-2", paris(2099, 3, 31, 16, 30)),
        ("minutes_due", "J+3", paris(2099, 4, 3, 20, 30)),
        ("progress_call", "S+3", paris(2099, 4, 21, 20, 30))]),
    # Winter time starts on Sunday 25 October 2099.
    ("mardi 27 octobre 2099 18h30", [
        ("agenda_call", "J-14", paris(2099, 10, 13, 18, 30)),
        ("meeting", "J-7", paris(2099, 10, 20, 18, 30)),
        ("agenda_deadline", "D-1", paris(2099, 10, 24, 18, 30)),
        ("meeting", "J-1", paris(2099, 10, 26, 18, 30)),
        ("meeting", "H-2", paris(2099, 10, 27, 16, 30)),
        ("minutes_due", "J+3", paris(2099, 10, 30, 20, 30)),
        ("progress_call", "S+3", paris(2099, 11, 17, 20, 30))]),
])
async def test_every_default_reminder_at_its_wall_clock_time_across_dst(
        bot: Harness, when: str, expected: list[tuple[str, str, datetime]]) -> None:
    bot.clock.set(paris(2099, 3, 1, 12) if "mars" in when else paris(2099, 10, 1, 12))
    await plan(bot, when)
    async with bot.db.transaction() as repos:
        rows = sorted(await repos.reminders.of_meeting(1, ALL_KINDS), key=lambda r: r.due_at)
    assert [(r.kind, r.offset, r.due_at) for r in rows] == expected
    assert all(r.send_at == r.due_at for r in rows)  # none in the quiet hours
    assert len({r.due_at.astimezone(PARIS).utcoffset() for r in rows}) == 2  # both sides of DST
    sent = await run_until(bot, expected[-1][2] + timedelta(minutes=1))
    assert len([s for s in sent if s.room_id == SOUTH]) >= 5


async def test_quiet_hours_delay_all_but_the_h_minus_2(bot: Harness) -> None:
    bot.clock.set(paris(2099, 1, 5, 12))
    await plan(bot, "samedi 17 janvier 2099 22h")  # J-1 at 22h (quiet), H-2 at 20h
    await bot.command("!rencontre planifier jeudi 22 janvier 2099 7h30 --territoire nord",
                      sender=COORDINATOR)  # H-2 at 5h30, in the quiet hours: sent all the same
    async with bot.db.transaction() as repos:
        late = await repos.reminders.of_meeting(1, ("meeting",))
        early = await repos.reminders.of_meeting(2, ("meeting",))
    assert [(r.offset, r.send_at) for r in late] == [
        ("J-7", paris(2099, 1, 11, 8)), ("J-1", paris(2099, 1, 17, 8)),
        ("H-2", paris(2099, 1, 17, 20))]
    assert [(r.offset, r.send_at) for r in early] == [
        ("J-7", paris(2099, 1, 15, 8)), ("J-1", paris(2099, 1, 21, 8)),
        ("H-2", paris(2099, 1, 22, 5, 30))]


async def test_rescheduling_moves_the_reminders_and_cancelling_drops_them(bot: Harness) -> None:
    await plan(bot, "jeudi 22 janvier 2099 18h30")
    await bot.command("!rencontre reporter 1 jeudi 29 janvier 2099 18h30", sender=COORDINATOR)
    async with bot.db.transaction() as repos:
        rows = await repos.reminders.of_meeting(1, ("meeting",))
    assert [r.due_at for r in rows] == [paris(2099, 1, 22, 18, 30), paris(2099, 1, 28, 18, 30),
                                        paris(2099, 1, 29, 16, 30)]
    await bot.command("!rencontre annuler 1 neige", sender=COORDINATOR)
    sent = await run_until(bot, paris(2099, 3, 1))
    assert [s for s in sent if "Rencontre territoriale n°1 dans" in str(s.content["body"])] == []
    async with bot.db.transaction() as repos:
        assert await repos.reminders.of_meeting(1, ("meeting", "minutes_due")) == []


async def test_a_meeting_reminder_that_is_no_longer_useful_is_dropped(bot: Harness) -> None:
    await plan(bot, "jeudi 8 janvier 2099 18h30")
    bot.clock.set(paris(2099, 1, 8, 19))  # down until after the start
    await engine(bot).fire()
    await bot.outbox.flush()
    assert not any("Rencontre territoriale n°1 dans" in b for b in bot.transport.bodies())
    async with bot.db.transaction() as repos:
        assert await repos.reminders.of_meeting(1, ("meeting",)) == []


async def test_minutes_due_after_three_days_then_weekly_until_recorded(bot: Harness) -> None:
    await plan(bot, "jeudi 8 janvier 2099 18h30")
    sent = await run_until(bot, paris(2099, 1, 20))
    due = [s for s in sent if "📝" in str(s.content["body"])]
    assert len(due) == 2  # 11 and 18 January (J+3 at 20h30, then a week later)
    assert due[0].room_id == ROOM and due[0].content["m.mentions"] == {"user_ids": [COORDINATOR]}
    assert "`!rencontre compte-rendu 1 <texte ou lien>`" in due[0].content["body"]
    await bot.command("!rencontre compte-rendu 1 https://pad.example.org/cr", sender=COORDINATOR)
    sent = await run_until(bot, paris(2099, 2, 20))
    assert not any("📝" in str(s.content["body"]) for s in sent)


async def test_groups_asked_for_news_three_weeks_after_and_silent_ones_listed(bot: Harness) -> None:
    bot.dispatcher.club = club_with_rooms()
    await ask(bot, "!projet creer Atelier vélo --territoire sud")
    await ask(bot, "!projet creer Micro hydro --territoire nord", sender=BOB)
    await ask(bot, "!projet statut velo en cours")
    await plan(bot, "jeudi 8 janvier 2099 18h30", territory="commun")
    await plan(bot, "jeudi 5 février 2099 18h30", territory="commun")
    bot.clock.set(paris(2099, 1, 20))
    await ask(bot, "!projet avancement velo 12 vélos réparés")
    sent = await run_until(bot, paris(2099, 3, 1))
    calls = [s for s in sent if "🌱" in str(s.content["body"])]
    # 29 January (3 weeks after the first) and 26 February: both groups each time, in one
    # message (no room of their own: the main room's digest).
    assert len(calls) == 2 and all(s.room_id == ROOM for s in calls)
    assert calls[0].content["body"].splitlines()[2:] == [
        f"- **Atelier vélo** (`atelier-velo`) : {ALICE}",
        f"- **Micro hydro** (`micro-hydro`) : {BOB}"]
    assert calls[0].content["body"].startswith("🌱 Des nouvelles des groupes-projets ? Notez")
    assert calls[0].content["m.mentions"] == {"user_ids": [ALICE, BOB]}
    silent = [s for s in sent if "sans nouvelles" in str(s.content["body"])]
    # Only after the second rencontre can a group be silent for two cycles: Micro hydro.
    assert len(silent) == 1 and "n°2 Micro hydro" in silent[0].content["body"]
    assert "Atelier vélo" not in silent[0].content["body"]
    assert silent[0].content["m.mentions"] == {"user_ids": [COORDINATOR]}


async def test_the_call_for_news_is_one_message_per_room_whatever_the_number_of_groups(
        bot: Harness) -> None:
    """A group with its own room is asked there; the 120 others, in the main room, in a digest
    naming at most 50 referents a message (3 messages, not 120); each referent named once."""
    await plan(bot, "jeudi 8 janvier 2099 18h30", territory="commun")
    referents = [f"@ref{n:03d}:example.org" for n in range(120)]
    async with bot.db.transaction() as repos:
        for n, referent in enumerate([*referents, ALICE]):
            group = await repos.groups.create(
                name=f"Groupe {n}", name_key=f"groupe {n}", slug=f"groupe-{n}", description="",
                theme="energie", territory="tout", status="en-cours", created_by=referent,
                at=bot.clock.now())
            await repos.groups.add_member(group.id, referent, bot.clock.now(), tz=PARIS,
                                          referent=True)
        group.room_id = "!groupe-alice:example.org"
    sent = await run_until(bot, paris(2099, 2, 1))
    calls = [s for s in sent if "🌱" in str(s.content["body"])]
    in_main = [s for s in calls if s.room_id == ROOM]
    assert [len(s.content["m.mentions"]["user_ids"]) for s in in_main] == [50, 50, 20]
    assert [s.content["body"].split(" Notez")[0] for s in in_main] == [
        f"🌱 Des nouvelles des groupes-projets ? ({part}/3)" for part in (1, 2, 3)]
    named = [user for s in in_main for user in s.content["m.mentions"]["user_ids"]]
    assert named == referents
    [own] = [s for s in calls if s.room_id != ROOM]
    assert own.room_id == "!groupe-alice:example.org"
    assert own.content["body"].startswith("🌱 Des nouvelles de **Groupe 120** ?")
    assert own.content["m.mentions"] == {"user_ids": [ALICE]}


async def test_the_engine_costs_one_timer(bot: Harness) -> None:
    for day in range(1, 20):
        await ask(bot, f"!rappel le {day:02d}/02 à 9h rappel {day}")
    assert await engine(bot).pending() == [(0, paris(2099, 2, 1, 9).astimezone(UTC))]


async def test_agenda_call_deadline_and_the_published_agenda_in_the_reminder(bot: Harness) -> None:
    await plan(bot, "jeudi 26 février 2099 18h30")
    calls = await run_until(bot, paris(2099, 2, 24))
    agenda = [s for s in calls if "🗒️" in str(s.content["body"])]
    assert [(s.room_id, str(s.content["body"]).split(" : ")[0]) for s in agenda] == [
        (SOUTH, "🗒️ Rencontre n°1 le jeudi 26 février 2099, 18h30–20h30"),
        (SOUTH, "🗒️ Dernier appel")]
    assert "jusqu'au mardi 24 février 2099 à 18h30" in agenda[0].content["body"]
    assert "`!odj proposer <texte>`" in agenda[0].content["body"]
    await bot.command("!odj ajouter Accueil et tour de table --duree 20min", sender=COORDINATOR)
    await bot.command("!odj publier", sender=COORDINATOR)
    sent = await run_until(bot, paris(2099, 2, 26, 12))
    before = [s for s in sent if "Rencontre territoriale n°1 dans 1 jour" in str(s.content["body"])]
    assert len(before) == 1 and "Accueil et tour de table" in before[0].content["body"]


# --- exact delays and every repetition the docs list -----------------------------------------------

async def test_a_delay_is_exact_to_the_second_up_to_the_timer(bot: Harness) -> None:
    asked = paris(2099, 1, 5, 10, 0, 37) + timedelta(microseconds=250_000)
    bot.clock.set(asked)
    assert "à 10h01." in await ask(bot, "!rappel dans 1 minute tester le bot")
    due = asked + timedelta(seconds=60)
    assert await engine(bot).pending() == [(0, due.astimezone(UTC))]  # stored to the microsecond
    scheduler = Scheduler([engine(bot)])
    await scheduler.start()
    try:
        assert scheduler.jobs() == {"reminders:0": due.astimezone(UTC)}  # the timer, not a minute
    finally:
        scheduler.shutdown()
    assert await run_until(bot, due - timedelta(milliseconds=1)) == []
    sent = await run_until(bot, due)
    assert bodies(sent) == [(ROOM, f"⏰ Rappel pour {ALICE} : tester le bot")]


@pytest.mark.parametrize(("body", "rule", "first"), [
    ("!rappel le 15 de chaque mois à 10h envoyer la lettre", "chaque mois le 15 à 10h",
     "jeudi 15 janvier 2099 à 10h"),
    ("!rappel chaque mercredi soir à 19h yoga", "chaque mercredi à 19h", "mercredi 7 janvier 2099 à 19h"),
    ("!rappel chaque jour ouvré à 8h café", "chaque jour du lundi au vendredi à 8h",
     "mardi 6 janvier 2099 à 8h"),
    ("!rappel tous les jours sauf le week-end arroser", "chaque jour du lundi au vendredi à 9h",
     "mardi 6 janvier 2099 à 9h"),
    ("!rappel du lundi au vendredi à 8h pointer", "chaque jour du lundi au vendredi à 8h",
     "mardi 6 janvier 2099 à 8h"),
    ("!rappel tous les 15 jours compost", "un mardi sur deux à 9h", "mardi 6 janvier 2099 à 9h"),
    ("!rappel tous les deux mois bilan", "tous les 2 mois le 6 à 9h", "mardi 6 janvier 2099 à 9h"),
    ("!rappel tous les soirs lire", "chaque jour à 18h30", "lundi 5 janvier 2099 à 18h30"),
    ("!rappel tous les matins courir", "chaque jour à 9h", "mardi 6 janvier 2099 à 9h"),
])
async def test_every_repetition_of_the_docs_is_routed_as_one(bot: Harness, body: str, rule: str,
                                                             first: str) -> None:
    reply = await ask(bot, body)
    assert f": {rule} ; le prochain le {first}." in reply, reply


async def test_every_other_week_counts_from_the_first_occurrence(bot: Harness) -> None:
    await ask(bot, "!rappel tous les 15 jours à 18h compost")  # Monday 5 January 2099, 10h
    sent = await run_until(bot, paris(2099, 2, 3))
    assert len(sent) == 3  # 5 January, 19 January, 2 February
    async with bot.db.transaction() as repos:
        reminder = await repos.reminders.get(1)
    assert reminder is not None and reminder.due_at == paris(2099, 2, 16, 18)


async def test_du_matin_is_not_left_in_the_text(bot: Harness) -> None:
    await ask(bot, "!rappel demain 9h du matin appeler la mairie")
    await ask(bot, "!rappel demain 8h 30 min de yoga")
    listed = await ask(bot, "!rappel liste")
    assert "mardi 6 janvier 2099 à 9h : appeler la mairie" in listed
    assert "mardi 6 janvier 2099 à 8h : 30 min de yoga" in listed
