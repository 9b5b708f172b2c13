"""commands.meta.welcome: the greeting of newcomers, one or several together."""

from __future__ import annotations

from html.parser import HTMLParser

from bot.render import message_content
from commands.charter import configured
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
    reply = welcome(Translator("fr"), CLUB, ["@bob:example.org"], configured(CLUB))
    text = reply.markdown
    assert text.startswith(r"Bienvenue [@bob:example\.org](https://matrix.to/#/@bob:example.org)"
                           " au Club Climat")
    positions = [text.index(part) for part in ("Bienvenue", "Les rencontres", "Notre cadre",
                                               "Respect.", "`!aide`")]
    assert positions == sorted(positions)
    assert reply.mentions == ("@bob:example.org",)


def test_several_newcomers_are_welcomed_together_with_a_pointer_to_the_charter() -> None:
    people = ["@ana:example.org", "@bob:example.org", "@cy:example.org"]
    reply = welcome(Translator("fr"), CLUB, people, configured(CLUB))
    text = reply.markdown
    assert text.startswith("Bienvenue aux 3 personnes arrivées au Club Climat et Transition : ")
    assert r"[@bob:example\.org](https://matrix.to/#/@bob:example.org) et [@cy" in text
    assert "Respect." not in text  # the charter once read with !cadre, not pasted again
    assert "tapez `!cadre` pour le lire" in text and "`!aide`" in text
    assert reply.mentions == tuple(people)
    english = welcome(Translator("en"), CLUB, people[:2], configured(CLUB)).markdown
    assert english.startswith("Welcome to the 2 people who joined the Club Climat")
    assert "`!charter`" in english and " and [@bob" in english


def test_welcome_without_charter_or_message() -> None:
    club = Club(name="C", prefix="?", language="en", timezone="UTC", charter="", welcome_message="",
                version="1")
    for people in (["@bob:example.org"], ["@bob:example.org", "@eve:example.org"]):
        text = welcome(Translator("en"), club, people, configured(club)).markdown
        assert "charter" not in text.lower()
        assert "`?help`" in text
        assert "@bob" in text


def test_welcome_user_id_cannot_inject_markup() -> None:
    """A pill is a link only for a valid user id: anything else is escaped text."""
    reply = welcome(Translator("fr"), CLUB,
                    ["@bob:example.org", "@x:evil.org/<img src=x onerror=1>](javascript:1) @room"],
                    configured(CLUB))
    content = message_content(reply)
    links = _Links()
    links.feed(content["formatted_body"])
    assert links.hrefs == ["https://matrix.to/#/@bob:example.org"]
    assert "<img" not in content["formatted_body"]
    assert "@room" not in content["body"] and "@room" not in content["formatted_body"]
