"""The obvious typos of date words fixed before the text is read (« mecredi », « demian »)."""

from __future__ import annotations

import re
from functools import cache

from commands.dates._common import MONTH_WORDS, WEEKDAY_WORDS, normalize

_TARGETS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche", "janvier",
            "fevrier", "avril", "juillet", "septembre", "octobre", "novembre", "decembre", "demain",
            "prochain", "prochaine", "semaine", "minuit", "aujourd'hui", "apres-midi", "chaque")
_KNOWN = frozenset(_TARGETS) | frozenset(WEEKDAY_WORDS) | frozenset(MONTH_WORDS) | frozenset(
    word + "s" for word in _TARGETS) | frozenset(
    {"heure", "heures", "minute", "minutes", "jours", "semaines", "premier", "premiere",
     "dernier", "derniere", "soiree", "matinee", "journee", "quinze", "demie", "quart"})
_WORD_RE = re.compile(r"[a-z'-]{5,}")


def _close(word: str, target: str) -> bool:
    """Damerau-Levenshtein distance at most 1 (one letter missing, added, changed or swapped);
    the caller keeps the first letter, as typos do (« remain » is not « demain »)."""
    if abs(len(word) - len(target)) > 1:
        return False
    if len(word) == len(target):
        diffs = [i for i, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
        return len(diffs) <= 1 or (len(diffs) == 2 and diffs[1] == diffs[0] + 1
                                    and word[diffs[0]] == target[diffs[1]]
                                    and word[diffs[1]] == target[diffs[0]])
    short, long = sorted((word, target), key=len)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


@cache
def _fix(word: str) -> str:
    if word in _KNOWN:
        return word
    found = [target for target in _TARGETS if word[0] == target[0] and _close(word, target)]
    return found[0] if len(found) == 1 else word


def normalize_words(text: str) -> str:
    """``normalize`` plus the obvious typos of date words fixed (« mecredi », « demian »).

    Only words typed in lower case (or all in capitals, or the first word) are fixed: « Martin »
    is a name.
    """
    raws, folded_words = text.split(), normalize(text).split(" ")
    if len(raws) != len(folded_words):
        return normalize(text)
    words = []
    for index, (raw, folded) in enumerate(zip(raws, folded_words, strict=True)):
        if index and raw[:1].isupper() and not raw.isupper():
            words.append(folded)
            continue
        words.append(_WORD_RE.sub(lambda m: _fix(m[0]), folded))
    return " ".join(words)
