"""Message catalogs: every user-facing text comes from here (fr by default, en available).

Each language is a folder of TOML files (``commands/locales/fr/*.toml``, one per capability)
mapping a dotted key to a ``str.format`` template; the files of a language are merged and a key
defined twice is an error. A test checks that every language has the same keys and placeholders.

A word that agrees with a number is written ``{count:membre|membres}``: the form for CLDR's
"one" category of the language (French: 0 and 1; English: 1), then the other one (babel's
plural rules). ``{count} {count:membre|membres}`` gives « 1 membre », « 2 membres ».
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from commands.dates.format import babel_locale

LANGUAGES: tuple[str, ...] = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
_LOCALES_DIR = Path(__file__).with_name("locales")


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{full}."))
        else:
            flat[full] = str(value)
    return flat


@cache
def catalog(language: str) -> dict[str, str]:
    """The flattened catalog of one language (all the files of its folder)."""
    merged: dict[str, str] = {}
    for path in sorted((_LOCALES_DIR / language).glob("*.toml")):
        with path.open("rb") as handle:
            flat = _flatten(tomllib.load(handle))
        twice = merged.keys() & flat.keys()
        if twice:
            raise ValueError(f"{path}: keys already defined in another file: {sorted(twice)}")
        merged.update(flat)
    return merged


def preload() -> None:
    """Every language's catalog and babel's data for it (plurals, lists, dates), read now: the
    bot calls it before its event loop runs, so that its first replies do not read and parse
    them in the loop (a third of a second on a loaded host, every room waiting)."""
    for language in LANGUAGES:
        catalog(language)
        locale = babel_locale(language)
        locale.plural_form(1)
        _ = locale.list_patterns, locale.date_formats, locale.time_formats


def placeholders(template: str) -> set[str]:
    """The named fields of a template (``{name}`` → ``name``)."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


class _Agreeing(string.Formatter):
    """``str.format``, plus ``{n:singular|plural}``: the word that agrees with ``n``."""

    def __init__(self, language: str) -> None:
        self.language = language

    def format_field(self, value: Any, format_spec: str) -> str:
        if "|" not in format_spec:
            return str(super().format_field(value, format_spec))
        one, other = format_spec.split("|", 1)
        category: str = babel_locale(self.language).plural_form(abs(value))
        return one if category == "one" else other


@cache
def _formatter(language: str) -> _Agreeing:
    return _Agreeing(language)


def translate(language: str, key: str, /, **values: object) -> str:
    """The message ``key`` in ``language`` (French when unknown), filled with ``values``."""
    lang = language if language in LANGUAGES else DEFAULT_LANGUAGE
    template = catalog(lang).get(key)
    if template is None:
        lang, template = DEFAULT_LANGUAGE, catalog(DEFAULT_LANGUAGE)[key]
    if not values:
        return template
    if "|" in template:
        return _formatter(lang).format(template, **values)
    return template.format(**values)


class Translator:
    """A translator bound to one language: ``t("key", name=value)``."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE

    def __call__(self, key: str, /, **values: object) -> str:
        return translate(self.language, key, **values)

    def template(self, key: str) -> str:
        """The unfilled template of ``key`` (French when this language lacks it)."""
        return catalog(self.language).get(key) or catalog(DEFAULT_LANGUAGE)[key]

    def has(self, key: str) -> bool:
        """Whether the catalog holds ``key``."""
        return key in catalog(self.language)
