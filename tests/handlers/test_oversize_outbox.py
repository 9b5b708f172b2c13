"""The Outbox sends what is too large for one event in parts or as a file: in order, once each,
whatever a crash interrupts (each part's transaction id is derived from the row's)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from bot.clock import FakeClock
from bot.outbox import Outbox, txn_id
from bot.oversize import CONTENT_LIMIT, content_size, part_txn
from bot.render import message_content
from commands.effects import Reply
from storage.db import Database
from storage.models import OutboxMessage
from tests.handlers.conftest import ROOM, Harness, make_club, make_harness
from tests.handlers.fakes import FakeTransport

LINE = "Nous nous engageons à écouter chacun, à agir ensemble et à décider en commun — {n}."


class Killed(BaseException):
    """The process stopping dead: nothing after it runs."""


def long_text(lines: int) -> str:
    return "\n".join(f"{n}. " + LINE.format(n=n) for n in range(1, lines + 1))


async def queue(db: Database, clock: FakeClock, markdown: str, key: str = "long") -> int:
    async with db.transaction() as repos:
        row = await repos.outbox.add(txn_id=txn_id("test", key), room_id=ROOM,
                                     content=message_content(Reply(markdown)),
                                     created_at=clock.now())
        assert row is not None
        return row.id


def numbers_in(transport: FakeTransport) -> list[int]:
    """The numbered lines of the text as they landed, across every message."""
    found = []
    for sent in transport.sent:
        for line in str(sent.content.get("body", "")).splitlines():
            head = line.split(". ", 1)[0]
            if head.isdigit() and LINE.split("{")[0] in line:
                found.append(int(head))
    return found


async def test_a_70_kb_message_goes_in_parts_in_order_once_each(
        db: Database, clock: FakeClock, outbox: Outbox, transport: FakeTransport) -> None:
    row_id = await queue(db, clock, long_text(800))
    await outbox.flush()
    assert 2 <= len(transport.sent) <= 3
    assert numbers_in(transport) == list(range(1, 801))
    for number, sent in enumerate(transport.sent, start=1):
        assert sent.txn_id == part_txn(txn_id("test", "long"), number)
        assert content_size(sent.content, "m.room.message", ROOM, False) <= CONTENT_LIMIT
    async with db.transaction() as repos:
        row = await repos.outbox.get(row_id)
        assert row is not None and row.sent_at is not None
        assert row.event_id == transport.sent[0].event_id  # the first part stands for it


async def test_in_an_encrypted_room_the_parts_are_measured_encrypted(
        db: Database, clock: FakeClock, outbox: Outbox, transport: FakeTransport) -> None:
    transport.encrypted.add(ROOM)
    await queue(db, clock, long_text(400))
    await outbox.flush()
    assert numbers_in(transport) == list(range(1, 401))
    for sent in transport.sent:
        assert content_size(sent.content, "m.room.message", ROOM, True) <= CONTENT_LIMIT
    plain = FakeTransport()  # the same text in a plain room: fewer parts
    await queue(db, clock, long_text(400), key="plain")
    await Outbox(db, plain, clock).flush()
    assert (len(plain.sent), len(transport.sent)) == (2, 3)


async def test_a_crash_between_two_parts_posts_no_part_twice(
        db: Database, clock: FakeClock, outbox: Outbox, transport: FakeTransport) -> None:
    await queue(db, clock, long_text(800))
    original_send = transport.send
    calls = 0

    async def dies_after_the_first_part(*args: object, **kwargs: object) -> str:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise Killed  # the process dies here (as with kill -9)
        return await original_send(*args, **kwargs)  # type: ignore[arg-type]

    transport.send = dies_after_the_first_part  # type: ignore[method-assign]
    with pytest.raises(Killed):
        await outbox.flush()
    assert len(transport.sent) == 1
    transport.send = original_send  # type: ignore[method-assign]
    await Outbox(db, transport, clock).flush()  # the next start
    assert numbers_in(transport) == list(range(1, 801))  # the first part was deduplicated
    assert [c[1] for c in transport.calls].count(part_txn(txn_id("test", "long"), 1)) == 2


async def test_a_sent_row_resent_after_a_crash_is_deduplicated_part_by_part(
        db: Database, clock: FakeClock, outbox: Outbox, transport: FakeTransport) -> None:
    row_id = await queue(db, clock, long_text(800))
    await outbox.flush()
    sent = len(transport.sent)
    async with db.transaction() as repos:  # died after sending, before the mark was saved
        await repos.session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                                    .values(sent_at=None, event_id=None))
    await Outbox(db, transport, clock).flush()
    assert len(transport.sent) == sent
    assert len(transport.calls) == 2 * sent


async def test_a_message_too_large_for_three_parts_goes_as_a_file_and_a_summary(
        db: Database, clock: FakeClock, outbox: Outbox, transport: FakeTransport) -> None:
    markdown = "**Charte complète**\n\n" + long_text(3000)
    await queue(db, clock, markdown)
    await outbox.flush()
    ((data, mimetype, filename),) = transport.uploads
    assert mimetype == "text/markdown" and filename == "reponse.md"
    assert data.decode() == message_content(Reply(markdown))["body"]
    file, summary = transport.sent
    assert file.content["msgtype"] == "m.file" and file.content["url"] == "mxc://example.org/file1"
    assert file.txn_id == txn_id("file", txn_id("test", "long"))
    assert summary.content["body"].startswith("Charte complète\n\nRéponse trop longue pour un "
                                              "message (")
    assert "reponse.md" in summary.content["body"]


async def test_a_message_refused_as_too_large_goes_as_a_file_instead_of_being_dropped(
        db: Database, clock: FakeClock, outbox: Outbox, transport: FakeTransport) -> None:
    transport.refuse[ROOM] = "M_TOO_LARGE"  # however small: a stricter homeserver
    await queue(db, clock, "Une réponse que le serveur trouve trop grande.")
    original_send = transport.send

    async def refuses_text(room_id: str, content: dict[str, object], txn: str,
                           event_type: str = "m.room.message") -> str:
        if content.get("msgtype") == "m.file":  # the file's message is accepted
            transport.refuse.pop(ROOM, None)
        return await original_send(room_id, content, txn, event_type)  # type: ignore[arg-type]

    transport.send = refuses_text  # type: ignore[method-assign]
    await outbox.flush()
    assert [s.content["msgtype"] for s in transport.sent] == ["m.file", "m.notice"]
    assert transport.uploads[0][0].decode() == "Une réponse que le serveur trouve trop grande."


async def test_a_long_charter_is_answered_whole(db: Database, clock: FakeClock, outbox: Outbox,
                                                transport: FakeTransport, registry: object) -> None:
    charter = long_text(800)
    bot: Harness = make_harness(db, clock, transport, outbox, registry,  # type: ignore[arg-type]
                                make_club(charter=charter))
    sent = await bot.command("!cadre", event_id="$cadre")
    assert 2 <= len(sent) <= 3
    assert numbers_in(transport) == list(range(1, 801))
    assert sent[0].content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$cadre"}}
    assert all("m.relates_to" not in s.content for s in sent[1:])
    assert json.dumps(sent[0].content).count("Club Climat et Transition") == 2  # body and HTML
