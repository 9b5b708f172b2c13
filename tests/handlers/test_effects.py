"""Effects: queued with the command, done once after the commit, referring to earlier messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, get_args

from sqlalchemy import insert, select

from bot.clock import FakeClock
from bot.delivery import OPENING
from bot.effects import ACTIONS, EFFECTS, queue_effects
from bot.matrix_api import MatrixError
from bot.outbox import Outbox, Queued
from bot.transport import NewRoom
from commands.effects import (
    CreateRoom,
    Effect,
    Invite,
    OpenDirectRoom,
    Outcome,
    Pin,
    Post,
    PutState,
    React,
    Reply,
    SendEvent,
    Upload,
    effect_txn,
    ref,
)
from storage.db import Database
from storage.models import BotState, OutboxMessage
from storage.repositories import Repositories
from tests.handlers.fakes import FakeErrorResponse, FakeTransport

NOW = datetime(2099, 1, 5, 9, tzinfo=UTC)
ROOM = "!room:example.org"


async def queue(db: Database, outbox: Outbox, effects: list, key: str = "$cmd") -> None:  # type: ignore[type-arg]
    async with db.transaction() as repos:
        rows = await queue_effects(repos, effects, key, NOW)
    for row in rows:
        outbox.push(row)
    await outbox.flush()


async def test_every_kind_of_effect_is_done_once(db: Database, outbox: Outbox,
                                                 transport: FakeTransport) -> None:
    effects = [Invite(ROOM, "@a:example.org"), Post(ROOM, Reply("**Annonce**")),
               React(ROOM, "$ev", "✅"), PutState(ROOM, "m.room.pinned_events", "", {"pinned": []}),
               SendEvent(ROOM, "org.example.custom", {"x": 1}),
               Upload(ROOM, "rencontre.ics", "text/calendar", b"BEGIN:VCALENDAR")]
    await queue(db, outbox, effects)
    await queue(db, outbox, effects)  # a replay of the same command queues nothing more
    assert transport.invites == [(ROOM, "@a:example.org")]
    assert transport.states == [(ROOM, "m.room.pinned_events", "", {"pinned": []})]
    types = [s.event_type for s in transport.sent]
    assert types == ["m.room.message", "m.reaction", "org.example.custom", "m.room.message"]
    post, reaction, custom, file = transport.sent
    assert post.content["formatted_body"] == "<p><strong>Annonce</strong></p>"
    assert "m.relates_to" not in post.content
    assert reaction.content["m.relates_to"] == {"rel_type": "m.annotation", "event_id": "$ev",
                                                "key": "✅"}
    assert custom.content == {"x": 1}
    assert transport.uploads == [(b"BEGIN:VCALENDAR", "text/calendar", "rencontre.ics")]
    assert file.content["msgtype"] == "m.file" and file.content["url"] == "mxc://example.org/file1"
    assert file.content["info"] == {"mimetype": "text/calendar", "size": 15}
    assert "data" not in file.content


async def test_references_threads_and_edits(db: Database, outbox: Outbox,
                                            transport: FakeTransport) -> None:
    await queue(db, outbox, [
        Post(ROOM, Reply("racine"), key="poll-1-root"),
        SendEvent(ROOM, "org.matrix.msc3381.poll.start",
                  {"m.relates_to": {"rel_type": "m.thread", "event_id": ref("poll-1-root")}},
                  key="poll-1-slot-1"),
        Post(ROOM, Reply("dans le fil"), thread=ref("poll-1-root")),
    ])
    await queue(db, outbox, [Post(ROOM, Reply("racine v2"), replaces=ref("poll-1-root"))],
                key="$later")
    root, start, threaded, edit = transport.sent
    assert start.content["m.relates_to"]["event_id"] == root.event_id
    assert threaded.content["m.relates_to"] == {  # falls back on the thread's latest event
        "rel_type": "m.thread", "event_id": root.event_id, "is_falling_back": True,
        "m.in_reply_to": {"event_id": start.event_id}}
    assert edit.content["m.relates_to"] == {"rel_type": "m.replace", "event_id": root.event_id}
    assert edit.content["m.new_content"]["body"] == "racine v2"
    assert edit.content["body"] == "* racine v2"
    async with db.transaction() as repos:
        assert await repos.outbox.event_id_of(effect_txn("poll-1-slot-1")) == start.event_id


async def test_a_reference_to_a_message_never_sent_drops_the_message(
        db: Database, outbox: Outbox, transport: FakeTransport) -> None:
    transport.refuse[ROOM] = "M_FORBIDDEN"
    await queue(db, outbox, [Post(ROOM, Reply("racine"), key="gone")])
    transport.refuse.clear()
    await queue(db, outbox, [Post(ROOM, Reply("réponse"), thread=ref("gone"))], key="$2")
    assert transport.sent == []
    async with db.transaction() as repos:
        assert await repos.outbox.pending() == []


async def test_pins_keep_the_rooms_other_pins(db: Database, outbox: Outbox,
                                              transport: FakeTransport) -> None:
    transport.pinned[ROOM] = ["$someone-else"]
    await queue(db, outbox, [Post(ROOM, Reply("ordre du jour v1"), key="odj-1"),
                             Pin(ROOM, ref("odj-1"))])
    first = transport.sent[-1].event_id
    assert transport.pinned[ROOM] == ["$someone-else", first]
    await queue(db, outbox, [Post(ROOM, Reply("ordre du jour v2"), key="odj-2"),
                             Pin(ROOM, ref("odj-2"), unpin=(ref("odj-1"),))], key="$2")
    assert transport.pinned[ROOM] == ["$someone-else", transport.sent[-1].event_id]
    assert transport.states[-1][1] == "m.room.pinned_events"


async def test_a_forbidden_invite_or_pin_posts_its_refusal_once(
        db: Database, outbox: Outbox, transport: FakeTransport) -> None:
    """The refusal is posted once, even when the refused row is tried again (a crash before it
    was dropped); the row is dropped; an allowed one posts nothing more."""
    transport.forbidden |= {("invite", ROOM), ("state", ROOM)}
    told = Post("!asked:example.org", Reply("pas pu"))
    effects = [Invite(ROOM, "@a:example.org", refused=told),
               Post(ROOM, Reply("odj"), key="odj"), Pin(ROOM, ref("odj"), refused=told)]
    await queue(db, outbox, effects)
    assert transport.bodies("!asked:example.org") == ["pas pu", "pas pu"]  # one for each
    async with db.transaction() as repos:
        assert await repos.outbox.pending() == []
        assert not await repos.outbox.has(effect_txn("$cmd#0"))  # the invite row: dropped
    await queue(db, outbox, effects)  # queued again, as if the drops had not been saved
    assert transport.bodies("!asked:example.org") == ["pas pu", "pas pu"]
    transport.forbidden.clear()
    await queue(db, outbox, [Invite(ROOM, "@b:example.org", refused=told)], key="$3")
    assert transport.invites == [(ROOM, "@b:example.org")]
    assert transport.bodies("!asked:example.org") == ["pas pu", "pas pu"]


def test_every_effect_has_a_row_and_an_executor() -> None:
    assert set(get_args(Effect)) == set(EFFECTS)
    assert {executor.action for _, executor in EFFECTS.values()} == set(ACTIONS)


# Rows as the code before the effects table wrote them: (action, event type, state key, content).
# Rows still queued at an upgrade are sent after it, so these never change.
SPACE = "!space:example.org"
OLD_ROWS = [
    ("send", "m.room.message", None,
     '{"msgtype": "m.notice", "body": "Annonce", "format": "org.matrix.custom.html", '
     '"formatted_body": "<p>Annonce</p>", "m.mentions": {}}'),
    ("send", "m.reaction", None,
     '{"m.relates_to": {"rel_type": "m.annotation", "event_id": "$ev", "key": "✅"}}'),
    ("upload", "m.room.message", None,
     '{"msgtype": "m.file", "body": "r.ics", "filename": "r.ics", '
     '"info": {"mimetype": "text/calendar", "size": 5}, "data": "QkVHSU4="}'),
    ("invite", "m.room.message", None,
     '{"user_id": "@a:example.org", "refused": {"room_id": "!asked:example.org", '
     '"content": {"msgtype": "m.notice", "body": "pas pu"}}}'),
    ("state", "m.room.topic", "", '{"topic": "Le vélo"}'),
    ("pin", "m.room.pinned_events", "", '{"pin": "$ev", "unpin": ["$old"]}'),
    ("create_room", "m.room.message", None,
     '{"room": {"name": "Vélo", "topic": "t", "space": "' + SPACE + '", '
     '"user_ids": ["@a:example.org"]}, "outcome": {"kind": "group-room", "args": {"group": 1}}}'),
    ("direct_room", "m.room.message", None,
     '{"user_id": "@b:example.org", "outcome": {"kind": "dm", "args": {"user_id": "@b:example.org"}}}'),
    ("leave", "m.room.message", None, "{}"),
]


async def test_rows_queued_before_the_effects_table_are_sent(
        db: Database, outbox: Outbox, transport: FakeTransport) -> None:
    """Rows written by hand in the outbox's stored format (as an older version queued them)
    are performed after an upgrade, each by its action's executor."""
    async with db.transaction() as repos:
        for number, (action, event_type, state_key, content) in enumerate(OLD_ROWS):
            await repos.session.execute(insert(OutboxMessage).values(
                txn_id=f"cct-old-{number}", room_id=ROOM, action=action, event_type=event_type,
                state_key=state_key, content=content, created_at=NOW))
    opened: list[tuple[str, dict[str, object], str | None, bool]] = []

    async def room_opened(_repos: Repositories, _row: Queued, outcome: dict[str, Any],
                          room: NewRoom | None) -> list[Queued]:
        opened.append((outcome["kind"], outcome["args"], room.room_id if room else None,
                       bool(room and room.space_refused)))
        return []

    outbox.delivery.on_room_opened = room_opened
    transport.forbidden.add(("invite", ROOM))
    await outbox.flush()
    message, reaction, file, refusal = transport.sent
    assert (message.content["body"], message.txn_id) == ("Annonce", "cct-old-0")
    assert reaction.content["m.relates_to"]["key"] == "✅"
    assert transport.uploads == [(b"BEGIN", "text/calendar", "r.ics")]
    assert file.content["url"] == "mxc://example.org/file1" and "data" not in file.content
    assert (refusal.room_id, refusal.content["body"]) == ("!asked:example.org", "pas pu")
    assert transport.calls[3] == (ROOM, "@a:example.org", "invite")
    created = transport.created[0]["room_id"]
    assert [state[:3] for state in transport.states] == [
        (ROOM, "m.room.topic", ""), (ROOM, "m.room.pinned_events", ""),
        (SPACE, "m.space.child", created)]
    assert transport.pinned[ROOM] == ["$ev"]
    assert transport.created[0]["name"] == "Vélo" and transport.created[0]["space"] == SPACE
    assert transport.direct == [("@b:example.org", "!dm1:example.org")]
    assert opened == [("group-room", {"group": 1}, created, False),
                      ("dm", {"user_id": "@b:example.org"}, "!dm1:example.org", False)]
    assert transport.left == [ROOM]
    async with db.transaction() as repos:
        assert await repos.outbox.pending() == []


