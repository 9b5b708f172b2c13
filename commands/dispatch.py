"""From a message body to a handler call, and from a ``UserError`` to a short reply.

Pure logic: the runtime (``bot/dispatcher.py``) wraps it in a database transaction.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

from commands.arguments import MAX_LINE
from commands.context import Context, Place
from commands.effects import Reply
from commands.errors import BadArgument, Forbidden, MissingArgument, UnknownCommand, UserError
from commands.i18n import Translator, placeholders
from commands.registry import Command, Registry, Resolved
from commands.roles import Role
from commands.text import Markdown, defuse_mentions, escape_markdown

log = logging.getLogger(__name__)
_CODE_SPAN = re.compile(r"`[^`]*`")


@dataclass
class Prepared:
    """A resolved command with converted arguments, ready to run."""

    command: Command
    arguments: dict[str, Any]


def strip_reply_fallback(body: str) -> str:
    """Removes the ``> <@user> quoted`` lines that clients put before a reply's text."""
    lines = body.splitlines()
    if not lines or not lines[0].startswith("> "):
        return body
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    return "\n".join(lines).lstrip("\n")


def command_text(body: str, prefix: str) -> str | None:
    """The text after the prefix if ``body`` is a command, else ``None``."""
    text = strip_reply_fallback(body).strip()
    if not text.startswith(prefix):
        return None
    rest = text[len(prefix) :]
    if not rest or rest[0].isspace() or rest.startswith(prefix):
        return None
    return rest


def resolve(registry: Registry, line: str, role: Role, place: Place = Place.CLUB,
            entrance: str = "") -> Resolved:
    """The command a line names and the text of its arguments; raises ``UserError`` for an
    unknown command, or one the sender may not run here (``entrance``: where a visitor joins
    the club)."""
    if len(line) > MAX_LINE:
        raise UserError("error.line_too_long", maximum=MAX_LINE)
    resolved = registry.resolve(line)
    command = resolved.command
    check_access(command, role, place, entrance)
    if command.handler is None:
        raise BadArgument("error.missing_subcommand", command=command)
    return resolved


async def convert(resolved: Resolved, ctx: Context) -> Prepared:
    """Converts the arguments (finding the objects they name) and runs the command's checks;
    raises ``UserError`` for anything wrong."""
    command = resolved.command
    try:
        arguments = await command.parse(ctx, resolved.arguments)
        for check in command.checks:
            await check(ctx, arguments)
    except BadArgument as error:
        error.values.setdefault("command", command)
        raise
    return Prepared(command, arguments)


async def prepare(registry: Registry, line: str, ctx: Context, entrance: str = "") -> Prepared:
    """``resolve`` then ``convert``, with the sender's role and place in ``ctx``."""
    return await convert(resolve(registry, line, ctx.role, ctx.place, entrance), ctx)


def check_access(command: Command, role: Role, place: Place, entrance: str = "") -> None:
    """Refuses (``Forbidden``) a command the sender may not run, or not in this place."""
    if role < command.role and role == Role.VISITOR:
        if entrance:
            raise Forbidden("error.members_only", room=entrance)
        raise Forbidden("error.members_only_no_room")
    if command.role >= Role.COORDINATOR and role < Role.COORDINATOR:
        raise Forbidden("error.coordinators_only")
    if command.names_people and place is Place.OTHER:
        raise Forbidden("error.names_not_here")


async def run(prepared: Prepared, ctx: Context) -> Reply:
    """Calls the handler."""
    assert prepared.command.handler is not None
    return await prepared.command.handler(ctx, **prepared.arguments)


def error_reply(error: UserError, t: Translator, prefix: str) -> Reply:
    """A short reply for a user error, with the usage when an argument was wrong."""
    if isinstance(error, UnknownCommand):
        return Reply(_unknown_command_text(error, t, prefix))
    values = {k: v for k, v in error.values.items() if k != "command"}
    if isinstance(error, MissingArgument):
        values["name"] = t(f"param.{values['name']}")
    in_code = placeholders(" ".join(_CODE_SPAN.findall(t.template(error.message_key))))
    safe = {k: _shown(v, k in in_code) for k, v in values.items()}
    safe["prefix"] = prefix  # the club's own prefix, never user text
    text = t(error.message_key, **safe)
    command = error.values.get("command")
    if isinstance(error, BadArgument) and isinstance(command, Command):
        text += "\n\n" + t("error.usage", usage=command.usage(t, prefix))
        text += "\n" + t("error.usage_help", prefix=prefix, help=t("help.command_name"),
                         command=command.path_in(t.language).split()[0])
    return Reply(text)


def _shown(value: object, in_code: bool) -> object:
    """A refusal's value as Markdown: already Markdown (a pill, escaped text) as it is; other
    text escaped, or, inside a code span of the message, as it is (escapes would show there),
    a backtick that would end the span made a quote; ``@room`` defused either way."""
    if not isinstance(value, str) or isinstance(value, Markdown):
        return value
    return defuse_mentions(value.replace("`", "'")) if in_code else escape_markdown(value)


def _unknown_command_text(error: UnknownCommand, t: Translator, prefix: str) -> str:
    text = t("error.unknown_command", name=escape_markdown(prefix + error.name))
    if error.suggestions:
        names = ", ".join(f"`{prefix}{n}`" for n in error.suggestions)
        text += " " + t("error.did_you_mean", names=names)
    return text + " " + t("error.see_help", prefix=prefix, help=t("help.command_name"))


def new_reference() -> str:
    """A short reference to quote in an internal error, also written to the log."""
    return secrets.token_hex(3).upper()


def internal_error_reply(t: Translator, reference: str) -> Reply:
    return Reply(t("error.internal", reference=reference))
