"""Collective decisions against a real Synapse: a group's referent opens a proposal in the
group's room; members take a position by Element poll and by text, with reasons; the one who
has not taken part is reminded once; the proposal closes at its deadline; its outcome is
written, announced and listed by ``!decisions``. Then a coordinator runs a multiple-choice
anonymous poll in the main room."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from commands.polls import native
from tests.integration import club_rooms
from tests.integration.matrix_user import MatrixUser
from tests.integration.test_polls import OffsetClock, poll_starts, respond
from tests.integration.test_projects import ask

pytestmark = pytest.mark.integration


def _body(event: Any) -> str:
    return str(getattr(event, "body", "") or "").replace("**", "")


async def _until(user: MatrixUser, room: str, line: str, check: str, timeout: float = 60) -> str:
    """Asks ``line`` until the reply contains ``check`` (native answers arrive by sync)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        body = _body(await ask(user, room, line))
        if check in body or asyncio.get_running_loop().time() > deadline:
            return body
        await asyncio.sleep(0.5)


async def test_a_proposal_and_an_anonymous_poll_on_a_real_homeserver(bot_factory,
                                                                      users) -> None:
    chargee, alice = await users("chargee"), await users("alice")
    bob, carol, dave = await users("bob"), await users("carol"), await users("dave")
    clock = OffsetClock()
    runner, room = await club_rooms.club_room(bot_factory, chargee, [alice, bob, carol, dave],
                                              clock, matrix={"encryption": False})
    group_room = await club_rooms.group_room(alice, room, [bob, carol, dave])
    runner_id = runner.user_id

    # The referent opens a proposal in the group's room.
    opened = await ask(alice, group_room, "!proposition Acheter une remorque pour l'atelier "
                                          "--cloture dans 3 jours")
    assert _body(opened).startswith("Proposition n°1 ouverte jusqu'au"), opened.body
    start = (await bob.wait_for(group_room, lambda e: getattr(e, "type", None) == native.START
                                and e.sender == runner_id, timeout=60))
    answers = start.source["content"][native.START]["answers"]
    assert [a["id"] for a in answers] == ["agree", "abstain", "disagree", "block"]

    # Bob answers in Element, Carol by text with a reason; Bob then gives his reason by text.
    await respond(bob, group_room, start, "agree")
    taken = await ask(carol, group_room, "!position 1 pas d'accord trop cher pour nous")
    assert "Pas d'accord — trop cher pour nous" in _body(taken)
    shown = await _until(chargee, room, "!proposition resultats 1", "D'accord : 1")
    assert "D'accord : 1 · Abstention : 0 · Pas d'accord : 1 · Bloquer : 0" in shown
    await ask(bob, group_room, "!position 1 d'accord on en a besoin")
    shown = _body(await ask(chargee, room, "!proposition resultats 1"))
    assert "on en a besoin" in shown and "trop cher pour nous" in shown

    # Dave has not taken part: reminded once, before the close (a mention: he agreed to it).
    assert "mentionné" in _body(await ask(dave, room, "!mentions oui"))
    assert runner.bot is not None
    clock.offset = timedelta(days=2, hours=23)
    await runner.bot.scheduler.fire("poll-remind", 1)
    reminder = await dave.wait_for(group_room, lambda e: "pas encore pris position" in _body(e),
                                   timeout=60)
    assert dave.user_id in reminder.source["content"]["m.mentions"]["user_ids"]
    assert bob.user_id not in reminder.source["content"]["m.mentions"]["user_ids"]
    await runner.bot.scheduler.fire("poll-remind", 1)  # once only

    # The deadline passes: closed by itself, its native poll ended.
    clock.offset = timedelta(days=3, minutes=5)
    await runner.bot.scheduler.fire("poll-close", 1)
    clock.offset = timedelta(0)
    closed = await alice.wait_for(group_room, lambda e: "La proposition n°1 est close" in
                                  _body(e), timeout=60)
    assert "proposition issue 1" in closed.body
    ended = await alice.wait_for(group_room, lambda e: getattr(e, "type", None) == native.END,
                                 timeout=60)
    assert ended.source["content"]["m.relates_to"]["event_id"] == start.event_id
    assert "est clos" in _body(await ask(dave, group_room, "!position 1 d'accord"))
    reminders = [e for e in dave.events[group_room] if "pas encore pris position" in _body(e)]
    assert len(reminders) == 1

    # The outcome: written by the proposer, announced, listed by !decisions.
    refused = await ask(carol, group_room, "!proposition issue 1 Rejetée")
    assert "Seul·e l'auteur·e" in _body(refused)
    announced = await ask(alice, group_room, "!proposition issue 1 Adoptée : achat en février")
    assert _body(announced).startswith("Issue de la proposition n°1"), announced.body
    listed = _body(await ask(bob, room, "!decisions"))
    assert "Décisions (1)" in listed and "Adoptée : achat en février" in listed

    # A coordinator runs a multiple-choice anonymous poll in the main room.
    opened = await ask(chargee, room, '!sondage question "Quel thème pour mars ?" choix '
                                      "Mobilité | Énergie | Alimentation --multiple --anonyme "
                                      "--cloture dans 2 jours")
    assert _body(opened).startswith("Sondage n°2 ouvert avec 3 choix"), opened.body
    await bob.wait_for(room, lambda e: len(poll_starts(bob, room, runner_id)) >= 3
                       if getattr(e, "type", None) == native.START else False, timeout=60)
    options = poll_starts(bob, room, runner_id)
    assert [o.source["content"][native.START]["question"][native.TEXT] for o in options] == [
        "1. Mobilité", "2. Énergie", "3. Alimentation"]
    await respond(bob, room, options[0], "yes")
    await respond(bob, room, options[2], "yes")
    assert "2 (Énergie), 3 (Alimentation)" in _body(await ask(carol, room, "!vote 2 2 3"))
    shown = await _until(chargee, room, "!sondage resultats 2", "2 personnes ont répondu")
    assert "1. Mobilité — 1" in shown and "2. Énergie — 1" in shown
    assert "3. Alimentation — 2" in shown
    assert bob.user_id not in shown and carol.user_id not in shown
    assert "bob" not in shown and "carol" not in shown

