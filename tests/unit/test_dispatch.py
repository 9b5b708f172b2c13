"""commands.dispatch: what is a command, resolving with role checks, and error replies."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.render import message_content
from commands import build_registry
from commands.arguments import MAX_LINE, Integer
from commands.context import Context
from commands.dispatch import (
    command_text,
    error_reply,
    internal_error_reply,
    new_reference,
    strip_reply_fallback,
)
from commands.effects import Reply
from commands.errors import (
    BadArgument,
    Forbidden,
    MissingArgument,
    NotFound,
    TooManyArguments,
    UnknownCommand,
    UserError,
)
from commands.i18n import Translator, catalog
from commands.params import Param
from commands.registry import Registry, command, group
from commands.roles import Role
from commands.text import pill
from tests.unit.commandline import prepare_line

FR = Translator("fr")
EN = Translator("en")


async def _handler(ctx: Context, **_kwargs: Any) -> Reply:
    return Reply("ok")


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Registry:
    """The real commands plus a coordinator-only one and one with an integer argument."""
    for language in ("fr", "en"):
        monkeypatch.setitem(catalog(language), "cmd.fermer.summary", "fermer")
        monkeypatch.setitem(catalog(language), "cmd.voir.summary", "voir")
        monkeypatch.setitem(catalog(language), "param.numero", "numéro")
        monkeypatch.setitem(catalog(language), "cmd.essai.summary", "essai")
        monkeypatch.setitem(catalog(language), "cmd.essai.voir.summary", "voir")
    registry = build_registry()
    registry.add(command("fermer", fr=("fermer",), en=("close",), section="polls",
                     role=Role.COORDINATOR)(_handler))
    registry.add(command("voir", fr=("voir",), en=("show",), section="polls",
                     params=(Param("numero", Integer()),))(_handler))
    essai = registry.add(group("essai", fr=("essai",), section="projects"))
    essai.subcommand("voir", fr=("voir",))(_handler)
    return registry


def _error(registry: Registry, line: str, role: Role = Role.PARTICIPANT) -> UserError:
    with pytest.raises(UserError) as info:
        prepare_line(registry, line, role)
    return info.value


# --- command_text -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("body", "prefix", "line"),
    [
        ("!ping", "!", "ping"),
        ("  !ping  ", "!", "ping"),
        ("!aide ping", "!", "aide ping"),
        ("?ping", "?", "ping"),
        ("cct!ping", "cct!", "ping"),
        ("> <@x:example.org> quoted\n\n!ping", "!", "ping"),
        ("> <@x:example.org> first line\n> second line\n\n!aide ping", "!", "aide ping"),
        ("> <@x:example.org> !aide\n\n!ping", "!", "ping"),
    ],
)
def test_command_text_finds_commands(body: str, prefix: str, line: str) -> None:
    assert command_text(body, prefix) == line


@pytest.mark.parametrize(
    ("body", "prefix"),
    [
        ("!!", "!"),
        ("!!ping", "!"),
        ("! ping", "!"),
        ("!", "!"),
        ("", "!"),
        ("ping", "!"),
        ("bonjour !ping", "!"),
        ("!ping", "?"),
        ("> <@x:example.org> !ping", "!"),  # only a quote: the command was someone else's
        ("> <@x:example.org> !ping\n\nmerci !", "!"),
    ],
)
def test_command_text_ignores_non_commands(body: str, prefix: str) -> None:
    assert command_text(body, prefix) is None


def test_strip_reply_fallback_only_strips_a_leading_quote() -> None:
    assert strip_reply_fallback("> <@a:b> x\n> y\n\nbody") == "body"
    assert strip_reply_fallback("body\n> not a fallback") == "body\n> not a fallback"


# --- prepare ------------------------------------------------------------------------------------

def test_prepare_converts_arguments(registry: Registry) -> None:
    prepared = prepare_line(registry, "VOIR #3", Role.PARTICIPANT)
    assert prepared.command.key == "voir"
    assert prepared.arguments == {"numero": 3}
    assert prepare_line(registry, "aide", Role.PARTICIPANT).arguments == {"command": None,
                                                                          "subcommand": None}


def test_prepare_forbidden_for_participant(registry: Registry) -> None:
    error = _error(registry, "fermer", Role.PARTICIPANT)
    assert isinstance(error, Forbidden)
    assert error.message_key == "error.coordinators_only"
    error = _error(registry, "close", Role.REFERENT)
    assert isinstance(error, Forbidden)
    assert prepare_line(registry, "fermer", Role.COORDINATOR).command.key == "fermer"


def test_prepare_role_checked_before_arguments(registry: Registry) -> None:
    # A participant learns nothing about a coordinator command's arguments.
    assert isinstance(_error(registry, "fermer beaucoup trop d arguments"), Forbidden)


def test_prepare_line_too_long(registry: Registry) -> None:
    error = _error(registry, "aide " + "x" * MAX_LINE)
    assert error.message_key == "error.line_too_long"
    assert error.values == {"maximum": MAX_LINE}
    assert not isinstance(error, BadArgument)


def test_prepare_group_without_subcommand(registry: Registry) -> None:
    error = _error(registry, "essai")
    assert isinstance(error, BadArgument)
    assert error.message_key == "error.missing_subcommand"
    text = error_reply(error, FR, "!").markdown
    assert "Précisez" in text and "`!essai <voir>`" in text


def test_prepare_bad_argument_carries_its_command(registry: Registry) -> None:
    error = _error(registry, "voir douze")
    assert isinstance(error, BadArgument)
    assert error.values["command"] is registry.find("voir")
    assert isinstance(_error(registry, "voir"), MissingArgument)
    assert isinstance(_error(registry, "voir 1 2"), TooManyArguments)
    assert isinstance(_error(registry, "aid"), UnknownCommand)


# --- error_reply --------------------------------------------------------------------------------

def test_missing_argument_reply_in_french_with_usage(registry: Registry) -> None:
    text = error_reply(_error(registry, "voir"), FR, "!").markdown
    assert text.startswith("Il manque : numéro.")
    assert "Usage : `!voir <numéro>`" in text
    assert "Détails : `!aide voir`" in text


def test_bad_argument_reply_in_english(registry: Registry) -> None:
    text = error_reply(_error(registry, "show twelve"), EN, "!").markdown
    assert "twelve" in text
    assert "`!show <numéro>`" in text
    assert "`!help show`" in text


def test_too_many_arguments_reply(registry: Registry) -> None:
    text = error_reply(_error(registry, "ping encore"), FR, "!").markdown
    assert text.startswith("Trop d'arguments : « encore ».")
    assert "Usage : `!ping`" in text


def test_unknown_command_reply_with_suggestion(registry: Registry) -> None:
    text = error_reply(_error(registry, "aid"), FR, "!").markdown
    assert text.startswith("Commande inconnue")
    assert "`!aide`" in text
    assert "Vouliez-vous dire" in text
    assert "Tapez `!aide` pour la liste des commandes." in text
    assert "Usage" not in text


def test_unknown_command_reply_without_suggestion(registry: Registry) -> None:
    text = error_reply(_error(registry, "xyzzy"), FR, "!").markdown
    assert "Commande inconnue" in text and "xyzzy" in text
    assert "Vouliez-vous dire" not in text


def test_unknown_command_reply_in_english(registry: Registry) -> None:
    text = error_reply(_error(registry, "pign"), EN, "?").markdown
    assert text.startswith("Unknown command")
    assert "`?ping`" in text and "`?help`" in text


def test_forbidden_reply_has_no_usage(registry: Registry) -> None:
    text = error_reply(_error(registry, "fermer"), FR, "!").markdown
    assert text == FR("error.coordinators_only")


def _rendered(markdown: str) -> dict[str, Any]:
    return message_content(Reply(markdown), in_reply_to="$e", reply_sender="@u:example.org")


@pytest.mark.parametrize(
    "line",
    [
        "<script>alert(1)</script>",
        "@room",
        "voir <script>alert(1)</script>",
        "voir @room",
        "ping <img src=x onerror=alert(1)> @room",
        "aide **gras** [lien](javascript:alert(1)) @ROOM",
    ],
)
def test_user_text_is_escaped_in_error_replies(registry: Registry, line: str) -> None:
    text = error_reply(_error(registry, line), FR, "!").markdown
    assert not re.search(r"(?<!\\)[<>\[\]*]", text.split("\n")[0]), text  # all escaped
    assert "@room" not in text.lower()
    content = _rendered(text)
    assert "<script" not in content["formatted_body"]
    assert "<img" not in content["formatted_body"]
    assert "href" not in content["formatted_body"]
    assert "<strong>" not in content["formatted_body"]
    assert "@room" not in content["body"].lower()
    assert "@room" not in content["formatted_body"].lower()


def test_escaped_user_text_still_reads_the_same_once_rendered(registry: Registry) -> None:
    text = error_reply(_error(registry, "voir <b>12</b>"), FR, "!").markdown
    html = _rendered(text)["formatted_body"]
    assert "&lt;b&gt;12&lt;/b&gt;" in html


def test_not_found_reply_shows_the_prefix_without_backslash() -> None:
    error = NotFound("error.no_such_command", name="x", prefix="!")
    html = _rendered(error_reply(error, FR, "!").markdown)["formatted_body"]
    assert "<code>!aide</code>" in html


def test_not_found_reply_escapes_the_name() -> None:
    error = NotFound("error.no_such_command", name="<script>@room", prefix="!")
    text = error_reply(error, FR, "!").markdown
    assert text.startswith("Pas de commande « ")
    assert "<script>" not in text and "@room" not in text


def test_internal_error_reply() -> None:
    reference = new_reference()
    assert len(reference) == 6 and reference == reference.upper()
    assert int(reference, 16) >= 0
    assert len({new_reference() for _ in range(50)}) > 45
    text = internal_error_reply(FR, reference).markdown
    assert text.startswith(f"Erreur interne (réf. {reference})")


def test_a_refusal_shows_pills_and_escaped_text_once_and_code_spans_as_they_are() -> None:
    t = Translator("fr")
    pilled = message_content(error_reply(
        Forbidden("decisions.author_only", number=3, who=pill("@bob:example.org")), t, "!"))
    assert "@bob:example.org" in pilled["body"] and "\\" not in pilled["body"]
    assert ('<a href="https://matrix.to/#/@bob:example.org">@bob:example.org</a>'
            in pilled["formatted_body"])
    plain = message_content(error_reply(UserError("action.not_member", user="@bob:x.org"), t, "!"))
    assert plain["body"].startswith("@bob:x.org n'est") and "\\" not in plain["formatted_body"]
    coded = message_content(error_reply(UserError("projects.slug_taken", slug="a-b`@room"), t,
                                        "!"))
    assert "<code>a-b'@\u2060room</code>" in coded["formatted_body"]
    assert "`a-b'@\u2060room`" in coded["body"]
