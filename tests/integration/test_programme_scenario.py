"""The club's programme end to end against a real Synapse: the coordinator plans a webinaire with
a link and places, people register until it is full, the one waiting gets the freed place in a
direct message; ``!programme`` shows it; the reminder carries the link, the ``.ics`` its
location, link, description and categories; afterwards the organiser records 22 people (8 élus,
14 habitants) of whom 3 on Matrix, posts the minutes and two actions, and ``!rencontre info``,
``!actions`` and ``!stats`` show them. A group's referent then does the same for the group's
meeting, in the group's room."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from nio import DownloadResponse, RoomMessageFile, RoomMessageNotice

from tests.integration.club_rooms import club_room
from tests.integration.conftest import BotFactory, BotRunner
from tests.integration.future_dates import long_fr, tuesday_ahead
from tests.integration.matrix_user import MatrixUser
from tests.integration.registration import body, register, withdraw
from tests.integration.test_polls import OffsetClock
from tests.integration.test_projects import ask

pytestmark = pytest.mark.integration

PARIS = ZoneInfo("Europe/Paris")
DAY = tuesday_ahead(weeks=1) + timedelta(days=2)  # a Thursday 9 to 15 days ahead
DUE = DAY + timedelta(days=14)  # the actions' date


def at(day: Any, hour: int, minute: int = 0) -> timedelta:
    """The clock's offset that makes it ``day`` at ``hour:minute`` in Paris now."""
    return datetime.combine(day, time(hour, minute), PARIS) - datetime.now(UTC)


@dataclass
class Club:
    runner: BotRunner
    clock: OffsetClock
    chargee: MatrixUser  # the coordinator
    alice: MatrixUser  # the group's referent
    bob: MatrixUser  # an élu
    carol: MatrixUser  # a habitante
    dave: MatrixUser  # a habitant, who waits for a place
    main: str
    group_room: str = ""
    direct: str = ""  # Dave's direct room with the bot


@dataclass
class Event:
    number: int
    heading: str
    organiser: MatrixUser
    room: str
    link: str
    hour: int
    plan: str  # the ``!rencontre planifier`` line
    named: str = ""  # the heading where no audience follows it: a group's event names its group

    @property
    def alone(self) -> str:
        return self.named or self.heading


async def start_club(bot_factory: BotFactory, users: Any) -> Club:
    people = [await users(name) for name in ("chargee", "alice", "bob", "carol", "dave")]
    chargee = people[0]
    clock = OffsetClock()
    runner, main = await club_room(bot_factory, chargee, people[1:], clock,
                                   matrix={"encryption": False, "catch_up_minutes": 43200})
    alice, bob, carol, dave = people[1:]
    club = Club(runner, clock, chargee, alice, bob, carol, dave, main)
    for person, category in ((club.bob, "elu"), (club.carol, "habitant"),
                             (club.dave, "habitant")):
        assert "Merci" in (await ask(person, main, f"!profil categorie {category}")).body
    return club


async def open_group(club: Club) -> None:
    """Alice creates the group Atelier vélo (its referent), the others join; its room opens."""
    assert "créé" in (await ask(club.alice, club.main, "!projet creer Atelier vélo")).body
    for person in (club.bob, club.carol, club.dave):
        assert "rejoint" in (await ask(person, club.main, "!projet rejoindre velo")).body
    await ask(club.alice, club.main, "!projet salon velo", timeout=60)
    made = await club.alice.wait_for(club.main, lambda e: isinstance(e, RoomMessageNotice)
                                     and e.body.startswith("Salon créé : "), timeout=60)
    match = re.search(r'href="https://matrix\.to/#/(![^"]+)"',
                      made.source["content"]["formatted_body"])
    assert match, made.source
    club.group_room = match.group(1)
    for person in (club.alice, club.bob, club.carol, club.dave):
        await person.wait_membership(club.group_room, person.user_id, "invite", timeout=60)
        await person.join(club.group_room)


