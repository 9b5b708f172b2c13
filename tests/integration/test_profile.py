"""The bot's profile on a real Synapse: display name and avatar from the config, set at start
(in the background) when they differ, the avatar uploaded once while the file does not
change; a profile request that never ends holds nothing back."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from nio import AsyncClient, ProfileGetResponse
from PIL import Image

pytestmark = pytest.mark.integration


class Calls:
    """Counts the profile requests every nio client makes (the bot's included)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.counts: dict[str, int] = {}
        for name in ("upload", "set_displayname", "set_avatar"):
            self._count(monkeypatch, name)

    def _count(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        original = getattr(AsyncClient, name)

        async def counted(client: AsyncClient, *args: Any, **kwargs: Any) -> Any:
            self.counts[name] = self.counts.get(name, 0) + 1
            return await original(client, *args, **kwargs)

        monkeypatch.setattr(AsyncClient, name, counted)

    def take(self) -> dict[str, int]:
        counts, self.counts = self.counts, {}
        return counts


async def started(runner: Any) -> None:
    """Starts the bot and waits for its profile's upkeep."""
    bot = await runner.start()
    assert bot.profile_kept is not None
    await bot.profile_kept


async def test_the_profile_follows_the_config_and_the_avatar_is_uploaded_once(
        bot_factory, users, monkeypatch) -> None:
    calls = Calls(monkeypatch)
    runner = await bot_factory(start=False, rooms={"main": "#nowhere:localhost"})
    Image.new("RGB", (64, 64), "green").save(runner.base / "avatar.png")
    runner.overrides["matrix"] = {"display_name": "Bot du CCT", "avatar": "avatar.png"}
    await started(runner)
    assert calls.take() == {"set_displayname": 1, "upload": 1, "set_avatar": 1}
    reader = await users("reader")
    profile = await reader.client.get_profile(runner.user_id)
    assert isinstance(profile, ProfileGetResponse)
    assert profile.displayname == "Bot du CCT"
    first = profile.avatar_url
    assert first is not None and first.startswith("mxc://")

    await runner.stop()
    await started(runner)  # nothing differs: nothing is asked of the homeserver
    assert calls.take() == {}

    await runner.stop()
    Image.new("RGB", (64, 64), "blue").save(runner.base / "avatar.png")
    runner.overrides["matrix"]["display_name"] = "Le bot du club"
    await started(runner)
    assert calls.take() == {"set_displayname": 1, "upload": 1, "set_avatar": 1}
    profile = await reader.client.get_profile(runner.user_id)
    assert isinstance(profile, ProfileGetResponse)
    assert profile.displayname == "Le bot du club"
    assert profile.avatar_url not in (None, first)


async def test_a_profile_request_that_never_ends_holds_the_start_back_not(
        bot_factory, monkeypatch) -> None:
    asked = asyncio.Event()

    async def never(_client: AsyncClient, *_args: Any, **_kwargs: Any) -> Any:
        asked.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(AsyncClient, "get_profile", never)
    runner = await bot_factory(start=False, rooms={"main": "#nowhere:localhost"})
    runner.overrides["matrix"] = {"display_name": "Bot du CCT"}
    bot = await asyncio.wait_for(runner.start(), 60)
    assert bot.ready.is_set() and asked.is_set()
    assert bot.profile_kept is not None and not bot.profile_kept.done()
    await runner.stop()  # the request is given up with the bot
