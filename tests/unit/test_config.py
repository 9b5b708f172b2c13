"""bot.config: typed settings, every problem reported at once with its key, in French."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.club import reminder_rules
from bot.config import ACCESS_TOKEN_ENV, PASSWORD_ENV, load_settings, parse_settings
from bot.settings import ConfigError
from commands.categories import DEFAULT_CATEGORIES
from commands.event_kinds import DEFAULT_EVENT_KINDS

GOOD = """
[matrix]
homeserver = "https://matrix.example.org/"
user_id = "@cct-bot:example.org"
password = "s3cret"

[database]
url = "sqlite+aiosqlite:///data/cct.db"

[club]
name = "Club Climat et Transition de Test"
coordinators = ["@claire:example.org", "@marc:example.org"]
allowed_inviters = ["@claire:example.org", ":example.org"]
welcome_message = "Bienvenue !"
charter = "Bienveillance et écoute."

[rooms]
main = "!abcdef:example.org"
north = "#nord:example.org"
south = "!xG42d7_QiMsPf_5pLMBr86S405uKU0bQ2Is-kjwByS4"
announcements = "#annonces:example.org"
"""

# Every line below is wrong in its own way; each must be reported, with its key.
BAD = """
[matrix]
homeserver = "matrix.example.org"
user_id = "cct-bot"
device_id = "pas valide !"
catch_up_minutes = "beaucoup"
encryption = "oui"
typo_key = 1

[database]
url = "mysql://localhost/cct"

[club]
language = "de"
timezone = "Europe/Lutece"
prefix = "ab"
coordinators = "@claire:example.org"
allowed_inviters = ["claire"]
charter = "texte"
charter_file = "absent.md"
coordinator_power_level = 500

[rooms]
main = "salon-principal"
north = "nord"

[logging]
level = "BAVARD"
format = "xml"

[mystery]
x = 1
"""

BAD_KEYS = {
    "matrix.homeserver", "matrix.user_id", "matrix.password", "matrix.device_id",
    "matrix.catch_up_minutes", "matrix.encryption", "matrix.typo_key", "database.url",
    "club.language", "club.timezone", "club.prefix", "club.coordinators",
    "club.allowed_inviters", "club.charter_file", "club.coordinator_power_level", "rooms.main",
    "rooms.north", "logging.level", "logging.format", "mystery",
}


def _parse(text: str, base: Path, env: dict[str, str] | None = None) -> Any:
    return parse_settings(tomllib.loads(text), base=base, env=env or {})


def _problems(text: str, base: Path, env: dict[str, str] | None = None) -> dict[str, list[str]]:
    with pytest.raises(ConfigError) as info:
        _parse(text, base, env)
    found: dict[str, list[str]] = {}
    for problem in info.value.problems:
        found.setdefault(problem.key, []).append(problem.message)
    return found


def test_good_config_parses_with_defaults(tmp_path: Path) -> None:
    settings = _parse(GOOD, tmp_path)
    assert settings.matrix.homeserver == "https://matrix.example.org"
    assert settings.matrix.user_id == "@cct-bot:example.org"
    assert settings.matrix.password == "s3cret"
    assert settings.matrix.access_token == ""
    assert settings.matrix.device_id == "CCTBOT"
    assert settings.matrix.catch_up_minutes == 1440
    assert settings.matrix.encryption is True
    assert settings.club.timezone == "Europe/Paris"
    assert str(settings.club.tz) == "Europe/Paris"
    assert settings.club.language == "fr"
    assert settings.club.prefix == "!"
    assert settings.club.coordinators == ("@claire:example.org", "@marc:example.org")
    assert settings.club.allowed_inviters == ("@claire:example.org", ":example.org")
    assert settings.club.charter == "Bienveillance et écoute."
    assert settings.rooms.configured() == {
        "main": "!abcdef:example.org",
        "north": "#nord:example.org",
        "south": "!xG42d7_QiMsPf_5pLMBr86S405uKU0bQ2Is-kjwByS4",
        "announcements": "#annonces:example.org",
    }
    assert settings.log_level == "INFO"
    assert settings.log_format == "text"


def test_minimal_config_defaults(tmp_path: Path) -> None:
    text = """
