"""Replies over the homeserver's 64 KiB limit on the real Synapse: a long charter (``!cadre``)
arrives whole, in parts or as a file with a summary, in a plain and in an encrypted room; once
each, after a restart too. Nothing is dropped for size."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from typing import Any

import pytest
from nio import DownloadResponse, RoomEncryptedFile, RoomMessageFile, RoomMessageNotice
from nio.crypto.attachments import decrypt_attachment

from bot import oversize
from bot.outbox import txn_id
from bot.render import message_content
from commands.effects import Reply
from tests.integration.conftest import BotRunner
from tests.integration.matrix_user import MatrixUser, reply_target
from tests.integration.test_bot import ask, club

pytestmark = pytest.mark.integration

LINE = "Nous nous engageons à écouter chacun, à agir ensemble et à décider en commun — {n}."
NUMBERED = re.compile(r"^(\d+)\. Nous nous engageons .* — (\d+)\.$", re.M)


def charter(lines: int) -> str:
    return "\n".join(f"{n}. " + LINE.format(n=n) for n in range(1, lines + 1))


def reply_size(text: str, encrypted: bool) -> int:
    """The size of ``!cadre``'s answer as one event would be (the title is a few bytes)."""
    return oversize.content_size(message_content(Reply(text)), "m.room.message", "!x:localhost",
                                 encrypted)


def numbers(text: str) -> list[int]:
    found = []
    for first, second in NUMBERED.findall(text):
        assert first == second  # a line is never cut
        found.append(int(first))
    return found


def notices_after(user: MatrixUser, room: str, event_id: str) -> list[Any]:
    events = user.events.get(room, [])
    start = next(i for i, e in enumerate(events) if e.event_id == event_id)
    return [e for e in events[start:] if isinstance(e, RoomMessageNotice)
            and e.sender != user.user_id]


async def long_charter_club(bot_factory: Any, users: Any, lines: int, *,
                            encrypted: bool) -> tuple[BotRunner, MatrixUser, str]:
    return await club(bot_factory, users, encrypted=encrypted,
                      club={"charter": charter(lines)})


async def all_parts(user: MatrixUser, room: str, command: str) -> list[Any]:
    """The answer to ``command`` in parts: the first replies to it and says how many there
    are; waits for the last one."""
    first = await user.wait_for_reply(room, command, timeout=90)
    count = int(re.search(r"\(1/(\d+), suite ci-dessous\)", first.body).group(1))
    await user.wait_for(room, lambda e: isinstance(e, RoomMessageNotice)
                        and e.body.startswith(f"(suite {count}/{count})"), timeout=90)
    return [e for e in notices_after(user, room, command)
            if e.event_id == first.event_id or e.body.startswith("(suite ")]


async def nothing_more(user: MatrixUser, room: str) -> None:
    """Waits until the bot answers a later ``!ping``: what it sent before has arrived."""
    await ask(user, room, "!ping", timeout=60)


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_a_70_kb_reply_arrives_whole_in_parts(bot_factory, users, encrypted: bool) -> None:
    lines = 350
    assert reply_size(charter(lines), False) > 68_000  # over the limit, even in clear
    runner, chargee, room = await long_charter_club(bot_factory, users, lines,
                                                    encrypted=encrypted)
    other = await chargee.create_room(name="Autre salon", invite=[runner.user_id])
    await chargee.wait_membership(other, runner.user_id, "join")
    command = await chargee.send_text(room, "!cadre")
    await ask(chargee, other, "!ping", timeout=60)  # another room is still answered meanwhile
    parts = await all_parts(chargee, room, command)
    await nothing_more(chargee, room)
    assert 2 <= len(parts) <= oversize.MAX_PARTS
    if encrypted:
        assert all(part.decrypted for part in parts)  # sent encrypted, read in clear
    text = "\n".join(part.body for part in parts)
    assert numbers(text) == list(range(1, lines + 1))  # every line, once, in order
    assert parts[0].body.startswith("**Cadre de confiance — ")
    later = notices_after(chargee, room, command)
    assert len([e for e in later if reply_target(e) == command]) == 1
    assert sorted(e.body.split(")")[0] for e in later if e.body.startswith("(suite ")) == [
        f"(suite {k}/{len(parts)}" for k in range(2, len(parts) + 1)]  # none twice
    assert all(reply_target(part) is None for part in parts[1:])
    assert all(part.source["content"]["msgtype"] == "m.notice" for part in parts)


