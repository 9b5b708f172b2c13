"""Names that could pass for another one (Unicode TR39), with the disarm library.

A group's or an initiative's name is refused when it
- holds an invisible or format character (zero-width characters, bidi controls, U+3164 HANGUL
  FILLER, U+2800 BRAILLE PATTERN BLANK, variation selectors, U+034F COMBINING GRAPHEME
  JOINER…), emoji sequences apart (their joiners and selectors are part of the emoji);
- has a word mixing scripts (a Cyrillic « е » or a Greek « Α » among Latin letters);
- looks like an existing name: the TR39 skeletons (confusable characters mapped to their
  prototype, ``1``/``l`` and ``0``/``O`` included), folded as names are compared, are equal,
  for the names as written or in lower case.

Accented Latin (« Café réparation », « Île verte », « Œuvre »), digits, punctuation and whole
words in another script (« Вело ») stay accepted.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

import disarm

from commands.text import fold

_NOT_SHOWN = ("Cc", "Cf", "Co", "Cs", "Cn")  # controls, formats, private use, surrogates, unassigned


def has_hidden_characters(name: str) -> bool:
    """Whether ``name`` (whitespace already collapsed) holds a character that is not seen: one
    disarm strips as invisible or format, a variation selector outside an emoji, a control, a
    format, private-use or unassigned code point."""
    bare = " ".join(disarm.replace_emoji(name, "").split())
    return (disarm.strip_format(bare) != bare
            or disarm.strip_variation_selectors(bare) != bare
            or any(unicodedata.category(char) in _NOT_SHOWN for char in bare))


def word_mixing_scripts(name: str) -> str | None:
    """The first word of ``name`` whose letters come from several scripts (UTS #39's
    augmented script sets: Japanese or Korean mixes are one writing system), if any."""
    return next((word for word in name.split() if disarm.is_mixed_script(word)), None)


def lookalike_key(name: str) -> str:
    """The TR39 skeleton of ``name`` (disarm's ``skeleton_key``), folded (case, accents,
    spaces) as names are compared."""
    return " ".join(fold(disarm.skeleton_key(name, digit_policy="tr39")).split())


def lookalike_keys(name: str) -> tuple[str, str]:
    """The keys of the name as written (a Greek capital « Ζ » is a « Z ») and in lower case
    (« ATELIER », whose capital I the skeleton takes for an l, is « atelier »): two names
    look alike when either key is the same."""
    return lookalike_key(name), lookalike_key(fold(name))


def find_lookalike(name: str, others: Iterable[tuple[int, str]]) -> tuple[int, str] | None:
    """The first of ``others`` (numbers and names) whose name looks like ``name``."""
    keys = lookalike_keys(name)
    return next(((number, other) for number, other in others
                 if any(a == b for a, b in zip(keys, lookalike_keys(other), strict=True))), None)