[matrix]
homeserver = "http://localhost:8008"
user_id = "@bot:localhost"
[rooms]
main = "!room:localhost"
"""
    settings = _parse(text, tmp_path, {PASSWORD_ENV: "pw"})
    assert settings.club.name == "Club Climat et Transition"
    assert settings.club.coordinators == ()
    assert settings.club.charter == ""
    assert settings.rooms.configured() == {"main": "!room:localhost"}
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'cct.db'}"
    assert settings.matrix.store_path == tmp_path / "data" / "store"


def test_room_version_12_ids_without_server_part_are_accepted(tmp_path: Path) -> None:
    text = GOOD.replace('main = "!abcdef:example.org"',
                        'main = "!xG42d7_QiMsPf_5pLMBr86S405uKU0bQ2Is-kjwByS4"')
    settings = _parse(text, tmp_path)
    assert settings.rooms.main == "!xG42d7_QiMsPf_5pLMBr86S405uKU0bQ2Is-kjwByS4"


def test_secrets_from_environment(tmp_path: Path) -> None:
    text = GOOD.replace('password = "s3cret"\n', "")
    settings = _parse(text, tmp_path, {PASSWORD_ENV: "from-env"})
    assert settings.matrix.password == "from-env"
    assert settings.matrix.access_token == ""
    settings = _parse(text, tmp_path, {ACCESS_TOKEN_ENV: "syt_token"})
    assert settings.matrix.access_token == "syt_token"
    assert settings.matrix.password == ""
    # The file wins over the environment when both are set.
    settings = _parse(GOOD, tmp_path, {PASSWORD_ENV: "from-env"})
    assert settings.matrix.password == "s3cret"


def test_no_secret_at_all_is_a_problem_naming_both_variables(tmp_path: Path) -> None:
    text = GOOD.replace('password = "s3cret"\n', "")
    problems = _problems(text, tmp_path, {})
    assert set(problems) == {"matrix.password"}
    message = problems["matrix.password"][0]
    assert PASSWORD_ENV in message and ACCESS_TOKEN_ENV in message
    assert "mot de passe" in message


def test_relative_paths_resolved_from_the_config_folder(tmp_path: Path) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    (folder / "charte.md").write_text("  Notre charte.\n", encoding="utf-8")
    text = (GOOD.replace('charter = "Bienveillance et écoute."', 'charter_file = "charte.md"')
            .replace('password = "s3cret"', 'password = "s3cret"\nstore_path = "state/store"'))
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    settings = load_settings(path, env={})
    assert settings.matrix.store_path == folder / "state" / "store"
    assert settings.database_url == f"sqlite+aiosqlite:///{folder / 'data' / 'cct.db'}"
    assert settings.club.charter == "Notre charte."
    assert settings.source == path


def test_absolute_and_postgres_urls_left_alone(tmp_path: Path) -> None:
    absolute = GOOD.replace("sqlite+aiosqlite:///data/cct.db", "sqlite+aiosqlite:////var/lib/cct.db")
    assert _parse(absolute, tmp_path).database_url == "sqlite+aiosqlite:////var/lib/cct.db"
    pg = GOOD.replace("sqlite+aiosqlite:///data/cct.db", "postgresql+asyncpg://u@db/cct")
    assert _parse(pg, tmp_path).database_url == "postgresql+asyncpg://u@db/cct"


def test_bad_file_reports_every_problem_with_its_key(tmp_path: Path) -> None:
    problems = _problems(BAD, tmp_path, {})
    assert set(problems) == BAD_KEYS


def test_bad_file_messages_are_french_and_quote_the_value(tmp_path: Path) -> None:
    problems = _problems(BAD, tmp_path, {})
    assert "matrix.example.org" in problems["matrix.homeserver"][0]
    assert "adresse" in problems["matrix.homeserver"][0]
    assert "identifiant Matrix" in problems["matrix.user_id"][0]
    assert "langue inconnue" in problems["club.language"][0]
    assert "fr" in problems["club.language"][0] and "en" in problems["club.language"][0]
    assert "fuseau horaire" in problems["club.timezone"][0]
    assert "préfixe" in problems["club.prefix"][0]
    assert "salon" in problems["rooms.main"][0]
    assert "section inconnue" in problems["mystery"][0]
    assert "clé inconnue" in problems["matrix.typo_key"][0]
    assert "liste" in problems["club.coordinators"][0]
    assert "entre 1 et 100" in problems["club.coordinator_power_level"][0]
    # Both charter problems are under club.charter_file: "both set" and "unreadable".
    charter = " ".join(problems["club.charter_file"])
    assert "tous deux" in charter and "illisible" in charter and "absent.md" in charter


def test_config_error_text_lists_every_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        _parse(BAD, tmp_path)
    lines = str(info.value).splitlines()
    assert len(lines) == len(info.value.problems) >= len(BAD_KEYS)
    assert {line.split(":", 1)[0] for line in lines} == BAD_KEYS


@pytest.mark.parametrize(
    ("key", "line"),
    [
        ("matrix.homeserver", 'homeserver = "ftp://example.org"'),
        ("matrix.homeserver", 'homeserver = "https://"'),
        ("matrix.user_id", 'user_id = "@Bot Name:example.org"'),
        ("matrix.user_id", 'user_id = "@bot"'),
        ("matrix.catch_up_minutes", "catch_up_minutes = -1"),
        ("matrix.catch_up_minutes", "catch_up_minutes = true"),
        ("matrix.sync_timeout_ms", "sync_timeout_ms = 10"),
    ],
)
def test_single_matrix_problem(tmp_path: Path, key: str, line: str) -> None:
    name = line.split(" = ")[0]
    lines = [ln for ln in GOOD.splitlines() if not ln.startswith(f"{name} =")]
    text = "\n".join(lines).replace("[matrix]", f"[matrix]\n{line}")
    assert set(_problems(text, tmp_path)) == {key}


@pytest.mark.parametrize("prefix", ["", "a", "!!!!", "! !", "1", "é"])
def test_bad_prefixes(tmp_path: Path, prefix: str) -> None:
    text = GOOD.replace("[club]", f'[club]\nprefix = "{prefix}"')
    assert set(_problems(text, tmp_path)) == {"club.prefix"}


@pytest.mark.parametrize("prefix", ["!", "?", "!!", "$$$"])
def test_good_prefixes(tmp_path: Path, prefix: str) -> None:
    text = GOOD.replace("[club]", f'[club]\nprefix = "{prefix}"')
    assert _parse(text, tmp_path).club.prefix == prefix


def test_english_club_gets_english_messages_and_settings(tmp_path: Path) -> None:
    text = GOOD.replace("[club]", '[club]\nlanguage = "en"\ntimezone = "America/Montreal"')
    settings = _parse(text, tmp_path)
    assert settings.club.language == "en"
    assert settings.club.timezone == "America/Montreal"
    problems = _problems(text.replace('main = "!abcdef:example.org"', 'main = "x"'), tmp_path)
    assert "room" in problems["rooms.main"][0]
    assert "salon" not in problems["rooms.main"][0]


def test_unreadable_charter_file(tmp_path: Path) -> None:
    text = GOOD.replace('charter = "Bienveillance et écoute."', 'charter_file = "nope/charte.md"')
    problems = _problems(text, tmp_path)
    assert set(problems) == {"club.charter_file"}
    assert "illisible" in problems["club.charter_file"][0]


def test_charter_file_not_utf8_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "charte.md").write_bytes("Charte en latin-1 : é".encode("latin-1"))
    text = GOOD.replace('charter = "Bienveillance et écoute."', 'charter_file = "charte.md"')
    problems = _problems(text, tmp_path)
    assert set(problems) == {"club.charter_file"}


def test_charter_version_defaults_to_one_and_is_a_short_label(tmp_path: Path) -> None:
    assert _parse(GOOD, tmp_path).club.charter_version == "1"
    text = GOOD.replace("[club]\n", '[club]\ncharter_version = "2026-03"\n')
    assert _parse(text, tmp_path).club.charter_version == "2026-03"
    for bad in ('"deux mots"', '""', '"' + "x" * 65 + '"', "2"):
        problems = _problems(GOOD.replace("[club]\n", f"[club]\ncharter_version = {bad}\n"),
                             tmp_path)
        assert set(problems) == {"club.charter_version"}, bad
    example = tomllib.loads((Path(__file__).parents[2] / "config.example.toml").read_text())
    assert example["club"]["charter_version"] == "1"


def test_section_that_is_not_a_table(tmp_path: Path) -> None:
    text = 'logging = "DEBUG"\n' + GOOD
    problems = _problems(text, tmp_path)
    assert set(problems) == {"logging"}


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "absent.toml", env={})
    assert "introuvable" in str(info.value)
    broken = tmp_path / "broken.toml"
    broken.write_text("[matrix\nhomeserver = ", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(broken, env={})
    assert "TOML" in str(info.value)


def test_check_config_good_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    monkeypatch.delenv(ACCESS_TOKEN_ENV, raising=False)
    path = tmp_path / "config.toml"
    path.write_text(GOOD, encoding="utf-8")
    path.chmod(0o600)
    assert main(["check-config", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "valide" in out and str(path) in out
    assert err == ""


def test_check_config_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    monkeypatch.delenv(ACCESS_TOKEN_ENV, raising=False)
    path = tmp_path / "config.toml"
    path.write_text(BAD, encoding="utf-8")
    assert main(["check-config", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "invalide" in err
    reported = {line.strip()[2:].split(":", 1)[0] for line in err.splitlines()
                if line.strip().startswith("- ")}
    assert reported == BAD_KEYS


def test_check_config_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(tmp_path / "absent.toml")]) == 2
    assert "introuvable" in capsys.readouterr().err


def test_agenda_deadline_defaults_to_48_hours(tmp_path: Path) -> None:
    assert _parse(GOOD, tmp_path).meetings.agenda_deadline_hours == 48


def test_agenda_deadline_is_read(tmp_path: Path) -> None:
    text = GOOD + "\n[meetings]\nagenda_deadline_hours = 24\n"
    assert _parse(text, tmp_path).meetings.agenda_deadline_hours == 24
    text = GOOD + "\n[meetings]\nagenda_deadline_hours = 0\n"
    assert _parse(text, tmp_path).meetings.agenda_deadline_hours == 0


@pytest.mark.parametrize("value", ["-1", "1000", '"deux jours"', "true"])
def test_bad_agenda_deadline_is_a_problem(tmp_path: Path, value: str) -> None:
    text = GOOD + f"\n[meetings]\nagenda_deadline_hours = {value}\n"
    assert set(_problems(text, tmp_path)) == {"meetings.agenda_deadline_hours"}


def test_example_config_documents_the_agenda_deadline() -> None:
    example = Path(__file__).parents[2] / "config.example.toml"
    assert tomllib.loads(example.read_text())["meetings"]["agenda_deadline_hours"] == 48


# --- a config file holding secrets is its owner's alone ----------------------------------------

NO_SECRET = GOOD.replace('password = "s3cret"\n', "")
PG_URL = "postgresql+asyncpg://cct:db-s3cret-pw@127.0.0.1:5432/cct"


def _config(tmp_path: Path, text: str, mode: int, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


@pytest.mark.parametrize(("text", "keys"), [
    (GOOD, "matrix.password"),
    (NO_SECRET.replace('user_id = "@cct-bot:example.org"',
                       'user_id = "@cct-bot:example.org"\naccess_token = "syt_abc"'),
     "matrix.access_token"),
    (NO_SECRET.replace("sqlite+aiosqlite:///data/cct.db", PG_URL), "database.url"),
    (GOOD.replace("sqlite+aiosqlite:///data/cct.db", PG_URL), "matrix.password, database.url"),
])
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o620], ids=oct)
def test_a_file_holding_a_secret_that_others_can_read_or_change_is_refused(
        tmp_path: Path, text: str, keys: str, mode: int) -> None:
    path = _config(tmp_path, text, mode)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={PASSWORD_ENV: "from-the-environment"})
    [problem] = info.value.problems
    assert problem.key == str(path)
    assert f"contient un secret ({keys})" in problem.message
    assert f"(droits {mode:04o})" in problem.message
    assert f"« chmod 600 {path} »" in problem.message
    path.chmod(0o600)
    assert load_settings(path, env={PASSWORD_ENV: "from-the-environment"}).source == path


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600, 0o400], ids=oct)
def test_a_file_without_secrets_may_be_read_by_others(tmp_path: Path, mode: int) -> None:
    path = _config(tmp_path, NO_SECRET, mode)
    settings = load_settings(path, env={PASSWORD_ENV: "from-the-environment"})
    assert settings.matrix.password == "from-the-environment"


def test_a_file_anyone_can_change_is_refused_even_without_secrets(tmp_path: Path) -> None:
    path = _config(tmp_path, NO_SECRET, 0o666)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={PASSWORD_ENV: "from-the-environment"})
    [problem] = info.value.problems
    assert "tout le monde peut modifier ce fichier (droits 0666)" in problem.message
    assert f"« chmod 644 {path} »" in problem.message


def test_the_exposed_file_is_reported_with_the_other_problems(tmp_path: Path) -> None:
    path = _config(tmp_path, GOOD.replace('name = "Club', 'language = "de"\nname = "Club'), 0o644)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert [p.key for p in info.value.problems] == [str(path), "club.language"]


def test_the_command_to_run_is_quoted_for_the_shell(tmp_path: Path) -> None:
    path = _config(tmp_path, GOOD, 0o644, name="ma config.toml")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert f"« chmod 600 '{path}' »" in info.value.problems[0].message


@pytest.mark.parametrize("command", [["check-config", "{path}"], ["run", "--config", "{path}"],
                                     ["db", "upgrade", "--config", "{path}"]])
def test_the_command_line_refuses_it_before_anything_else(
        tmp_path: Path, command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    path = _config(tmp_path, GOOD, 0o644)
    assert main([part.format(path=path) for part in command]) == 2
    out, err = capsys.readouterr()
    assert out == "" and f"chmod 600 {path}" in err
    assert "s3cret" not in err
    assert not (tmp_path / "data").exists()  # no database was made


def test_check_config_masks_a_password_in_a_url(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A refused database URL is quoted back, its password masked (a URL the bot cannot use
    is no less secret)."""
    text = GOOD.replace('"sqlite+aiosqlite:///data/cct.db"',
                        '"postgresql://cct:db-s3cret-pw@db.example.org/cct"')
    text = text.replace('"https://matrix.example.org/"', '"matrix.example.org"')
    path = _config(tmp_path, text, 0o600)
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "database.url" in err and "postgresql://cct:***@db.example.org/cct" in err
    assert "db-s3cret-pw" not in err


