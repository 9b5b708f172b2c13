"""Invitations: accepted from the allowed people (``club.allowed_inviters`` and the
coordinators), declined otherwise — in the background: joining a room of a server that never
answers must not hold the sync."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from nio import InviteMemberEvent, SyncResponse

from bot.matrix import MatrixTransport
from bot.matrix_api import MatrixError
from bot.rooms import Rooms
from bot.settings import ClubSettings

log = logging.getLogger("bot.app")  # the bot's records, as the log names them


class Invitations:
    """Answers the invitations of each sync; ``forget`` is called for each room invited to
    (the bot is not in it, whatever it thought)."""

    def __init__(self, transport: MatrixTransport, rooms: Rooms, club: ClubSettings,
                 forget: Callable[[str], None]) -> None:
        self.transport = transport
        self.rooms = rooms
        self.club = club
        self.forget = forget
        self.tasks: set[asyncio.Task[None]] = set()  # invitations being answered

    def answer(self, response: SyncResponse) -> None:
        """Accepts the invitations of the allowed people, declines the others, in the
        background."""
        for room_id, info in response.rooms.invite.items():
            self.forget(room_id)  # invited: not in it (a kick may have gone unseen)
            inviter = self._inviter(info.invite_state)
            work = self.accept(room_id, inviter) if inviter and self.may_invite(inviter) \
                else self._decline(room_id, inviter)
            task = asyncio.create_task(work, name=f"invite {room_id}")
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def answered(self) -> None:
        """Waits for the invitations under way to be accepted or declined."""
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def may_invite(self, user_id: str) -> bool:
        """Invites are accepted from the configured people or servers, and the coordinators."""
        allowed = self.club.allowed_inviters
        server = ":" + user_id.split(":", 1)[-1]
        return user_id in allowed or server in allowed or user_id in self.club.coordinators

    async def accept(self, room_id: str, inviter: str) -> None:
        asked_at = self.rooms.clock.now()  # what is said after this is not history
        try:
            await self.transport.join(room_id)
        except MatrixError as error:
            log.warning("invite to %s from %s: join failed (%s)", room_id, inviter, error)
            return
        await self.rooms.joined(room_id, False, asked_at)
        log.info("joined %s, invited by %s", room_id, inviter,
                 extra={"room": room_id, "inviter": inviter})

    async def _decline(self, room_id: str, inviter: str | None) -> None:
        log.info("refused the invite to %s from %s", room_id, inviter,
                 extra={"room": room_id, "inviter": inviter})
        try:
            await self.transport.leave(room_id)
        except MatrixError as error:
            log.warning("could not decline the invite to %s (%s)", room_id, error)

    def _inviter(self, invite_state: Iterable[Any]) -> str | None:
        for event in invite_state:
            if (isinstance(event, InviteMemberEvent) and event.state_key == self.transport.user_id
                    and event.membership == "invite"):
                return str(event.sender)
        return None
