"""``[report.periods]`` and ``[report.indicators]``: read in order, defaults when absent, every
mistake named with its key."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from bot.config import PASSWORD_ENV, parse_settings
from bot.settings import ConfigError
from commands.report_settings import COUNT_KEYS, DEFAULT_INDICATORS, DEFAULT_PERIODS
from commands.reports.indicators import COUNTS, target
from commands.reports.periods import Period

BASE = """
[matrix]
homeserver = "http://localhost:8008"
user_id = "@bot:localhost"
[rooms]
main = "!room:localhost"
"""


def _parse(extra: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    return parse_settings(tomllib.loads(BASE + extra), base=tmp_path, env={PASSWORD_ENV: "pw"})


def _problems(extra: str, tmp_path: Path) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        _parse(extra, tmp_path)
    return {problem.key: problem.message for problem in info.value.problems}


def test_without_a_report_section_the_seeds_figures(tmp_path: Path) -> None:
    report = _parse("", tmp_path).report
    assert report.periods == DEFAULT_PERIODS
    assert report.indicators == DEFAULT_INDICATORS
    by_key = {spec.key: spec for spec in report.indicators}
    phase2 = Period(date(2024, 1, 1), date(2026, 10, 31), "phase2")
    assert target(by_key["rencontres"], Period(date(2025, 1, 1), date(2025, 12, 31))) == 3
    assert target(by_key["rencontres_communes"],
                  Period(date(2025, 1, 1), date(2025, 12, 31))) == 2
    assert target(by_key["mobilisation"], phase2) == 3500
    # 2024 and 2025 whole, 2026 until 31 October (304 of 365 days): 3 + 3 + 2.5
    assert target(by_key["rencontres"], phase2) == 8.5
    assert target(by_key["mobilisation"], Period(date(2025, 1, 1), date(2025, 12, 31))) is None


def test_periods_and_indicators_of_the_config(tmp_path: Path) -> None:
    report = _parse("""
[report.periods]
phase2 = { du = "2024-01-01", au = "2026-10-31", label = "Phase 2" }
contrat = { du = 2019-05-01, au = 2022-05-31 }

[report.indicators.webinaires]
label = "Présences aux webinaires"
counts = "attendance"
kind = "webinaire"
target_per_year = 40

[report.indicators.mobilisation]
label = "Citoyens mobilisés"
counts = "people_mobilised"
target_per_period = { contrat = 3500 }
""", tmp_path).report
    assert [(p.name, p.first, p.last, p.label) for p in report.periods] == [
        ("phase2", date(2024, 1, 1), date(2026, 10, 31), "Phase 2"),
        ("contrat", date(2019, 5, 1), date(2022, 5, 31), "")]
    webinaires, mobilisation = report.indicators
    assert (webinaires.counts, webinaires.kinds, webinaires.target_per_year) == (
        "attendance", ("webinaire",), 40)
    assert target(mobilisation, Period(date(2019, 5, 1), date(2022, 5, 31), "contrat")) == 3500


def test_every_mistake_is_named(tmp_path: Path) -> None:
    problems = _problems("""
[report.periods]
2025 = { du = "2025-01-01", au = "2025-12-31" }
envers = { du = "2026-01-01", au = "2025-01-01" }
phase2 = { du = "2024-01-01", au = "2026-10-31" }

[report.indicators.a]
label = "A"
counts = "everything"

[report.indicators.b]
label = "B"
counts = "participants"
kind = "webinaire"

[report.indicators.c]
label = "C"
counts = "events_held"
target_per_year = -1
target_per_period = { phase9 = 10 }
colour = "vert"
""", tmp_path)
    assert set(problems) == {
        "report.periods.2025", "report.periods.envers", "report.indicators.a.counts",
        "report.indicators.b.kind", "report.indicators.c.target_per_year",
        "report.indicators.c.target_per_period.phase9", "report.indicators.c.colour"}
    assert "events_held" in problems["report.indicators.a.counts"]
    assert "phase2" in problems["report.indicators.c.target_per_period.phase9"]


def test_a_filter_naming_what_the_club_has_not_is_named(tmp_path: Path) -> None:
    """A typo counted nothing, silently: a report sent to the ADEME with a 0."""
    problems = _problems("""
[report.indicators]
a = { label = "A", counts = "attendance", kind = ["webinaire", "webinaires"], territory = "ouest" }
b = { label = "B", counts = "groups_active", status = "actif" }
c = { label = "C", counts = "events_held", kind = "rencontre", territory = "commun" }
""", tmp_path)
    assert set(problems) == {"report.indicators.a.kind", "report.indicators.a.territory",
                             "report.indicators.b.status"}
    assert "webinaires" in problems["report.indicators.a.kind"]
    assert "webinaire," in problems["report.indicators.a.kind"]  # the choices
    assert "nord, sud, commun" in problems["report.indicators.a.territory"]
    assert "en-cours" in problems["report.indicators.b.status"]


def test_every_key_the_config_accepts_is_measured() -> None:
    assert tuple(COUNTS) == COUNT_KEYS


def test_the_example_config_says_the_defaults() -> None:
    example = Path(__file__).parents[2] / "config.example.toml"
    data = tomllib.loads(example.read_text())
    report = parse_settings({**data, "matrix": {**data["matrix"], "password": "x"}},
                            base=example.parent, env={}).report
    assert report.periods == DEFAULT_PERIODS
    assert report.indicators == DEFAULT_INDICATORS


def test_the_example_configs_adoptions_indicator_is_accepted(tmp_path: Path) -> None:
    """The indicator left commented in config.example.toml, once uncommented."""
    example = (Path(__file__).parents[2] / "config.example.toml").read_text()
    block = example[example.index("# [report.indicators.cadre]"):].split("\n\n")[0]
    uncommented = "\n".join(line.removeprefix("# ") for line in block.splitlines())
    [cadre] = _parse(uncommented, tmp_path).report.indicators
    assert (cadre.key, cadre.label, cadre.counts) == (
        "cadre", "Adhésions au cadre de confiance", "charter_adoptions")
