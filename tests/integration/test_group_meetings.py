"""A group's meeting against a real Synapse: its referent plans it with places in the group's
room (a member may not), it is announced there; two members register, the third waits; one
withdraws, and the one waiting is told in a direct message."""

from __future__ import annotations

import re

import pytest
from nio import RoomMessageNotice

from tests.integration.future_dates import long_fr, tuesday_ahead
from tests.integration.registration import register, withdraw
from tests.integration.test_privacy import club_room
from tests.integration.test_projects import ask

pytestmark = pytest.mark.integration

WEDNESDAY = tuesday_ahead(weeks=5)


async def test_a_referent_runs_a_group_meeting_with_places(bot_factory, users) -> None:
    chargee, alice = await users("chargee"), await users("alice")
    bob, carol, dave = await users("bob"), await users("carol"), await users("dave")
    room = await club_room(bot_factory, chargee, alice, matrix={"encryption": False})
    for person in (bob, carol, dave):
        await chargee.invite(room, person.user_id)
        await person.join(room)
    assert "créé" in (await ask(alice, room, "!projet creer Atelier vélo")).body
    for person in (bob, carol, dave):
        assert "rejoint" in (await ask(person, room, "!projet rejoindre velo")).body
    await ask(alice, room, "!projet salon velo", timeout=60)
    made = await alice.wait_for(room, lambda e: isinstance(e, RoomMessageNotice)
                                and e.body.startswith("Salon créé : "), timeout=60)
    match = re.search(r'href="https://matrix\.to/#/(![^"]+)"',
                      made.source["content"]["formatted_body"])
    assert match, made.source
    group_room = match.group(1)
    for person in (alice, bob, carol, dave):
        await person.wait_membership(group_room, person.user_id, "invite", timeout=60)
        await person.join(group_room)

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
