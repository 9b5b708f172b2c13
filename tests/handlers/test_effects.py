"""Effects: queued with the command, done once after the commit, referring to earlier messages."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.effects import queue_effects
from bot.outbox import Outbox
from commands.context import Reply
from commands.effects import (
    Invite,
    Pin,
    Post,
    PutState,
    React,
    SendEvent,
    Upload,
    effect_txn,
    ref,
)
from storage.db import Database
from tests.handlers.fakes import FakeTransport

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
