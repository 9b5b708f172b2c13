"""Replies that list what grows with the club come in pages (``--page n``).

A command declares the ``PAGE`` option (``commands.registry``); its handler receives a
``PageRequest``. A list held in memory is cut by ``paged``: pages of at most ``PAGE_LINES``
lines and about ``PAGE_BYTES`` bytes of Markdown, so that even a page of long entries stays well
under the homeserver's size limit once rendered. A list the database cuts (``LIMIT``/``OFFSET``)
uses a ``Window`` of ``PAGE_LINES`` entries, for entries of bounded length only. Either way a
page past the end is the last one, and the reply ends with ``more``'s line telling how to see
another page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from commands.i18n import Translator
from commands.params import PAGE
from commands.registry import PageRequest
from commands.text import inline_code

PAGE_LINES = 30
PAGE_BYTES = 16_000
_LEAST_BYTES = PAGE_BYTES // 4  # what entries may take, however long the fixed parts


@dataclass(frozen=True)
class Section:
    """Entries (one or more lines of Markdown each) under a ``heading`` repeated on each page
    that shows some of them; ``after`` follows the section's last entry on the page holding it
    (the closing row of a table)."""

    entries: Sequence[str]
    heading: str = ""
    after: str = ""


def _size(text: str) -> int:
    return len(text.encode()) + 1


def cut(sections: Sequence[Section], *, budget: int = PAGE_BYTES,
        lines: int = PAGE_LINES) -> list[tuple[tuple[int, int], ...]]:
    """The pages' entries, in order: as many as fit in ``lines`` lines and ``budget`` bytes
    (headings included); an entry longer than that is a page of its own."""
    pages: list[list[tuple[int, int]]] = [[]]
    used_lines = used_bytes = 0
    for s, section in enumerate(sections):
        for e, entry in enumerate(section.entries):
            height = entry.count("\n") + 1
            size = _size(entry) + (_size(section.after) if e == len(section.entries) - 1 else 0)
            heading = _size(section.heading) + 1
            current = pages[-1]
            if current and current[-1][0] == s:
                heading = 0
            if current and (used_lines + height > lines or used_bytes + heading + size > budget):
                pages.append([])
                used_lines = used_bytes = 0
                heading = _size(section.heading) + 1
            pages[-1].append((s, e))
            used_lines += height
            used_bytes += heading + size
    return [tuple(page) for page in pages]


def choose(request: PageRequest, pages: int) -> int:
    """The page number to show: the one asked for, or the last one past the end."""
    return min(request.number, max(pages, 1))


@dataclass(frozen=True)
class Window:
    """Page ``number`` of a list cut by count (``size`` entries a page), for a query's
    ``LIMIT``/``OFFSET``."""

    number: int
    size: int = PAGE_LINES

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    def pages(self, total: int) -> int:
        """How many pages ``total`` entries take (one when there is none)."""
        return max(1, -(-total // self.size))

    def within(self, total: int) -> Window:
        """This page, or the last one if it is past the end of ``total`` entries."""
        return Window(min(self.number, self.pages(total)), self.size)


def paged(request: PageRequest, sections: Sequence[Section], t: Translator, prefix: str, *,
          head: str = "", tail: str = "", arguments: str = "") -> str:
    """The page ``request`` asks for of a reply made of ``head`` (on every page), the
    ``sections``' entries, and ``tail`` (on every page); with more than one page, the line
    telling how to see another (``arguments``: what to repeat after the command's name)."""
    budget = max(PAGE_BYTES - _size(head) - _size(tail), _LEAST_BYTES)
    pages = cut(sections, budget=budget)
    number = choose(request, len(pages))
    parts = [head] if head else []
    parts += _blocks(sections, pages[number - 1])
    if tail:
        parts.append(tail)
    footer = more(request, number, len(pages), t, prefix, arguments)
    if footer:
        parts.append(footer)
    return "\n\n".join(parts)


def _blocks(sections: Sequence[Section], shown: Sequence[tuple[int, int]]) -> list[str]:
    """Each section shown on the page: its heading, its entries there, its ``after`` if its
    last entry is there."""
    blocks = []
    for s, section in enumerate(sections):
        entries = [e for index, e in shown if index == s]
        if not entries:
            continue
        lines = [section.heading] if section.heading else []
        lines += [section.entries[e] for e in entries]
        if entries[-1] == len(section.entries) - 1 and section.after:
            lines.append(section.after)
        blocks.append("\n".join(lines))
    return blocks


def more(request: PageRequest, number: int, pages: int, t: Translator, prefix: str,
         arguments: str = "") -> str:
    """« Page 2 sur 7 — la suite : `!rappel liste --page 3` » (on the last page, the previous
    one); nothing when everything fits on one page."""
    if pages <= 1:
        return ""
    words = [f"{prefix}{request.command.path_in(t.language)}", arguments.strip(),
             f"--{PAGE.name_in(t.language)}"]
    line = " ".join(word for word in words if word)
    if number < pages:
        return t("page.next", page=number, pages=pages, command=inline_code(f"{line} {number + 1}"))
    return t("page.previous", page=number, pages=pages,
             command=inline_code(f"{line} {number - 1}"))