def test_a_file_the_bot_cannot_read_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = _config(tmp_path, GOOD, 0o600)
    path.chmod(0o000)
    try:
        if os.access(path, os.R_OK):  # root reads anything: a folder stands for the file
            path = tmp_path / "folder.toml"
            path.mkdir()
        with pytest.raises(ConfigError) as info:
            load_settings(path, env={})
    finally:
        (tmp_path / "config.toml").chmod(0o600)
    assert "illisible" in info.value.problems[0].message


def test_messages_retention_defaults_to_30_days_and_is_read(tmp_path: Path) -> None:
    assert _parse(GOOD, tmp_path).privacy.messages_retention_days == 30
    text = GOOD + "\n[privacy]\nmessages_retention_days = 0\n"
    assert _parse(text, tmp_path).privacy.messages_retention_days == 0
    text = GOOD + "\n[privacy]\nmessages_retention_days = 90\n"
    assert _parse(text, tmp_path).privacy.messages_retention_days == 90


@pytest.mark.parametrize("value", ["-1", "3651", '"un mois"', "true"])
def test_bad_messages_retention_is_a_problem(tmp_path: Path, value: str) -> None:
    text = GOOD + f"\n[privacy]\nmessages_retention_days = {value}\n"
    assert set(_problems(text, tmp_path)) == {"privacy.messages_retention_days"}