async def plan_and_fill(club: Club, event: Event) -> None:
    """Planned and announced with its link and places; Bob and Carol take the two places, Dave
    waits; Bob withdraws and Dave is told in a direct message."""
    n, room = event.number, event.room
    planned = await ask(event.organiser, room, event.plan)
    assert planned.body.startswith(f"C'est planifié : {event.heading}"), planned.body
    announced = await club.bob.wait_for(room, lambda e: body(e).startswith(
        f"📅 {event.heading}"), timeout=60)
    assert event.link in body(announced), body(announced)
    assert "Places : 2, sur inscription" in body(announced), body(announced)
    assert f"Organisation : {event.organiser.user_id}" in body(announced), body(announced)
    assert f"rencontre inscrire {n}" in body(announced), body(announced)

    for person in (club.bob, club.carol):
        await register(person, room, n)
    await register(club.dave, room, n, waiting=True)
    seen = body(await ask(event.organiser, room, f"!rencontre info {n}"))
    assert "2 inscrits sur 2, 0 libre, 1 en attente" in seen and seen.count("Places :") == 1, seen
    assert f"liste d'attente : {club.dave.user_id}" in seen, seen  # the organiser sees names
    assert club.dave.user_id not in body(await ask(club.carol, room, f"!rencontre info {n}"))

    club.direct, told = await withdraw(club.bob, club.dave, room, n, direct=club.direct,
                                       besides={club.main, club.group_room},
                                       about=event.alone)
    assert event.link in body(told), body(told)
    seen = body(await ask(event.organiser, room, f"!rencontre info {n}"))
    assert "2 inscrits sur 2, 0 libre, 0 en attente" in seen, seen


async def check_calendar(club: Club, event: Event, location: str, categories: set[str],
                         described: str) -> None:
    """``!rencontre ics`` posts the file: location, the link as URL, description, categories."""
    name = f"rencontre-{event.number}.ics"

    def files() -> list[Any]:
        return [e for e in club.carol.events.get(event.room, [])
                if isinstance(e, RoomMessageFile) and e.body == name]
    before = len(files())
    await ask(club.carol, event.room, f"!rencontre ics {event.number}")
    await club.carol.wait_for(event.room, lambda e: len(files()) > before, timeout=60)
    downloaded = await club.carol.client.download(files()[-1].url)
    assert isinstance(downloaded, DownloadResponse), downloaded
    vevent = next(c for c in icalendar.Calendar.from_ical(downloaded.body).walk()
                  if c.name == "VEVENT")
    assert str(vevent["location"]) == location
    assert str(vevent["url"]) == event.link
    assert described in str(vevent["description"]) and event.link in str(vevent["description"])
    kinds: Any = vevent["categories"]
    assert set(kinds.cats) == categories, kinds.cats
    assert vevent.decoded("dtstart") == datetime.combine(DAY, time(event.hour), PARIS)


async def check_programme(club: Club, webinaire: Event, meeting: Event) -> None:
    """Both coming events by month, full; filtered by kind and by group."""
    shown = body(await ask(club.carol, club.main, "!programme"))
    assert "Le programme du club : 2 événements à venir" in shown, shown
    for event in (webinaire, meeting):
        line = next((x for x in shown.splitlines() if event.heading in x), "")
        assert "complet (liste d'attente)" in line and long_fr(DAY) in line, shown
    by_kind = body(await ask(club.carol, club.main, "!programme --type webinaire"))
    assert webinaire.heading in by_kind and meeting.heading not in by_kind, by_kind
    by_group = body(await ask(club.carol, club.main, "!programme --groupe velo"))
    assert meeting.heading in by_group and webinaire.heading not in by_group, by_group


async def remind(club: Club, event: Event, place: str | None) -> None:
    """The day before, at its hour: the reminder in its room, with its place and link."""
    club.clock.offset = at(DAY - timedelta(days=1), event.hour, 1)
    assert club.runner.bot is not None
    await club.runner.bot.scheduler.fire("reminders", 0)
    reminded = await club.carol.wait_for(event.room, lambda e: body(e).startswith(
        f"📅 {event.alone} dans 1 jour(s) :"), timeout=60)
    text = body(reminded)
    assert "(en retard)" not in text, text
    assert (f"Lieu : {place}" in text) if place else ("Lieu" not in text), text
    assert f"En ligne : <{event.link}>" in text, text
    assert f"rencontre inscrire {event.number}" in text, text


