"""Project groups against a real Synapse: create, join by a partial name, leave, the group's room
created in the club's space with its members invited (« Salon créé » once it exists), and the
group's card."""

from __future__ import annotations

import re
from typing import Any

import pytest
from nio import RoomGetStateEventResponse, RoomMessageNotice

from tests.integration.matrix_user import MatrixUser

pytestmark = pytest.mark.integration


async def ask(user: MatrixUser, room: str, text: str, timeout: float = 30) -> Any:
    event_id = await user.send_text(room, text)
    return await user.wait_for_reply(room, event_id, timeout=timeout)


async def state(user: MatrixUser, room: str, event_type: str, key: str) -> dict[str, Any]:
    response = await user.client.room_get_state_event(room, event_type, key)
    assert isinstance(response, RoomGetStateEventResponse), response
    return dict(response.content)


async def test_group_life_on_a_real_homeserver(bot_factory, users) -> None:
    chargee = await users("chargee")
    alice, bob, carol = await users("alice"), await users("bob"), await users("carol")
    runner = await bot_factory(start=False, club={"coordinators": [chargee.user_id],
                                                  "allowed_inviters": [chargee.user_id]})
    room = await chargee.create_room(name="CCT", invite=[runner.user_id, alice.user_id,
                                                         bob.user_id, carol.user_id])
    space = await _space(chargee, runner.user_id)
    runner.overrides["rooms"] = {"main": room, "space": space}
    for person in (alice, bob, carol):
        await person.join(room)
    await runner.start()
    await chargee.wait_membership(room, runner.user_id, "join")

    created = await ask(alice, room, "!projet creer Atelier vélo mobile --theme mobilité "
                                     "--territoire sud --description Réparer les vélos")
    assert "Groupe-projet **n°1 Atelier vélo mobile** créé" in created.body
    assert "<strong>n°1 Atelier vélo mobile</strong>" in created.source["content"]["formatted_body"]
    assert "rejoint" in (await ask(bob, room, "!projet join velo")).body
    assert "vous êtes 3 membres" in (await ask(carol, room, "!projet rejoindre VELO")).body
    assert "Vous avez quitté" in (await ask(carol, room, "!projet quitter velo")).body
    refused = await ask(bob, room, "!projet salon velo")
    assert refused.body.startswith("Seuls les référents de n°1 Atelier vélo mobile")

    asked = await ask(alice, room, "!projet salon velo", timeout=60)
    assert asked.body.startswith("Je crée le salon de **n°1 Atelier vélo mobile**…")
    made = await alice.wait_for(room, lambda e: isinstance(e, RoomMessageNotice)
                                and e.body.startswith("Salon créé : "), timeout=60)
    assert "j'y invite les membres du groupe (2)" in made.body
    assert "espace" not in made.body  # the bot is a moderator of the space: the room is there
    group_room = _room_in(made.source["content"]["formatted_body"])
    await bob.wait_membership(group_room, bob.user_id, "invite", timeout=60)
    await alice.wait_membership(group_room, alice.user_id, "invite", timeout=60)
    await bob.join(group_room)
    assert carol.memberships.get(group_room, {}).get(carol.user_id) is None
    assert (await state(bob, group_room, "m.room.name", ""))["name"] == "Atelier vélo mobile"
    assert (await state(bob, group_room, "m.space.parent", space))["canonical"] is True
    assert (await state(chargee, space, "m.space.child", group_room))["via"]
    levels = await state(bob, group_room, "m.room.power_levels", "")
    assert levels["users"].get(alice.user_id) == 50  # the referent moderates the group's room

    info = await ask(carol, room, "!projet info velo")
    body = info.body
    for expected in ("n°1 Atelier vélo mobile", "Réparer les vélos", "mobilité", "sud",
                     f"**Référents :** {alice.user_id}", "**Membres (2) :**", bob.user_id,
                     "**Salon :**"):
        assert expected in body, expected
    assert carol.user_id not in body.split("Membres")[1].split("\n")[0]
    assert f"https://matrix.to/#/{group_room}" in info.source["content"]["formatted_body"]
    assert info.source["content"]["m.mentions"] == {"user_ids": [carol.user_id]}

    # A newcomer joining later is invited into the group's room too.
    dave = await users("dave")
    await chargee.invite(room, dave.user_id)
    await dave.join(room)
    await ask(dave, room, "!projet rejoindre atelier velo")
    await dave.wait_membership(group_room, dave.user_id, "invite", timeout=60)


async def _space(owner: MatrixUser, bot_id: str) -> str:
    """A space where the bot may add rooms (moderator)."""
    response = await owner.client.room_create(name="Club Climat", space=True, invite=[bot_id],
                                              power_level_override={"users": {bot_id: 50}})
    room_id: str = response.room_id  # type: ignore[union-attr]
    await owner.wait_membership(room_id, owner.user_id, "join")
    return room_id


def _room_in(html: str) -> str:
    match = re.search(r'href="https://matrix\.to/#/(![^"]+)"', html)
    assert match, html
    return match.group(1)