def test_example_config_documents_the_messages_retention() -> None:
    example = Path(__file__).parents[2] / "config.example.toml"
    assert tomllib.loads(example.read_text())["privacy"]["messages_retention_days"] == 30


# --- [limits] and the grouped welcomes ----------------------------------------------------------

LIMIT_DEFAULTS = {"groups_per_day": 3, "suggestions_per_meeting": 5, "remontees_per_day": 5,
                  "proposals_per_day": 5, "initiatives_per_day": 5, "commands_per_minute": 20,
                  "comments_per_poll": 5, "actions_per_day": 20, "funding_per_day": 5,
                  "outcomes_per_day": 5, "needs_per_day": 10, "room_links_per_day": 3,
                  "erasures_per_day": 1}


def test_limits_default_and_are_read(tmp_path: Path) -> None:
    limits = _parse(GOOD, tmp_path).limits
    assert {key: getattr(limits, key) for key in LIMIT_DEFAULTS} == LIMIT_DEFAULTS
    lines = "".join(f"{key} = {index}\n" for index, key in enumerate(LIMIT_DEFAULTS))
    limits = _parse(GOOD + "\n[limits]\n" + lines, tmp_path).limits
    assert [getattr(limits, key) for key in LIMIT_DEFAULTS] == list(range(len(LIMIT_DEFAULTS)))


