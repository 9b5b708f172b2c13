"""Minutes and actions against a real Synapse: the minutes posted in the event's room, an
action recorded for a member, listed by ``!actions``, reminded in a direct message before its
date, and followed up at the top of the next event's draft agenda."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.integration.club_rooms import club_room
from tests.integration.future_dates import long_fr, tuesday_ahead
from tests.integration.test_polls import OffsetClock
from tests.integration.test_privacy import invited_room
from tests.integration.test_projects import ask

pytestmark = pytest.mark.integration

PARIS = ZoneInfo("Europe/Paris")
DAY = tuesday_ahead(weeks=1)  # the rencontre: 7 to 13 days ahead
DUE = DAY + timedelta(days=6)  # the action's date: the reminder comes two days before, at 9h
NEXT = DAY + timedelta(days=14)  # the next rencontre


def body(event: object) -> str:
    return str(getattr(event, "body", "") or "").replace("**", "")


def offset_to(moment: datetime) -> timedelta:
    """The clock's offset that makes it ``moment`` now."""
    return moment - datetime.now(UTC)


async def test_minutes_and_an_action_from_recording_to_the_next_agenda(bot_factory,
                                                                       users) -> None:
    chargee, alice, bob = await users("chargee"), await users("alice"), await users("bob")
    clock = OffsetClock()
    runner, room = await club_room(bot_factory, chargee, [alice, bob], clock,
                                   matrix={"encryption": False, "catch_up_minutes": 43200})

    planned = await ask(chargee, room, f"!rencontre planifier {long_fr(DAY)} 18h30")
    assert "n°1" in planned.body, planned.body
    clock.offset = offset_to(datetime.combine(DAY + timedelta(days=1), time(10), PARIS))

    reply = await ask(chargee, room, "!rencontre compte-rendu 1 https://pad.example.org/cr-1")
    assert "Publié dans 1 salon de la rencontre" in reply.body, reply.body
    posted = await alice.wait_for(room, lambda e: body(e).startswith("📝 Compte-rendu"),
                                  timeout=60)
    assert posted.sender == runner.user_id and "https://pad.example.org/cr-1" in posted.body

    recorded = await ask(chargee, room, f"!rencontre action 1 {bob.user_id} Envoyer le devis "
                                        f"à la mairie --pour {long_fr(DUE)}")
    assert "Action n°1 notée" in recorded.body, recorded.body
    assert bob.user_id in recorded.source["content"]["m.mentions"]["user_ids"]
    listing = await ask(alice, room, "!actions")
    assert "n°1 Envoyer le devis à la mairie" in body(listing), listing.body

    clock.offset = offset_to(datetime.combine(DUE - timedelta(days=2), time(9, 1), PARIS))
    assert runner.bot is not None
    await runner.bot.scheduler.fire("reminders", 0)
    direct = await invited_room(bob, {room})
    await bob.join(direct)
    reminded = await bob.wait_for(direct, lambda e: "⏰ Rappel : action n°1" in body(e),
                                  timeout=60)
    assert f"pour le {long_fr(DUE)}" in body(reminded)

    planned = await ask(chargee, room, f"!rencontre planifier {long_fr(NEXT)} 18h30")
    assert "n°2" in planned.body, planned.body
    await ask(chargee, room, "!odj brouillon --rencontre 2")
    draft = await alice.wait_for(room, lambda e: body(e).startswith("Projet d'ordre du jour")
                                 and "n°2" in body(e), timeout=60)
    follow_up = body(draft).split("\n\n")[1]
    assert follow_up.startswith("Suivi des actions (1)\n- n°1 Envoyer le devis à la mairie")

    done = await ask(bob, room, "!action fait 1")
    assert "Action n°1 faite" in done.body, done.body
    assert "Aucune action en cours" in (await ask(alice, room, "!actions")).body
