"""Telling someone something privately: in their known direct room while they are still there
(joined or invited, as the bot last synced it: no request), else in a new one the bot opens
(``OpenDirectRoom``), whose outcome handler says it there or, refused, where it was asked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from commands.effects import Effect, OpenDirectRoom, Outcome, Post, Reply

if TYPE_CHECKING:
    from commands.ports import MatrixPort
    from storage.repositories import Repositories

Posts = Callable[[str], Awaitable[Sequence[Effect]]]  # what to post in a given room


async def tell_privately(repos: Repositories, matrix: MatrixPort | None, user: str,
                         posts: Posts, told_in: str, outcome: Outcome) -> list[Effect]:
    """``posts(room)`` in ``user``'s known direct room while they are in it; else the room
    opened (``told_in``: where the outcome tells a refusal). Without ``matrix`` (nothing known
    of the rooms), the known direct room is trusted."""
    room = await repos.participants.direct_room(user)
    if room is not None and (matrix is None or matrix.is_member(room, user)):
        return list(await posts(room))
    return [OpenDirectRoom(told_in, user, outcome)]


def message(reply: Reply, user: str, key: str | None = None) -> Posts:
    """``reply`` posted in the room, about ``user`` (``key``: the outbox row's, if set)."""
    async def posts(room: str) -> Sequence[Effect]:
        return (Post(room, reply, key=key, about=(user,)),)
    return posts
