"""NUL (U+0000) and other control characters in what people send, with the bot on PostgreSQL
(which refuses NUL in text): a command, a reaction, a reply in a thread are taken without them,
and the bot goes on answering."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.test_bot import ask, club
from tests.storage.conftest import fresh_postgres

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


async def test_nul_in_a_message_on_postgresql(bot_factory: Any, users: Any,
                                              postgres_url: str) -> None:
    await fresh_postgres(postgres_url)
    _, chargee, room = await club(bot_factory, users, database={"url": postgres_url})
    saved = await ask(chargee, room, "!remontee Une ligne\x00 de bus\x01 le samedi\x7f")
    assert saved.body.startswith("Remontée n°1 enregistrée"), saved.body
    await chargee.client.room_send(room, "m.reaction", {"m.relates_to": {
        "rel_type": "m.annotation", "event_id": saved.event_id, "key": "👍\x00"}})
    await chargee.client.room_send(room, "m.room.message", {
        "msgtype": "m.text", "body": "un avis\x00 en fil",
        "m.relates_to": {"rel_type": "m.thread", "event_id": saved.event_id + "\x00"}})
    listed = await ask(chargee, room, "!remontee liste")
    assert "n°1 Une ligne de bus le samedi" in listed.body, listed.body
    assert "\x00" not in listed.body and "\x01" not in listed.body
    assert "pong" in (await ask(chargee, room, "!ping")).body  # the sync goes on
