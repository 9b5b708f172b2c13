"""``!rencontre feuille``: a sign-in sheet posted as a CSV file, fetched after the command's
transaction, read and recorded; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from commands.meetings.sheet import read_sheet
from commands.ports import FILE_SIZE_LIMIT, PostedFile
from commands.registry import Role
from tests.handlers.conftest import ALICE, ROOM, Harness, plain, table_snapshot
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.rencontres import ORGANISER, held_event

BOB = "@bob:example.org"
DAVE = "@dave:elsewhere.org"
TABLES = ("meetings", "meeting_attendance", "meeting_headcounts", "meeting_guests", "audit_log")
SHEET = "\r\n".join([
    "Nom;Catégorie;Territoire;Identifiant Matrix",
    f"Alice Martin;habitante;nord;{ALICE}",
    f"Bob;Habitants;Nord;https://matrix.to/#/{BOB}",
    "Maire de Guillestre;élue;nord;",
    "Jeanne Dupont;habitant;sud;",
    ";élu;nord;",
    "Paul Inconnu;ministre;nord;",
    "",
    "Xavier;élu;lune;",
    "Carol;;;@carol",
    f"Dave;;;{DAVE}",
    f"Bob encore;;;{BOB}",
    "<b>Eve</b>;élu;nord;",
    "René Château;autres;hors territoire;",
    "Zoé Sans Catégorie;;;",
]).encode("cp1252")


@pytest.fixture
def bot(build_bot: Callable[..., Harness]) -> Harness:
    harness = build_bot()
    harness.roles[DAVE] = Role.VISITOR
    return harness


def post(bot: Harness, data: bytes, *, name: str = "feuille.csv", sender: str = ORGANISER,
         size: int | None = None) -> None:
    """``sender`` posts a file in the room: the sync saw it; the homeserver holds it."""
    url = f"mxc://example.org/{len(bot.transport.media)}"
    bot.transport.media[url] = data
    bot.matrix.files[ROOM, sender] = PostedFile(
        f"$file{len(bot.transport.media)}", name, "text/csv",
        len(data) if size is None else size, bot.clock.now(), {"url": url})


async def import_sheet(bot: Harness, sender: str = ORGANISER) -> list[str]:
    sent = await bot.command("!rencontre feuille 1", sender=sender)
    return [plain(s) for s in sent]


async def test_a_sheet_names_members_and_guests_and_says_which_lines_were_refused(
        bot: Harness) -> None:
    await held_event(bot)
    post(bot, SHEET)
    fetching, result = await import_sheet(bot)
    assert fetching == "Je lis la feuille « feuille.csv » pour l'événement n°1…"
    assert result.split("\n") == [
        "Feuille d'émargement « feuille.csv », événement n°1 : 13 lignes lues.",
        f"- Sur Matrix, 2 membres notés présents : {ALICE}, {BOB}",
        "- 4 invités notés par leur nom (1 élus, 1 habitants, 1 autres, 1 non renseigné)",
        "Lignes refusées :",
        "- ligne 6 : pas de nom",
        "- ligne 7 : catégorie « ministre » inconnue",
        "- ligne 9 : territoire « lune » inconnu",
        "- ligne 10 : « @carol » n'est pas un identifiant Matrix",
        f"- ligne 11 : {DAVE} n'est pas membre du club",
        f"- ligne 12 : {BOB} est déjà sur une ligne précédente",
        "- ligne 13 : balises HTML ou mention de tout le salon refusées",
        "",
        "Participation : 6 personnes (1 élus, 1 habitants, 1 autres, 3 non renseigné ; "
        "hors territoire 1, nord 2, sud 1, non renseigné 2), dont 2 sur Matrix, 4 invités "
        "nommés et 0 compté."]
    async with bot.db.transaction() as repos:
        assert [a.user_id for a in await repos.meetings.attendance(1)] == [ALICE, BOB]
        assert [(g.name, g.category, g.territory, g.source)
                for g in await repos.attendance.guests(1)] == [
            ("Maire de Guillestre", "elu", "nord", "feuille"),
            ("Jeanne Dupont", "habitant", "sud", "feuille"),
            ("René Château", "autre", "hors", "feuille"),
            ("Zoé Sans Catégorie", "non-renseigne", "nord", "feuille")]
        meeting = await repos.meetings.get(1)
        assert meeting is not None and meeting.status == "tenue"
        entries = [e for e in await repos.audit.entries("meeting", 1) if e.action == "sheet"]
        assert len(entries) == 1 and "Guillestre" not in str(entries[0].details)


async def test_a_new_sheet_replaces_the_previous_sheets_guests_only(bot: Harness) -> None:
    await held_event(bot)
    post(bot, SHEET)
    await import_sheet(bot)
    await bot.command("!rencontre invite 1 Invitée Tapée --categorie elue", sender=ORGANISER)
    utf8 = "\ufeffPrénom,Nom,Catégorie\nÉlise,Brunet,agente\nLéo,\"Martin, fils\",étudiant\n"
    post(bot, utf8.encode("utf-8"), name="emargement-2.csv")
    _, result = await import_sheet(bot)
    assert "- 2 invités notés par leur nom (1 agents, 1 étudiants)" in result
    assert "- Les 4 invités de la feuille précédente sont remplacés." in result
    async with bot.db.transaction() as repos:
        assert [(g.name, g.source) for g in await repos.attendance.guests(1)] == [
            ("Invitée Tapée", "commande"), ("Élise Brunet", "feuille"),
            ("Léo Martin, fils", "feuille")]
        assert [a.user_id for a in await repos.meetings.attendance(1)] == [ALICE, BOB]


async def test_without_a_readable_sheet_nothing_is_recorded(bot: Harness) -> None:
    await held_event(bot)
    before = await table_snapshot(bot.db, TABLES)
    assert await import_sheet(bot) == [
        "Je n'ai pas vu de fichier CSV de votre part dans ce salon (depuis mon dernier "
        "démarrage, dans les 24 dernières heures). Postez la feuille d'émargement (`.csv`), "
        "puis `!rencontre feuille 1`."]
    post(bot, b"x", size=FILE_SIZE_LIMIT + 1)
    assert "est trop gros (1000 Ko au plus)" in (await import_sheet(bot))[0]
    post(bot, b"x" * (FILE_SIZE_LIMIT + 1), size=10)  # the size announced was wrong
    assert "est trop gros" in (await import_sheet(bot))[1]
    post(bot, SHEET)
    bot.transport.media.clear()  # the homeserver no longer gives it
    assert "Je n'ai pas pu lire le fichier" in (await import_sheet(bot))[1]
    post(bot, b"\x00\x01\x02 photo")
    assert "n'est pas une feuille CSV lisible : la première ligne doit nommer les colonnes" in (
        await import_sheet(bot))[1]
    post(bot, "Catégorie;Territoire\nélu;nord\n".encode())
    assert "aucune colonne « nom »" in (await import_sheet(bot))[1]
    post(bot, b'Nom;Territoire\n"Marie' + b" Durand" * 20_000)  # a quote never closed
    assert "n'est pas une feuille CSV lisible : une cellule de plus de" in (
        await import_sheet(bot))[1]
    post(bot, SHEET, sender=BOB)
    assert (await import_sheet(bot, sender=BOB))[0].startswith("Seules l'organisation")
    assert await table_snapshot(bot.db, TABLES) == before


async def test_the_file_is_downloaded_with_no_transaction_open(bot: Harness) -> None:
    """The homeserver may be slow: while the file downloads, another transaction can write
    (on SQLite, a transaction left open would hold the only write lock, and this one would
    wait for it until the deadline); the sheet is then recorded, and the row marked sent."""
    await held_event(bot)
    post(bot, SHEET)
    download = bot.transport.fetch_file
    written: list[str] = []

    async def slow(source: Mapping[str, Any]) -> dict[str, Any]:
        async with asyncio.timeout(5), bot.db.transaction() as repos:
            await repos.state.set("fetch-test", "meanwhile")
        written.append("meanwhile")
        return await download(source)

    bot.transport.fetch_file = slow  # type: ignore[method-assign]
    _, result = await import_sheet(bot)
    assert written == ["meanwhile"]
    assert result.startswith("Feuille d'émargement « feuille.csv », événement n°1")
    async with bot.db.transaction() as repos:
        assert await repos.outbox.pending() == []


def test_sheets_as_spreadsheets_write_them() -> None:
    """Separators, encodings, a BOM, quoted cells, columns in any order, exported formulas."""
    lines = read_sheet("Matrix\tNom\n@a:x\tAnne\n\n'@b:x\t'=Bob\n".encode("utf-16")[2:]
                       .decode("utf-16").encode("utf-8-sig"))
    assert [(line.number, line.name, line.matrix) for line in lines] == [
        (2, "Anne", "@a:x"), (4, "=Bob", "@b:x")]
    lines = read_sheet("Prénom;Nom;Qualité\nÉlise;Brunet;élue\n".encode("cp1252"))
    assert [(line.name, line.category) for line in lines] == [("Élise Brunet", "élue")]
    lines = read_sheet(b'Name,Category,Territory\n"Durand,  Marie",elus,Sud\n')
    assert [(line.name, line.category, line.territory) for line in lines] == [
        ("Durand, Marie", "elus", "Sud")]
    # NUL (refused by PostgreSQL) and the other controls are not kept; CR ends a line.
    lines = read_sheet(b"Nom;Cat\xc3\xa9gorie\rJe\x00anne\x01 Dupont;\x7f\xc2\x9fhabitante\r\n")
    assert [(line.name, line.category) for line in lines] == [("Jeanne Dupont", "habitante")]
