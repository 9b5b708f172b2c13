"""Messages the bot cannot decrypt: the sender is told once what to check, and a command whose
key arrives later is still handled, once (sync responses fed to an offline bot)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from nio import Event, MegolmEvent

from bot.app import Bot
from bot.clock import FakeClock
from bot.matrix_api import MatrixError
from bot.undecryptable import PER_SENDER, UndecryptableNotices
from commands.effects import txn_id
from commands.i18n import Translator
from tests.handlers.fakes import FakeErrorResponse
from tests.handlers.test_room_events import redaction
from tests.handlers.test_sync_batches import NOW, ROOM, message, ms, offline_bot, sync

ANA, BEA = "@ana:localhost", "@bea:localhost"
OTHER = "!other:localhost"


def encrypted(event_id: str, sender: str = ANA) -> dict[str, Any]:
    return {"type": "m.room.encrypted", "event_id": event_id, "sender": sender,
            "origin_server_ts": ms(NOW), "content": {
                "algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgA", "device_id": "D",
                "sender_key": "k", "session_id": "s"}}


class Homeserver:
    """What the offline bot sends, and the room keys that have arrived."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], str]] = []
        self.keys: dict[str, dict[str, Any]] = {}  # event id -> its clear event
        self.fail_next: list[BaseException] = []  # raised by the next sends, one each

    async def send(self, room_id: str, content: dict[str, Any], txn_id: str,
                   event_type: str = "m.room.message") -> str:
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.sent.append((room_id, content, txn_id))
        return f"$sent{len(self.sent)}"

    def decrypt(self, event: MegolmEvent) -> Any | None:
        clear = self.keys.get(event.event_id)
        return None if clear is None else Event.parse_event(clear)


@pytest.fixture
async def bot(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Bot]:
    """The offline bot; ``[matrix]`` settings of its own by indirect parametrisation."""
    instance = await offline_bot(tmp_path, "sqlite+aiosqlite:///data/cct.db",
                                 matrix=getattr(request, "param", None))
    yield instance
    await instance.dispatcher.drain()
    await instance.transport.close()
    await instance.db.dispose()


