"""The newcomer's commands: ``!aide``, ``!ping``, ``!cadre`` (and its adoption:
``commands.charter``); the welcome message, and the newcomers greeted together (the
``welcomes`` job)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from babel.lists import format_list

from commands import charter
from commands.arguments import Word
from commands.capability import Capability
from commands.charter import cadre
from commands.context import Club, Context
from commands.dates.format import babel_locale
from commands.digest import in_groups_of
from commands.effects import Effect, Leave, Post, Reply, effect_txn
from commands.errors import NotFound, UserError
from commands.i18n import Translator
from commands.jobs import ARRIVALS, Item, Job, JobRun
from commands.params import Param
from commands.registry import command
from commands.roles import Asker, Role
from commands.text import escape_markdown, pill

if TYPE_CHECKING:
    from storage.repositories import Repositories

log = logging.getLogger(__name__)


@command("aide", fr=("aide", "commandes"), en=("help", "commands"), section="meta",
         params=(Param("command", Word(), required=False),
                 Param("subcommand", Word(), required=False)), role=Role.VISITOR)
async def aide(ctx: Context, command: str | None, subcommand: str | None) -> Reply:
    """``!aide``: the commands the asker may run; ``!aide projet``, ``!aide rencontre
    planifier``: one in full, with who may run it (even one kept for another role)."""
    commands = ctx.commands
    assert commands is not None, "!aide runs with the registry it was found in"
    reader = await _asker(ctx)
    if command is None:
        text = commands.index(reader, ctx.t, ctx.club.prefix)
        if ctx.role == Role.VISITOR:
            text += "\n\n" + visitor_hint(ctx)
        return Reply(text)
    found = commands.find(command.lstrip(ctx.club.prefix))
    if found is not None and subcommand is not None:
        found = found.find(subcommand)
        command = f"{command} {subcommand}"
    if found is None:
        raise NotFound("error.no_such_command", name=command, prefix=ctx.club.prefix)
    text = found.detail(reader, ctx.t, ctx.club.prefix)
    if found.takes_option("kind"):  # the club's kinds of event, from its config
        text += "\n\n" + ctx.t("help.event_kinds", kinds=ctx.club.event_kinds.choices())
    if found.takes_param("counts"):  # the club's categories of people, from its config
        text += "\n\n" + ctx.t("help.categories", categories=ctx.club.categories.choices())
    if ctx.role == Role.VISITOR and not found.visible_to(reader):
        text += "\n\n" + visitor_hint(ctx)
    return Reply(text)


async def _asker(ctx: Context) -> Asker:
    """The sender as ``!aide`` sees them: a member's places as a group's referent and as an
    event's organiser are read from the database."""
    if ctx.role != Role.PARTICIPANT:
        return Asker(ctx.role)
    repos = ctx.db()
    referent = any(member.referent for _, member in await repos.groups.groups_of(ctx.sender))
    return Asker(ctx.role, referent=referent, organiser=await repos.meetings.organises(ctx.sender))


@command("ping", fr=("ping",), en=(), section="meta", role=Role.VISITOR)
async def ping(ctx: Context) -> Reply:
    latency = max(0, round((ctx.now - ctx.sent_at).total_seconds() * 1000))
    return Reply(ctx.t("ping.pong", version=ctx.club.version, latency=latency))


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


def welcome(t: Translator, club: Club, user_ids: Sequence[str],
            shown: charter.Charter | None) -> Reply:
    """The message that greets people the first time they join one of the club's rooms,
    naming each (a pill, by their id: clients show their name): one newcomer gets the club's
    charter (``shown``) in full; several, arrived together, a pointer to ``!cadre`` (the room
    is not buried under the charter at each burst of arrivals); both invite them to adopt it
    (a ✅ on the welcome adopts the charter's version: ``commands.charter``)."""
    names = format_list([pill(user) for user in user_ids], locale=babel_locale(t.language))
    if len(user_ids) == 1:
        parts = [t("welcome.hello", names=names, club=club.name)]
    else:
        parts = [t("welcome.hello_many", names=names, club=club.name, count=len(user_ids))]
    if club.welcome_message:
        parts.append(club.welcome_message)
    if shown and len(user_ids) == 1:
        parts += [t("welcome.charter"), shown.shown]
    elif shown:
        parts.append(t("welcome.charter_pointer", prefix=club.prefix))
    if shown:
        parts.append(t("adoption.welcome", prefix=club.prefix))
    parts.append(t("welcome.start", prefix=club.prefix, command=t("help.command_name")))
    return Reply("\n\n".join(parts), mentions=tuple(user_ids))


GATHER = timedelta(seconds=1)  # the first newcomer waits this long for others joining with them


def welcome_due(first_arrival: datetime, last_welcome: datetime | None,
                every: timedelta) -> datetime:
    """When a room's waiting newcomers are greeted: ``GATHER`` after the first of them arrived
    (those who join within that second come in the same message), and never sooner than
    ``every`` after the room's previous welcome (a burst of arrivals gives one message a
    minute, not one per person)."""
    gathered = first_arrival + GATHER
    return gathered if last_welcome is None else max(gathered, last_welcome + every)


async def _waiting_rooms(repos: Repositories, club: Club,
                         _now: datetime) -> Sequence[tuple[Item, datetime]]:
    return [(room_id, welcome_due(first, last, club.welcome_every))
            for room_id, first, last in await repos.welcomes.waiting_rooms()]


async def _greet(job: JobRun, item: Item) -> Sequence[Effect]:
    """One room's waiting newcomers: their welcome (``MAX_NAMED`` names at most a message),
    them marked greeted in the same commit."""
    room_id = str(item)
    newcomers = await job.repos.welcomes.waiting_in(room_id)
    await job.repos.welcomes.greeted(newcomers, job.now)
    job.key = f"welcome-{room_id}"
    log.info("%d newcomer(s) welcomed in %s", len(newcomers), room_id,
             extra={"room": room_id, "newcomers": len(newcomers)})
    posts = []
    shown = await charter.current(job.repos, job.club)
    for part in in_groups_of(newcomers):
        key = f"welcome-{room_id}-{part[0]}"
        if shown:  # a ✅ on the welcome adopts the charter
            await job.repos.charter.posted(effect_txn(key), shown.version, room_id, job.now)
        posts.append(Post(room_id, welcome(job.t, job.club, part, shown), key=key))
    return posts


def _welcome_retry(club: Club) -> timedelta:
    return max(club.welcome_every, GATHER)


# The newcomers the sync recorded (``welcomes`` rows), greeted together: one timer at the
# earliest room's time, each room's welcome in its own transaction.
WELCOMES = Job(ARRIVALS, pending=_waiting_rooms, run=_greet, timer=True, retry=_welcome_retry)
CAPABILITY = Capability("meta", commands=(aide, ping, cadre, quitter_salon), jobs=(WELCOMES,),
                        consumers=(charter.record_adoptions,), at_start=charter.AT_START)
