"""A room asked of the homeserver whose answer was lost (a timeout, a crash before the outcome
was recorded) is found again rather than opened twice: the request carries a mark (the outbox
row's transaction id) in the new room's state, and a retry looks for it first (``find``).

A mark alone proves nothing (anyone may put that state in a room they invite the bot to): only
a room the sync shows the bot created, with the intended person in it (joined or invited), is
asked for its mark: no request for the other rooms. A room the sync has not shown yet is not
found: a second one is opened."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from bot.matrix_api import MatrixError

OPENING_STATE = "org.cct-bot.opening"  # state event type holding the mark, ``{"opening": …}``


def opening_state(opening: str) -> list[dict[str, Any]]:
    """The initial state that marks a new room as opened for ``opening`` (none if empty)."""
    if not opening:
        return []
    return [{"type": OPENING_STATE, "state_key": "", "content": {"opening": opening}}]


async def find_opening(rooms: Iterable[str], opening: str,
                       state: Callable[[str, str], Awaitable[dict[str, Any]]],
                       made_for: Callable[[str], bool]) -> str | None:
    """The room among ``rooms`` marked ``opening`` that ``made_for`` (read from the sync: the
    bot created it, the person is in it) accepts; one request per room accepted."""
    for room in rooms:
        if not made_for(room):
            continue
        try:
            content = await state(room, OPENING_STATE)
        except MatrixError as error:
            if error.code in ("M_NOT_FOUND", "M_FORBIDDEN"):
                continue
            raise
        if content.get("opening") == opening:
            return room
    return None
