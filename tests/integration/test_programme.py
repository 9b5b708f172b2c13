"""Registration against a real Synapse: a webinaire with one place, two people register, the
second waits; the first withdraws, and the second is told in a direct message."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.club_rooms import club_room
from tests.integration.future_dates import long_fr, tuesday_ahead
from tests.integration.registration import register, withdraw
from tests.integration.test_projects import ask

pytestmark = pytest.mark.integration

THURSDAY = tuesday_ahead() + timedelta(days=2)


async def test_the_waiting_list_moves_and_the_next_one_is_told_privately(bot_factory,
                                                                          users) -> None:
    chargee, alice, bob = await users("chargee"), await users("alice"), await users("bob")
    _, room = await club_room(bot_factory, chargee, [alice, bob], matrix={"encryption": False})

    planned = await ask(chargee, room, f"!rencontre planifier {long_fr(THURSDAY)} 18h30 "
                                       "--type webinaire --titre Rénover sa maison --places 1 "
                                       "--lien https://visio.example.org/renovation")
    assert "Webinaire n°1 — Rénover sa maison" in planned.body, planned.body
    await register(alice, room)
    await register(bob, room, waiting=True)
    _, told = await withdraw(alice, bob, room)
    assert "Webinaire n°1" in told.body and "https://visio.example.org/renovation" in told.body
    info = await ask(chargee, room, "!rencontre info 1")
    assert "1 inscrit sur 1, 0 libre, 0 en attente" in info.body.replace("**", "")


