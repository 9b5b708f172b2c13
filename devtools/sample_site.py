"""A small club to show on the public pages (the browser tests, ``scripts/screenshots.py``):
events of several kinds and territories around ``now``, groups with needs and members, a
panorama of initiatives with accented names; some registrations (their names never shown).
``served_site`` serves it on a free loopback port, as both show it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestServer

from commands.context import Club
from commands.i18n import Translator
from commands.initiatives import search_key
from commands.text import fold
from storage.db import Database
from storage.repositories import Repositories
from web.public import Public
from web.server import make_app

PARIS = ZoneInfo("Europe/Paris")
CLUB = Club(
    name="Club Climat et Transition",
    prefix="!",
    language="fr",
    timezone="Europe/Paris",
    charter="",
    welcome_message="",
    version="",
    entrance="#cct:example.org",
    web_url="https://agenda.example.org",
)
COORDINATOR = "@claire.secret:example.org"
RESIDENTS = [f"@habitant{n}.secret:example.org" for n in range(1, 5)]
CONTACT = "06 12 34 56 78"  # an initiative's contact: never published

GROUPS: tuple[
    tuple[str, str, str, str, str, str, list[tuple[str, str]]], ...
] = (  # name, slug, theme, territory, status, description, needs
    (
        "Vélo partagé",
        "velo",
        "mobilite",
        "sud",
        "en-cours",
        "Des vélos à assistance électrique prêtés entre voisins, et un atelier pour les réparer.",
        [
            ("competence", "un ou une mécanicienne pour l'atelier du samedi"),
            ("materiel", "un local fermé pour ranger six vélos"),
        ],
    ),
    (
        "Jardins de Ribérac",
        "jardins",
        "agriculture",
        "nord",
        "en-definition",
        "Un jardin partagé derrière la médiathèque.",
        [("competence", "des jardiniers le mercredi")],
    ),
    ("Isolation collective", "isolation", "energie", "tout", "idee", "", []),
    (
        "Fête de la réparation",
        "reparation",
        "biens-services",
        "sud",
        "realise",
        "Une journée de réparation d'objets chaque printemps.",
        [],
    ),
)
INITIATIVES = (  # name, theme, commune, description, link
    (
        "Épicerie solidaire du Ribéracois",
        "agriculture",
        "Ribérac",
        "Des produits locaux à prix justes, gérés par des bénévoles.",
        "https://epicerie.example.org",
    ),
    (
        "Repair café",
        "biens-services",
        "Périgueux",
        "On répare ensemble petits appareils, vêtements et vélos, un samedi par mois.",
        "",
    ),
    ("Jardin partagé des Mounards", "agriculture", "Périgueux", "", ""),
    (
        "Covoiturage Vallée de l'Isle",
        "mobilite",
        "Mussidan",
        "Une liste de trajets quotidiens à partager.",
        "https://covoit.example.org",
    ),
    (
        "Centrale villageoise",
        "energie",
        "Saint-Astier",
        "Des panneaux solaires sur les toits, financés par les habitants.",
        "",
    ),
)


def _at(now: datetime, days: int, hour: int, minute: int = 0) -> datetime:
    day = now.astimezone(PARIS).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


EVENTS: tuple[tuple[str, int, int, dict[str, Any]], ...] = (  # name, days ahead, hour, details
    ("webinaire", 3, 18, {"kind": "webinaire", "title": "Rénover sa maison", "theme": "energie",
                          "territory": "commun", "capacity": 3,
                          "link": "https://visio.example.org/renovation",
                          "description": "Les aides, les artisans du territoire, et vos questions."}),
    ("atelier", 6, 14, {"kind": "formation", "title": "Réparer son vélo", "theme": "mobilite",
                        "territory": "sud", "capacity": 12, "group": "velo",
                        "place": "Atelier municipal, 4 rue du Pont, Périgueux"}),
    ("rencontre", 10, 18, {"kind": "territoriale", "title": "Rencontre du nord",
                           "territory": "nord", "place": "Salle des fêtes, Ribérac"}),
    ("jardin", 13, 10, {"kind": "groupe", "title": "Plan du jardin", "theme": "agriculture",
                        "territory": "nord", "place": "Médiathèque de Ribérac", "group": "jardins"}),
    ("annulee", 5, 20, {"kind": "echange", "title": "Soirée annulée", "territory": "sud",
                        "place": "Périgueux"}),
)  # fmt: skip


async def seed_site(db: Database, now: datetime) -> dict[str, int]:
    """The club's sample content; its numbers by name (``webinaire``, ``velo``…)."""
    ids: dict[str, int] = {}
    async with db.transaction() as repos:
        await _groups(repos, now, ids)
        await _events(repos, now, ids)
        for name, theme, commune, description, link in INITIATIVES:
            item = await repos.initiatives.add(
                name=name, name_key=fold(name), description=description, theme=theme,
                commune=commune, contact=CONTACT, link=link,
                search_key=search_key(name, description, commune), created_by=COORDINATOR,
                created_at=now)  # fmt: skip
            ids[fold(name).split()[0]] = item.id
    return ids


async def _groups(repos: Repositories, now: datetime, ids: dict[str, int]) -> None:
    for name, slug, theme, territory, status, description, needs in GROUPS:
        group = await repos.groups.create(
            name=name, name_key=fold(name), slug=slug, description=description, theme=theme,
            territory=territory, status=status, created_by=COORDINATOR, at=now)  # fmt: skip
        ids[slug] = group.id
        for user in RESIDENTS[: 1 + len(needs) * 2]:
            await repos.groups.add_member(group.id, user, now, tz=PARIS)
        for kind, text in needs:
            await repos.groups.add_need(group.id, kind, text, COORDINATOR, now)


async def _events(repos: Repositories, now: datetime, ids: dict[str, int]) -> None:
    for name, days, hour, details in EVENTS:
        start = _at(now, days, hour, 30 if name == "webinaire" else 0)
        values = {"place": "", **details}
        if "group" in values:
            values["group_id"] = ids[values.pop("group")]
        meeting = await repos.meetings.create(
            starts_at=start, ends_at=start + timedelta(hours=2), created_by=COORDINATOR, at=now,
            **values)  # fmt: skip
        ids[name] = meeting.id
        if name == "annulee":
            meeting.status = "annulee"
    for user in RESIDENTS[:3]:
        await repos.meetings.set_rsvp(ids["webinaire"], user, "present", now, tz=PARIS)
    await repos.meetings.set_rsvp(ids["webinaire"], RESIDENTS[3], "attente", now, tz=PARIS)
    await repos.meetings.set_rsvp(ids["atelier"], RESIDENTS[0], "present", now, tz=PARIS)


@asynccontextmanager
async def served_site(db: Database, now: Callable[[], datetime],
                      club: Club = CLUB) -> AsyncIterator[tuple[str, dict[str, int]]]:
    """The sample club seeded into ``db`` (upgraded, empty) and its site served on a free
    loopback port: the site's address (``http://127.0.0.1:<port>``) and the sample's numbers."""
    ids = await seed_site(db, now())
    public = Public(db, lambda: club, Translator(club.language), now, club.web_url)
    server = TestServer(make_app(public), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), ids
    finally:
        await server.close()
