"""Who came, counted: the categories of people (élus, habitants…, as the config gives them in
``[events.categories]``, these by default) and the territories they come from (nord, sud, hors
territoire). A category is stored by its key; people type the key or the label, with or without
accents or capitals, or an unambiguous beginning of either (``hab``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from commands.event_kinds import EventKinds

DEFAULT_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("elu", "Élus"),
    ("habitant", "Habitants"),
    ("entreprise", "Entreprises"),
    ("association", "Associations"),
    ("agent", "Agents"),
    ("etudiant", "Étudiants"),
    ("autre", "Autres"),
)
# Where people come from; a member's profile may also say ``tout`` (the whole territory).
TERRITORIES: tuple[tuple[str, str], ...] = (
    ("nord", "Nord"),
    ("sud", "Sud"),
    ("hors", "Hors territoire"),
)
NOT_SAID = "non-renseigne"  # a member without a profile, a line without a category


@dataclass(frozen=True)
class Categories(EventKinds):
    """The configured categories of people, in the order the config gives them."""

    entries: tuple[tuple[str, str], ...] = DEFAULT_CATEGORIES
    refusal: ClassVar[str] = "attendance.bad_category"

    def find(self, raw: str) -> str | None:
        """As for kinds, and a word in the feminine or the plural too (``élue``, ``agentes``)."""
        word = raw.strip()
        for ending in ("", "s", "e", "es"):
            if word.casefold().endswith(ending) and len(word) > len(ending) + 1:
                found = super().find(word[:len(word) - len(ending)] if ending else word)
                if found is not None:
                    return found
        return None


@dataclass(frozen=True)
class Territories(EventKinds):
    """Where the people who came live."""

    entries: tuple[tuple[str, str], ...] = TERRITORIES
    refusal: ClassVar[str] = "attendance.bad_territory"
    kind: ClassVar[str] = "territory"  # a converter (``commands.arguments.Converter``)