@pytest.mark.parametrize("key", sorted(LIMIT_DEFAULTS))
@pytest.mark.parametrize("value", ["-1", "100000", '"trois"', "true", "2.5"])
def test_bad_limit_is_a_problem(tmp_path: Path, key: str, value: str) -> None:
    text = GOOD + f"\n[limits]\n{key} = {value}\n"
    assert set(_problems(text, tmp_path)) == {f"limits.{key}"}


def test_the_commands_rate_may_go_higher_than_the_daily_caps(tmp_path: Path) -> None:
    limits = _parse(GOOD + "\n[limits]\ncommands_per_minute = 5000\n", tmp_path).limits
    assert limits.commands_per_minute == 5000
    assert set(_problems(GOOD + "\n[limits]\nneeds_per_day = 5000\n", tmp_path)) == {
        "limits.needs_per_day"}


def test_unknown_limit_is_a_problem(tmp_path: Path) -> None:
    assert set(_problems(GOOD + "\n[limits]\nvotes_per_day = 3\n", tmp_path)) == {
        "limits.votes_per_day"}


def test_welcome_every_seconds_defaults_to_a_minute_and_is_read(tmp_path: Path) -> None:
    assert _parse(GOOD, tmp_path).club.welcome_every_seconds == 60
    text = GOOD.replace("[club]\n", "[club]\nwelcome_every_seconds = 0\n")
    assert _parse(text, tmp_path).club.welcome_every_seconds == 0
    bad = GOOD.replace("[club]\n", "[club]\nwelcome_every_seconds = -5\n")
    assert set(_problems(bad, tmp_path)) == {"club.welcome_every_seconds"}


