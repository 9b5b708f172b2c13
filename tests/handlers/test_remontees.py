"""``!remontee`` end to end on SQLite and PostgreSQL, and the council's digest
(``cct-bot export remontees --format md``)."""

from __future__ import annotations

import asyncio
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from commands.agenda.remontees import export_markdown
from commands.context import Place
from commands.i18n import Translator
from tests.handlers.conftest import ALICE, COORDINATOR, ROOM, Harness, offline_config
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.test_agenda import BOB, NORTH, PARIS, ask, bot, plain, refused  # noqa: F401


async def raise_some(bot: Harness) -> None:  # noqa: F811
    assert (await ask(bot, "!remontee Un abri vélo sécurisé à la gare", ALICE)).startswith(
        "Remontée n°1 enregistrée")
    await ask(bot, "!remontee Plus de bus le samedi", BOB, room_id=NORTH)
    await ask(bot, "!feedback Compost collectif au centre", BOB)


async def test_anyone_raises_and_lists(bot: Harness) -> None:  # noqa: F811
    await raise_some(bot)
    listing = await ask(bot, "!remontee liste", ALICE)
    assert listing.startswith("À transmettre (3)\n- n°1 Un abri vélo sécurisé à la gare\n"
                              "- n°2 Plus de bus le samedi\n")
    assert "example.org" not in listing and "auteurs" not in listing
    async with bot.db.transaction() as repos:
        row = await repos.remontees.get(2)
        assert row is not None and (row.author, row.room_id, row.status) == (BOB, NORTH, "nouvelle")
        assert [e.action for e in await repos.audit.entries("remontee", 2)] == ["raised"]


async def test_authors_are_shown_to_coordinators_in_a_direct_message_only(
        bot: Harness) -> None:  # noqa: F811
    await raise_some(bot)
    direct = "!dm-claire:example.org"
    bot.places[direct] = Place.DIRECT
    for room in (ROOM, NORTH):
        listing = await ask(bot, "!remontee liste", COORDINATOR, room_id=room)
        assert "example.org" not in listing, room
        assert listing.endswith("ne sont montrés qu'à la coordination, en message privé avec moi._")
    listing = await ask(bot, "!remontee liste", COORDINATOR, room_id=direct)
    assert "n°1 Un abri vélo sécurisé à la gare — @alice:example.org" in listing
    assert "n°2 Plus de bus le samedi — @bob:example.org" in listing
    bot.places["!dm-alice:example.org"] = Place.DIRECT
    listing = await ask(bot, "!remontee liste", ALICE, room_id="!dm-alice:example.org")
    assert "example.org" not in listing  # a member, even in private


async def test_empty_list_and_bad_text(bot: Harness) -> None:  # noqa: F811
    assert (await ask(bot, "!remontee liste")).startswith("Aucune remontée pour l'instant")
    assert "Il manque" in await refused(bot, "!remontee", ALICE)
    assert "room » n'est pas permis ici" in await refused(bot, "!remontee Prévenez @room", ALICE)


async def test_transmit_marks_them_sent_with_the_date(bot: Harness) -> None:  # noqa: F811
    await raise_some(bot)
    reply = await ask(bot, "!remontee transmettre 1, 3")
    assert reply == ("2 remontée(s) notée(s) comme transmise(s) au conseil le lundi 5 janvier "
                     "2099 : n°1, n°3.")
    async with bot.db.transaction() as repos:
        row = await repos.remontees.get(3)
        assert row is not None
        assert (row.status, row.sent_at, row.sent_by) == ("transmise", bot.clock.now(),
                                                          COORDINATOR)
    assert "déjà été transmise (le lundi 5 janvier 2099)" in await refused(
        bot, "!remontee transmettre 2 3")
    assert "Pas de remontée n°9" in await refused(bot, "!remontee transmettre 2 9")
    assert "coordination" in (await refused(bot, "!remontee transmettre 2", ALICE)).lower()
    listing = await ask(bot, "!remontee liste", ALICE)
    assert "Transmises, en attente de réponse (2)" in listing
    assert "n°1 Un abri vélo sécurisé à la gare — transmise le lundi 5 janvier 2099" in listing


