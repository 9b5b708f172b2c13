"""Closed lists of the club's words (themes, territories, statuses…), typed the way people type.

A value is stored by its key (``energie``); people may type the key, its French or English label,
with or without accents, spaces or hyphens (``Énergie``, ``en cours``, ``in progress``), or an
unambiguous beginning of it (``mob``). Labels come from the catalogs (``<name>.<key>``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from commands.errors import BadArgument
from commands.i18n import LANGUAGES, Translator, translate
from commands.text import fold

_SEPARATORS = re.compile(r"[\s_'’,;/.()]+|-+")


def normalise(text: str) -> str:
    """``Environnement & Biodiversité`` → ``environnement-et-biodiversite``."""
    folded = fold(text).replace("&", " et ").replace("+", " et ")
    return "-".join(part for part in _SEPARATORS.split(folded) if part)


def find_key(raw: str, forms: dict[str, set[str]]) -> str | None:
    """The key one of whose normalised ``forms`` is ``raw`` (normalised), else the only key one
    of whose forms begins with it (three characters at least); ``None`` otherwise."""
    wanted = normalise(raw)
    if not wanted:
        return None
    exact = [key for key, names in forms.items() if wanted in names]
    if exact:
        return exact[0]
    starts = {key for key, names in forms.items()
              if len(wanted) >= 3 and any(name.startswith(wanted) for name in names)}
    return starts.pop() if len(starts) == 1 else None


@dataclass(frozen=True)
class Vocabulary:
    """A converter for one closed list; ``entries`` are (key, aliases) in display order."""

    name: str
    entries: Sequence[tuple[str, Sequence[str]]]
    kind: str = "choice"

    @property
    def keys(self) -> list[str]:
        return [key for key, _ in self.entries]

    def label(self, key: str, t: Translator) -> str:
        return t(f"{self.name}.{key}")

    def _forms(self, key: str, aliases: Sequence[str]) -> set[str]:
        forms = {normalise(key), *(normalise(a) for a in aliases)}
        forms |= {normalise(translate(language, f"{self.name}.{key}")) for language in LANGUAGES}
        return forms

    def find(self, raw: str) -> str | None:
        """The key ``raw`` names, or ``None``."""
        return find_key(raw, {key: self._forms(key, aliases) for key, aliases in self.entries})

    def convert(self, raw: str) -> str:
        key = self.find(raw)
        if key is None:
            raise BadArgument(f"error.bad_{self.name}", value=raw.strip()[:40],
                              choices=self.choices(Translator()))
        return key

    def choices(self, t: Translator) -> str:
        """The values to type, for an error message: ``idée, en définition, …``."""
        return ", ".join(self.label(key, t) for key in self.keys)


THEMES = Vocabulary("theme", (
    ("agriculture", ("alimentation", "agriculture-alimentation", "food", "farming")),
    ("biens-services", ("biens", "services", "goods", "goods-and-services")),
    ("energie", ("energy",)),
    ("mobilite", ("mobility", "transport", "transports")),
    ("environnement", ("biodiversite", "environnement-biodiversite", "environment", "biodiversity",
                       "nature")),
    ("vie-locale", ("culture", "social", "solidarite", "solidarites", "vie-culturelle",
                    "vie-sociale", "solidarity", "local-life")),
))

TERRITORIES = Vocabulary("territory", (
    ("nord", ("north",)),
    ("sud", ("south",)),
    ("tout", ("tous", "tout-le-territoire", "territoire", "commun", "nord-et-sud", "all", "both",
              "whole-territory")),
))

# The territories of an event (a group's are TERRITORIES): ``commun``, the whole territory's.
MEETING_TERRITORIES = Vocabulary("meeting_territory", (
    ("nord", ("north",)),
    ("sud", ("south",)),
    ("commun", ("commune", "tous", "tout", "toutes", "tout-le-territoire", "territoire", "ensemble",
                "nord-et-sud", "nord-sud", "both", "joint", "all", "together", "whole-territory",
                "north-and-south")),
))

STATUSES = Vocabulary("status", (
    ("idee", ("idea",)),
    ("en-definition", ("definition", "defining", "draft")),
    ("en-cours", ("cours", "actif", "active", "ongoing", "in-progress")),
    ("realise", ("realisee", "termine", "fini", "done", "completed", "finished")),
    ("en-pause", ("pause", "suspendu", "paused", "on-hold")),
    ("archive", ("archivee", "archived")),
))

NEED_KINDS = Vocabulary("need", (
    ("competence", ("competences", "skill", "skills", "benevoles", "volunteers")),
    ("financement", ("financements", "argent", "funding", "money")),
    ("materiel", ("equipement", "equipment", "outils", "tools", "local")),
    ("autre", ("other",)),
))
