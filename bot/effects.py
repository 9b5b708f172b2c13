"""Effects asked by handlers become outbox rows, in the transaction of what caused them."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from bot.outbox import OUTCOME, REFUSED, Queued, txn_id
from bot.render import message_content
from commands.effects import (
    CreateRoom,
    Effect,
    Invite,
    Leave,
    OpenDirectRoom,
    Outcome,
    Pin,
    Post,
    PutState,
    React,
    SendEvent,
    Upload,
    effect_txn,
)
from commands.threads import in_thread
from storage.models import OutboxMessage
from storage.repositories import OutboxRepository, Repositories


async def queue_effects(repos: Repositories, effects: Sequence[Effect], key: str,
                        now: datetime) -> list[Queued]:
    """Queues each effect with a transaction id derived from its own key, or from ``key`` (the
    command's event id, or a scheduled item) and its position: a replay after a crash queues
    nothing twice."""
    queued = []
    for index, effect in enumerate(effects):
        own = getattr(effect, "key", None) if not isinstance(effect, React) else None
        txn = effect_txn(own) if own else txn_id("effect", f"{key}#{index}")
        row = await _queue_one(repos, effect, txn, now)
        if row is not None:
            queued.append(row)
    return queued


def post_content(effect: Post) -> dict[str, Any]:
    """A message, possibly in a thread or replacing an earlier one (an edit)."""
    content = message_content(effect.reply)
    if effect.replaces:
        new = dict(content)
        content = {**content, "body": "* " + content["body"],
                   "formatted_body": "* " + content["formatted_body"], "m.new_content": new,
                   "m.relates_to": {"rel_type": "m.replace", "event_id": effect.replaces}}
    elif effect.thread:
        content["m.relates_to"] = in_thread(effect.thread)
    return content


def refusal(post: Post | None) -> dict[str, Any]:
    """The message an invite or a pin carries for when the homeserver forbids it."""
    return {REFUSED: {"room_id": post.room_id, "content": post_content(post)}} if post else {}


def outcome(what: Outcome) -> dict[str, Any]:
    """An outcome as a row holds it (not under ``data``, which erasures skip: a file's bytes)."""
    return {"kind": what.kind, "args": dict(what.data)}


Queuer = Callable[[OutboxRepository, Any, str, datetime], Awaitable[OutboxMessage | None]]


async def _invite(outbox: OutboxRepository, effect: Invite, txn: str,
                  now: datetime) -> OutboxMessage | None:
    return await outbox.add(txn_id=txn, room_id=effect.room_id, action="invite",
                            content={"user_id": effect.user_id, **refusal(effect.refused)},
                            created_at=now)


async def _post(outbox: OutboxRepository, effect: Post, txn: str,
                now: datetime) -> OutboxMessage | None:
    return await outbox.add(txn_id=txn, room_id=effect.room_id, content=post_content(effect),
                            created_at=now, about=effect.about)


async def _send_event(outbox: OutboxRepository, effect: SendEvent, txn: str,
                      now: datetime) -> OutboxMessage | None:
    return await outbox.add(txn_id=txn, room_id=effect.room_id, event_type=effect.event_type,
                            content=effect.content, created_at=now)


async def _upload(outbox: OutboxRepository, effect: Upload, txn: str,
                  now: datetime) -> OutboxMessage | None:
    content = {"msgtype": "m.file", "body": effect.filename, "filename": effect.filename,
               "info": {"mimetype": effect.mimetype, "size": len(effect.data)},
               "data": base64.b64encode(effect.data).decode()}
    return await outbox.add(txn_id=txn, room_id=effect.room_id, action="upload",
                            content=content, created_at=now, about=effect.about)


async def _react(outbox: OutboxRepository, effect: React, txn: str,
                 now: datetime) -> OutboxMessage | None:
    content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": effect.event_id,
                                "key": effect.key}}
    return await outbox.add(txn_id=txn, room_id=effect.room_id, event_type="m.reaction",
                            content=content, created_at=now)


async def _leave(outbox: OutboxRepository, effect: Leave, txn: str,
                 now: datetime) -> OutboxMessage | None:
    return await outbox.add(txn_id=txn, room_id=effect.room_id, action="leave", content={},
                            created_at=now)


async def _pin(outbox: OutboxRepository, effect: Pin, txn: str,
               now: datetime) -> OutboxMessage | None:
    return await outbox.add(txn_id=txn, room_id=effect.room_id, action="pin",
                            event_type="m.room.pinned_events", state_key="",
                            content={"pin": effect.event, "unpin": list(effect.unpin),
                                     **refusal(effect.refused)}, created_at=now)


async def _put_state(outbox: OutboxRepository, effect: PutState, txn: str,
                     now: datetime) -> OutboxMessage | None:
    return await outbox.add(txn_id=txn, room_id=effect.room_id, action="state",
                            event_type=effect.event_type, state_key=effect.state_key,
                            content=effect.content, created_at=now)


async def _create_room(outbox: OutboxRepository, effect: CreateRoom, txn: str,
                       now: datetime) -> OutboxMessage | None:
    content = {"room": {"name": effect.name, "topic": effect.topic, "space": effect.space,
                        "user_ids": list(effect.moderators)}, OUTCOME: outcome(effect.outcome)}
    return await outbox.add(txn_id=txn, room_id=effect.room_id, action="create_room",
                            content=content, created_at=now)


async def _open_direct_room(outbox: OutboxRepository, effect: OpenDirectRoom, txn: str,
                            now: datetime) -> OutboxMessage | None:
    content = {"user_id": effect.user_id, OUTCOME: outcome(effect.outcome)}
    return await outbox.add(txn_id=txn, room_id=effect.room_id, action="direct_room",
                            content=content, created_at=now, about=(effect.user_id,))


QUEUERS: dict[type, Queuer] = {
    Invite: _invite, Post: _post, SendEvent: _send_event, Upload: _upload, React: _react,
    Leave: _leave, Pin: _pin, PutState: _put_state, CreateRoom: _create_room,
    OpenDirectRoom: _open_direct_room}
"""Each kind of effect and how it becomes an outbox row (its ``action`` is performed by
``bot.outbox``)."""


async def _queue_one(repos: Repositories, effect: Effect, txn: str, now: datetime) -> Queued | None:
    row = await QUEUERS[type(effect)](repos.outbox, effect, txn, now)
    return Queued.of(row) if row is not None else None
