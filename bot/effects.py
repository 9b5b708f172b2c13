"""Each kind of effect, once: the outbox row it becomes and how that row is performed, side by
side, listed in ``EFFECTS`` (effect type → row maker, executor).

A row's ``action`` names its executor (``ACTIONS``); actions and row contents are kept in the
database until sent, so an action is never renamed nor its content's keys changed: rows queued
before an upgrade are sent after it. Adding an effect: its dataclass in ``commands/effects.py``
(and in the ``Effect`` union), then here a row maker, an executor (or an existing one: a new
kind of message is a ``send``) and one line in ``EFFECTS``.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import oversize
from bot.delivery import OUTCOME, REFUSED, SHARED, Delivery, Queued
from bot.matrix_api import MatrixError
from bot.render import attachment_content, message_content
from bot.transport import NewRoom
from commands.effects import (
    REF_PREFIX,
    CreateRoom,
    Effect,
    Fetch,
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
    txn_id,
)
from commands.threads import in_thread
from storage.repositories import Repositories

log = logging.getLogger("bot.outbox")
Perform = Callable[[Delivery, Queued, dict[str, Any]], Awaitable[str]]
"""Does what a row asks (its content parsed, references resolved); returns the event id (empty
when there is none: an invite, a leave)."""


@dataclass(frozen=True)
class Executor:
    """How rows of one ``action`` are performed. ``refusable``: the row may carry a message
    posted if the homeserver forbids it; ``opens_room``: it is marked sent with its outcome."""

    action: str
    perform: Perform
    refusable: bool = False
    opens_room: bool = False


@dataclass(frozen=True)
class Row:
    """What an effect becomes in the outbox, besides its action and transaction id."""

    room_id: str
    content: dict[str, Any]
    event_type: str = "m.room.message"
    state_key: str | None = None
    key: str | None = None  # the effect's own key: its transaction id is derived from it
    about: tuple[str, ...] = ()  # whom it concerns besides those its content names


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


# --- send: messages, reactions, any room event (a message too large goes in parts or as a file)

async def _send(delivery: Delivery, message: Queued, content: dict[str, Any]) -> str:
    room_id = message.room_id

    async def send(part: dict[str, Any], txn: str) -> str:
        return await delivery.send(message, part, txn)

    async def upload(data: bytes, mimetype: str, filename: str) -> dict[str, Any]:
        return await delivery.transport.upload(room_id, data, mimetype, filename)

    sized = oversize.Message(room_id, content, message.txn_id, message.event_type,
                             delivery.transport.is_encrypted(room_id))
    return await oversize.deliver(sized, send, upload, delivery.t)


SEND = Executor("send", _send)


def _post_row(effect: Post) -> Row:
    return Row(effect.room_id, post_content(effect), key=effect.key, about=effect.about)


def _send_event_row(effect: SendEvent) -> Row:
    return Row(effect.room_id, effect.content, effect.event_type, key=effect.key)


def _react_row(effect: React) -> Row:  # its ``key`` is the emoji: no key of its own
    return Row(effect.room_id, {"m.relates_to": {"rel_type": "m.annotation",
                                                 "event_id": effect.event_id, "key": effect.key}},
               "m.reaction")


# --- upload: a file, then its m.file message (m.image for a PNG picture)

def _upload_row(effect: Upload) -> Row:
    content = {**attachment_content(effect.filename, effect.mimetype, effect.data),
               "data": base64.b64encode(effect.data).decode()}
    if effect.shared:
        content[SHARED] = True
    return Row(effect.room_id, content, key=effect.key, about=effect.about)


async def _upload(delivery: Delivery, message: Queued, content: dict[str, Any]) -> str:
    data = base64.b64decode(content.pop("data"))
    upload = delivery.uploaded if content.pop(SHARED, False) else delivery.transport.upload
    content.update(await upload(message.room_id, data, content["info"]["mimetype"],
                                content["body"]))
    return await delivery.send(message, content)


# --- invite

def _invite_row(effect: Invite) -> Row:
    return Row(effect.room_id, {"user_id": effect.user_id, **refusal(effect.refused)})


async def _invite(delivery: Delivery, message: Queued, content: dict[str, Any]) -> str:
    await delivery.transport.invite(message.room_id, str(content["user_id"]))
    return ""


# --- state, pin, leave

def _state_row(effect: PutState) -> Row:
    return Row(effect.room_id, effect.content, effect.event_type, effect.state_key)


async def _state(delivery: Delivery, message: Queued, content: dict[str, Any]) -> str:
    return await delivery.transport.put_state(message.room_id, message.event_type,
                                              message.state_key or "", content)


def _pin_row(effect: Pin) -> Row:
    return Row(effect.room_id, {"pin": effect.event, "unpin": list(effect.unpin),
                                **refusal(effect.refused)}, "m.room.pinned_events", "")


async def _pin(delivery: Delivery, message: Queued, content: dict[str, Any]) -> str:
    return await delivery.transport.pin(message.room_id, content["pin"], content["unpin"])


def _leave_row(effect: Leave) -> Row:
    return Row(effect.room_id, {})


async def _leave(delivery: Delivery, message: Queued, _content: dict[str, Any]) -> str:
    await delivery.transport.leave(message.room_id)
    return ""


# --- rooms opened: their outcome recorded with the row marked sent

def _create_room_row(effect: CreateRoom) -> Row:
    content = {"room": {"name": effect.name, "topic": effect.topic, "space": effect.space,
                        "user_ids": list(effect.moderators)}, OUTCOME: outcome(effect.outcome)}
    return Row(effect.room_id, content, key=effect.key)


async def _create_room(delivery: Delivery, message: Queued, content: dict[str, Any]) -> str:
    room, transport = content["room"], delivery.transport

    async def create() -> NewRoom:
        return NewRoom(await transport.create_room(
            name=room["name"], topic=room["topic"], space=room["space"],
            moderators=room["user_ids"]))

    async def list_in_space(new: NewRoom) -> NewRoom:
        """The space names the room as its child (refused for good: told, the room kept)."""
        server = transport.user_id.split(":", 1)[-1]
        try:
            await transport.put_state(room["space"], "m.space.child", new.room_id,
                                      {"via": [server]})
        except MatrixError as error:
            if not error.permanent:
                raise  # the row is tried again, with the same room
            log.warning("room %s created but not added to the space %s (%s)", new.room_id,
                        room["space"], error)
            return NewRoom(new.room_id, space_refused=True)
        return new

    return await delivery.open_room(message, content[OUTCOME], create,
                                    list_in_space if room["space"] else None)


def _direct_room_row(effect: OpenDirectRoom) -> Row:
    return Row(effect.room_id, {"user_id": effect.user_id, OUTCOME: outcome(effect.outcome)},
               about=(effect.user_id,))


async def _direct_room(delivery: Delivery, message: Queued, content: dict[str, Any]) -> str:
    transport = delivery.transport

    async def direct() -> NewRoom:
        return NewRoom(await transport.direct_room(str(content["user_id"]), message.txn_id))

    async def made_before() -> NewRoom | None:
        room = await transport.opened_room(str(content["user_id"]), message.txn_id)
        return NewRoom(room) if room else None
    return await delivery.open_room(message, content[OUTCOME], direct, find=made_before)


# --- fetch: a posted file downloaded, then its outcome recorded with the row marked sent

def _fetch_row(effect: Fetch) -> Row:
    content = {"file": dict(effect.source), OUTCOME: outcome(effect.outcome)}
    return Row(effect.room_id, content, key=effect.key, about=effect.about)


async def _fetch(delivery: Delivery, message: Queued, content: dict[str, Any]) -> str:
    return await delivery.fetch(message, content[OUTCOME], content["file"])


RowMaker = Callable[[Any], Row]
EFFECTS: dict[type[Any], tuple[RowMaker, Executor]] = {
    Post: (_post_row, SEND),
    SendEvent: (_send_event_row, SEND),
    React: (_react_row, SEND),
    Upload: (_upload_row, Executor("upload", _upload)),
    Invite: (_invite_row, Executor("invite", _invite, refusable=True)),
    PutState: (_state_row, Executor("state", _state)),
    Pin: (_pin_row, Executor("pin", _pin, refusable=True)),
    Leave: (_leave_row, Executor("leave", _leave)),
    CreateRoom: (_create_room_row, Executor("create_room", _create_room, opens_room=True)),
    OpenDirectRoom: (_direct_room_row, Executor("direct_room", _direct_room, opens_room=True)),
    Fetch: (_fetch_row, Executor("fetch", _fetch, opens_room=True)),
}
"""Each kind of effect: the row it becomes, the executor of that row."""

ACTIONS: dict[str, Executor] = {executor.action: executor for _, executor in EFFECTS.values()}
"""The executor of each ``action`` a row may hold (replies, welcomes… are ``send`` rows)."""


def executor_of(message: Queued) -> Executor:
    return ACTIONS.get(message.action, SEND)


async def queue_effects(repos: Repositories, effects: Sequence[Effect], key: str,
                        now: datetime) -> list[Queued]:
    """Queues each effect with a transaction id derived from its own key, or from ``key`` (the
    command's event id, or a scheduled item) and its position: a replay after a crash queues
    nothing twice."""
    queued = []
    for index, effect in enumerate(effects):
        make_row, executor = EFFECTS[type(effect)]
        row = make_row(effect)
        txn = effect_txn(row.key) if row.key else txn_id("effect", f"{key}#{index}")
        added = await repos.outbox.add(
            txn_id=txn, room_id=row.room_id, content=row.content, created_at=now,
            event_type=row.event_type, action=executor.action, state_key=row.state_key,
            about=row.about)
        if added is not None:
            queued.append(Queued.of(added))
    return queued


async def perform(delivery: Delivery, message: Queued) -> str:
    """Does what the row asks; returns the event id. A row the homeserver forbids posts the
    message it carries for that (``refusable``), then raises."""
    executor = executor_of(message)
    content = json.loads(message.content)
    if REF_PREFIX in message.content:  # names an earlier message (most do not)
        content = await delivery.resolve(content)
    refused = content.pop(REFUSED, None) if executor.refusable else None
    try:
        return await executor.perform(delivery, message, content)
    except MatrixError as error:
        if refused is not None and error.code == "M_FORBIDDEN":
            await delivery.tell_refusal(message, refused)
        raise
