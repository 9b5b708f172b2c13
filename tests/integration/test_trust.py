"""Who gets in, on a real Synapse: the bot never enters a room because a command named it, a
room becomes a group's only when its asker moderates it, visitors (in none of the club's rooms)
run only the newcomer's commands and are told how to join, and a list naming people is never
given in a room whose readers may not be club members."""

from __future__ import annotations

import pytest

from tests.integration.club_rooms import club_room
from tests.integration.matrix_user import MatrixUser
from tests.integration.test_projects import ask

pytestmark = pytest.mark.integration


async def club_with_group(bot_factory, users) -> tuple[object, str, MatrixUser, MatrixUser,
                                                        MatrixUser, MatrixUser]:
    """A club room with the bot, Alice (referent of group 1), Bob (its member) and Carol (who
    never writes there), and a coordinator who may invite the bot."""
    chargee, alice, bob = await users("chargee"), await users("alice"), await users("bob")
    carol = await users("carol")
    runner, room = await club_room(bot_factory, chargee, [alice, bob, carol])
    assert "créé" in (await ask(alice, room, "!projet creer Atelier vélo")).body
    assert "rejoint" in (await ask(bob, room, "!projet rejoindre velo")).body
    return runner, room, chargee, alice, bob, carol


async def test_linking_a_room_never_brings_the_bot_or_the_members_in(bot_factory,
                                                                     users) -> None:
    runner, room, chargee, alice, bob, _carol = await club_with_group(bot_factory, users)
    victim = await users("victim")
    private = await victim.create_room(name="Privé")  # the bot and Alice are not there
    refused = await ask(alice, room, f"!projet salon velo {private}")
    assert refused.body.startswith(f"Je ne suis pas dans le salon « {private} »")

    # A room the bot was invited to by the coordinator, where Alice is a mere member.
    shared = await chargee.create_room(name="Vélo", invite=[runner.user_id, alice.user_id],
                                       power_levels={alice.user_id: 0})
    await chargee.wait_membership(shared, runner.user_id, "join", timeout=60)
    await alice.join(shared)
    refused = await ask(alice, room, f"!projet salon velo {shared}")
    assert "modérateur (niveau 50 ou plus) dans ce salon même" in refused.body
    club_room = await ask(chargee, room, f"!projet salon velo {room}")
    assert "est un salon du club" in club_room.body
    assert victim.memberships[private].get(runner.user_id) is None  # never invited, never came
    assert bob.memberships.get(shared, {}).get(bob.user_id) is None  # nobody invited

    # Alice made a moderator there: the room is linked and the members invited.
    levels = await chargee.client.room_get_state_event(shared, "m.room.power_levels", "")
    content = dict(levels.content)  # type: ignore[union-attr]
    content["users"] = {**content.get("users", {}), alice.user_id: 50}
    await chargee.client.room_put_state(shared, "m.room.power_levels", content)
    await bot_sees_level(alice, room, shared)
    await bob.wait_membership(shared, bob.user_id, "invite", timeout=60)


async def bot_sees_level(alice: MatrixUser, room: str, shared: str) -> None:
    """Alice asks again until the bot's sync has brought her new power level."""
    for _ in range(30):
        answer = await ask(alice, room, f"!projet salon velo {shared}")
        if "est maintenant celui de" in answer.body:
            assert "j'y invite les membres du groupe (1)" in answer.body  # Alice is there
            return
        assert "modérateur" in answer.body, answer.body
    raise AssertionError("the bot never saw Alice's power level")


async def test_visitors_and_rooms_outside_the_club(bot_factory, users) -> None:
    runner, room, chargee, alice, bob, carol = await club_with_group(bot_factory, users)
    outsider = await users("outsider")
    partners = await chargee.create_room(name="Partenaires",
                                         invite=[runner.user_id, alice.user_id,
                                                 outsider.user_id, carol.user_id])
    await chargee.wait_membership(partners, runner.user_id, "join", timeout=60)
    for person in (alice, outsider, carol):
        await person.join(partners)
    # Carol never wrote in the club's room: the bot knows her from its member list.
    assert "Atelier vélo" in (await ask(carol, partners, "!projet liste")).body

    refused = await ask(outsider, partners, "!projet liste")
    assert refused.body.startswith("Réservé aux membres du club. Pour participer, rejoignez le "
                                   f"salon du club {room}")
    assert "Cadre de confiance" in (await ask(outsider, partners, "!cadre")).body
    helped = await ask(outsider, partners, "!aide")
    assert "!projet" not in helped.body and "rejoignez le salon du club" in helped.body
    assert "Réservé aux membres" in (await ask(outsider, partners, "!vote 1 1+")).body

    # Alice is a member, but the partners' room is not the club's: no list of names there.
    names = await ask(alice, partners, "!projet membres velo")
    assert names.body.startswith("Cette réponse nomme des membres du club")
    assert bob.user_id not in names.body
    assert "Atelier vélo" in (await ask(alice, partners, "!projet liste")).body

    stats = await ask(chargee, room, "!stats")  # Alice and Bob took part; nobody else
    assert "Participants : 2 cette année" in stats.body.replace("**", "")

    # Once in the club's room, the outsider is a member.
    await chargee.invite(room, outsider.user_id)
    await outsider.join(room)
    joined = await ask(outsider, partners, "!projet rejoindre velo")
    assert "rejoint" in joined.body


async def test_a_silent_member_of_the_club_room_is_a_member_elsewhere(bot_factory,
                                                                      users) -> None:
    """Members are lazy-loaded: Carol joined the club's room long before the bot's first sync
    and never wrote there, so no sync ever told the bot about her; its member list does."""
    chargee, carol = await users("chargee"), await users("carol")
    runner = await bot_factory(start=False, club={"coordinators": [chargee.user_id],
                                                  "allowed_inviters": [chargee.user_id]},
                               matrix={"sync_timeline_limit": 2})
    room = await chargee.create_room(name="CCT", invite=[runner.user_id, carol.user_id])
    await carol.join(room)
    for number in range(6):  # Carol's arrival leaves the timeline the bot will get
        await chargee.send_text(room, f"message {number}")
    runner.overrides["rooms"] = {"main": room}
    await runner.start()
    await chargee.wait_membership(room, runner.user_id, "join")
    partners = await chargee.create_room(name="Partenaires", invite=[runner.user_id,
                                                                    carol.user_id])
    await chargee.wait_membership(partners, runner.user_id, "join", timeout=60)
    await carol.join(partners)
    listed = await ask(carol, partners, "!projet liste")
    assert "Aucun groupe-projet" in listed.body, listed.body
