"""Co-signing, adopting and commenting against a real Synapse: a remontée gets three supporters
(one by command, two by a 👍 on its confirmation), two members adopt the cadre de confiance
(one by command, one by a ✅ on the charter's message), and a reply in a poll's thread shows
with its results."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.future_dates import long_fr, numeric_fr, tuesday_ahead
from tests.integration.matrix_user import MatrixUser
from tests.integration.test_agenda import ask, eventually, notice

pytestmark = pytest.mark.integration


async def react(user: MatrixUser, room: str, event_id: str, key: str) -> None:
    response = await user.client.room_send(room, "m.reaction", {"m.relates_to": {
        "rel_type": "m.annotation", "event_id": event_id, "key": key}})
    assert getattr(response, "event_id", None), response


async def reply_in_thread(user: MatrixUser, room: str, root: str, body: str) -> None:
    """A plain message in the thread of ``root``, as Element sends it (no command)."""
    response = await user.client.room_send(room, "m.room.message", {
        "msgtype": "m.text", "body": body,
        "m.relates_to": {"rel_type": "m.thread", "event_id": root, "is_falling_back": True,
                         "m.in_reply_to": {"event_id": root}}})
    assert getattr(response, "event_id", None), response


async def test_support_adoption_and_comments_on_a_real_homeserver(bot_factory, users) -> None:
    chargee = await users("chargee")
    alice, bob, carol, dan = (await users("alice"), await users("bob"), await users("carol"),
                              await users("dan"))
    runner = await bot_factory(start=False, club={"coordinators": [chargee.user_id],
                                                  "allowed_inviters": [chargee.user_id]})
    people = [alice, bob, carol, dan]
    main = await chargee.create_room(name="CCT", invite=[runner.user_id,
                                                         *[p.user_id for p in people]])
    for person in people:
        await person.join(main)
    runner.overrides["rooms"] = {"main": main}
    await runner.start()
    await chargee.wait_membership(main, runner.user_id, "join")

    # --- a remontée gets three supporters -------------------------------------------------------
    raised = await ask(alice, main, "!remontee Un abri vélo sécurisé à la gare")
    assert "Remontée n°1 enregistrée" in raised.body, raised.body
    supported = await ask(bob, main, "!remontee soutenir 1")
    assert supported.body == "Vous soutenez la remontée n°1 (1 soutien).", supported.body
    await react(carol, main, raised.event_id, "👍")
    await react(dan, main, raised.event_id, "👍🏽")
    await react(alice, main, raised.event_id, "👍")  # the author's own: not counted

    async def three_supporters() -> bool:
        listing = await ask(chargee, main, "!remontee liste")
        return "n°1 Un abri vélo sécurisé à la gare — 3 soutiens" in listing.body

    assert await eventually(three_supporters), "the 👍s were not counted"

    # --- two members adopt the charter ----------------------------------------------------------
    adopted = await ask(bob, main, "!cadre adherer")
    assert adopted.body == ("Merci ! Votre adhésion au cadre de confiance (version 1) est "
                            "enregistrée."), adopted.body
    shown = await ask(carol, main, "!cadre")
    assert "On s'écoute" in shown.body and "un ✅ sur ce message" in shown.body
    await react(carol, main, shown.event_id, "✅")
    await react(dan, main, raised.event_id, "✅")  # not the charter's message: nothing

    async def two_adopted() -> Any:
        listing = await ask(chargee, main, "!cadre adhesions")
        return listing if "2 membres ont adhéré" in listing.body else None

    listing = await eventually(two_adopted)
    assert listing, "the ✅ was not counted"
    assert bob.user_id in listing.body and carol.user_id in listing.body
    assert dan.user_id not in listing.body

    # --- a reply in a poll's thread is a comment shown with the results -------------------------
    tuesday = tuesday_ahead()
    opened = await ask(chargee, main, f"!sondage dates Rencontre ? | {long_fr(tuesday)} 18h30 | "
                                      f"{numeric_fr(tuesday)} 20h")
    assert "Sondage n°1 ouvert avec 2 créneaux" in opened.body, opened.body
    root = await alice.wait_for(main, notice(lambda e: e.sender == runner.user_id
                                             and e.body.startswith("**Sondage n°1 — Rencontre ?")))
    await reply_in_thread(alice, main, root.event_id, "Le mardi me va, @room !")

    async def commented() -> Any:
        results = await ask(bob, main, "!sondage resultats 1")
        return results if "Commentaires (1)" in results.body else None

    results = await eventually(commented)
    assert results, "the thread reply was not taken as a comment"
    assert f"{alice.user_id} : Le mardi me va, @\u2060room !" in results.body
    assert results.source["content"]["m.mentions"] == {"user_ids": [bob.user_id]}
    edited = await bob.wait_for(main, lambda e: e.source.get("content", {}).get(
        "m.relates_to", {}).get("event_id") == root.event_id and "Commentaires (1)" in e.source[
        "content"].get("m.new_content", {}).get("body", ""))
    assert edited is not None