async def test_answer_is_posted_where_it_was_raised_and_tells_the_author(
        bot: Harness) -> None:  # noqa: F811
    await raise_some(bot)
    await ask(bot, "!remontee transmettre 2")
    sent = await bot.command("!remontee reponse 2 Une ligne le samedi dès mars.",
                             sender=COORDINATOR)
    assert plain(sent[0]) == ("Je publie la réponse à la remontée n°2 dans le salon où elle a "
                              "été faite, en prévenant son auteur·e.")
    assert sent[1].room_id == NORTH
    assert plain(sent[1]) == ("@bob:example.org, le conseil a répondu à votre remontée n°2 « Plus "
                              "de bus le samedi » : Une ligne le samedi dès mars.")
    assert sent[1].content["m.mentions"] == {"user_ids": [BOB]}
    assert "a déjà reçu sa réponse" in await refused(bot, "!remontee reponse 2 encore")
    assert "a déjà reçu sa réponse" in await refused(bot, "!remontee transmettre 2")
    assert "Pas de remontée n°7" in await refused(bot, "!remontee reponse 7 non")
    assert "coordination" in (await refused(bot, "!remontee reponse 1 oui", ALICE)).lower()
    # Raised in this room: the reply itself is the answer, mentioning its author.
    same = await bot.command("!remontee reponse 1 Étude en cours.", sender=COORDINATOR)
    assert len(same) == 1 and same[0].room_id == ROOM
    assert ALICE in same[0].content["m.mentions"]["user_ids"]
    async with bot.db.transaction() as repos:
        row = await repos.remontees.get(1)
        assert row is not None and (row.status, row.answer, row.sent_at) == (
            "repondue", "Étude en cours.", None)


def test_export_markdown_groups_by_status() -> None:
    from storage.models import Remontee

    at = datetime(2099, 1, 5, 9, 0, tzinfo=UTC)
    rows = [Remontee(id=1, author=ALICE, room_id=ROOM, text="Abri *vélo*", status="nouvelle",
                     created_at=at, answer=""),
            Remontee(id=2, author=BOB, room_id=ROOM, text="Bus", status="transmise",
                     created_at=at, sent_at=at + timedelta(days=1), answer=""),
            Remontee(id=3, author=BOB, room_id=ROOM, text="Compost", status="repondue",
                     created_at=at, sent_at=at, answered_at=at + timedelta(days=2),
                     answer="Oui,\nen mars")]
    text = export_markdown(rows, Translator("fr"), "CCT", at, PARIS)
    assert text.startswith("# Remontées aux élus — CCT\n\nAu lundi 5 janvier 2099.\n")
    assert "## À transmettre (1)\n\n- **n°1** (lundi 5 janvier 2099) : Abri \\*vélo\\*" in text
    assert "example.org" not in text  # a digest for the council: no resident named
    assert "## Transmises, en attente de réponse (1)" in text
    assert "  transmise le mardi 6 janvier 2099" in text
    assert "## Répondues (1)" in text and "  réponse du mercredi 7 janvier 2099 : Oui, en mars" in text
    assert text.index("À transmettre") < text.index("Transmises") < text.index("Répondues")
    assert "Aucune remontée." in export_markdown([], Translator("fr"), "CCT", at, PARIS)


async def test_export_command_line(bot: Harness, tmp_path: Path) -> None:  # noqa: F811
    await raise_some(bot)
    await ask(bot, "!remontee transmettre 1")
    config = offline_config(tmp_path, bot.db.url)
    out = tmp_path / "remontees.md"
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "bot.cli", "export", "remontees", "--format", "md",
                         "--config", str(config), "--output", str(out)],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    text = out.read_text(encoding="utf-8")
    assert "## À transmettre (2)" in text and "## Transmises, en attente de réponse (1)" in text
    assert "Plus de bus le samedi" in text
