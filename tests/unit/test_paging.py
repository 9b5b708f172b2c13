"""commands.paging and the ``--page`` option: how lists are cut into pages, and the line that
tells how to see another one."""

from __future__ import annotations

import pytest

from commands import build_registry
from commands.errors import BadArgument
from commands.i18n import Translator
from commands.paging import PAGE_BYTES, PAGE_LINES, Section, Window, cut, more, paged
from commands.params import PAGE
from commands.registry import Command, PageRequest, Registry
from tests.unit.commandline import parse

FR = Translator("fr")
EN = Translator("en")


def command(key: str = "rappel.liste") -> Command:
    found = build_registry().by_key(key)
    assert found is not None
    return found


def request(number: int = 1, key: str = "rappel.liste") -> PageRequest:
    return PageRequest(number, command(key))


def entries(count: int, width: int = 10) -> list[str]:
    return [f"- {number:04d} " + "x" * width for number in range(count)]


# --- cut ------------------------------------------------------------------------------------------

def test_short_entries_are_cut_by_lines() -> None:
    pages = cut([Section(entries(65))])
    assert [len(page) for page in pages] == [PAGE_LINES, PAGE_LINES, 5]
    assert [e for page in pages for _, e in page] == list(range(65))


def test_long_entries_are_cut_by_bytes() -> None:
    long = entries(20, width=3000)
    pages = cut([Section(long)])
    assert all(sum(len(long[e]) + 1 for _, e in page) <= PAGE_BYTES for page in pages)
    assert [len(page) for page in pages] == [5, 5, 5, 5]


def test_bytes_count_utf8_and_headings() -> None:
    accented = ["é" * 1999] * 8  # 3,999 bytes each with its line break
    assert [len(p) for p in cut([Section(accented)])] == [4, 4]
    assert [len(p) for p in cut([Section(accented, heading="h" * 100)])] == [3, 3, 2]


def test_an_entry_longer_than_a_page_is_a_page_of_its_own() -> None:
    pages = cut([Section(["short", "y" * (2 * PAGE_BYTES), "short"])])
    assert pages == [((0, 0),), ((0, 1),), ((0, 2),)]


def test_an_entry_of_several_lines_counts_them_all() -> None:
    pages = cut([Section(["a\nb\nc"] * 12)])
    assert [len(page) for page in pages] == [10, 2]


def test_sections_follow_each_other_across_pages() -> None:
    pages = cut([Section(entries(20), heading="A"), Section(entries(20), heading="B")])
    assert pages[0][-1] == (1, 9) and pages[1][0] == (1, 10)


def test_nothing_to_cut_is_one_empty_page() -> None:
    assert cut([]) == [()]


# --- paged ----------------------------------------------------------------------------------------

def test_headings_repeat_on_each_page_and_after_closes_the_last_one() -> None:
    sections = [Section(entries(40), heading="**Titre**", after="| fin |")]
    first = paged(request(1), sections, FR, "!", head="Tête", tail="Pied")
    second = paged(request(2), sections, FR, "!", head="Tête", tail="Pied")
    assert first.startswith("Tête\n\n**Titre**\n- 0000 ") and "| fin |" not in first
    assert second.startswith("Tête\n\n**Titre**\n- 0030 ")
    assert "- 0039 xxxxxxxxxx\n| fin |\n\nPied\n\nPage 2 sur 2" in second


def test_the_page_line_names_the_command_and_its_arguments() -> None:
    sections = [Section(entries(100))]
    first = paged(request(1, "projet.membres"), sections, FR, "!", arguments="velo")
    assert first.endswith("\n\nPage 1 sur 4 — la suite : `!projet membres velo --page 2`")
    third = paged(request(3, "projet.membres"), sections, EN, "?", arguments="velo")
    assert third.endswith("\n\nPage 3 of 4 — next: `?project members velo --page 4`")


@pytest.mark.parametrize("number", [4, 5, 1000])
def test_a_page_past_the_end_is_the_last_one(number: int) -> None:
    sections = [Section(entries(100))]
    text = paged(request(number), sections, FR, "!")
    assert text == paged(request(4), sections, FR, "!")
    assert "- 0099 " in text and "- 0089 " not in text
    assert text.endswith("Page 4 sur 4 — la précédente : `!rappel liste --page 3`")


def test_one_page_says_nothing_of_pages() -> None:
    text = paged(request(1), [Section(entries(3), heading="T")], FR, "!", tail="Pied")
    assert text == "T\n- 0000 xxxxxxxxxx\n- 0001 xxxxxxxxxx\n- 0002 xxxxxxxxxx\n\nPied"
    assert paged(request(7), [Section(entries(3))], FR, "!") == "\n".join(entries(3))


def test_fixed_parts_leave_room_to_the_entries() -> None:
    head = "h" * 10_000
    pages = [paged(request(n), [Section(entries(30, width=500))], FR, "!", head=head)
             for n in (1, 2, 3, 4, 5)]
    assert all(len(page.encode()) <= PAGE_BYTES + 200 for page in pages)


# --- more, Window ---------------------------------------------------------------------------------

def test_more_keeps_arguments_with_backticks_readable() -> None:
    line = more(request(1, "initiative.chercher"), 1, 2, FR, "!", arguments="a`b")
    assert line == "Page 1 sur 2 — la suite : ``!initiative chercher a`b --page 2``"


def test_more_in_english_uses_english_names() -> None:
    line = more(request(2, "odj.liste"), 2, 2, EN, "!", arguments="--meeting 3")
    assert line == "Page 2 of 2 — previous: `!agenda list --meeting 3 --page 1`"


def test_window() -> None:
    assert (Window(1).offset, Window(3).offset, Window(2, 20).offset) == (0, 60, 20)
    assert [Window(1).pages(total) for total in (0, 1, 30, 31, 500)] == [1, 1, 1, 2, 17]
    assert Window(9).within(61) == Window(3) and Window(2).within(61) == Window(2)
    assert Window(5, 20).within(0) == Window(1, 20)


# --- the option -----------------------------------------------------------------------------------

def test_page_option_gives_a_request_to_the_handler() -> None:
    liste = command()
    assert parse(liste, "") == {"page": PageRequest(1, liste)}
    assert parse(liste, "--page 3") == {"page": PageRequest(3, liste)}
    assert parse(liste, "—Page 12") == {"page": PageRequest(12, liste)}


@pytest.mark.parametrize("raw", ["--page 0", "--page deux", "--page", "--page -1"])
def test_a_bad_page_number_is_refused(raw: str) -> None:
    with pytest.raises(BadArgument):
        parse(command(), raw)


PAGED = {"rappel.liste", "projet.liste", "projet.info", "projet.membres", "projet.historique",
         "mesprojets", "initiative.liste", "initiative.chercher", "rencontre.liste",
         "rencontre.info", "sondage.liste", "odj.liste", "remontee.liste", "programme",
         "actions", "decisions", "cadre.adhesions"}


def test_the_commands_that_list_what_grows_take_a_page() -> None:
    registry: Registry = build_registry()
    assert {c.key for c in registry.walk() if PAGE in c.options} == PAGED


@pytest.mark.parametrize("t", [FR, EN])
def test_usage_shows_the_page_option(t: Translator) -> None:
    assert command("projet.membres").usage(t, "!") == (
        "!projet membres [groupe…] [--page <page>]" if t is FR
        else "!project members [group…] [--page <page>]")
