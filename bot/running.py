"""One received command run in the caller's transaction: resolved, its arguments converted,
the sender's right checked, its handler run with a ``Context``; its reply and effects queued.
A refusal (``UserError``) or an error undoes what the handler wrote (``storage.undo``) and is
answered instead."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.clock import Clock
from bot.effects import queue_effects
from bot.outbox import Queued, txn_id
from bot.render import Asked, answer_content
from commands.context import Club, Context, Standing
from commands.dispatch import (
    command_text,
    convert,
    error_reply,
    internal_error_reply,
    new_reference,
    resolve,
    run,
)
from commands.effects import Reply
from commands.errors import UserError
from commands.i18n import Translator
from commands.ports import MatrixPort
from commands.registry import Registry, Resolved
from commands.roles import Role
from storage.faults import StorageUnavailable
from storage.repositories import Repositories
from storage.undo import CannotUndo, Undo, undoable, writes

log = logging.getLogger("bot.dispatcher")  # the dispatcher's records, as the log names them
SendAhead = Callable[[str, dict[str, Any], str], bool]  # room, content, txn id: sent ahead?


class Membership(Protocol):
    """Who belongs to the club and where a command is said, read in the command's transaction
    (the groups' rooms are in the database)."""

    async def standing_of(self, user_id: str, room_id: str, repos: Repositories) -> Standing:
        """The sender's role (``VISITOR`` if not a club member) and the place of the room."""
        ...

    async def is_member(self, user_id: str, repos: Repositories) -> bool:
        """Whether ``user_id`` is a club member."""
        ...

    async def role_of(self, user_id: str) -> Role:
        """The person's role in the club, from the synced state alone (membership unchecked)."""
        ...


class Received(Asked, Protocol):
    """A command as received: queued in the inbox, or still in its sync batch (who sent it
    and the thread it was sent in, answered there: ``Asked``)."""

    @property
    def room_id(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def sent_at(self) -> datetime: ...


@dataclass
class Handling:
    """What the log says of one command: which one (``None``: not a command) and how it ended."""

    event_id: str
    room_id: str = ""
    command: str | None = None
    outcome: str = "ok"
    started: float = 0.0

    def log(self) -> None:
        if self.command is None:
            return
        log.info("command handled", extra={
            "command": self.command, "outcome": self.outcome, "room": self.room_id,
            "event": self.event_id, "ms": round((time.perf_counter() - self.started) * 1000, 1)})


@dataclass(frozen=True)
class Prepared:
    """A command's reply made in a read-only transaction (``CommandRunner.prepare``), to be
    queued in a transaction of its own (``CommandRunner.run``)."""

    reply: Reply
    handling: Handling


@dataclass
class Handled:
    """A command run in a transaction, and what to do once it is committed."""

    queued: list[Queued]
    reply: Reply
    handling: Handling


def answer_alone(reply: Reply, item: Received) -> dict[str, Any] | None:
    """The content of ``reply`` answering ``item``, if the reply asks nothing more (no effect,
    follow-up or job to rebuild) and can be sent without its outbox row; ``None`` if not."""
    if not reply.markdown or reply.effects or reply.then or reply.reschedule:
        return None
    return answer_content(reply, item)


class CommandRunner:
    """Runs received commands in the caller's transaction and queues their replies."""

    def __init__(self, registry: Registry, clock: Clock, membership: Membership,
                 matrix: MatrixPort | None, club: Callable[[], Club], t: Translator) -> None:
        self.registry = registry
        self.clock = clock
        self.membership = membership
        self.matrix = matrix
        self.club = club
        self.t = t

    async def run(self, repos: Repositories, item: Received, prepared: Prepared | None = None,
                  *, with_batch: bool = False, ahead: SendAhead | None = None) -> Handled:
        """The handler's changes undone if it refuses or fails (``storage.undo``), then its
        reply and effects queued and the command marked handled; ``prepared``: the reply made
        already, queued as it is. ``with_batch``: run in the transaction saving its sync batch,
        which recorded it as handled, and without a savepoint (``CannotUndo`` if it fails
        after writing: the batch is saved again without it). ``ahead``: a reply that is all
        the handler did (it wrote nothing, and did not fail: an internal error may come from
        a transaction that cannot commit, and the command would then run again) is handed to
        it before being queued (``bot.ahead``). The storage failing raises
        ``StorageUnavailable`` (nothing is kept)."""
        content = None
        if prepared is None:
            undo = Undo.REDONE if with_batch else Undo.SAVEPOINT
            written = writes(repos)
            prepared = await self._replied(repos, item, undo=undo)
            if ahead is not None and writes(repos) == written \
                    and prepared.handling.outcome != "error":
                content = await self._sent_ahead(item, prepared.reply, ahead)
        queued = await self.finish(repos, item, prepared.reply, content)
        if not with_batch:
            await repos.inbox.mark_handled(item.event_id, self.clock.now())
        return Handled(queued, prepared.reply, prepared.handling)

    @staticmethod
    async def _sent_ahead(item: Received, reply: Reply,
                          ahead: SendAhead) -> dict[str, Any] | None:
        """Hands a reply that asks nothing more to ``ahead`` (``answer_alone``); returns its
        content (``None``: not one)."""
        content = answer_alone(reply, item)
        if content is not None and ahead(item.room_id, content, txn_id("reply", item.event_id)):
            await asyncio.sleep(0)  # the sender's turn hands the request to aiohttp,
            await asyncio.sleep(0)  # whose task writes it (on Python < 3.12, not at once)
        return content

    async def prepare(self, repos: Repositories, item: Received) -> Prepared:
        """The command's reply, made in ``repos``, a read-only transaction: a handler that
        writes raises ``StorageUnavailable`` there."""
        return await self._replied(repos, item, undo=Undo.NOTHING)

    async def _replied(self, repos: Repositories, item: Received, *, undo: Undo) -> Prepared:
        handling = Handling(item.event_id, started=time.perf_counter())
        line = command_text(item.body, self.club().prefix)
        reply = Reply("")
        if line is not None:
            handling.room_id, handling.command = item.room_id, "?"
            reply = await self.reply(item, line, repos, handling, undo=undo)
        return Prepared(reply, handling)

    async def reply(self, item: Received, line: str, repos: Repositories,
                    handling: Handling, *, undo: Undo) -> Reply:
        """The handler's reply, or the refusal or error reply if it refuses or fails (what it
        left to write fails here too, not at the commit); what it wrote is then undone as
        ``undo`` says. A command refused before its handler runs (unknown, badly written, not
        allowed) is answered at once: nothing was written."""
        event_id = item.event_id
        try:
            resolved, ctx = await self._resolve(item, line, repos, handling)
        except StorageUnavailable:
            raise
        except Exception as error:
            return self._failure_reply(error, event_id, handling)
        try:
            async with undoable(repos, undo):
                prepared = await convert(resolved, ctx)  # the objects named looked up, checks
                reply = await run(prepared, ctx)
                await repos.flush()
                return reply
        except (StorageUnavailable, CannotUndo):
            raise
        except Exception as error:
            return self._failure_reply(error, event_id, handling)

    async def _resolve(self, item: Received, line: str, repos: Repositories,
                       handling: Handling) -> tuple[Resolved, Context]:
        """The command named by ``line`` and the sender's right to it here checked
        (``UserError`` if not); and the context its handler runs with."""
        standing = await self.membership.standing_of(item.sender, item.room_id, repos)
        resolved = resolve(self.registry, line, standing.role, standing.place,
                           self.club().entrance)
        handling.command = resolved.command.key
        ctx = Context(sender=item.sender, room_id=item.room_id, event_id=item.event_id,
                      sent_at=item.sent_at, now=self.clock.now(), role=standing.role,
                      club=self.club(), t=self.t, place=standing.place, repos=repos,
                      matrix=self.matrix, commands=self.registry,
                      membership=lambda user: self.membership.is_member(user, repos))
        return resolved, ctx

    def _failure_reply(self, error: Exception, event_id: str, handling: Handling) -> Reply:
        """The answer to a command that was refused (``UserError``: why, in French) or failed
        (an internal error, logged with a reference); called while handling ``error``."""
        if isinstance(error, UserError):
            handling.outcome = "refused"
            try:
                return error_reply(error, self.t, self.club().prefix)
            except Exception:
                return self._internal_error(event_id)
        handling.outcome = "error"
        return self._internal_error(event_id)

    def _internal_error(self, event_id: str) -> Reply:
        reference = new_reference()
        log.exception("internal error (ref. %s) on command %s", reference, event_id)
        return internal_error_reply(self.t, reference)

    async def finish(self, repos: Repositories, item: Received, reply: Reply,
                     content: dict[str, Any] | None = None) -> list[Queued]:
        """Queues the reply (its ``content``, if made already) and its effects (in the caller's
        transaction)."""
        now = self.clock.now()
        queued = []
        if reply.markdown:
            content = content or answer_content(reply, item)
            row = await repos.outbox.add(txn_id=txn_id("reply", item.event_id),
                                         room_id=item.room_id, content=content, created_at=now)
            if row is not None:
                queued.append(Queued.of(row))
        queued += await queue_effects(repos, reply.effects, item.event_id, now)
        return queued
