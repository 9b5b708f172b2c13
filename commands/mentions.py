"""Mentions in a command: Element writes only the display name in ``body`` and puts the user id
in a link in ``formatted_body``. The command line is rebuilt with each pill as its user id."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import unquote

from commands.pills import has_pills
from matrix_ids import MATRIX_TO


class _PillText(HTMLParser):
    """The text of an HTML message, with user pills replaced by their user ids."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._in_pill = 0
        self._in_reply = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") or ""
        if tag == "mx-reply" or self._in_reply:
            self._in_reply += tag == "mx-reply"
        elif tag == "a" and href.startswith(MATRIX_TO + "@"):
            self.parts.append(unquote(href[len(MATRIX_TO):]).split("?")[0])
            self._in_pill += 1
        elif tag == "a" and self._in_pill:
            self._in_pill += 1
        elif tag in ("br", "p", "div", "li") and self.parts:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "mx-reply" and self._in_reply:
            self._in_reply -= 1
        elif tag == "a" and self._in_pill:
            self._in_pill -= 1

    def handle_data(self, data: str) -> None:
        if not self._in_pill and not self._in_reply:
            self.parts.append(data)


def body_with_user_ids(body: str, formatted_body: str | None) -> str:
    """The command text to parse: from the HTML when it holds user pills, else the plain body."""
    if not formatted_body or not has_pills(formatted_body):
        return body
    parser = _PillText()
    parser.feed(formatted_body.replace(MATRIX_TO + "%40", MATRIX_TO + "@"))
    parser.close()
    return "".join(parser.parts).strip()
