"""commands.text: storable text, folding, Markdown escaping, @room defusing."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.render import markdown_to_html
from commands.text import (
    WORD_JOINER,
    defuse_mentions,
    escape_markdown,
    fold,
    inline_code,
    shorten,
    storable,
    storable_id,
)


@pytest.mark.parametrize(
    ("text", "folded"),
    [("Aidé", "aide"), ("AIDE", "aide"), ("ÉTÉ", "ete"), ("garçon", "garcon"), ("Noël", "noel"),
     ("Straße", "strasse"), ("ﬁn", "fin"), ("", ""), ("déjà-vu 12", "deja-vu 12")],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéèêëàâäîïôöùûüçÉÈÀÇŒœ"
                        " -'0123456789", max_size=50))
def test_fold_is_idempotent_and_lower(text: str) -> None:
    assert fold(fold(text)) == fold(text)
    assert fold(text) == fold(text).lower()


def test_fold_compatibility_letters_are_lower_case() -> None:
    assert fold("𝐀𝐈𝐃𝐄") == "aide"


@pytest.mark.parametrize(
    "text",
    ["@room", "@ROOM", "@Room !", "salut @room.", "(@room)", "bob@room.example"],
)
def test_defuse_mentions(text: str) -> None:
    result = defuse_mentions(text)
    assert "@room" not in result.lower()
    assert result.replace(WORD_JOINER, "") == text


@pytest.mark.parametrize("text", ["@roomie", "@rooms", "@alice:room.org", "room", "@ room"])
def test_defuse_leaves_other_words(text: str) -> None:
    assert defuse_mentions(text) == text


@pytest.mark.parametrize("char", list("\\`*_{}[]()#+-.!|<>~&="))
def test_escape_markdown_escapes_each_special(char: str) -> None:
    assert escape_markdown(char) == "\\" + char


@pytest.mark.parametrize("text", ["Adoptée\n===", "Titre\n=", "a\n---", "a\n***", "a\n___"])
def test_escaped_lines_never_make_a_heading_or_a_rule(text: str) -> None:
    html = markdown_to_html(escape_markdown(text))
    assert "<h" not in html and "<hr" not in html
    assert html.startswith("<p>") and html.count("<p>") == 1


def test_escape_markdown_defuses_room() -> None:
    assert escape_markdown("@room") == f"@{WORD_JOINER}room"


@pytest.mark.parametrize(
    "text",
    ["**gras**", "_it_", "`code`", "[lien](https://x.org)", "<b>x</b>", "# titre", "- item",
     "1. un", "> cité", "a\\b", "&amp;", "~~x~~", "| a |", "![i](x.png)", "l'atelier d'été"],
)
def test_escaped_text_renders_as_itself(text: str) -> None:
    html = markdown_to_html(escape_markdown(text))
    plain = (html.removeprefix("<p>").removesuffix("</p>").replace("&lt;", "<").replace("&gt;", ">")
             .replace("&amp;", "&").replace("&quot;", '"'))
    assert plain == text


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40))
def test_escaped_text_never_produces_markup(text: str) -> None:
    html = markdown_to_html(escape_markdown(text))
    inner = html.removeprefix("<p>").removesuffix("</p>")
    assert "<" not in inner.replace("<br>", "").replace("<br />", "")


@pytest.mark.parametrize("text", ["!rappel liste --page 2", "a `b` c", "``x", "y`", "*_[x](y)_*"])
def test_inline_code_shows_the_text_as_is(text: str) -> None:
    html = markdown_to_html(inline_code(text))
    assert html.startswith("<p><code>") and html.endswith("</code></p>")
    code = html.removeprefix("<p><code>").removesuffix("</code></p>")
    assert code.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">") == text


def test_inline_code_defuses_room() -> None:
    assert inline_code("!initiative chercher @room") == (
        f"`!initiative chercher @{WORD_JOINER}room`")


def test_shorten() -> None:
    assert shorten("abc", 3) == "abc"
    assert shorten("abcd", 3) == "ab…"
    assert shorten("abcd", 0) == "…"


def test_unescape_markdown_gives_back_the_user_text() -> None:
    from commands.text import escape_markdown, unescape_markdown

    raw = "!pign <b>*x*</b> [a](b) #1 - 2.5 _c_ \\ `d`"
    assert unescape_markdown(escape_markdown(raw)) == raw


@pytest.mark.parametrize(("raw", "kept"), [
    ("sans contrôle", "sans contrôle"),
    ("a\x00b", "ab"),  # NUL: PostgreSQL refuses it in text
    ("a\x01\x08\x0e\x1f\x7fb", "ab"),
    ("a\x80\x9fb", "ab"),  # C1 controls
    ("a\ud800b\udfff", "ab"),  # lone surrogates (JSON may escape them)
    ("a\r\nb\rc\x0bd\x0ce\x1cf\x1dg\x1eh\x85i", "a\nb\nc\nd\ne\nf\ng\nh\ni"),
    ("a\tb\nc", "a\tb\nc"),
    ("\u200b\u202e\u2028🚲", "\u200b\u202e\u2028🚲"),  # not controls: left to each command
])
def test_storable_text(raw: str, kept: str) -> None:
    assert storable(raw) == kept


@given(st.text())
def test_storable_text_holds_no_control_but_tab_and_line_feed(text: str) -> None:
    kept = storable(text)
    assert all(c in "\t\n" or unicodedata.category(c) not in ("Cc", "Cs") for c in kept)
    kept.encode("utf-8")  # no lone surrogate
    assert storable(kept) == kept


@pytest.mark.parametrize(("raw", "kept"), [
    ("$abc:example.org", "$abc:example.org"),
    ("$abc\x00", ""),
    ("$a\ud800", ""),
    ("$" + "é" * 128, ""),  # over 255 bytes
    ("$" + "a" * 254, "$" + "a" * 254),
])
def test_storable_id(raw: str, kept: str) -> None:
    assert storable_id(raw) == kept
