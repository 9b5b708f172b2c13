"""Catalogs: fr and en agree, and every key the code uses exists."""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from commands import build_registry
from commands import errors as error_module
from commands.i18n import LANGUAGES, Translator, catalog, placeholders, translate
from commands.registry import SECTIONS
from commands.roles import Role

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("bot", "web", "commands", "storage", "matrix_ids")
KEY_RE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
ERROR_CLASSES = {name for name, value in vars(error_module).items()
                 if isinstance(value, type) and issubclass(value, error_module.UserError)}
# Calls whose first (or given) positional string argument is a catalog key.
KEY_CALLS = {"t": 0, "translate": 1, "problem": 1, "required": 2, "string_list": 2,
             **{name: 0 for name in ERROR_CLASSES}}
# UserError subclasses defined beside their capability
EXTRA_ERRORS = {"Ambiguous", "DateError", "LimitReached"}
KEY_CALLS.update({name: 0 for name in EXTRA_ERRORS})
# Readers that add the placeholders themselves: the key may only use these.
NOT_KEYS = {"config.toml", "polls.id",  # file names, foreign keys that look like keys
            "report.periods", "report.indicators"}  # config sections
FILE_SUFFIXES = (".html", ".toml")  # the web pages' templates are named like keys
READER_VALUES = {"required": {"value"}, "string_list": {"value"}}


def _sources() -> Iterator[Path]:
    for folder in SOURCE_DIRS:
        yield from sorted((ROOT / folder).rglob("*.py"))


def _call_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Call):  # Translator("fr")("cli.config_ok", …)
        inner = _call_name(func)
        return "t" if inner == "Translator" else None
    return None


def _key_uses() -> list[tuple[str, str, set[str] | None, str]]:
    """(key, call name, keyword names or None when **spread, where) for every literal key use."""
    uses = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _call_name(node)
            if name not in KEY_CALLS:
                continue
            index = KEY_CALLS[name]
            if len(node.args) <= index:
                continue
            arg = node.args[index]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and KEY_RE.match(arg.value):
                spread = any(k.arg is None for k in node.keywords)
                keywords = None if spread else {k.arg for k in node.keywords if k.arg}
                uses.append((arg.value, name, keywords, f"{path.relative_to(ROOT)}:{node.lineno}"))
    return uses


def _all_literal_keys() -> set[str]:
    """Every string constant in the code that looks like a key of one of the catalog's tables."""
    tables = {key.split(".")[0] for key in catalog("fr")}
    found = set()
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_fstrings = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
                       for part in node.values}
        for node in ast.walk(tree):
            if id(node) in in_fstrings or (isinstance(node, ast.Constant) and (
                    node.value in NOT_KEYS
                    or (isinstance(node.value, str) and node.value.endswith(FILE_SUFFIXES)))):
                continue
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and KEY_RE.match(node.value) and node.value.split(".")[0] in tables):
                found.add(node.value)
    return found


def test_languages() -> None:
    assert LANGUAGES[0] == "fr"
    assert set(LANGUAGES) == {"fr", "en"}


def test_catalogs_have_the_same_keys() -> None:
    fr, en = set(catalog("fr")), set(catalog("en"))
    assert fr - en == set(), "missing in locales/en/"
    assert en - fr == set(), "missing in locales/fr/"
    assert len(fr) > 50


def test_catalogs_have_the_same_placeholders() -> None:
    fr, en = catalog("fr"), catalog("en")
    different = {key: (placeholders(fr[key]), placeholders(en[key])) for key in fr
                 if key in en and placeholders(fr[key]) != placeholders(en[key])}
    assert different == {}


def test_no_empty_message() -> None:
    for language in LANGUAGES:
        assert [k for k, v in catalog(language).items() if not v.strip()] == []


def test_templates_are_well_formed() -> None:
    for language in LANGUAGES:
        for key, template in catalog(language).items():
            values: dict[str, object] = {name: "x" for name in placeholders(template)}
            for _, name, spec, _ in string.Formatter().parse(template):
                if name and spec and "|" in spec:  # a word that agrees with a number
                    values[name] = 2
            translate(language, key, **values)  # raises on a stray brace
            assert key


def test_placeholders_helper() -> None:
    assert placeholders("a {b} c {d} {b}") == {"b", "d"}
    assert placeholders("nothing") == set()


def test_translate_falls_back_to_french() -> None:
    assert translate("de", "help.command_name") == "aide"
    assert Translator("de").language == "fr"
    assert Translator("en")("help.command_name") == "help"
    assert Translator("fr")("ping.pong", version="1.0", latency=5) == "pong — cct-bot 1.0, latence 5 ms"
    assert Translator("fr").has("cmd.aide.help")
    assert not Translator("fr").has("cmd.nope.help")
    with pytest.raises(KeyError):
        translate("fr", "no.such.key")


