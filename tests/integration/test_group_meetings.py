"""A group's meeting against a real Synapse: its referent plans it with places in the group's
room (a member may not), it is announced there; two members register, the third waits; one
withdraws, and the one waiting is told in a direct message."""

from __future__ import annotations

import pytest

from tests.integration import club_rooms
from tests.integration.future_dates import long_fr, tuesday_ahead
from tests.integration.registration import register, withdraw
from tests.integration.test_projects import ask

pytestmark = pytest.mark.integration

WEDNESDAY = tuesday_ahead(weeks=5)


async def test_a_referent_runs_a_group_meeting_with_places(bot_factory, users) -> None:
    chargee, alice = await users("chargee"), await users("alice")
    bob, carol, dave = await users("bob"), await users("carol"), await users("dave")
    _, room = await club_rooms.club_room(bot_factory, chargee, [alice, bob, carol, dave],
                                         matrix={"encryption": False})
    group_room = await club_rooms.group_room(alice, room, [bob, carol, dave])

    line = f"!rencontre planifier {long_fr(WEDNESDAY)} 18h30 --places 2 --lieu Local vélo"
    refused = await ask(bob, group_room, line)
    assert refused.body.startswith("Seuls les référents de n°1 Atelier vélo"), refused.body
    planned = await ask(alice, group_room, line)
    assert planned.body.startswith("C'est planifié : Réunion de groupe-projet n°1"), planned.body
    announced = await bob.wait_for(group_room, lambda e: (getattr(e, "body", "") or "")
                                   .startswith("📅"), timeout=60)
    assert "Réunion de groupe-projet n°1" in announced.body and "Places" in announced.body

    await register(bob, group_room)
    await register(carol, group_room)
    await register(dave, group_room, waiting=True)
    _, told = await withdraw(bob, dave, group_room, besides={room, group_room})
    assert "Réunion de groupe-projet n°1" in told.body and "Local vélo" in told.body
    info = await ask(alice, group_room, "!rencontre info 1")
    assert "2 inscrits sur 2, 0 libre, 0 en attente" in info.body.replace("**", "")
