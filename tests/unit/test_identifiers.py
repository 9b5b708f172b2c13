"""User ids under the Matrix spec's grammar, and pills made only from valid ones."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.render import message_content
from commands.arguments import UserId
from commands.effects import Reply
from commands.errors import BadArgument
from commands.text import pill
from matrix_ids import is_server_name, is_user_id, user_link

VALID = ["@alice:example.org", "@a.b_c=d-e/f+g:matrix.example.org:8448", "@x:192.0.2.1",
         "@x:[2001:db8::1]:8448", "@x:localhost", "@0:a"]
HISTORIC = ["@Alice:example.org", "@x](//evil.example):evil.org", "@a<b>c:example.org",
            "@a%20b?c#d:example.org"]
INVALID = ["", "alice", "@alice", "@:example.org", "@alice:", "alice:example.org",
           "@x:evil.org/<strong>", "@x:evil.org?via=evil.org", "@x:evil.org](https://evil)",
           "@x:evil.org:99999999", "@x:exa mple.org", "@al ice:example.org", "@élodie:example.org",
           "@x:exämple.org", "@a\nb:example.org", "#salon:example.org", "!room:example.org",
           "@" + "a" * 250 + ":example.org"]
CRAFTED = ["@x:evil.org/<strong>", "@x](//evil.example):evil.org",
           "@x:evil.org](https://evil.example)", "@x:evil.org?via=evil.example",
           "@x:evil.org/ <strong>gras</strong> [lien](https://evil.example)",
           "@<strong>x</strong>:example.org", "@x):evil.org [y](https://evil.example"]


@pytest.mark.parametrize("user_id", VALID + HISTORIC)
def test_valid_ids(user_id: str) -> None:
    assert is_user_id(user_id)


@pytest.mark.parametrize("user_id", HISTORIC)
def test_historic_localparts_only_when_tolerated(user_id: str) -> None:
    assert not is_user_id(user_id, historic=False)


@pytest.mark.parametrize("user_id", INVALID)
def test_invalid_ids(user_id: str) -> None:
    assert not is_user_id(user_id)


@pytest.mark.parametrize(("server", "valid"), [
    ("example.org", True), ("example.org:8448", True), ("1.2.3.4", True), ("[::1]", True),
    ("[::1]:80", True), ("ex_ample.org", False), ("example.org:", False), ("[::1", False),
    ("example.org/x", False), ("", False)])
def test_server_names(server: str, valid: bool) -> None:
    assert is_server_name(server) is valid


def test_link_encodes_everything_but_the_sigil_and_colon() -> None:
    assert user_link("@alice:example.org") == "https://matrix.to/#/@alice:example.org"
    assert user_link("@a/b+c:ex.org") == "https://matrix.to/#/@a%2Fb%2Bc:ex.org"
    assert user_link("@x](https://e):ex.org") == "https://matrix.to/#/@x%5D%28https:%2F%2Fe%29:ex.org"


def test_pill_of_a_valid_id() -> None:
    assert pill("@alice:example.org", "Alice") == "[Alice](https://matrix.to/#/@alice:example.org)"


def test_an_invalid_id_is_plain_escaped_text() -> None:
    assert pill("@x:evil.org/<strong>") == r"@x:evil\.org/\<strong\>"


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [value or "" for name, value in attrs if name == "href"]


def _rendered(markdown: str) -> _Html:
    parser = _Html()
    parser.feed(message_content(Reply(markdown))["formatted_body"])
    return parser


@pytest.mark.parametrize("user_id", CRAFTED)
def test_a_crafted_id_yields_no_markup_and_no_link_elsewhere(user_id: str) -> None:
    for markdown in (pill(user_id), pill(user_id, "Alice"), f"Membres : {pill(user_id)}, fin"):
        html = _rendered(markdown)
        assert "strong" not in html.tags
        assert all(href.startswith("https://matrix.to/#/@") for href in html.hrefs), html.hrefs
        assert len(html.hrefs) <= 1


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40),
       st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40))
def test_any_pill_is_at_most_one_link_to_matrix_to(localpart: str, server: str) -> None:
    html = _rendered(pill(f"@{localpart}:{server}") + " " + pill(f"@{localpart}:{server}", "x"))
    assert not {"strong", "em", "code", "del", "img"} & set(html.tags)
    assert all(href.startswith("https://matrix.to/#/@") for href in html.hrefs)
    assert len(html.hrefs) <= 2


@pytest.mark.parametrize("raw", ["@x:evil.org/<strong>", "@x:evil.org?via=evil.org",
                                 "@x:evil.org](https://evil)", "@x:exa mple.org"])
def test_user_id_converter_refuses_an_invalid_id(raw: str) -> None:
    with pytest.raises(BadArgument) as info:
        UserId().convert(raw)
    assert info.value.message_key == "error.bad_user"


@pytest.mark.parametrize("raw", ["@Alice:example.org", "@x:[2001:db8::1]:8448",
                                 "https://matrix.to/#/@Bob:example.org"])
def test_user_id_converter_accepts_historic_and_ip_ids(raw: str) -> None:
    assert UserId().convert(raw) == raw.removeprefix("https://matrix.to/#/")