async def test_a_room_whose_space_listing_fails_is_listed_when_retried_not_created_twice(
        db: Database, outbox: Outbox, transport: FakeTransport) -> None:
    """The room is created, its listing in the space fails for a passing reason: the row is
    tried again on the same room, and its outcome recorded once."""
    opened: list[tuple[str | None, bool]] = []

    async def room_opened(_repos: Repositories, _row: Queued, _outcome: dict[str, Any],
                          room: NewRoom | None) -> list[Queued]:
        opened.append((room.room_id if room else None, bool(room and room.space_refused)))
        return []

    put_state = transport.put_state
    failures = [MatrixError("space child", FakeErrorResponse("M_UNKNOWN"))]

    async def flaky(room_id: str, event_type: str, state_key: str,
                    content: dict[str, Any]) -> str:
        if event_type == "m.space.child" and failures:
            raise failures.pop()
        return await put_state(room_id, event_type, state_key, content)

    transport.put_state = flaky  # type: ignore[method-assign]
    outbox.delivery.on_room_opened = room_opened
    create = CreateRoom(ROOM, "Vélo", "", SPACE, (), Outcome("group-room", {"group": 1}))
    await queue(db, outbox, [create])
    assert len(transport.created) == 1 and opened == []  # created, not listed: tried again
    await outbox.flush()
    room = transport.created[0]["room_id"]
    assert len(transport.created) == 1
    assert [state[:3] for state in transport.states] == [(SPACE, "m.space.child", room)]
    assert opened == [(room, False)]


