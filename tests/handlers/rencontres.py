"""What the tests of the club's events (``!rencontre …``) share: the club's rooms, an
organiser, an event held."""

from __future__ import annotations

from datetime import timedelta

from tests.handlers.conftest import COORDINATOR, Harness

MAIN, NORTH, SOUTH = "!main:example.org", "!north:example.org", "!south:example.org"
ORGANISER = "@olga:example.org"


async def held_event(bot: Harness, extra: str = "--territoire nord") -> None:
    """Event 1, organised by Olga (a member), planned for tomorrow 18h; then it starts."""
    await bot.command(f"!rencontre planifier demain 18h {extra} --organisateur {ORGANISER}",
                      sender=COORDINATOR)
    bot.clock.advance(timedelta(days=1, hours=10))
