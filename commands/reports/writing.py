"""Figures as the report's readers write them (« 12 345 », « 2,5 », « 76 % ») and texts as a
file can hold them."""

from __future__ import annotations

import math
import re

from babel.numbers import format_decimal, format_percent

from commands.dates.format import babel_locale

_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_GROUPED_FROM = 10_000  # « 2024 », « 3500 » (a year, a count of four digits), « 12 345 »


def number_text(value: float, language: str = "fr") -> str:
    """A count or a measure: whole numbers without decimals, others with at most two; digits
    grouped by three from five digits on (French typography: « 3500 » but « 12 345 »)."""
    if not math.isfinite(value):
        return "—"
    if value == int(value):
        value = int(value)
    return str(
        format_decimal(
            value,
            format="#,##0.##",
            locale=babel_locale(language),
            group_separator=abs(value) >= _GROUPED_FROM,
        )
    )


def percent_text(share: float, language: str = "fr") -> str:
    """« 76 % » (to the whole percent, a narrow no-break space before the sign in French)."""
    return str(
        format_percent(
            share, locale=babel_locale(language), group_separator=abs(share) >= _GROUPED_FROM / 100
        )
    )


def clean(value: str) -> str:
    """The text as XML 1.0 (and a chart's label) can hold it: ``\\r\\n`` and ``\\r`` become
    ``\\n``; control characters other than tab and newline, and lone surrogates, are dropped."""
    return _NOT_IN_XML.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
