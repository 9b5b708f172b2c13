"""bot.render: safe HTML, intentional mentions, replies, m.notice."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import render
from bot.render import markdown_to_html, message_content
from commands.effects import Reply
from commands.text import WORD_JOINER

DANGEROUS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[cliquez](javascript:alert(1))",
    "[cliquez](JaVaScRiPt:alert(1))",
    "<javascript:alert(1)>",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "![image](https://example.org/x.png)",
    '<iframe src="https://example.org"></iframe>',
    "<div onclick=alert(1)>x</div>",
    "<style>body{}</style>",
]


class _Tags(HTMLParser):
    """The real tags and attributes of an HTML fragment (escaped text is not a tag)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


@pytest.mark.parametrize("markdown", DANGEROUS)
def test_dangerous_markup_never_comes_out(markdown: str) -> None:
    html = markdown_to_html(markdown)
    for tag, attrs in _tags(html):
        assert tag in {"p", "a", "code", "em", "strong"}, html
        assert not any(name.startswith("on") for name in attrs), html
        href = (attrs.get("href") or "").strip().lower()
        assert not href or href.startswith(("https:", "http:", "mailto:", "matrix:")), html


def test_sanitiser_catches_what_the_renderer_would_let_through(monkeypatch: pytest.MonkeyPatch) -> None:
    """Even if the Markdown renderer passed raw HTML through, nh3 removes the dangerous parts."""
    from bot import render

    monkeypatch.setattr(render, "render_markdown", lambda text: text)
    html = render.markdown_to_html(
        '<p onclick="x()">a</p><script>alert(1)</script><img src=x onerror=alert(1)>'
        '<a href="javascript:alert(1)">b</a><a href="https://ok.example">c</a>'
    )
    tags = _tags(html)
    assert [tag for tag, _ in tags] == ["p", "a", "a"]
    assert tags[0][1] == {}
    assert tags[1][1] == {}
    assert tags[2][1] == {"href": "https://ok.example"}
    assert "alert" not in html


RELATIVE_OR_NOT_ALLOWED = ["/path", "//evil.example/x", "foo", "foo/bar.html", "#ancre", "?q=1",
                           "https:evil.example", "https:/evil.example", "http:foo", "mailto:",
                           "ftp://evil.example", "file:///etc/passwd", "javascript:alert(1)",
                           "java%0ascript:alert(1)"]
ABSOLUTE = ["https://example.org/a?b=1", "http://example.org", "HTTPS://EXAMPLE.ORG",
            "mailto:club@example.org", "matrix:u/alice:example.org"]


@pytest.mark.parametrize("url", RELATIVE_OR_NOT_ALLOWED)
def test_markdown_links_that_are_not_absolute_lose_their_target(url: str) -> None:
    html = markdown_to_html(f"[lien]({url})")
    assert html == "<p><a>lien</a></p>"


@pytest.mark.parametrize("url", [*RELATIVE_OR_NOT_ALLOWED, "java&#9;script:alert(1)", " /x",
                                 "&#47;&#47;evil.example"])
def test_raw_hrefs_that_are_not_absolute_lose_their_target(url: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "render_markdown", lambda text: text)
    assert render.markdown_to_html(f'<p><a href="{url}">lien</a></p>') == "<p><a>lien</a></p>"


@pytest.mark.parametrize("url", ABSOLUTE)
def test_absolute_links_survive(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert markdown_to_html(f"[lien]({url})") == f'<p><a href="{url}">lien</a></p>'
    monkeypatch.setattr(render, "render_markdown", lambda text: text)
    assert render.markdown_to_html(f'<a href="{url}">lien</a>') == f'<a href="{url}">lien</a>'


def test_raw_html_is_left_out() -> None:
    assert markdown_to_html("<script>alert(1)</script>") == ""
    assert markdown_to_html("<img src=x onerror=alert(1)>") == ""
    assert markdown_to_html("un <b>gras</b> brut") == "<p>un gras brut</p>"


def test_escaped_html_is_shown_as_text() -> None:
    assert markdown_to_html(r"\<b\>x\</b\>") == "<p>&lt;b&gt;x&lt;/b&gt;</p>"


def test_javascript_link_is_not_a_link() -> None:
    html = markdown_to_html("[cliquez](javascript:alert(1))")
    assert html == "<p><a>cliquez</a></p>"
    assert "href" not in html


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("**gras**", "<p><strong>gras</strong></p>"),
        ("_it_", "<p><em>it</em></p>"),
        ("`!aide`", "<p><code>!aide</code></p>"),
        ("~~barré~~", "<p><del>barré</del></p>"),
        ("| a | b |\n|---|---|\n| 1 | 2 |",
         "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n<tbody>\n"
         "<tr>\n<td>1</td>\n<td>2</td>\n</tr>\n</tbody>\n</table>"),
        ("voir www.example.org", "<p>voir www.example.org</p>"),
        ("[site](https://example.org/a?b=1)", '<p><a href="https://example.org/a?b=1">site</a></p>'),
        ("[Alice](https://matrix.to/#/@alice:example.org)",
         '<p><a href="https://matrix.to/#/@alice:example.org">Alice</a></p>'),
        ("[écrire](mailto:club@example.org)", '<p><a href="mailto:club@example.org">écrire</a></p>'),
        ("- un\n- deux", "<ul>\n<li>un</li>\n<li>deux</li>\n</ul>"),
    ],
)
def test_allowed_formatting_kept(markdown: str, html: str) -> None:
    assert markdown_to_html(markdown) == html


