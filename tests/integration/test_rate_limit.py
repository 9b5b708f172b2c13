"""A homeserver that rate-limits the bot (low rc_message): every reply arrives, once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.devserver import LocalSynapse, find_synapse_python
from tests.integration.conftest import BotRunner, unique
from tests.integration.matrix_user import MatrixUser

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def strict_synapse(tmp_path_factory: pytest.TempPathFactory, synapse: LocalSynapse,
                   ) -> Iterator[LocalSynapse]:
    """A second Synapse allowing 1 message a second with bursts of 2."""
    python = find_synapse_python()
    assert python is not None  # the session's `synapse` fixture checked it
    server = LocalSynapse(tmp_path_factory.mktemp("strict"), python=python, rc_message=(1.0, 2))
    server.start()
    yield server
    server.stop()


async def test_replies_survive_429s_and_none_is_duplicated(strict_synapse, tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    admin_id = strict_synapse.register(unique("admin"), "admin-pw", admin=True)
    admin_token = strict_synapse.login_token(admin_id, "admin-pw")
    chargee = await MatrixUser.create(strict_synapse, unique("chargee"))
    strict_synapse.set_ratelimit_override(admin_token, chargee.user_id)  # only the bot is limited
    bot_id = strict_synapse.register(unique("ratebot"), "bot-pw")
    base = tmp_path / "bot"
    base.mkdir()
    runner = BotRunner(strict_synapse, base, bot_id, "bot-pw",
                       {"club": {"allowed_inviters": [chargee.user_id]}})
    try:
        room = await chargee.create_room(name="CCT", invite=[bot_id])
        runner.overrides["rooms"] = {"main": room}
        await runner.start()
        await chargee.wait_membership(room, bot_id, "join")
        sent = [await chargee.send_text(room, "!ping") for _ in range(12)]
        await asyncio.gather(*(chargee.wait_for_reply(room, e, timeout=120) for e in sent))
        sentinel = await chargee.send_text(room, "!ping")
        await chargee.wait_for_reply(room, sentinel, timeout=60)
        assert [len(chargee.replies_to(room, e)) for e in sent] == [1] * 12
        throttled = [r for r in caplog.records if "M_LIMIT_EXCEEDED" in r.getMessage()]
        assert throttled, "the homeserver never rate-limited the bot: the test proves nothing"
    finally:
        await runner.stop()
        await chargee.close()
