"""A capability (projects, rencontres, polls…) declares in one place everything it reacts to:
its commands, what becomes of the rooms it opens, the room events it consumes, what it
does when another capability announces something (``Context.announce``), its scheduled work
(``commands.jobs``), what it does at each start and what ``cct-bot export`` writes. ``build`` makes the
bot's ``Registry`` from the capabilities ``commands.CAPABILITIES`` lists; ``bot/`` wires
whatever the registry holds and never names a capability."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from commands.registry import Command, OutcomeHandler, Registry

if TYPE_CHECKING:
    from commands.events import Consumer, PollAnswers, ReadAnswer
    from commands.exports import Export
    from commands.jobs import Answered, AtStart, Job


@dataclass(frozen=True)
class Capability:
    """What one capability declares (everything optional but its name)."""

    name: str
    commands: Sequence[Command] = ()
    # what is recorded and told once a room the bot opened exists (``Outcome.kind`` → handler)
    outcomes: Mapping[str, OutcomeHandler] = field(default_factory=dict)
    consumers: Sequence[Consumer] = ()  # reactions, redactions, thread messages of a batch
    poll_answers: Sequence[PollAnswers] = ()  # members' answers to native polls
    # the event types of those answers, and how each is read
    answer_events: Mapping[str, ReadAnswer] = field(default_factory=dict)
    # what it does when another capability announces ``name`` (``Registry.listeners``)
    listens: Mapping[str, Callable[..., Awaitable[Any]]] = field(default_factory=dict)
    jobs: Sequence[Job] = ()  # scheduled work: due items read from the database, their run
    at_start: Sequence[AtStart] = ()  # run once at each start, after the catch-up
    answered: Sequence[Answered] = ()  # native polls whose answers are read again at start
    exports: Sequence[Export] = ()  # what ``cct-bot export`` writes (``commands.exports``)


def build(capabilities: Iterable[Capability]) -> Registry:
    """A registry holding everything ``capabilities`` declare, in their order (the order of
    ``!aide``'s sections and of the consumers' calls)."""
    registry = Registry()
    for capability in capabilities:
        for command in capability.commands:
            registry.add(command)
        for kind, handler in capability.outcomes.items():
            registry.outcome(kind)(handler)
        registry.consumers += capability.consumers
        registry.poll_answers += capability.poll_answers
        registry.answer_events.update(capability.answer_events)
        for announcement, listener in capability.listens.items():
            registry.listeners.setdefault(announcement, []).append(listener)
        registry.jobs += capability.jobs
        registry.at_start += capability.at_start
        registry.answered += capability.answered
        registry.exports += capability.exports
    return registry
