"""The bot's profile on a real Synapse: display name and avatar from the config, set at start
when they differ, the avatar uploaded once while the file does not change."""

from __future__ import annotations

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


async def test_the_profile_follows_the_config_and_the_avatar_is_uploaded_once(
        bot_factory, users, monkeypatch) -> None:
    calls = Calls(monkeypatch)
    runner = await bot_factory(start=False, rooms={"main": "#nowhere:localhost"})
    Image.new("RGB", (64, 64), "green").save(runner.base / "avatar.png")
    runner.overrides["matrix"] = {"display_name": "Bot du CCT", "avatar": "avatar.png"}
    await runner.start()
    assert calls.take() == {"set_displayname": 1, "upload": 1, "set_avatar": 1}
    reader = await users("reader")
    profile = await reader.client.get_profile(runner.user_id)
    assert isinstance(profile, ProfileGetResponse)
    assert profile.displayname == "Bot du CCT"
    first = profile.avatar_url
    assert first is not None and first.startswith("mxc://")

    await runner.stop()
    await runner.start()  # nothing differs: nothing is asked of the homeserver
    assert calls.take() == {}

    await runner.stop()
    Image.new("RGB", (64, 64), "blue").save(runner.base / "avatar.png")
    runner.overrides["matrix"]["display_name"] = "Le bot du club"
    await runner.start()
    assert calls.take() == {"set_displayname": 1, "upload": 1, "set_avatar": 1}
    profile = await reader.client.get_profile(runner.user_id)
    assert isinstance(profile, ProfileGetResponse)
    assert profile.displayname == "Le bot du club"
    assert profile.avatar_url not in (None, first)