def test_tables_rendered() -> None:
    html = markdown_to_html("| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<table>" in html and "<td>1</td>" in html


def test_links_get_no_rel_noise() -> None:
    assert "rel=" not in markdown_to_html("[site](https://example.org)")


def test_message_content_shape() -> None:
    content = message_content(Reply("**pong**"))
    assert content == {
        "msgtype": "m.notice",
        "body": "**pong**",
        "format": "org.matrix.custom.html",
        "formatted_body": "<p><strong>pong</strong></p>",
        "m.mentions": {"user_ids": []},
    }


def test_mentions_always_present_and_never_room() -> None:
    for reply in (Reply("x"), Reply("@room attention", mentions=("@a:example.org",))):
        content = message_content(reply, in_reply_to="$ev", reply_sender="@s:example.org")
        assert "m.mentions" in content
        assert "room" not in content["m.mentions"]
        assert set(content["m.mentions"]) == {"user_ids"}


def test_room_ping_defused_in_body() -> None:
    content = message_content(Reply("Salut @room et @ROOM !"))
    assert "@room" not in content["body"].lower()
    assert f"@{WORD_JOINER}room" in content["body"]
    assert f"@{WORD_JOINER}ROOM" in content["body"]


def test_reply_relation_and_sender_mentioned() -> None:
    content = message_content(Reply("ok", mentions=("@a:example.org",)), in_reply_to="$cmd",
                              reply_sender="@s:example.org")
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$cmd"}}
    assert content["m.mentions"]["user_ids"] == ["@a:example.org", "@s:example.org"]


def test_reply_sender_not_listed_twice() -> None:
    content = message_content(Reply("ok", mentions=("@s:example.org", "@s:example.org")),
                              in_reply_to="$cmd", reply_sender="@s:example.org")
    assert content["m.mentions"]["user_ids"] == ["@s:example.org"]


def test_no_relation_without_reply() -> None:
    content = message_content(Reply("ok", mentions=("@a:example.org",)))
    assert "m.relates_to" not in content
    assert content["m.mentions"]["user_ids"] == ["@a:example.org"]


def test_msgtype_can_be_text() -> None:
    assert message_content(Reply("ok"), msgtype="m.text")["msgtype"] == "m.text"


def test_plain_body_has_no_markdown_escapes_and_no_room_ping() -> None:
    from bot.render import message_content
    from commands.effects import Reply
    from commands.text import escape_markdown

    content = message_content(Reply("Commande inconnue : « " + escape_markdown("!pign @room") + " »"))
    assert content["body"] == "Commande inconnue : « !pign @\u2060room »"


# --- HTML that needs no sanitising -------------------------------------------------------------

class _Tokens(HTMLParser):
    """An HTML fragment as what a client's parser sees: tags, attributes, comments and text
    (character references decoded, ``<br />`` and ``<br>`` alike)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[tuple[Any, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tokens.append(("start", tag, tuple(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self.tokens.append(("end", tag))

    def handle_comment(self, data: str) -> None:
        self.tokens.append(("comment", data))

    def handle_data(self, data: str) -> None:
        if self.tokens and self.tokens[-1][0] == "data":
            self.tokens[-1] = ("data", self.tokens[-1][1] + data)
        else:
            self.tokens.append(("data", data))


def _parsed(html: str) -> list[tuple[Any, ...]]:
    parser = _Tokens()
    parser.feed(html)
    parser.close()
    return parser.tokens


def _sanitised(markdown: str) -> str:
    """What nh3 makes of the renderer's HTML: the reference for the shortcut."""
    return render.sanitise(render.render_markdown(markdown)).strip()


PIECES = ["**gras**", "_it_", "`code`", "~~barré~~", "# Titre", "> cité", "- point", "1. un",
          "2) deux", "---", "| a | b |\n|---|---|\n| 1 | 2 |", "| a |\n|:--|\n| 1 |", "```\n<x>\n```",
          "    indenté", "ligne  \nsuite", "[lien](https://example.org)", "[x](javascript:a)",
          "![img](https://example.org/i.png)", "<b>brut</b>", "<script>x</script>", "<!-- c -->",
          "<https://example.org>", "&amp; &lt; &quot; &#39; &nbsp; &copy;", "\\<b\\>", "@room",
          "\u00a0", "é ü 😀", "<", ">", "&", "\"", "'", "|", "\n", "\n\n", " "]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=12)), max_size=12))
