"""The agenda of a rencontre against a real Synapse: three people suggest, one supports by a 👍
reaction, the coordinator accepts two and refuses one (its author reads why), publishes; the
agenda is pinned in the rencontre's room; a later move posts only the change."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nio import RoomGetStateEventResponse, RoomMessageNotice

from tests.integration.matrix_user import MatrixUser

pytestmark = pytest.mark.integration


async def ask(user: MatrixUser, room: str, text: str, timeout: float = 30) -> Any:
    event_id = await user.send_text(room, text)
    return await user.wait_for_reply(room, event_id, timeout=timeout)


async def pinned(user: MatrixUser, room: str) -> list[str]:
    response = await user.client.room_get_state_event(room, "m.room.pinned_events", "")
    if not isinstance(response, RoomGetStateEventResponse):
        return []
    return list(response.content.get("pinned", []))


async def eventually(check: Any, timeout: float = 60) -> Any:
    """Retries an async check until it returns something true (reactions arrive by sync)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.5)


def notice(predicate: Any) -> Any:
    return lambda e: isinstance(e, RoomMessageNotice) and predicate(e)


async def test_agenda_on_a_real_homeserver(bot_factory, users) -> None:
    chargee = await users("chargee")
    alice, bob, carol = await users("alice"), await users("bob"), await users("carol")
    runner = await bot_factory(start=False, club={"coordinators": [chargee.user_id],
                                                  "allowed_inviters": [chargee.user_id]})
    people = [alice.user_id, bob.user_id, carol.user_id]
    main = await chargee.create_room(name="CCT", invite=[runner.user_id, *people])
    # Pinning is a state event: the bot needs moderator rights in the rencontre's room.
    north = await chargee.create_room(name="CCT Nord", invite=[runner.user_id],
                                      power_levels={runner.user_id: 50})
    for person in (alice, bob, carol):
        await person.join(main)
    runner.overrides["rooms"] = {"main": main, "north": north}
    await runner.start()
    await chargee.wait_membership(main, runner.user_id, "join")
    await chargee.wait_membership(north, runner.user_id, "join")

    day = datetime.now(UTC) + timedelta(days=10)
    planned = await ask(chargee, main, f"!rencontre planifier {day.day:02d}/{day.month:02d}/"
                                       f"{day.year} 18h30 --territoire nord")
    assert "C'est planifié : Rencontre territoriale n°1" in planned.body, planned.body

    first = await ask(alice, main, "!odj proposer Bilan de la fête du vélo")
    await ask(bob, main, "!agenda suggest Covoiturage vers Gap")
    third = await ask(carol, main, "!odj proposer Parler du loup")
    assert "Proposition n°1" in first.body and "Proposition n°3" in third.body

    # Carol supports Alice's suggestion with a 👍 on its confirmation (the bot's reply).
    await carol.client.room_send(main, "m.reaction", {"m.relates_to": {
        "rel_type": "m.annotation", "event_id": first.event_id, "key": "👍"}})

    async def supported() -> bool:
        listing = await ask(chargee, main, "!odj liste")
        return "n°1 Bilan de la fête du vélo — " in listing.body and "1 soutien\n" in listing.body + "\n"

    assert await eventually(supported), "the 👍 was not counted"

    accepted = await ask(chargee, main, "!odj accepter 1 --duree 20min --animation tour de table")
    assert "point n°1, en position 1 (20 min)" in accepted.body
    assert "point n°2" in (await ask(chargee, main, "!odj accepter 2")).body
    refused = await ask(chargee, main, "!odj refuser 3 hors du champ du club")
    assert "Raison : hors du champ du club" in refused.body
    assert carol.user_id in refused.source["content"]["m.mentions"]["user_ids"]
    told = await carol.wait_for(main, notice(lambda e: e.event_id == refused.event_id))
    assert "n'est pas retenue" in told.body

    published = await ask(chargee, main, "!odj publier")
    assert "(version 1, 2 points) dans : salon nord" in published.body
    agenda = await chargee.wait_for(north, notice(lambda e: "Ordre du jour — rencontre n°1"
                                                  in e.body))
    assert "| 1 | 18h30 | Bilan de la fête du vélo (n°1) | 20 min | tour de table |" in agenda.body
    assert "| 2 | 18h50 | Covoiturage vers Gap (n°2) | 15 min |" in agenda.body
    assert await eventually(lambda: _is_pinned(chargee, north, agenda.event_id))
    assert await pinned(chargee, main) == []

    moved = await ask(chargee, main, "!odj deplacer 2 1")
    assert "J'annonce la mise à jour dans 1 salon" in moved.body
    change = await chargee.wait_for(north, notice(lambda e: "Ordre du jour mis à jour" in e.body))
    assert "point n°2 « Covoiturage vers Gap » déplacé en position 1" in change.body
    assert "horaires : 18h30 « Covoiturage vers Gap », 18h45 « Bilan de la fête du vélo »" \
        in change.body
    assert "| # |" not in change.body  # only the change, not the whole agenda
    edit = await chargee.wait_for(north, lambda e: e.source.get("content", {}).get(
        "m.relates_to", {}).get("rel_type") == "m.replace")
    assert edit.source["content"]["m.relates_to"]["event_id"] == agenda.event_id
    assert "| 1 | 18h30 | Covoiturage vers Gap (n°2)" in edit.source["content"]["m.new_content"][
        "body"]
    assert await pinned(chargee, north) == [agenda.event_id]


