"""Every command, its arguments holding NUL (U+0000) and other control characters, on
PostgreSQL (which refuses NUL in text, where SQLite takes it): the command runs as if they were
not there — no database error, no internal error — and nothing stored holds one.

The table below has a line for every command of the registry (a test fails when one is added
without its line); each starts from the same seeded club — a group, two events (one past), a
date poll, a poll on anything, a proposal, a remontée, a suggestion, a reminder, an action, an
initiative — put back before each command from a snapshot the database keeps of it
(``tests.pg_snapshot``)."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio
from sqlalchemy import text

from bot.clock import FakeClock
from bot.outbox import Outbox
from commands import build_registry
from commands.text import storable
from devtools.postgres import database_url
from storage.db import Database
from storage.models import Base, Meeting
from tests import pg_snapshot
from tests.conftest import PG_ADMIN_DSN, _pg_admin, unavailable
from tests.handlers.conftest import COORDINATOR, START, Harness, make_club, make_harness
from tests.handlers.fakes import FakeTransport

pytestmark = pytest.mark.postgres

N = "\x00"  # NUL, refused by PostgreSQL in text
MARK = f"nul{N}\x01\x7f\x9fmot"  # stored as « nulmot »
STORED = storable(MARK)
SEED = (
    "!rappel demain 9h relancer la mairie",
    "!projet creer Atelier vélo --theme mobilite --territoire sud",
    "!rencontre planifier mardi 13 janvier 18h --territoire sud",
    "!rencontre planifier jeudi 15 janvier 18h --territoire nord",  # n°2, moved to the past
    "!sondage dates Prochaine rencontre | mardi 13 janvier 18h30 | 15/01 18h-20h",
    "!sondage question Quelle couleur ? | rouge | vert",
    "!proposition Acheter une remorque --cloture dans 3 jours",
    "!proposition Planter des haies --cloture dans 3 jours",
    "!proposition cloturer 4",
    "!remontee Une ligne de bus le samedi",
    "!odj proposer Le bilan de l'année",
    "!odj ajouter Accueil --duree 10min",
    "!initiative ajouter Repair café --theme energie --commune Gap",
    "!projet besoin velo un local pour l'hiver",
    "!oublier-moi",
)
AFTER_EVENT_2 = ("!rencontre action 2 @claire:example.org Réparer la pompe",
                 "!rencontre invite 2 Paul Martin")
# A line per command, holding NUL (and the marked text where it takes free text).
LINES = (
    f"!aide proj{N}et",
    f"!ping{N}",
    f"!cadre{N}",
    f"!cadre adherer{N}",
    f"!cadre adhesions --page 1{N}",
    f"!cadre proposer 2 --cloture dans 3 jours\nOn s'écoute {MARK} et on agit.",
    f"!quitter-salon{N}",
    f"!projet liste mobi{N}lite",
    f"!projet info ve{N}lo",
    f"!projet membres ve{N}lo",
    f"!projet historique ve{N}lo",
    f"!projet creer Jardin {MARK} --description {MARK}",
    f"!projet rejoindre ve{N}lo",
    f"!projet quitter ve{N}lo",
    f"!projet avancement velo {MARK}",
    f"!projet besoin velo {MARK}",
    f"!projet statut velo en{N} pause",
    f"!projet modifier velo description {MARK}",
    f"!projet referent velo @claire:example.org retirer{N}",
    f"!projet archiver ve{N}lo",
    f"!projet financement velo 500 Région {MARK}",
    f"!projet salon ve{N}lo",
    f"!mesprojets{N}",
    f"!initiative ajouter Jardin {MARK} --theme energie --commune Gap "
    f"--description {MARK} --contact {MARK}",
    f"!initiative chercher rep{N}air",
    f"!initiative liste ener{N}gie",
    f"!initiative info 1{N}",
    f"!initiative retirer 1{N}",
    f"!sondage dates Rencontre {MARK} | mardi 13 janvier 18h30 | 15/01 18h{N}",
    f"!sondage resultats 1{N}",
    f"!sondage liste{N}",
    f"!sondage choisir 1 1 --titre {MARK} --description {MARK} --lieu {MARK}",
    f"!sondage cloturer 1{N}",
    f"!sondage question Quoi {MARK} ? | a {MARK} | b{N}",
    f"!vote 2 1{N}",
    f"!proposition Planter {MARK} --cloture dans 3 jours",
    f"!proposition resultats 3{N}",
    f"!proposition cloturer 3{N}",
    f"!proposition issue 4 {MARK}",
    f"!position 3 pour {MARK}",
    f"!decisions{N}",
    f"!commenter 1 {MARK}",
    f"!mentions non{N}",
    f"!rencontre liste{N}",
    f"!rencontre info 1{N}",
    f"!rencontre ics 1{N}",
    f"!rencontre present 1{N}",
    f"!rencontre absent 1{N}",
    f"!rencontre peutetre 1{N}",
    f"!rencontre planifier samedi 17 janvier 9h{N} --titre {MARK} "
    f"--description {MARK} --lieu {MARK}",
    f"!rencontre reporter 1 samedi 17 janvier 9h{N} --lieu {MARK}",
    f"!rencontre annuler 1 {MARK}",
    f"!rencontre presences 2 @claire:example.org{N}",
    f"!rencontre compte-rendu 2 {MARK}",
    f"!rencontre modifier 1 --titre {MARK} --lieu {MARK} --description {MARK}",
    f"!rencontre effectif 2 8 élus{N} 14 habitants",
    f"!rencontre invite 2 Jeanne {MARK}; Paul Martin",
    f"!rencontre oublier-invite 2 Paul{N} Martin",
    f"!rencontre feuille 2{N}",
    f"!rencontre action 2 velo {MARK}",
    f"!programme --territoire sud{N}",
    f"!calendrier{N}",
    f"!actions{N}",
    f"!action fait 1{N}",
    f"!action annuler 1{N}",
    f"!rappel demain 9h{N} {MARK}",
    f"!rappel salon demain 9h {MARK}",
    f"!rappel chaque lundi 9h {MARK}",
    f"!rappel liste{N}",
    f"!rappel annuler 1{N}",
    f"!rappel reporter 1 apr{N}ès-demain 9h",
    f"!odj proposer {MARK}",
    f"!odj liste{N}",
    f"!odj soutenir 1{N}",
    f"!odj retirer-soutien 1{N}",
    f"!odj retirer 1{N}",
    f"!odj accepter 1 --animation {MARK}",
    f"!odj refuser 1 {MARK}",
    f"!odj ajouter {MARK} --animation {MARK} --duree 10min",
    f"!odj modifier 1 {MARK}",
    f"!odj deplacer 1 1{N}",
    f"!odj supprimer 1{N}",
    f"!odj tour{N}",
    f"!odj brouillon{N}",
    f"!odj publier{N}",
    f"!remontee {MARK}",
    f"!remontee liste{N}",
    f"!remontee transmettre 1{N}",
    f"!remontee reponse 1 {MARK}",
    f"!remontee soutenir 1{N}",
    f"!remontee retirer-soutien 1{N}",
    f"!stats 20{N}99",
    f"!bilan 20{N}99",
    f"!profil commune {MARK}",
    f"!mes-donnees{N}",
    f"!oublier-moi confirmer{N}",
)
REGISTRY = build_registry()
LINE_OF = {REGISTRY.resolve(storable(line)[1:]).command.key: line for line in LINES}
COMMAND_KEYS = sorted(c.key for c in REGISTRY.walk() if c.handler is not None)


def test_every_command_has_a_line() -> None:
    assert sorted(LINE_OF) == COMMAND_KEYS


def _url(name: str) -> str:
    return database_url(PG_ADMIN_DSN, name)


async def _harness(db: Database) -> Harness:
    transport = FakeTransport()
    clock = FakeClock(START)
    return make_harness(db, clock, transport, Outbox(db, transport, clock), build_registry(),
                        make_club())


async def _seed(db: Database) -> None:
    await db.upgrade()
    bot = await _harness(db)
    for line in SEED:
        await _seeded_by(bot, line)
    async with db.transaction() as repos:  # event n°2 held yesterday
        meeting = await repos.session.get(Meeting, 2)
        assert meeting is not None
        meeting.starts_at = START - timedelta(days=1)
        meeting.ends_at = START - timedelta(days=1, hours=-2)
    for line in AFTER_EVENT_2:
        await _seeded_by(bot, line)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def template() -> AsyncIterator[str]:
    """The URL of a PostgreSQL database seeded once for the module, with its snapshot."""
    name = f"cct_nul_{secrets.token_hex(4)}"
    try:
        await _pg_admin(f'CREATE DATABASE "{name}"')
    except Exception as error:
        unavailable(f"PostgreSQL not reachable at {PG_ADMIN_DSN} ({error})")
    try:
        db = Database(_url(name))
        try:
            await _seed(db)
        finally:
            await db.dispose()
        await pg_snapshot.take(_url(name))
        yield _url(name)
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _seeded_by(bot: Harness, line: str) -> None:
    reply = (await bot.command(line, sender=COORDINATOR))[0].content["body"]
    assert "erreur" not in reply, (line, reply)


@pytest_asyncio.fixture
async def seeded(template: str) -> AsyncIterator[Harness]:
    """A harness on the seeded club, put back from its snapshot."""
    assert await pg_snapshot.put_back(template)
    db = Database(template)
    try:
        bot = await _harness(db)
        bot._ids = itertools.count(1000)  # after the ids of the seed's commands
        yield bot
    finally:
        await db.dispose()


KEPT = tuple(t.name for t in Base.metadata.sorted_tables if t.name not in ("inbox", "outbox"))


async def _stored_texts(db: Database) -> list[str]:
    """Every text value the club's tables hold (not the commands received, nor the messages
    to send: JSON, where a control character is escaped)."""
    found = []
    async with db.transaction() as repos:
        for table in KEPT:
            for row in (await repos.session.execute(text(f'SELECT * FROM "{table}"'))).all():
                found += [value for value in row if isinstance(value, str)]
    return found


@pytest.mark.parametrize("key", COMMAND_KEYS)
async def test_control_characters_in_a_command_change_nothing_but_their_text(
        seeded: Harness, key: str) -> None:
    line = LINE_OF[key]
    sent = await seeded.command(line, sender=COORDINATOR)
    bodies = [str(s.content["body"]) for s in sent if "body" in s.content]
    assert sent, line  # a reply, or a reaction to the command (✅ for a presence)
    for body in bodies:
        assert "erreur interne" not in body, (line, body)
        assert storable(body) == body, (line, body)
    texts = await _stored_texts(seeded.db)
    assert [value for value in texts if storable(value) != value] == []
    if MARK in line:  # the command stored its text, without the control characters
        assert any(STORED in value for value in texts), (line, bodies[0])