def test_every_command_has_its_texts() -> None:
    registry = build_registry()
    commands = list(registry.walk())
    assert len(commands) >= 3
    for language in LANGUAGES:
        keys = catalog(language)
        for command in commands:
            assert f"cmd.{command.key}.summary" in keys, (language, command.key)
            for param in command.params:  # the names its usage shows
                for name in param.shows or (param.name,):
                    assert f"param.{name.rstrip('?…')}" in keys, (language, command.key, name)
            assert command.section in SECTIONS
        for section in {c.section for c in commands} | set(SECTIONS):
            assert f"section.{section}" in keys, (language, section)
        for role in Role:
            assert f"help.role_{role.name.lower()}" in keys


def test_every_key_used_in_the_code_exists() -> None:
    uses = _key_uses()
    keys = {key for key, *_ in uses}
    assert len(keys) > 20, f"the scan found only {sorted(keys)}: is it still working?"
    # The scan sees all the kinds of use.
    assert {"t", "problem", "required", "string_list"} <= {name for _, name, _, _ in uses}
    assert any(name in ERROR_CLASSES for _, name, _, _ in uses)
    for language in LANGUAGES:
        missing = sorted(f"{where}: {key}" for key, _, _, where in uses if key not in catalog(language))
        assert missing == [], language


def test_every_key_like_literal_exists() -> None:
    keys = _all_literal_keys()
    assert len(keys) > 30
    assert sorted(keys - set(catalog("fr"))) == []


def test_class_default_keys_exist() -> None:
    for name in ERROR_CLASSES:
        assert getattr(error_module, name).key in catalog("fr"), name


def test_code_passes_every_placeholder() -> None:
    """A literal key used with explicit keywords gets every placeholder its template needs."""
    problems = []
    for key, name, keywords, where in _key_uses():
        needed = placeholders(catalog("fr").get(key, ""))
        if name in READER_VALUES:
            if not needed <= READER_VALUES[name]:
                problems.append(f"{where}: {key} needs {needed}")
        elif name in ERROR_CLASSES or name in EXTRA_ERRORS:
            needed -= {"prefix"}  # error_reply always gives the club's prefix
            if keywords is not None and not needed <= keywords:
                problems.append(f"{where}: {key} needs {sorted(needed - keywords)}")
        elif keywords is not None and not needed <= keywords:
            problems.append(f"{where}: {key} needs {sorted(needed - keywords)}")
    assert problems == []


def test_a_key_defined_in_two_files_of_a_language_is_refused(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from commands import i18n

    (tmp_path / "xx").mkdir()
    (tmp_path / "xx" / "a.toml").write_text('[ping]\npong = "a"\n', encoding="utf-8")
    (tmp_path / "xx" / "b.toml").write_text('[ping]\npong = "b"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "_LOCALES_DIR", tmp_path)
    with pytest.raises(ValueError, match=r"ping\.pong"):
        i18n.catalog.__wrapped__("xx")
    (tmp_path / "xx" / "b.toml").write_text('[other]\nkey = "b"\n', encoding="utf-8")
    assert i18n.catalog.__wrapped__("xx") == {"ping.pong": "a", "other.key": "b"}


@pytest.mark.parametrize(("language", "count", "expected"), [
    ("fr", 0, "0 membre"), ("fr", 1, "1 membre"), ("fr", 2, "2 membres"),
    ("en", 0, "0 members"), ("en", 1, "1 member"), ("en", 2, "2 members"),
])
def test_a_word_agrees_with_its_number(language: str, count: int, expected: str) -> None:
    from commands.i18n import _formatter

    template = "{n} {n:membre|membres}" if language == "fr" else "{n} {n:member|members}"
    assert _formatter(language).format(template, n=count) == expected


def test_the_club_figures_agree_with_their_numbers() -> None:
    line = translate("fr", "report.line_participants", year=1, total=3, new=1)
    assert line == "- Participants : 1 cette année, 3 au total (1 nouveau)"
    line = translate("fr", "report.line_attended", held=1, attendance=2, attended=0)
    assert line == ("- Rencontres : 1 tenue, 2 présences, 0 personne venue au moins une fois")
    assert translate("en", "polls.message_voters", count=1).startswith("1 person voted.")
    assert translate("fr", "polls.message_voters", count=5).startswith("5 personnes ont voté.")


def test_what_replies_need_from_disk_is_read_before_the_loop_runs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``preload`` (``cct-bot run`` calls it before its event loop starts) reads every catalog
    and babel's data for each language: a first reply then reads nothing from disk (read in
    the loop, they stalled every room for a third of a second on a loaded host)."""
    import babel.localedata
    from babel.dates import format_date
    from babel.lists import format_list

    from commands.dates.format import babel_locale
    from commands.i18n import preload

    catalog.cache_clear()
    babel_locale.cache_clear()
    monkeypatch.setattr(babel.localedata, "_cache", {})
    preload()

    def no_disk(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("read from disk after preload()")

    monkeypatch.setattr("commands.i18n.tomllib.load", no_disk)
    monkeypatch.setattr(babel.localedata, "load", no_disk)
    for language in LANGUAGES:
        text = translate(language, "welcome.hello_many", names="A, B", club="CCT", count=2)
        assert "CCT" in text
        locale = babel_locale(language)
        assert format_list(["a", "b"], locale=locale)
        assert format_date(date(2099, 1, 5), format="full", locale=locale)