async def record(club: Club, event: Event, actions: list[tuple[str, str]]) -> None:
    """After it: 3 members on Matrix and 19 counted make 22 (8 élus, 14 habitants); the minutes
    posted in its room; two actions."""
    n, room, organiser = event.number, event.room, event.organiser
    named = " ".join(p.user_id for p in (club.bob, club.carol, club.dave))
    saved = await ask(organiser, room, f"!rencontre presences {n} {named}")
    assert saved.body.startswith(f"Rencontre n°{n} tenue : 3 personnes venues"), saved.body
    counted = body(await ask(organiser, room, f"!rencontre effectif {n} 7 élus 12 habitants"))
    assert "(19 personnes sans Matrix)" in counted, counted
    seen = body(await ask(club.carol, room, f"!rencontre info {n}"))
    assert "Participation : 22 personnes (8 élus, 14 habitants ;" in seen, seen
    assert "dont 3 sur Matrix, 0 invité nommé et 19 comptés." in seen, seen

    pad = f"https://pad.example.org/cr-{n}"
    reply = await ask(organiser, room, f"!rencontre compte-rendu {n} {pad}")
    assert "Publié dans 1 salon de la rencontre" in reply.body, reply.body
    posted = await club.carol.wait_for(room, lambda e: body(e).startswith(
        f"📝 Compte-rendu — {event.alone}"), timeout=60)
    assert posted.sender == club.runner.user_id and pad in body(posted), body(posted)
    for who, what in actions:
        line = f"!rencontre action {n} {who} {what} --pour {long_fr(DUE)}"
        recorded = await ask(organiser, room, line)
        assert f"(rencontre n°{n}) : « {what} »" in recorded.body, recorded.body


async def test_a_webinaire_and_a_group_meeting_from_planning_to_stats(bot_factory: BotFactory,
                                                                      users: Any) -> None:
    club = await start_club(bot_factory, users)
    await open_group(club)
    webinaire = Event(
        1, "Webinaire n°1 — Rénover sa maison", club.chargee, club.main,
        "https://visio.example.org/renovation", 18,
        f"!rencontre planifier {long_fr(DAY)} 18h-20h --type webinaire --titre Rénover sa maison "
        "--theme énergie --description Les aides et les artisans du territoire "
        "--lien https://visio.example.org/renovation --places 2")
    meeting = Event(
        2, "Réunion de groupe-projet n°2 — Réparer ensemble", club.alice, club.group_room,
        "https://visio.example.org/velo", 10,
        f"!rencontre planifier {long_fr(DAY)} 10h --titre Réparer ensemble --lieu Local vélo "
        "--lien https://visio.example.org/velo --places 2",
        named="Réunion de groupe-projet n°2 (Atelier vélo) — Réparer ensemble")
    refused = await ask(club.bob, club.group_room, meeting.plan)  # a member, not a referent
    assert refused.body.startswith("Seuls les référents de n°1 Atelier vélo"), refused.body
    await plan_and_fill(club, webinaire)
    await plan_and_fill(club, meeting)
    await check_programme(club, webinaire, meeting)
    await check_calendar(club, webinaire, webinaire.link, {"Webinaire", "énergie"},
                         "Les aides et les artisans du territoire")
    await check_calendar(club, meeting, "Local vélo", {"Réunion de groupe-projet"},
                         "Réunion de groupe-projet n°2")

    await remind(club, meeting, "Local vélo")
    await remind(club, webinaire, None)  # online only

    club.clock.offset = at(DAY, 21)  # both have taken place
    assert "Rien au programme" in (await ask(club.carol, club.main, "!programme")).body
    await record(club, webinaire, [(club.bob.user_id, "Envoyer les diapositives"),
                                   ("velo", "Tester le parcours vélo-école")])
    stats = body(await ask(club.chargee, club.main, "!stats"))
    assert "22 personnes comptées aux événements (dont 19 sans Matrix)" in stats, stats
    await record(club, meeting, [(club.carol.user_id, "Demander le local à la mairie"),
                                 ("velo", "Acheter des chambres à air")])
    listed = body(await ask(club.dave, club.main, "!actions"))
    assert "Actions en cours : 4" in listed, listed
    for what in ("n°1 Envoyer les diapositives", "n°2 Tester le parcours vélo-école",
                 "n°3 Demander le local à la mairie", "n°4 Acheter des chambres à air"):
        assert what in listed, listed
    of_group = body(await ask(club.dave, club.group_room, "!actions --groupe velo"))
    assert "Actions en cours : 2" in of_group, of_group
    stats = body(await ask(club.chargee, club.main, "!stats"))
    assert "44 personnes comptées aux événements (dont 38 sans Matrix)" in stats, stats
    assert "Rencontres : 2 tenues, 44 présences" in stats, stats
    in_main = [body(e) for e in club.carol.events[club.main]]
    announced = [text for text in in_main if text.startswith(f"📅 {meeting.heading}")]
    assert not announced, announced  # announced and reminded in the group's room only
