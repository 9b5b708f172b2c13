"""The report's content on a seeded three-year club (``tests/report_seed.py``): the indicators
of phase 2 and of each of its years, against their targets; the counting rules of docs/bilan.md;
``!stats`` saying the report's figures for the same period; the periods refused."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest

from bot.cli import main
from commands.i18n import Translator
from commands.report_settings import DEFAULT_INDICATORS
from commands.reports.content import build_report, gather, indicators
from commands.reports.document import ReportDocument
from commands.reports.periods import Period
from tests.handlers.conftest import COORDINATOR, Harness
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.report_seed import PARIS, PHASE2, YEARS, paris, seed

FR = Translator("fr")
PHASE2_PERIOD = Period(date(2024, 1, 1), date(2026, 10, 31), "phase2",
                       "Phase 2 du contrat d'objectifs")


async def report(bot: Harness, period: Period = PHASE2_PERIOD) -> ReportDocument:
    async with bot.db.transaction() as repos:
        club = bot.dispatcher.club
        return await build_report(repos, period, club, FR, club.report)


def actual(document: ReportDocument) -> dict[str, float]:
    return {i.key: i.actual for i in document.indicators}


async def test_phase2s_indicators_against_their_targets(bot: Harness) -> None:
    await seed(bot.db)
    document = await report(bot)
    assert actual(document) == PHASE2
    by_key = {i.key: i for i in document.indicators}
    assert (by_key["rencontres"].target, by_key["rencontres"].behind) == (8.5, True)
    assert (by_key["rencontres_communes"].target, by_key["rencontres_communes"].behind) == (
        5.7, True)
    assert by_key["mobilisation"].target == 3500
    assert round(by_key["mobilisation"].share or 0, 4) == round(79 / 3500, 4)
    assert by_key["participants"].target is None and not by_key["participants"].behind
    assert document.file_stem == "bilan-phase2"
    assert "1 janvier 2024" in document.period_label and "31 octobre 2026" in document.period_label


async def test_each_year_of_the_period_alone(bot: Harness) -> None:
    await seed(bot.db)
    for year, expected in YEARS.items():
        part = Period(date(year, 1, 1), min(date(year, 12, 31), date(2026, 10, 31)))
        async with bot.db.transaction() as repos:
            measures = await gather(repos, part, PARIS)
        found = {i.key: i.actual for i in indicators(DEFAULT_INDICATORS, measures)}
        assert {key: found[key] for key in expected} == expected, year
    document = await report(bot)
    years = {table.key: table for table in document.annex}["annees"]
    assert years.headers[1:] == ("2024", "2025", "2026")
    rows = {row[0]: row[1:] for row in years.rows}
    assert rows["Rencontres du club tenues"] == ("3 / 3", "2 / 3", "1 / 2,5")
    assert rows["Participants (membres du club)"] == (17, 19, 8)


async def test_the_actions_taken_in_words(bot: Harness) -> None:
    await seed(bot.db)
    document = await report(bot)
    sections = {section.title: section for section in document.sections}
    groups = {part.title: part.paragraphs for part in sections["Les groupes-projets"].subsections}
    assert set(groups) == {"Atelier vélo", "Jardin partagé"}  # the archived one did nothing
    velo = "\n".join(groups["Atelier vélo"])
    assert "passé de « idée » à « en cours »" in velo
    assert "réalisé" not in velo  # its change of November 2026 is after the period
    assert "12 vélos réparés" in velo and "Local trouvé" in velo
    assert "Besoin satisfait le 10/01/2025 : Un pied d'atelier" in velo
    assert "12\u202f000 €, Région Sud" in velo
    assert "Dossier LEADER en cours" in velo  # the free text kept as a note
    assert "Chercher un local (faite)" in velo
    jardin = "\n".join(groups["Jardin partagé"])
    assert "1\u202f500,50 €, Commune d'Embrun" in jardin and "Fondation" not in jardin
    remontees = "\n".join(sections["Les remontées aux élus"].paragraphs)
    assert "3 remontées faites, 2 portées aux élus, 1 avec réponse" in remontees
    assert "Le conseil a voté le projet." in remontees
    kinds = {part.title for part in sections["Les événements"].subsections}
    assert kinds == {"Rencontre du club", "Rencontre territoriale", "Webinaire",
                     "Réunion de groupe-projet"}
    annex = {table.key: table for table in document.annex}
    assert set(annex) == {"indicateurs", "evenements", "groupes", "actions", "remontees",
                          "financements", "presences_categories", "presences_territoires",
                          "annees"}
    assert len(annex["evenements"].rows) == 12  # the cancelled one listed, November's not
    assert [row[2] for row in annex["financements"].rows] == ["Région Sud", "Commune d'Embrun"]
    assert all("@" not in str(cell) for table in document.annex for row in table.rows
               for cell in row)  # nobody named
    charts = {chart.key: chart for chart in document.charts}
    assert set(charts) == {"presences", "categories", "territoires", "groupes"}
    assert len(charts["presences"].labels) == 34  # January 2024 to October 2026
    assert sum(sum(s.values) for s in charts["presences"].series) == PHASE2["presences"]


async def test_headcounts_and_named_members_are_never_the_same_person(bot: Harness) -> None:
    """A member named at an event is counted by name, the others by headcount or as guests:
    each person once per event; a member at several events is one participant."""
    await seed(bot.db)
    async with bot.db.transaction() as repos:
        measures = await gather(repos, Period(date(2024, 1, 1), date(2024, 12, 31)), PARIS)
    webinaire = next(e for e in measures.events if e.kind == "webinaire")
    assert (webinaire.named, webinaire.counted, webinaire.guests) == (2, 15, 2)
    assert measures.turnout.total == sum(e.attendance for e in measures.events)  # none cancelled
    assert measures.turnout.members == 10 + 5 + 4 + 2 + 3
    assert sum(measures.participants.values()) == 17  # members 0–13 and 20–22, each once
    assert measures.participants[("nord", "habitant")] == 10


async def test_who_is_a_participant(bot: Harness) -> None:
    """On a seeded year: asking for help or mistyping a command is not taking part; a
    remontée is; a coordinator planning is not."""
    await seed(bot.db)
    bot.clock.set(paris(2025, 6, 1, 10))
    for body, sender in (("!aide", "@curieux:example.org"), ("!bilna", "@distrait:example.org"),
                         ("!projet liste", "@lecteur:example.org"),
                         ("!remontee Des pistes cyclables", "@voix:example.org"),
                         ("!stats 2025", COORDINATOR)):
        await bot.command(body, sender=sender)
    async with bot.db.transaction() as repos:
        measures = await gather(repos, Period(date(2025, 1, 1), date(2025, 12, 31)), PARIS)
    assert sum(measures.participants.values()) == YEARS[2025]["participants"] + 1  # @voix


async def test_stats_says_the_reports_figures(bot: Harness) -> None:
    await seed(bot.db)
    for asked, period in (("phase2", PHASE2_PERIOD),
                          ("--du 2024-01-01 --au 2026-10-31",
                           Period(date(2024, 1, 1), date(2026, 10, 31))),
                          ("2025", Period(date(2025, 1, 1), date(2025, 12, 31)))):
        reply = await bot.reply_to(f"!stats {asked}", sender=COORDINATOR)
        document = await report(bot, period)
        shown = [line for line in reply.splitlines() if line.startswith("- ")]
        for indicator in document.indicators:
            line = next(line for line in shown if line.startswith(f"- {indicator.label} : "))
            value = line.split(" : ", 1)[1].split(" ")[0].replace(",", ".")
            assert float(value) == indicator.actual, (asked, line)
    # !stats 2025: the year's own words
    assert "Participants : 19 cette année, 25 au total (7 nouveaux)" in reply
    assert "⚠️ en retard" in reply  # 2 rencontres of 3


async def test_bilan_posts_the_indicators_of_the_period(bot: Harness) -> None:
    await seed(bot.db)
    summary, *files = await bot.command("!bilan phase2", sender=COORDINATOR)
    reply = summary.content["body"]
    assert "**Indicateurs — Phase 2 du contrat d'objectifs (du 1 janvier 2024" in reply
    assert "- Rencontres du club tenues : 6 (objectif 8,5, 71 %) ⚠️ en retard" in reply
    assert "- Personnes mobilisées : 79 (objectif 3500, 2 %) ⚠️ en retard" in reply
    assert "- Financements obtenus (€) : 13500,5" in reply
    names = [f.content["body"] for f in files]
    assert f"J'envoie ci-dessous les {len(files)} fichiers du bilan." in reply
    assert names[0] == "bilan-phase2.odt"
    assert "bilan-phase2-indicateurs.csv" in names and "bilan-phase2-presences.png" in names


async def test_periods_refused_with_usage(bot: Harness) -> None:
    for body, words in (("!bilan phase9", "Période « phase9 » inconnue"),
                        ("!bilan --du 2026-01-01 --au 2025-01-01", "finit (2025-01-01) avant"),
                        ("!bilan --du 2024-01-01", "Il faut les deux dates"),
                        ("!bilan 2025 --du 2024-01-01 --au 2024-02-01", "pas les deux"),
                        ("!stats --du 2024-13-01 --au 2025-01-01", "n'est pas une date"),
                        ("!bilan 1999", "1er janvier 2000")):
        reply = await bot.reply_to(body, sender=COORDINATOR)
        assert words in reply, (body, reply)
        assert "--du" in reply, reply  # the usage


async def test_the_command_line_refuses_a_period_as_the_chat_does(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[matrix]\nhomeserver = "http://127.0.0.1:1"\nuser_id = "@b:localhost"\n'
                      'password = "x"\n[rooms]\nmain = "#cct:localhost"\n'
                      '[database]\nurl = "sqlite+aiosqlite:///cct.db"\n', encoding="utf-8")
    config.chmod(0o600)  # it holds a password
    for arguments, words in ((["--periode", "phase9"], "Période « phase9 » inconnue"),
                             (["--du", "2026-01-01", "--au", "2025-01-01"], "finit (2025-01-01)")):
        code = await asyncio.to_thread(main, ["export", "bilan", *arguments, "--dir",
                                              str(tmp_path / "out"), "--config", str(config)])
        assert code == 2
        assert words in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


async def test_a_period_starting_within_a_year_never_counts_too_many(bot: Harness) -> None:
    """From 1 June 2025: members 15–19 (first act of 2025 on 18 June) and 0–2 (1 October)
    took part; 10–14 also came on 18 June, but their first act of 2025 was in March, before the
    period: the ledger cannot tell, and they are left out (docs/bilan.md) — never one too many."""
    await seed(bot.db)
    async with bot.db.transaction() as repos:
        measures = await gather(repos, Period(date(2025, 6, 1), date(2025, 12, 31)), PARIS)
        whole = await gather(repos, Period(date(2025, 1, 1), date(2025, 12, 31)), PARIS)
    assert sum(measures.participants.values()) == 5 + 3
    assert sum(measures.newcomers.values()) == 5  # 15–19: their very first act
    assert sum(whole.participants.values()) == YEARS[2025]["participants"]
    assert measures.attendees == 10  # but everyone named at its events held is counted there
