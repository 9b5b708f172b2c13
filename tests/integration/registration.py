"""Registration for an event with places, as members do it on a real Synapse: a place taken or
a place on the waiting list; a withdrawal, and the first one waiting told in a direct message."""

from __future__ import annotations

from typing import Any

from tests.integration.matrix_user import MatrixUser
from tests.integration.test_privacy import invited_room
from tests.integration.test_projects import ask


def body(event: object) -> str:
    return str(getattr(event, "body", "") or "").replace("**", "")


async def register(person: MatrixUser, room: str, number: int = 1, *,
                   waiting: bool = False) -> None:
    """``person`` registers for event ``number``: a place, or (``waiting``) the list's first."""
    reply = await ask(person, room, f"!rencontre inscrire {number}")
    expected = "vous êtes n°1 sur la liste d'attente" if waiting else "Vous êtes inscrit·e"
    assert expected in reply.body, reply.body


async def withdraw(leaving: MatrixUser, waiting: MatrixUser, room: str, number: int = 1, *,
                   direct: str = "", besides: set[str] | None = None,
                   about: str = "") -> tuple[str, Any]:
    """``leaving`` withdraws from event ``number``; ``waiting``, the first on its list, is told
    in their direct room with the bot (``direct``, or the room the bot invites them to, other
    than ``besides``; joined). Returns that room and the message (which names ``about``)."""
    withdrawn = await ask(leaving, room, f"!rencontre absent {number}")
    assert "revient à la première personne en attente" in withdrawn.body, withdrawn.body
    if not direct:
        direct = await invited_room(waiting, besides or {room})
        await waiting.join(direct)
    told = await waiting.wait_for(direct, lambda e: "Une place s'est libérée" in body(e)
                                  and about in body(e), timeout=60)
    return direct, told
