"""The pure parts of a new charter version: its label, the Markdown its text is shown as (its
structure kept, nothing that acts), the word that says an outcome adopts or rejects it, and the
``lines`` parameter that reads a multi-line text sent with the command."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.render import message_content
from commands.arguments import Text
from commands.charter import Charter, proposed_markdown, same_version, valid_version
from commands.effects import Reply
from commands.errors import MissingArgument
from commands.i18n import Translator
from commands.params import Option, Param
from commands.polls.charter import outcome_word
from commands.registry import Command


@pytest.mark.parametrize("label", ["1", "2", "2026-03", "v2.1", "version_3", "é2", "9" * 64])
def test_a_version_is_a_short_label(label: str) -> None:
    assert valid_version(label)


@pytest.mark.parametrize("label", ["", "v 2", "2!", "2\n", "<b>", "[2]", "9" * 65, "2/3"])
def test_anything_else_is_not_a_version(label: str) -> None:
    assert not valid_version(label)


def test_labels_that_would_be_confused_are_one_version() -> None:
    assert same_version("V2", "v2") and same_version("２", "2") and same_version("é", "e")
    assert not same_version("2", "2.0")


def html(markdown: str) -> str:
    return str(message_content(Reply(markdown))["formatted_body"])


def test_a_proposed_text_keeps_its_structure() -> None:
    shown = html(proposed_markdown("# Notre cadre\n\n1. **Bienveillance** : _tous_.\n"
                                   "2. Écoute.\n\n> Une citation\n\n- un point"))
    for tag in ("<h1>Notre cadre</h1>", "<ol>", "<strong>Bienveillance</strong>", "<em>tous</em>",
                "<blockquote>", "<ul>"):
        assert tag in shown, tag


@pytest.mark.parametrize("text, absent", [
    ("[lien](https://evil.example)", "<a"),
    ("![image](https://evil.example/x.png)", "<img"),
    ("<https://evil.example>", "<a"),
    ("[ref]: https://evil.example\n\n[ref]", "<a"),
    ("<b>gras</b> <script>x</script>", "<b>"),
    ("&#60;b&#62;", "&#60;"),
    ("`code` et\n```\nbloc\n```", "<code>"),
    ("~~barré~~", "<del>"),
    ("| a | b |\n|---|---|\n| 1 | 2 |", "<table>"),
    ("[@bob](https://matrix.to/#/@bob:example.org)", "<a"),
])
def test_nothing_in_a_proposed_text_acts(text: str, absent: str) -> None:
    shown = html(proposed_markdown(text))
    assert absent not in shown, shown


def test_a_proposed_text_cannot_swallow_what_follows_it() -> None:
    """An open fence or an HTML block would turn the bot's next lines into code or nothing."""
    for text in ("```\nouvert", "<div>\nouvert", "~~~\nouvert", "    indenté"):
        shown = html(proposed_markdown(text) + "\n\nPour adhérer : un ✅.")
        assert "<p>Pour adhérer : un ✅.</p>" in shown, (text, shown)


def test_room_pings_are_defused_and_the_plain_body_reads_as_written() -> None:
    content = message_content(Reply(proposed_markdown("Tous @room : [lien] <b> & ~")))
    assert "@room" not in content["body"] and "@room" not in content["formatted_body"]
    assert content["body"].replace("\u2060", "") == "Tous @room : [lien] <b> & ~"


def test_the_configs_text_is_the_administrators_markdown() -> None:
    assert Charter("1", "[site](https://club.example)").shown == "[site](https://club.example)"
    assert Charter("2", "[site](https://x)", poll_id=4).shown == r"\[site\](https://x)"


@pytest.mark.parametrize("text, expected", [
    ("Adoptée à l'unanimité", True), ("adoptée", True), ("ADOPTÉ, 5 voix", True),
    ("Adopted: unanimously", True), ("« Adoptée »", True), ("Rejetée : trop tôt", False),
    ("rejeté.", False), ("Rejected", False), ("On verra", None), ("", None),
    ("Non adoptée", None), ("adoptable", None),
])
def test_the_first_word_of_an_outcome_says_adopted_or_rejected(text: str,
                                                               expected: bool | None) -> None:
    assert outcome_word(text) is expected


async def _noop(ctx: Any, **arguments: Any) -> Reply:
    return Reply("")


COMMAND = Command("x", ("x",), (), "meta", _noop,
                  (Param("version", Text(80)), Param("text", Text(100), lines=True)),
                  options=(Option("closes", Text(), fr=("cloture",)),))


def parse(text: str) -> dict[str, Any]:
    return asyncio.run(COMMAND.parse(None, text))  # type: ignore[arg-type]


def test_a_lines_parameter_takes_the_lines_after_the_first_never_read_for_options() -> None:
    assert parse("2 --cloture demain 18h\nLigne 1 --cloture jamais\n\nLigne 3") == {
        "version": "2", "text": "Ligne 1 --cloture jamais\n\nLigne 3", "closes": "demain 18h"}
    with pytest.raises(MissingArgument):
        parse("2 --cloture demain 18h")


def test_its_usage_comes_after_the_options() -> None:
    usage = COMMAND.usage(Translator("fr"), "!")
    assert usage.index("--cloture") < usage.index("↵ <texte…>")
