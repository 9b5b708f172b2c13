"""Effects asked by handlers become outbox rows, in the transaction of what caused them."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.outbox import Queued, txn_id
from bot.render import message_content
from commands.effects import (
    Effect,
    Invite,
    Leave,
    Pin,
    Post,
    PutState,
    React,
    SendEvent,
    Upload,
    effect_txn,
)
from storage.repositories import Repositories


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
        content["m.relates_to"] = {"rel_type": "m.thread", "event_id": effect.thread,
                                   "is_falling_back": True,
                                   "m.in_reply_to": {"event_id": effect.thread}}
    return content


async def _queue_one(repos: Repositories, effect: Effect, txn: str, now: datetime) -> Queued | None:
    outbox = repos.outbox
    if isinstance(effect, Invite):
        row = await outbox.add(txn_id=txn, room_id=effect.room_id, action="invite",
                               content={"user_id": effect.user_id}, created_at=now)
    elif isinstance(effect, Post):
        row = await outbox.add(txn_id=txn, room_id=effect.room_id, content=post_content(effect),
                               created_at=now, about=effect.about)
    elif isinstance(effect, SendEvent):
        row = await outbox.add(txn_id=txn, room_id=effect.room_id, event_type=effect.event_type,
                               content=effect.content, created_at=now)
    elif isinstance(effect, Upload):
        content = {"msgtype": "m.file", "body": effect.filename, "filename": effect.filename,
                   "info": {"mimetype": effect.mimetype, "size": len(effect.data)},
                   "data": base64.b64encode(effect.data).decode()}
        row = await outbox.add(txn_id=txn, room_id=effect.room_id, action="upload",
                               content=content, created_at=now, about=effect.about)
    elif isinstance(effect, React):
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": effect.event_id,
                                    "key": effect.key}}
        row = await outbox.add(txn_id=txn, room_id=effect.room_id, event_type="m.reaction",
                               content=content, created_at=now)
    elif isinstance(effect, Leave):
        row = await outbox.add(txn_id=txn, room_id=effect.room_id, action="leave", content={},
                               created_at=now)
    elif isinstance(effect, Pin):
        row = await outbox.add(txn_id=txn, room_id=effect.room_id, action="pin",
                               event_type="m.room.pinned_events", state_key="",
                               content={"pin": effect.event, "unpin": list(effect.unpin)},
                               created_at=now)
    elif isinstance(effect, PutState):
        row = await outbox.add(txn_id=txn, room_id=effect.room_id, action="state",
                               event_type=effect.event_type, state_key=effect.state_key,
                               content=effect.content, created_at=now)
    else:  # pragma: no cover - the Effect union is closed
        raise TypeError(f"unknown effect {effect!r}")
    return Queued.of(row) if row is not None else None
