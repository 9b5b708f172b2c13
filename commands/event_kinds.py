"""The kinds of the club's events (rencontre du club, webinaire, formation…): their keys and
French labels, as the config gives them (``[events.kinds]``), these by default.

An event stores its kind's key; people type the key or the label, with or without accents or
capitals, or an unambiguous beginning of either (``webi``). A key the config no longer lists
(an event of an older kind) is shown as it is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from commands.errors import BadArgument
from commands.vocabulary import find_key, normalise

DEFAULT_EVENT_KINDS: tuple[tuple[str, str], ...] = (
    ("rencontre", "Rencontre du club"),
    ("territoriale", "Rencontre territoriale"),
    ("webinaire", "Webinaire"),
    ("echange", "Temps d'échange"),
    ("formation", "Formation"),
    ("porteurs", "Rencontre des porteurs de projets"),
    ("accelerateur", "Session de l'accélérateur"),
    ("groupe", "Réunion de groupe-projet"),
)
# The kind of the rencontres planned before kinds existed (and of the migrated rows).
CLUB_MEETING = "rencontre"
# The kind of an event of the north or the south when none is typed (if the club's kinds list
# it and the default is the club's rencontre): a rencontre territoriale.
TERRITORIAL_MEETING = "territoriale"
# The kind of a group's event when none is typed (if the club's kinds list it).
GROUP_MEETING = "groupe"
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
LABEL_MAX = 80


@dataclass(frozen=True)
class EventKinds:
    """The configured kinds, in the order the config gives them (the first is the default)."""

    entries: tuple[tuple[str, str], ...] = DEFAULT_EVENT_KINDS
    refusal: ClassVar[str] = "meeting.bad_kind"  # the message for a value not in the list

    @property
    def default(self) -> str:
        return self.entries[0][0]

    def label(self, key: str) -> str:
        return dict(self.entries).get(key, key)

    def find(self, raw: str) -> str | None:
        """The key ``raw`` names (key or label), or ``None``."""
        return find_key(raw, {key: {normalise(key), normalise(label)}
                              for key, label in self.entries})

    def convert(self, raw: str) -> str:
        key = self.find(raw)
        if key is None:
            raise BadArgument(self.refusal, value=raw.strip()[:40], choices=self.choices())
        return key

    def choices(self) -> str:
        return ", ".join(f"{label} (`{key}`)" for key, label in self.entries)
