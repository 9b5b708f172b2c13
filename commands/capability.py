"""A capability (projects, rencontres, polls…) declares in one place everything it reacts to:
its commands, what becomes of the rooms it opens, the room events it consumes, and what it
does when another capability announces something. ``build`` makes the bot's ``Registry`` from
the capabilities ``commands.CAPABILITIES`` lists; ``bot/`` wires whatever the registry holds and
never names a capability."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from commands.registry import Command, OutcomeHandler, Registry

if TYPE_CHECKING:
    from commands.context import Listener
    from commands.events import Consumer, PollAnswers


@dataclass(frozen=True)
class Capability:
    """What one capability declares (everything optional but its name)."""

    name: str
    commands: Sequence[Command] = ()
    # what is recorded and told once a room the bot opened exists (``Outcome.kind`` → handler)
    outcomes: Mapping[str, OutcomeHandler] = field(default_factory=dict)
    consumers: Sequence[Consumer] = ()  # reactions and redactions of a sync batch
    poll_answers: Sequence[PollAnswers] = ()  # members' answers to native polls
    # what it does when another capability announces something (``Context.announce``)
    listens: Mapping[str, Listener] = field(default_factory=dict)
    # a capability still declaring its commands on a registry (``register(registry)``)
    install: Callable[[Registry], None] | None = None


def build(capabilities: Iterable[Capability]) -> Registry:
    """A registry holding everything ``capabilities`` declare, in their order (the order of
    the commands within ``!aide``'s sections, and of the consumers' calls)."""
    registry = Registry()
    for capability in capabilities:
        for command in capability.commands:
            registry.add(command)
        for kind, handler in capability.outcomes.items():
            registry.outcome(kind)(handler)
        registry.consumers += capability.consumers
        registry.poll_answers += capability.poll_answers
        for announcement, listener in capability.listens.items():
            registry.listeners.setdefault(announcement, []).append(listener)
        if capability.install is not None:
            capability.install(registry)
    return registry
