"""A real bot, in-process, against the session's Synapse; fresh accounts and rooms per test."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app import Bot
from bot.clock import Clock
from bot.config import parse_settings
from bot.settings import Settings
from devtools.devserver import LocalSynapse
from tests.conftest import unavailable
from tests.integration.element_peer import ElementPeer, missing
from tests.integration.matrix_user import MatrixUser


def unique(name: str) -> str:
    return f"{name}{secrets.token_hex(3)}"


class BotRunner:
    """Starts, stops and restarts one bot account with its database and store kept."""

    def __init__(self, synapse: LocalSynapse, base: Path, user_id: str, password: str,
                 overrides: dict[str, dict[str, Any]]) -> None:
        self.synapse = synapse
        self.base = base
        self.user_id = user_id
        self.password = password
        self.overrides = overrides
        self.bot: Bot | None = None
        self.clock: Clock | None = None  # the system clock unless a test gives one

    def settings(self) -> Settings:
        data: dict[str, dict[str, Any]] = {
            "matrix": {"homeserver": self.synapse.url, "user_id": self.user_id,
                       "password": self.password, "device_id": "CCTBOTTEST",
                       "store_path": "store", "sync_timeout_ms": 5000},
            "database": {"url": "sqlite+aiosqlite:///data/cct.db"},
            "club": {"charter": "1. On s'écoute.\n2. On agit ensemble."},
            "rooms": {},
        }
        for section, values in self.overrides.items():
            data.setdefault(section, {}).update(values)
        return parse_settings(data, base=self.base, env={})

    async def start(self) -> Bot:
        self.bot = Bot(self.settings(), clock=self.clock)
        await self.bot.start()
        return self.bot

    async def stop(self) -> None:
        if self.bot is not None:
            await self.bot.stop()
            self.bot = None


BotFactory = Callable[..., Awaitable[BotRunner]]


@pytest.fixture
async def bot_factory(synapse: LocalSynapse, tmp_path: Path) -> AsyncIterator[BotFactory]:
    """Makes a bot account; ``await factory(club={...}, rooms={...})`` returns a started runner."""
    runners: list[BotRunner] = []

    async def make(start: bool = True, **overrides: dict[str, Any]) -> BotRunner:
        localpart = unique("cctbot")
        user_id = synapse.register(localpart, "bot-pw")
        runner = BotRunner(synapse, tmp_path / localpart, user_id, "bot-pw", overrides)
        runner.base.mkdir()
        runners.append(runner)
        if start:
            await runner.start()
        return runner

    yield make
    for runner in runners:
        await runner.stop()


@pytest.fixture
async def users(synapse: LocalSynapse) -> AsyncIterator[Callable[..., Awaitable[MatrixUser]]]:
    """Makes human test users; closed at the end of the test."""
    made: list[MatrixUser] = []

    async def make(name: str = "user", **kwargs: Any) -> MatrixUser:
        user = await MatrixUser.create(synapse, unique(name), **kwargs)
        made.append(user)
        return user

    yield make
    for user in made:
        await user.close()


ElementFactory = Callable[..., Awaitable[ElementPeer]]


@pytest.fixture
async def elements(synapse: LocalSynapse) -> AsyncIterator[ElementFactory]:
    """Makes people on Element (the JS SDK with its Rust crypto, in Node), logged in; without
    Node.js or the peer's packages, skipped (a failure under CI)."""
    why = missing()
    if why is not None:
        unavailable(why)
    made: list[ElementPeer] = []

    async def make(name: str = "element", **options: Any) -> ElementPeer:
        """``options``: ``display_name``, ``threads`` (``ElementPeer.login``)."""
        localpart = unique(name)
        user_id = synapse.register(localpart, f"{localpart}-pw")
        peer = await ElementPeer.start()
        made.append(peer)
        await peer.login(synapse.url, user_id, f"{localpart}-pw", **options)
        return peer

    yield make
    for peer in made:
        await peer.close()