def test_html_left_unsanitised_is_what_sanitising_would_give(pieces: list[str]) -> None:
    """The shortcut (bare allowed tags need no nh3) changes nothing a client would parse."""
    markdown = "".join(pieces)
    assert _parsed(markdown_to_html(markdown)) == _parsed(_sanitised(markdown))


def test_the_tags_left_unsanitised_are_all_allowed() -> None:
    assert {*render.BARE_TAGS, *render.VOID_TAGS} <= render.ALLOWED_TAGS


@pytest.mark.parametrize("html", [
    '<p><a href="https://example.org">x</a></p>', "<p>a<!-- raw HTML omitted -->b</p>",
    '<p><img src="https://example.org/i.png" alt="i" /></p>', '<ol start="2">\n<li>x</li>\n</ol>',
    '<table>\n<thead>\n<tr>\n<th align="left">a</th>', "<p><script></p>", "<p><b></p>",
])
def test_html_with_anything_but_bare_allowed_tags_is_sanitised(html: str) -> None:
    assert not render.bare_tags_only(html)


def test_a_table_of_groups_skips_the_sanitiser(monkeypatch: pytest.MonkeyPatch) -> None:
    """``!projet liste``'s table (bold, code, cells) is HTML that nh3 need not parse."""
    def refuse(*_args: object, **_kwargs: object) -> str:
        raise AssertionError("nh3 was called")

    monkeypatch.setattr(render.nh3, "clean", refuse)
    html = markdown_to_html("**Groupes-projets** (2)\n\n| # | Nom | Membres |\n|---|---|---|\n"
                            "| 1 | Vélo \\& co (`velo`) | 3 |\n| 2 | Zéro déchet (`zero`) | 5 |\n\n"
                            "Page 1/2 — `!projet liste --page 2`")
    assert "<td>Vélo &amp; co (<code>velo</code>)</td>" in html


def _png(width: int, height: int) -> bytes:
    """The header of a PNG picture of ``width`` × ``height`` (all the size is read from)."""
    import struct
    import zlib

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    return (render.PNG_SIGNATURE + struct.pack(">I", len(header)) + chunk
            + struct.pack(">I", zlib.crc32(chunk)) + b"\0" * 20)


def test_a_png_picture_is_posted_as_an_image_with_its_size() -> None:
    data = _png(1200, 675)
    assert render.attachment_content("bilan-2026-presences.png", "image/png", data) == {
        "msgtype": "m.image", "body": "bilan-2026-presences.png",
        "filename": "bilan-2026-presences.png",
        "info": {"mimetype": "image/png", "size": len(data), "w": 1200, "h": 675}}


@pytest.mark.parametrize(("mimetype", "data"), [
    ("text/csv", _png(10, 10)),  # PNG bytes under another type: the type says what it is
    ("image/png", b"not a picture"),  # said to be a PNG, but no header to read a size from
    ("image/png", _png(0, 10)),
    ("image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 8),  # cut short
    ("application/vnd.oasis.opendocument.text", b"PK\x03\x04"),
])
def test_anything_else_is_posted_as_a_file(mimetype: str, data: bytes) -> None:
    content = render.attachment_content("x", mimetype, data)
    assert content == {"msgtype": "m.file", "body": "x", "filename": "x",
                       "info": {"mimetype": mimetype, "size": len(data)}}
