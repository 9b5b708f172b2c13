"""Effects asked by handlers become outbox rows, in the transaction of what caused them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.outbox import Queued, txn_id
from bot.render import message_content
from commands.effects import Effect, Invite, Post, PutState, React
from storage.repositories import Repositories


async def queue_effects(repos: Repositories, effects: Sequence[Effect], key: str,
                        now: datetime) -> list[Queued]:
    """Queues each effect with a transaction id derived from ``key`` (the command's event id, or
    a scheduled item) and its position, so a replay after a crash queues nothing twice."""
    queued = []
    for index, effect in enumerate(effects):
        row = await _queue_one(repos, effect, txn_id("effect", f"{key}#{index}"), now)
        if row is not None:
            queued.append(row)
    return queued


async def _queue_one(repos: Repositories, effect: Effect, txn: str, now: datetime) -> Queued | None:
    outbox = repos.outbox
    if isinstance(effect, Invite):
        row = await outbox.add(txn_id=txn, room_id=effect.room_id, action="invite",
                               content={"user_id": effect.user_id}, created_at=now)
    elif isinstance(effect, Post):
        row = await outbox.add(txn_id=txn, room_id=effect.room_id,
                               content=message_content(effect.reply), created_at=now)
    elif isinstance(effect, React):
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": effect.event_id,
                                    "key": effect.key}}
        row = await outbox.add(txn_id=txn, room_id=effect.room_id, event_type="m.reaction",
                               content=content, created_at=now)
    elif isinstance(effect, PutState):
        row = await outbox.add(txn_id=txn, room_id=effect.room_id, action="state",
                               event_type=effect.event_type, state_key=effect.state_key,
                               content=effect.content, created_at=now)
    else:  # pragma: no cover - the Effect union is closed
        raise TypeError(f"unknown effect {effect!r}")
    return Queued.of(row) if row is not None else None
