"""The newcomer's commands: ``!aide``, ``!ping``, ``!cadre``; and the welcome message."""

from __future__ import annotations

from collections.abc import Sequence

from babel.lists import format_list

from commands.arguments import Word
from commands.capability import Capability
from commands.context import Club, Context, Reply
from commands.dates.format import babel_locale
from commands.effects import Leave
from commands.errors import NotFound, UserError
from commands.i18n import Translator
from commands.params import Param
from commands.registry import command
from commands.roles import Role
from commands.text import escape_markdown, pill


@command("aide", fr=("aide", "commandes"), en=("help", "commands"), section="meta",
         params=(Param("command", Word(), required=False),), role=Role.VISITOR)
async def aide(ctx: Context, command: str | None) -> Reply:
    """``!aide``: the commands the asker may run; ``!aide projet``: one in full."""
    commands = ctx.commands
    assert commands is not None, "!aide runs with the registry it was found in"
    if command is None:
        text = commands.index(ctx.role, ctx.t, ctx.club.prefix)
        if ctx.role == Role.VISITOR:
            text += "\n\n" + visitor_hint(ctx)
        return Reply(text)
    found = commands.find(command.lstrip(ctx.club.prefix))
    if found is None or not found.visible_to(ctx.role):
        raise NotFound("error.no_such_command", name=command, prefix=ctx.club.prefix)
    text = found.detail(ctx.role, ctx.t, ctx.club.prefix)
    if found.takes_option("kind"):  # the club's kinds of event, from its config
        text += "\n\n" + ctx.t("help.event_kinds", kinds=ctx.club.event_kinds.choices())
    if found.takes_param("counts"):  # the club's categories of people, from its config
        text += "\n\n" + ctx.t("help.categories", categories=ctx.club.categories.choices())
    return Reply(text)


@command("ping", fr=("ping",), en=(), section="meta", role=Role.VISITOR)
async def ping(ctx: Context) -> Reply:
    latency = max(0, round((ctx.now - ctx.sent_at).total_seconds() * 1000))
    return Reply(ctx.t("ping.pong", version=ctx.club.version, latency=latency))


@command("cadre", fr=("cadre", "charte"), en=("charter",), section="meta", role=Role.VISITOR)
async def cadre(ctx: Context) -> Reply:
    if not ctx.club.charter:
        return Reply(ctx.t("charter.none"))
    return Reply(ctx.t("charter.title", club=ctx.club.name) + "\n\n" + ctx.club.charter)


def visitor_hint(ctx: Context) -> str:
    """Where a visitor joins the club to take part."""
    if ctx.club.entrance:
        return ctx.t("help.visitor", room=escape_markdown(ctx.club.entrance))
    return ctx.t("help.visitor_no_room")


@command("quitter-salon", fr=("quitter-salon", "quittersalon", "sortir"),
         en=("leave-room", "leaveroom"), section="meta", role=Role.COORDINATOR)
async def quitter_salon(ctx: Context) -> Reply:
    """``!quitter-salon``: the coordinators send the bot out of a room."""
    if ctx.room_id in ctx.club.rooms.values():
        raise UserError("meta.leave_club_room")
    return Reply(ctx.t("meta.leaving"), effects=(Leave(ctx.room_id),))


CAPABILITY = Capability("meta", commands=(aide, ping, cadre, quitter_salon))


def welcome(t: Translator, club: Club, user_ids: Sequence[str]) -> Reply:
    """The message that greets people the first time they join one of the club's rooms,
    naming each (a pill, by their id: clients show their name): one newcomer gets the charter
    in full; several, arrived together, a pointer to ``!cadre`` (the room is not buried under
    the charter at each burst of arrivals)."""
    names = format_list([pill(user) for user in user_ids], locale=babel_locale(t.language))
    if len(user_ids) == 1:
        parts = [t("welcome.hello", names=names, club=club.name)]
    else:
        parts = [t("welcome.hello_many", names=names, club=club.name, count=len(user_ids))]
    if club.welcome_message:
        parts.append(club.welcome_message)
    if club.charter and len(user_ids) == 1:
        parts += [t("welcome.charter"), club.charter]
    elif club.charter:
        parts.append(t("welcome.charter_pointer", prefix=club.prefix))
    parts.append(t("welcome.start", prefix=club.prefix, command=t("help.command_name")))
    return Reply("\n\n".join(parts), mentions=tuple(user_ids))