def test_example_config_documents_the_limits_and_the_welcomes() -> None:
    example = tomllib.loads((Path(__file__).parents[2] / "config.example.toml").read_text())
    assert example["limits"] == LIMIT_DEFAULTS
    assert example["club"]["welcome_every_seconds"] == 60


# --- [events.kinds] -----------------------------------------------------------------------------

def test_event_kinds_default_to_the_club_programme(tmp_path: Path) -> None:
    kinds = _parse(GOOD, tmp_path).events.kinds
    assert kinds == DEFAULT_EVENT_KINDS and kinds[0] == ("rencontre", "Rencontre du club")
    assert len(kinds) == 8


def test_event_kinds_are_read_in_order(tmp_path: Path) -> None:
    text = GOOD + '\n[events.kinds]\ncafe = "Café  climat"\nwebinaire = "Webinaire"\n'
    assert _parse(text, tmp_path).events.kinds == (("cafe", "Café climat"),
                                                   ("webinaire", "Webinaire"))


@pytest.mark.parametrize(("lines", "key"), [
    ('"Café" = "Café climat"', "events.kinds.Café"),
    ('cafe = ""', "events.kinds.cafe"),
    ("cafe = 3", "events.kinds.cafe"),
    (f'cafe = "{"x" * 81}"', "events.kinds.cafe"),
])
def test_bad_event_kinds_are_problems(tmp_path: Path, lines: str, key: str) -> None:
    assert set(_problems(GOOD + f"\n[events.kinds]\n{lines}\n", tmp_path)) == {key}