@pytest.fixture
def server(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> Homeserver:
    fake = Homeserver()
    monkeypatch.setattr(bot.transport, "send", fake.send)
    monkeypatch.setattr(bot.transport, "decrypt", fake.decrypt)
    return fake


def later(bot: Bot, seconds: int) -> None:
    clock = bot.clock
    assert isinstance(clock, FakeClock)
    clock.advance(timedelta(seconds=seconds))


async def handled(bot: Bot) -> list[str]:
    await bot.dispatcher.drain()
    async with bot.db.transaction() as repos:
        rows = await repos.outbox.pending()
    replies = [json.loads(row.content) for row in rows]
    return [reply["m.relates_to"]["m.in_reply_to"]["event_id"] for reply in replies]


async def test_the_sender_is_told_once_after_the_delay(bot: Bot, server: Homeserver) -> None:
    await bot.handle_sync(sync([encrypted("$a")]))
    later(bot, 59)
    await bot.notices.tell_due()
    assert server.sent == []  # its key may still come
    later(bot, 1)
    await bot.notices.tell_due()
    [(room, content, txn)] = server.sent
    assert room == ROOM and "undecryptable" in txn
    assert content["body"].startswith("Je ne peux pas lire votre message : votre appareil ne "
                                      "partage pas ses clés avec le bot.")
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$a"}}
    assert content["m.mentions"] == {"user_ids": [ANA]}
    assert content["msgtype"] == "m.notice"

    await bot.handle_sync(sync([encrypted("$b"), encrypted("$c", BEA)], token="s3"))
    later(bot, 60)
    await bot.notices.tell_due()
    assert [content["m.relates_to"]["m.in_reply_to"]["event_id"]
            for _, content, _ in server.sent] == ["$a", "$c"]  # Ana was told already


async def test_a_message_sent_in_a_thread_is_told_in_that_thread(bot: Bot,
                                                                 server: Homeserver) -> None:
    """The relation of an encrypted event is in clear: the notice goes where it was sent."""
    event = encrypted("$a")
    event["content"]["m.relates_to"] = {"rel_type": "m.thread", "event_id": "$root",
                                        "is_falling_back": True,
                                        "m.in_reply_to": {"event_id": "$root"}}
    await bot.handle_sync(sync([event]))
    later(bot, 60)
    await bot.notices.tell_due()
    [(_room, content, _txn)] = server.sent
    assert content["m.relates_to"] == {"rel_type": "m.thread", "event_id": "$root",
                                       "is_falling_back": False,
                                       "m.in_reply_to": {"event_id": "$a"}}


async def test_a_key_arriving_in_time_means_no_notice(bot: Bot, server: Homeserver) -> None:
    await bot.handle_sync(sync([encrypted("$a")]))
    server.keys["$a"] = message("$a", ANA, "!ping", NOW)
    await bot.handle_sync(sync([], token="s3"))
    later(bot, 120)
    await bot.notices.tell_due()
    assert server.sent == []
    assert await handled(bot) == ["$a"]


async def test_a_command_whose_key_comes_after_the_notice_is_handled_once(
        bot: Bot, server: Homeserver) -> None:
    await bot.handle_sync(sync([encrypted("$a")]))
    later(bot, 60)
    await bot.notices.tell_due()
    assert len(server.sent) == 1
    server.keys["$a"] = message("$a", ANA, "!ping", NOW)
    await bot.handle_sync(sync([], token="s3"))
    await bot.handle_sync(sync([encrypted("$a")], token="s4"))  # the event seen again
    await bot.handle_sync(sync([], token="s5"))
    assert await handled(bot) == ["$a"]
    later(bot, 60)
    await bot.notices.tell_due()
    assert len(server.sent) == 1


async def test_no_notice_for_a_message_its_sender_took_back(
        bot: Bot, server: Homeserver, monkeypatch: pytest.MonkeyPatch) -> None:
    def moderator(_room_id: str, _user_id: str) -> bool:
        return False  # Ana takes back her own message

    monkeypatch.setattr(bot.transport, "may_redact", moderator)
    await bot.handle_sync(sync([encrypted("$a")]))
    await bot.handle_sync(sync([redaction("$x", ANA, "$a")], token="s3"))
    later(bot, 120)
    await bot.notices.tell_due()
    assert server.sent == []


@pytest.mark.parametrize("bot", [{"undecryptable_notice_seconds": 0}], indirect=True)
async def test_no_notice_when_switched_off(bot: Bot, server: Homeserver) -> None:
    await bot.handle_sync(sync([encrypted("$a")]))
    later(bot, 3600)
    await bot.notices.tell_due()
    assert server.sent == []


async def test_the_notices_go_on_after_an_unexpected_failure(bot: Bot, server: Homeserver,
                                                             caplog: pytest.LogCaptureFixture,
                                                             ) -> None:
    waiting, failures = bot.notices.waiting, []

    def failing_once(event_id: str) -> bool:
        if not failures:
            failures.append(event_id)
            raise RuntimeError("a bug")
        return waiting(event_id)

    bot.notices.waiting = failing_once
    await bot.handle_sync(sync([encrypted("$a")]))
    later(bot, 60)
    task = asyncio.create_task(bot.notices.run())
    try:
        async with asyncio.timeout(10):
            while not server.sent:
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
    assert failures == ["$a"] and "undecryptable notices failed" in caplog.text
    assert len(server.sent) == 1


# --- a flood of unreadable events -----------------------------------------------------------------
class SlowHomeserver(Homeserver):
    """Sends to ``stalled`` rooms wait until ``free`` is set."""

    def __init__(self, stalled: str) -> None:
        super().__init__()
        self.stalled = stalled
        self.free = asyncio.Event()

    async def send(self, room_id: str, content: dict[str, Any], txn_id: str,
                   event_type: str = "m.room.message") -> str:
        if room_id == self.stalled:
            await self.free.wait()
        return await super().send(room_id, content, txn_id, event_type)


def notices(server: Homeserver, clock: FakeClock) -> UndecryptableNotices:
    return UndecryptableNotices(server, clock, Translator("fr"),  # type: ignore[arg-type]
                                timedelta(seconds=60), lambda _event_id: True)


async def test_one_notice_per_room_per_delay_whatever_the_number_of_senders() -> None:
    clock, server = FakeClock(NOW), Homeserver()
    told = notices(server, clock)
    for index in range(5):  # five throw-away accounts in the same room
        told.watch(f"$e{index}", ROOM, f"@spam{index}:localhost")
    told.watch("$other", OTHER, ANA)
    clock.advance(timedelta(seconds=60))
    await told.tell_due()
    assert sorted(room for room, _, _ in server.sent) == sorted([ROOM, OTHER])
    clock.advance(timedelta(seconds=59))
    await told.tell_due()
    assert len(server.sent) == 2  # the room's next notice waits a whole delay
    clock.advance(timedelta(seconds=1))
    await told.tell_due()
    assert len(server.sent) == 3


async def test_a_sender_flooding_is_watched_for_a_few_events_only() -> None:
    clock, server = FakeClock(NOW), Homeserver()
    told = notices(server, clock)
    for index in range(1000):
        told.watch(f"$e{index}", ROOM, ANA)
    assert len(told._pending) == PER_SENDER
    told.watch("$bea", ROOM, BEA)
    assert "$bea" in told._pending  # others are still watched


async def test_a_slow_room_does_not_hold_up_another_rooms_notice() -> None:
    clock, server = FakeClock(NOW), SlowHomeserver(stalled=ROOM)
    told = notices(server, clock)
    told.watch("$a", ROOM, ANA)
    told.watch("$b", OTHER, BEA)
    clock.advance(timedelta(seconds=60))
    running = asyncio.create_task(told.run())
    try:
        async with asyncio.timeout(10):
            while not server.sent:
                await asyncio.sleep(0.01)
        assert [room for room, _, _ in server.sent] == [OTHER]
        server.free.set()
        async with asyncio.timeout(10):
            while len(server.sent) < 2:
                await asyncio.sleep(0.01)
        assert told.told == {ANA, BEA}
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def test_a_notice_the_homeserver_did_not_take_is_tried_again(bot: Bot,
                                                                   server: Homeserver) -> None:
    """The transport asks once: a notice that failed for a passing reason is tried again a
    little later (at most three tries); one refused for good is not."""
    unanswered = MatrixError("send", FakeErrorResponse("M_UNKNOWN"))
    server.fail_next = [unanswered, unanswered]
    await bot.handle_sync(sync([encrypted("$a")]))
    later(bot, 60)
    await bot.notices.tell_due()
    later(bot, 4)
    await bot.notices.tell_due()
    assert server.fail_next == [unanswered]  # not before its wait
    later(bot, 1)
    await bot.notices.tell_due()
    later(bot, 10)
    await bot.notices.tell_due()
    assert [txn for _, _, txn in server.sent] == [txn_id("undecryptable", "$a")]
    server.fail_next = [MatrixError("send", FakeErrorResponse("M_FORBIDDEN"))]
    await bot.handle_sync(sync([encrypted("$b", BEA)], token="s3"))
    later(bot, 60)
    await bot.notices.tell_due()
    later(bot, 3600)
    await bot.notices.tell_due()
    assert len(server.sent) == 1  # a refusal is not tried again
