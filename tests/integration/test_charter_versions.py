"""A new version of the cadre de confiance adopted through a proposal, against a real Synapse:
a coordinator proposes version 2 (its text on the lines after the command, as Element sends a
multi-line message), members take a position by Element poll and by text, the proposal closes
at its deadline, the outcome « adoptée » is written, ``!cadre`` shows version 2, the member who
had adopted version 1 is asked in the main room, and a ✅ on that message adopts version 2."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from commands.polls import native
from tests.integration.club_rooms import club_room
from tests.integration.test_agenda import ask, eventually
from tests.integration.test_decisions import _body, _until
from tests.integration.test_polls import OffsetClock, respond
from tests.integration.test_support import react

pytestmark = pytest.mark.integration

NEW_TEXT = ("1. **On s'écoute** jusqu'au bout.\n2. On agit ensemble.\n"
            "3. On se dit les choses en face. <b>Sans</b> [lien](https://evil.example).")


async def test_a_new_charter_adopted_through_a_proposal_on_a_real_homeserver(
        bot_factory, users) -> None:
    chargee, bob, carol, dan = (await users("chargee"), await users("bob"), await users("carol"),
                                await users("dan"))
    clock = OffsetClock()
    runner, main = await club_room(bot_factory, chargee, [bob, carol, dan], clock,
                                   matrix={"encryption": False})
    runner_id = runner.user_id

    # Bob adopted version 1 (and accepts mentions).
    adopted = await ask(bob, main, "!cadre adherer")
    assert "(version 1)" in _body(adopted), adopted.body
    await ask(bob, main, "!mentions oui")

    # A member may not propose; the coordinator proposes version 2, the text on the next lines.
    refused = await ask(carol, main, f"!cadre proposer 2 --cloture dans 3 jours\n{NEW_TEXT}")
    assert "Réservé à la coordination" in _body(refused), refused.body
    opened = await ask(chargee, main, f"!cadre proposer 2 --cloture dans 3 jours\n{NEW_TEXT}")
    assert _body(opened).startswith("Proposition n°1 ouverte jusqu'au"), opened.body
    root = await bob.wait_for(main, lambda e: e.sender == runner_id
                              and _body(e).startswith("Proposition n°1 de "), timeout=60)
    html = root.source["content"]["formatted_body"]
    assert "<strong>On s'écoute</strong>" in html and "&lt;b&gt;Sans&lt;/b&gt;" in html
    assert "evil.example\"" not in html
    start = await bob.wait_for(main, lambda e: getattr(e, "type", None) == native.START
                               and e.sender == runner_id, timeout=60)

    # Positions: Dan in Element, Carol by text; then the deadline closes it.
    await respond(dan, main, start, "agree")
    taken = await ask(carol, main, "!position 1 d'accord il nous ressemble")
    assert "D'accord — il nous ressemble" in _body(taken), taken.body
    await _until(chargee, main, "!proposition resultats 1", "D'accord : 2")
    assert "(version 1)" in _body(await ask(dan, main, "!cadre"))  # not before the outcome
    assert runner.bot is not None
    clock.offset = timedelta(days=3, minutes=5)
    await runner.bot.scheduler.fire("poll-close", 1)
    clock.offset = timedelta(0)
    await bob.wait_for(main, lambda e: "La proposition n°1 est close" in _body(e), timeout=60)

    # The outcome must say adopted or rejected; « adoptée » makes version 2 the club's charter.
    unclear = await ask(chargee, main, "!proposition issue 1 On verra")
    assert "commence par « adoptée » ou « rejetée »" in _body(unclear), unclear.body
    announced = await ask(chargee, main, "!proposition issue 1 adoptée à l'unanimité")
    assert "désormais la version « 2 »" in _body(announced), announced.body
    asked = await bob.wait_for(main, lambda e: e.sender == runner_id
                               and "a changé (version 2)" in _body(e), timeout=60)
    assert asked.source["content"]["m.mentions"]["user_ids"] == [bob.user_id]
    shown = await ask(dan, main, "!cadre")
    assert "On se dit les choses en face" in _body(shown) and "(version 2)" in _body(shown)

    # Bob's ✅ on the call adopts version 2.
    await react(bob, main, asked.event_id, "✅")

    async def bob_adopted_2() -> Any:
        listing = await ask(chargee, main, "!cadre adhesions")
        return listing if "1 membre a adhéré au cadre de confiance (version 2)" in _body(
            listing) else None

    listing = await eventually(bob_adopted_2)
    assert listing, "the ✅ on the call to adopt version 2 was not counted"
    assert bob.user_id in listing.body
    assert "Décisions (1)" in _body(await ask(carol, main, "!decisions"))
