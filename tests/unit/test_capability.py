"""commands.capability and the declarations at module level: a capability's commands listed by
several registries, families sharing a role and checks, converters given the context."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from commands import CAPABILITIES, build_registry, meta, projects
from commands.arguments import Integer
from commands.capability import Capability, build
from commands.context import Context
from commands.effects import Effect, Leave, Reply
from commands.errors import BadArgument, Forbidden, MissingArgument
from commands.params import Option, Param
from commands.registry import group
from commands.roles import Role
from tests.unit.commandline import context, prepare_line


async def _handler(ctx: Context, **arguments: Any) -> Reply:
    return Reply(repr(sorted(arguments.items())))


@dataclass(frozen=True)
class Shout:
    """A converter reading its context: the raw text, upper case, signed by the sender."""

    kind: str = "text"

    async def convert(self, ctx: Context, raw: str) -> str:
        return f"{raw.upper()} ({ctx.sender})"

    async def absent(self, ctx: Context) -> str:
        return f"silence ({ctx.room_id})"


def test_the_same_declarations_make_several_registries() -> None:
    first, second = build_registry(), build_registry()
    assert first.find("projet") is second.find("projet") is projects.CAPABILITY.commands[0]
    assert [c.key for c in first.walk()] == [c.key for c in second.walk()]
    alone = build([meta.CAPABILITY])
    assert [c.key for c in alone] == ["aide", "ping", "cadre", "quitter-salon"]
    assert first.outcomes.keys() == second.outcomes.keys() >= {"group_room", "personal_data"}


def test_a_capability_brings_everything_it_reacts_to() -> None:
    registry = build_registry()
    names = [capability.name for capability in CAPABILITIES]
    assert names[:3] == ["meta", "projects", "initiatives"]
    assert [f"{c.__module__}.{c.__name__}" for c in registry.consumers] == [
        "commands.charter.record_adoptions", "commands.polls.comments.record_thread_comments",
        "commands.agenda.reactions.record_supports", "commands.agenda.cosign.record_supports"]
    assert [a.__name__ for a in registry.poll_answers] == ["record_native"]

    async def follow(number: int) -> list[Effect]:
        return [Leave(f"!room{number}:example.org")]

    extra = Capability("extra", listens={"rencontre.changed": follow})
    registry = build([meta.CAPABILITY, extra])
    assert registry.listeners["rencontre.changed"] == [follow]
    ctx = context(registry=registry)
    assert asyncio.run(ctx.announce("rencontre.changed", 3)) == [Leave("!room3:example.org")]
    assert asyncio.run(ctx.announce("rencontre.moved", 3)) == []
    with pytest.raises(ValueError, match="declared twice"):
        build([projects.CAPABILITY, projects.CAPABILITY])


def test_a_family_gives_its_subcommands_its_role_and_checks() -> None:
    seen: list[Mapping[str, Any]] = []

    async def open_only(ctx: Context, arguments: Mapping[str, Any]) -> None:
        seen.append(dict(arguments))
        if arguments["what"].startswith("FERMÉ"):
            raise Forbidden("error.forbidden")

    essai = group("essai", fr=("essai",), section="meetings")
    coordination = essai.family(role=Role.COORDINATOR, checks=(open_only,))
    coordination.subcommand("changer", fr=("changer",),
                            params=(Param("what", Shout(), rest=True),))(_handler)
    essai.subcommand("lire", fr=("lire",))(_handler)
    changer, lire = essai.subcommands
    assert (changer.role, changer.checks) == (Role.COORDINATOR, (open_only,))
    assert (lire.role, lire.checks) == (Role.PARTICIPANT, ())
    registry = build([Capability("essai", commands=(essai,))])
    with pytest.raises(Forbidden):  # the family's role, before any conversion
        prepare_line(registry, "essai changer ouvert", Role.PARTICIPANT)
    assert seen == []
    prepared = prepare_line(registry, "essai changer ouvert", Role.COORDINATOR)
    assert prepared.arguments == {"what": "OUVERT (@alice:example.org)"}
    assert seen == [{"what": "OUVERT (@alice:example.org)"}]
    with pytest.raises(Forbidden):  # the family's check, on the converted argument
        prepare_line(registry, "essai changer fermé", Role.COORDINATOR)
    with pytest.raises(ValueError, match="declared twice"):
        essai.subcommand("lire", fr=("lire",))(_handler)


def test_an_optional_argument_left_out_may_come_from_the_context() -> None:
    essai = group("essai", fr=("essai",), section="meetings")
    essai.subcommand("dire", fr=("dire",),
                     params=(Param("what", Shout(), required=False, rest=True),))(_handler)
    essai.subcommand("crier", fr=("crier",), params=(Param("what", Shout(), rest=True),))(_handler)
    registry = build([Capability("essai", commands=(essai,))])
    assert prepare_line(registry, "essai dire").arguments == {"what": "silence (!room:example.org)"}
    with pytest.raises(MissingArgument):
        prepare_line(registry, "essai crier")


def test_a_command_declared_at_module_level_is_called_like_its_handler() -> None:
    """(``!aide`` reads the database for who organises what: tests/handlers/test_help.py.)"""
    assert build_registry().resolve("ping").command is meta.ping
    assert asyncio.run(meta.ping(context(Role.VISITOR))).markdown.startswith("pong")


@dataclass(frozen=True)
class Looked:
    """A converter that records each lookup (the raw text must be a number: ``read``)."""

    seen: list[str]
    kind: str = "number"

    def read(self, raw: str) -> None:
        Integer().convert(raw)

    async def convert(self, ctx: Context, raw: str) -> str:
        self.seen.append(raw)
        return f"n°{raw}"

    async def absent(self, ctx: Context) -> str:
        self.seen.append("next")
        return "the next one"


def test_every_argument_is_read_before_anything_is_looked_up() -> None:
    seen: list[str] = []
    essai = group("essai", fr=("essai",), section="meetings")
    essai.subcommand("deplacer", fr=("deplacer",),
                     params=(Param("what", Looked(seen)), Param("where", Integer())),
                     options=(Option("meeting", Looked(seen), fr=("rencontre",)),))(_handler)
    registry = build([Capability("essai", commands=(essai,))])
    with pytest.raises(BadArgument):  # the second argument is not a number: nothing looked up
        prepare_line(registry, "essai deplacer 3 ici")
    with pytest.raises(MissingArgument):
        prepare_line(registry, "essai deplacer 3 --rencontre 2")
    with pytest.raises(BadArgument):  # the looked-up one is read (a number) first too
        prepare_line(registry, "essai deplacer trois 4")
    assert seen == []
    assert prepare_line(registry, "essai deplacer 3 4").arguments == {
        "what": "n°3", "where": 4, "meeting": "the next one"}
    assert prepare_line(registry, "essai deplacer 5 6 --rencontre 7").arguments == {
        "what": "n°5", "where": 6, "meeting": "n°7"}
    assert seen == ["3", "next", "5", "7"]


def test_an_announcement_reaches_the_capabilities_listening() -> None:
    heard: list[tuple[Any, ...]] = []

    async def listener(*facts: Any) -> list[str]:
        heard.append(facts)
        return [f"effect of {facts[0]}"]

    registry = build([Capability("a", listens={"moved": listener}),
                      Capability("b", listens={"moved": listener, "other": listener})])
    effects = asyncio.run(context(Role.COORDINATOR, registry).announce("moved", 12))
    assert effects == ["effect of 12", "effect of 12"]
    assert heard == [(12,), (12,)]
    assert asyncio.run(context(Role.COORDINATOR, registry).announce("nobody listens")) == []


def test_moving_a_rencontre_is_announced_to_the_agenda() -> None:
    """The agenda follows a moved rencontre; the actions add their part to its card."""
    from commands.actions.handlers import card_section
    from commands.agenda.service import follow_meeting
    from commands.meetings import MEETING_CHANGED
    from commands.meetings.service import MEETING_CARD

    assert build_registry().listeners == {MEETING_CHANGED: [follow_meeting],
                                          MEETING_CARD: [card_section]}