async def _is_pinned(user: MatrixUser, room: str, event_id: str) -> bool:
    return await pinned(user, room) == [event_id]


async def test_without_the_moderators_level_the_agenda_is_published_and_the_room_told(
        bot_factory, users) -> None:
    """The bot without moderator rights in the rencontre's room: the agenda is posted there,
    the reply claims no pin, and the room is told, in French and once, why it is not pinned.
    With the rights, the next publication is pinned."""
    chargee = await users("chargee")
    runner = await bot_factory(start=False, club={"coordinators": [chargee.user_id],
                                                  "allowed_inviters": [chargee.user_id]})
    main = await chargee.create_room(name="CCT", invite=[runner.user_id])
    north = await chargee.create_room(name="CCT Nord", invite=[runner.user_id])  # level 0
    runner.overrides["rooms"] = {"main": main, "north": north}
    await runner.start()
    await chargee.wait_membership(north, runner.user_id, "join")

    day = datetime.now(UTC) + timedelta(days=10)
    await ask(chargee, main, f"!rencontre planifier {day.day:02d}/{day.month:02d}/{day.year} "
                             "18h30 --territoire nord")
    await ask(chargee, main, "!odj ajouter Accueil")
    published = await ask(chargee, main, "!odj publier")
    assert "épingl" not in published.body
    assert "dans : salon nord" in published.body
    agenda = await chargee.wait_for(north, notice(lambda e: "Ordre du jour — rencontre n°1"
                                                  in e.body))
    told = await chargee.wait_for(north, notice(lambda e: e.body.startswith("Impossible")),
                                  timeout=60)
    assert told.body == ("Impossible d'épingler l'ordre du jour : le bot doit être modérateur de "
                         "ce salon (niveau 50). Il est publié, pas épinglé.")
    assert await pinned(chargee, north) == []
    assert "pong" in (await ask(chargee, main, "!ping")).body  # the bot goes on answering

    levels = await chargee.client.room_get_state_event(north, "m.room.power_levels", "")
    assert isinstance(levels, RoomGetStateEventResponse), levels
    content = dict(levels.content)
    content["users"] = {**content.get("users", {}), runner.user_id: 50}
    await chargee.client.room_put_state(north, "m.room.power_levels", content)
    await ask(chargee, main, "!odj publier")
    again = await chargee.wait_for(north, notice(lambda e: "Ordre du jour — rencontre n°1"
                                                 in e.body and e.event_id != agenda.event_id))
    assert await eventually(lambda: _is_pinned(chargee, north, again.event_id))
    failures = [e for e in chargee.events[north]
                if isinstance(e, RoomMessageNotice) and e.body.startswith("Impossible")]
    assert len(failures) == 1