def test_events_section_keys_are_checked(tmp_path: Path) -> None:
    assert set(_problems(GOOD + "\n[events]\nkinds = []\n", tmp_path)) == {"events.kinds"}
    assert set(_problems(GOOD + "\n[events]\ntypo = 1\n", tmp_path)) == {"events.typo"}


def test_example_config_lists_the_default_kinds() -> None:
    example = Path(__file__).parents[2] / "config.example.toml"
    kinds = tomllib.loads(example.read_text())["events"]["kinds"]
    assert tuple(kinds.items()) == DEFAULT_EVENT_KINDS


def test_an_action_s_reminder_days_before_its_date(tmp_path: Path) -> None:
    assert reminder_rules(_parse(GOOD, tmp_path).reminders).action_days == 2
    text = GOOD + "\n[reminders]\naction_days_before = 5\n"
    assert reminder_rules(_parse(text, tmp_path).reminders).action_days == 5
    assert "reminders.action_days_before" in _problems(
        GOOD + "\n[reminders]\naction_days_before = 31\n", tmp_path)


# --- [events.categories] ------------------------------------------------------------------------

def test_categories_default_to_elus_habitants_and_the_others(tmp_path: Path) -> None:
    assert _parse(GOOD, tmp_path).events.categories == DEFAULT_CATEGORIES
    assert [key for key, _ in DEFAULT_CATEGORIES] == [
        "elu", "habitant", "entreprise", "association", "agent", "etudiant", "autre"]


def test_categories_are_read_in_order_and_checked(tmp_path: Path) -> None:
    text = GOOD + '\n[events.categories]\nelu = "Élus"\nscolaire = "Scolaires"\n'
    assert _parse(text, tmp_path).events.categories == (("elu", "Élus"),
                                                        ("scolaire", "Scolaires"))
    bad = GOOD + '\n[events.categories]\n"Élu" = "Élus"\nautre = ""\n'
    assert set(_problems(bad, tmp_path)) == {"events.categories.Élu", "events.categories.autre"}


def test_example_config_lists_the_default_categories() -> None:
    example = Path(__file__).parents[2] / "config.example.toml"
    categories = tomllib.loads(example.read_text())["events"]["categories"]
    assert tuple(categories.items()) == DEFAULT_CATEGORIES


# --- [web]: the public web server ---------------------------------------------------------------

def test_web_is_off_by_default(tmp_path: Path) -> None:
    web = _parse(GOOD, tmp_path).web
    assert (web.enabled, web.host, web.port, web.base_url) == (False, "127.0.0.1", 8080, "")


def test_web_enabled(tmp_path: Path) -> None:
    text = GOOD + ('\n[web]\nenabled = true\nhost = "0.0.0.0"\nport = 8090\n'
                   'base_url = "https://agenda.example.org/"\nrequests_per_minute = 0\n')
    settings = _parse(text, tmp_path)
    assert (settings.web.enabled, settings.web.host, settings.web.port, settings.web.base_url,
            settings.web.requests_per_minute) == (True, "0.0.0.0", 8090,
                                                  "https://agenda.example.org", 0)


@pytest.mark.parametrize(("lines", "key"), [
    ("enabled = true", "web.base_url"),  # enabled without its public address
    ('base_url = "agenda.example.org"', "web.base_url"),
    ('base_url = "https://agenda.example.org/?a=1"', "web.base_url"),
    ("port = 70000", "web.port"),
    ('enabled = "oui"', "web.enabled"),
    ("requests_per_minute = -1", "web.requests_per_minute"),
    ("listen = 1", "web.listen"),
])
def test_bad_web_settings_are_problems(tmp_path: Path, lines: str, key: str) -> None:
    assert set(_problems(GOOD + f"\n[web]\n{lines}\n", tmp_path)) == {key}


def test_example_config_documents_the_web_server() -> None:
    example = tomllib.loads((Path(__file__).parents[2] / "config.example.toml").read_text())
    assert set(example["web"]) == {"enabled", "host", "port", "base_url", "requests_per_minute"}
    assert example["web"]["enabled"] is False
