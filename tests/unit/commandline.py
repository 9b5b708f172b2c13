"""Running the command layer's coroutines from plain tests: a context without database (enough
for converters that need none), parsing and preparing a line."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from commands.context import Club, Context
from commands.dispatch import Prepared, prepare
from commands.i18n import Translator
from commands.registry import Command, Registry
from commands.roles import Role

NOW = datetime(2099, 1, 5, 10, 0, tzinfo=UTC)


def context(role: Role = Role.PARTICIPANT, registry: Registry | None = None) -> Context:
    club = Club("CCT", "!", "fr", "Europe/Paris", "", "", "test")
    return Context("@alice:example.org", "!room:example.org", "$e", NOW, NOW, role, club,
                   Translator("fr"), commands=registry)


def parse(command: Command, text: str) -> dict[str, Any]:
    """``command.parse`` run to its end."""
    return asyncio.run(command.parse(context(), text))


def prepare_line(registry: Registry, line: str, role: Role = Role.PARTICIPANT) -> Prepared:
    """``prepare`` run to its end, for a sender of ``role``."""
    return asyncio.run(prepare(registry, line, context(role, registry)))