async def test_a_direct_room_whose_answer_was_lost_is_found_again_after_a_restart(
        db: Database, outbox: Outbox, transport: FakeTransport, clock: FakeClock) -> None:
    """The homeserver created the direct room but its answer was lost, and the bot stopped
    before trying again: the next run finds that room (marked with the row's transaction id)
    and records it, instead of inviting the person to a second room."""
    opened: list[str | None] = []

    async def room_opened(_repos: Repositories, _row: Queued, _outcome: dict[str, Any],
                          room: NewRoom | None) -> list[Queued]:
        opened.append(room.room_id if room else None)
        return []

    transport.lose_creation_answers = 1
    outbox.delivery.on_room_opened = room_opened
    await queue(db, outbox, [OpenDirectRoom(ROOM, "@b:example.org", Outcome("dm", {}))])
    assert transport.direct == [("@b:example.org", "!dm1:example.org")] and opened == []
    restarted = Outbox(db, transport, clock)
    restarted.delivery.on_room_opened = room_opened
    await restarted.flush()
    assert transport.direct == [("@b:example.org", "!dm1:example.org")]  # no second room
    assert opened == ["!dm1:example.org"]
    async with db.transaction() as repos:
        assert await repos.outbox.pending() == []
        assert (await repos.session.scalars(select(BotState.key).where(
            BotState.key.startswith(OPENING)))).all() == []
