"""A club's rooms as members set them up on a real Synapse: the club's room, made by its
coordinator with the members in it, where the bot is invited and starts; a group-project created
there, joined by members, and its room, which the bot creates and invites them to (joined)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from nio import RoomMessageNotice

from tests.integration.conftest import BotRunner
from tests.integration.matrix_user import MatrixUser
from tests.integration.test_projects import ask


async def club_room(bot_factory: Any, chargee: MatrixUser, members: Sequence[MatrixUser],
                    clock: Any = None, *, name: str = "CCT", encrypted: bool = False,
                    **overrides: Any) -> tuple[BotRunner, str]:
    """The club's room (``main``, named ``name``), made by ``chargee`` (its coordinator, who
    may invite the bot) and joined by ``members``; the bot started on ``clock`` (its own if ``None``) once it
    is invited there, and joined. Returns the bot and the room."""
    runner = await bot_factory(start=False, club={"coordinators": [chargee.user_id],
                                                  "allowed_inviters": [chargee.user_id]},
                               **overrides)
    runner.clock = clock
    room = await chargee.create_room(name=name, encrypted=encrypted,
                                     invite=[runner.user_id, *(m.user_id for m in members)])
    runner.overrides["rooms"] = {"main": room}
    for member in members:
        await member.join(room)
    await runner.start()
    await chargee.wait_membership(room, runner.user_id, "join")
    return runner, room


async def group_room(referent: MatrixUser, room: str, members: Sequence[MatrixUser]) -> str:
    """The ``referent``'s group « Atelier vélo », created in ``room`` and joined there by
    ``members``; its room, which the bot creates and invites them all to, joined by all."""
    assert "créé" in (await ask(referent, room, "!projet creer Atelier vélo")).body
    for person in members:
        assert "rejoint" in (await ask(person, room, "!projet rejoindre velo")).body
    await ask(referent, room, "!projet salon velo", timeout=60)
    made = await referent.wait_for(room, lambda e: isinstance(e, RoomMessageNotice)
                                   and e.body.startswith("Salon créé : "), timeout=60)
    match = re.search(r'href="https://matrix\.to/#/(![^"]+)"',
                      made.source["content"]["formatted_body"])
    assert match, made.source
    group = match.group(1)
    for person in (referent, *members):
        await person.wait_membership(group, person.user_id, "invite", timeout=60)
        await person.join(group)
    return group
