"""commands.meta.welcome: the greeting of a newcomer."""

from __future__ import annotations

from html.parser import HTMLParser

from bot.render import message_content
from commands.context import Club
from commands.i18n import Translator
from commands.meta import welcome

CLUB = Club(name="Club Climat et Transition", prefix="!", language="fr", timezone="Europe/Paris",
            charter="Respect.", welcome_message="Les rencontres ont lieu le jeudi.", version="1")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href"))


def test_welcome_parts_in_order() -> None:
    reply = welcome(Translator("fr"), CLUB, "@bob:example.org", "Bob")
    text = reply.markdown
    assert text.startswith("Bienvenue [Bob](https://matrix.to/#/@bob:example.org) au Club Climat")
    positions = [text.index(part) for part in ("Bienvenue", "Les rencontres", "Notre cadre",
                                               "Respect.", "`!aide`")]
    assert positions == sorted(positions)
    assert reply.mentions == ("@bob:example.org",)


def test_welcome_without_charter_or_message() -> None:
    club = Club(name="C", prefix="?", language="en", timezone="UTC", charter="", welcome_message="",
                version="1")
    text = welcome(Translator("en"), club, "@bob:example.org", "").markdown
    assert "charter" not in text.lower()
    assert "`?help`" in text
    assert "@bob" in text  # the user id stands in for an empty display name


def test_welcome_display_name_cannot_inject_markup() -> None:
    reply = welcome(Translator("fr"), CLUB, "@bob:example.org",
                    "Bob](javascript:alert(1)) <img src=x onerror=1> @room")
    content = message_content(reply)
    links = _Links()
    links.feed(content["formatted_body"])
    assert links.hrefs == ["https://matrix.to/#/@bob:example.org"]
    assert "<img" not in content["formatted_body"]
    assert "@room" not in content["body"] and "@room" not in content["formatted_body"]
    assert content["m.mentions"] == {"user_ids": ["@bob:example.org"]}