async def download(user: MatrixUser, file: Any) -> bytes:
    answer = await user.client.download(file.url)
    assert isinstance(answer, DownloadResponse), answer
    if isinstance(file, RoomEncryptedFile):
        assert LINE.format(n=1).encode() not in answer.body  # ciphertext on the homeserver
        return bytes(decrypt_attachment(answer.body, file.key["k"], file.hashes["sha256"],
                                        file.iv))
    return bytes(answer.body)


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_a_208_kb_reply_arrives_as_a_file_and_a_summary(bot_factory, users,
                                                              encrypted: bool) -> None:
    lines = 1100
    assert reply_size(charter(lines), False) > 3 * 65_536
    _, chargee, room = await long_charter_club(bot_factory, users, lines, encrypted=encrypted)
    command = await chargee.send_text(room, "!cadre")
    summary = await chargee.wait_for_reply(room, command, timeout=90)
    assert "Réponse trop longue pour un message" in summary.body
    assert "reponse.md" in summary.body
    file_type = RoomEncryptedFile if encrypted else RoomMessageFile
    file = await chargee.wait_for(room, lambda e: isinstance(e, file_type), timeout=60)
    assert file.body == "reponse.md"
    assert reply_target(file) == command
    events = chargee.events[room]
    assert events.index(file) < events.index(summary)  # the summary tells what was sent
    data = await download(chargee, file)
    assert numbers(data.decode()) == list(range(1, lines + 1))
    await nothing_more(chargee, room)
    later = notices_after(chargee, room, command)
    assert [e.event_id for e in later if reply_target(e) == command] == [summary.event_id]
    assert [e for e in chargee.events[room] if isinstance(e, file_type)] == [file]


async def test_a_reply_the_homeserver_refuses_as_too_large_goes_as_a_file(
        bot_factory, users, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot misjudging the limit (another homeserver adding more around the content): the
    homeserver's M_TOO_LARGE sends the reply as a file, not into the void."""
    monkeypatch.setattr(oversize, "CONTENT_LIMIT", 10 * 65_536)
    lines = 350
    _, chargee, room = await long_charter_club(bot_factory, users, lines, encrypted=False)
    command = await chargee.send_text(room, "!cadre")
    summary = await chargee.wait_for_reply(room, command, timeout=90)
    assert "reponse.md" in summary.body
    file = await chargee.wait_for(room, lambda e: isinstance(e, RoomMessageFile), timeout=60)
    assert numbers((await download(chargee, file)).decode()) == list(range(1, lines + 1))


def unmark(database: str, txn: str) -> None:
    """As if the bot had died after sending, before marking the row sent."""
    with sqlite3.connect(database) as connection:
        changed = connection.execute("UPDATE outbox SET sent_at = NULL, event_id = NULL "
                                     "WHERE txn_id = ?", (txn,)).rowcount
    assert changed == 1


async def test_parts_sent_again_after_a_crash_are_posted_once(bot_factory, users) -> None:
    lines = 350
    runner, chargee, room = await long_charter_club(bot_factory, users, lines, encrypted=False)
    command = await chargee.send_text(room, "!cadre")
    parts = await all_parts(chargee, room, command)
    await runner.stop()
    await asyncio.to_thread(unmark, str(runner.base / "data" / "cct.db"), txn_id("reply", command))
    await runner.start()  # sends every part again, with the same transaction ids
    await nothing_more(chargee, room)
    again = [e for e in notices_after(chargee, room, command)
             if reply_target(e) == command or e.body.startswith("(suite ")]
    assert [e.event_id for e in again] == [p.event_id for p in parts]
    assert numbers("\n".join(e.body for e in again)) == list(range(1, lines + 1))
