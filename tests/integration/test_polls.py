"""Date polls against a real Synapse: native poll votes, `!vote`, a change of mind, votes cast
while the bot was down (recounted from /relations), the deadline closing the poll with end
events."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from nio import DownloadResponse, RoomMessageFile

from commands.polls import native
from tests.integration.club_rooms import club_room
from tests.integration.future_dates import long_fr, numeric_fr, tuesday_ahead
from tests.integration.matrix_user import MatrixUser
from tests.integration.test_projects import ask

pytestmark = pytest.mark.integration

# A Tuesday, Thursday and Saturday of the same week, weeks ahead.
TUE = tuesday_ahead()
THU, SAT = TUE + timedelta(days=2), TUE + timedelta(days=4)


class OffsetClock:
    """The real time, moved forward when a test says so (a deadline passes without waiting)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def poll_starts(user: MatrixUser, room: str, bot_id: str) -> list[Any]:
    return [e for e in user.events.get(room, [])
            if getattr(e, "type", None) == native.START and e.sender == bot_id]


async def respond(user: MatrixUser, room: str, start: Any, answer: str) -> None:
    content = {"org.matrix.msc3381.poll.response": {"answers": [answer]},
               "m.relates_to": {"rel_type": "m.reference", "event_id": start.event_id}}
    response = await user.client.room_send(room, "org.matrix.msc3381.poll.response", content)
    assert getattr(response, "event_id", None), response


async def results_when(user: MatrixUser, room: str, check: str, timeout: float = 60) -> str:
    """Asks for the results until they contain ``check`` (native votes arrive by sync)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        body = (await ask(user, room, "!sondage resultats")).body
        if check in body or asyncio.get_running_loop().time() > deadline:
            return str(body)
        await asyncio.sleep(0.5)


async def test_poll_on_a_real_homeserver(bot_factory, users) -> None:
    chargee = await users("chargee")
    alice, bob, carol = await users("alice"), await users("bob"), await users("carol")
    clock = OffsetClock()
    runner, room = await club_room(bot_factory, chargee, [alice, bob, carol], clock,
                                   name="CCT sud", matrix={"catch_up_minutes": 1})

    opened = await ask(chargee, room, f"!sondage dates Rencontre sud ? | {long_fr(TUE)} "
                                      f"18h30 | {numeric_fr(THU)} 18h-20h | {long_fr(SAT)} matin "
                                      "--cloture dans 3 jours --territoire sud")
    assert "Sondage n°1 ouvert avec 3 créneaux" in opened.body
    await alice.wait_for(room, lambda e: len(poll_starts(alice, room, runner.user_id)) >= 3
                         if getattr(e, "type", None) == native.START else False)
    starts = poll_starts(alice, room, runner.user_id)
    assert [s.source["content"][native.START]["question"][native.TEXT] for s in starts] == [
        f"1. {long_fr(TUE)}, 18h30–20h30", f"2. {long_fr(THU)}, 18h–20h",
        f"3. {long_fr(SAT)}, 9h–12h"]
    root = starts[0].source["content"]["m.relates_to"]["event_id"]
    # In the thread of the poll's message, each falling back on the thread's latest event.
    assert [s.source["content"]["m.relates_to"] for s in starts] == [
        {"rel_type": "m.thread", "event_id": root, "is_falling_back": True,
         "m.in_reply_to": {"event_id": latest}}
        for latest in (root, starts[0].event_id, starts[1].event_id)]

    # Alice votes in Element (native polls), Bob with !vote, Carol changes her mind.
    for start, answer in zip(starts, ("yes", "no", "maybe"), strict=True):
        await respond(alice, room, start, answer)
    assert "1 non, 2 oui, 3 oui" in (await ask(bob, room, "!vote 1- 2+ 3+")).body
    await respond(carol, room, starts[0], "no")
    assert "1 oui" in (await ask(carol, room, "!vote 1 oui")).body
    body = await results_when(chargee, room, "3 personnes ont voté")
    assert f"| 1 | **{long_fr(TUE)}, 18h30–20h30** 🏆 | 2 | 0 | 1 | 4 |" in body
    assert f"| 2 | {long_fr(THU)}, 18h–20h | 1 | 0 | 1 | 2 |" in body
    assert f"| 3 | {long_fr(SAT)}, 9h–12h | 1 | 1 | 0 | 3 |" in body

    # The poll's own message is edited with the results.
    edits = [e for e in chargee.events[room] if e.source["content"].get("m.relates_to", {})
             .get("rel_type") == "m.replace" and e.sender == runner.user_id]
    assert edits and edits[-1].source["content"]["m.relates_to"]["event_id"] == root

    # Votes cast while the bot is down, older than its catch-up window: recounted at start.
    await runner.stop()
    await respond(bob, room, starts[2], "no")
    await respond(carol, room, starts[1], "yes")
    clock.offset = timedelta(minutes=3)  # the catch-up sync at start sees them as too old
    await runner.start()
    clock.offset = timedelta(0)
    body = await results_when(chargee, room, f"| 2 | {long_fr(THU)}, 18h–20h | 2 | 0 | 1 |")
    assert f"| 2 | {long_fr(THU)}, 18h–20h | 2 | 0 | 1 | 4 |" in body
    assert f"| 3 | {long_fr(SAT)}, 9h–12h | 0 | 1 | 1 | 1 |" in body

    # The deadline passes: the poll closes by itself with MSC3381 end events.
    clock.offset = timedelta(days=3, minutes=5)
    assert runner.bot is not None
    await runner.bot.scheduler.fire("poll-close", 1)
    clock.offset = timedelta(0)
    closed = await chargee.wait_for(room, lambda e: "est clos" in (getattr(e, "body", "") or ""),
                                    timeout=60)
    assert "sondage choisir 1 1" in closed.body
    ends = await chargee.wait_for(room, lambda e: len(_ends(chargee, room)) >= 3, timeout=60)
    assert ends
    assert {e.source["content"]["m.relates_to"]["event_id"] for e in _ends(chargee, room)} == {
        s.event_id for s in starts}
    assert "on ne peut plus voter" in (await ask(bob, room, "!vote 1+")).body

    # The chosen slot becomes the rencontre, announced with a calendar file.
    chosen = await ask(chargee, room, "!sondage choisir 1 1 --lieu Salle des fêtes, Guillestre")
    assert "La rencontre n°1 est créée à partir du sondage n°1" in chosen.body
    file = await chargee.wait_for(room, lambda e: isinstance(e, RoomMessageFile), timeout=60)
    assert file.body == "rencontre-1.ics"
    downloaded = await chargee.client.download(file.url)
    assert isinstance(downloaded, DownloadResponse), downloaded
    calendar = icalendar.Calendar.from_ical(downloaded.body)
    event = next(c for c in calendar.walk() if c.name == "VEVENT")
    paris = ZoneInfo("Europe/Paris")
    assert event.decoded("dtstart") == datetime.combine(TUE, time(18, 30), tzinfo=paris)
    assert event.decoded("dtend") == datetime.combine(TUE, time(20, 30), tzinfo=paris)
    assert "Guillestre" in str(event["location"])


def _ends(user: MatrixUser, room: str) -> list[Any]:
    return [e for e in user.events.get(room, []) if getattr(e, "type", None) == native.END]


async def test_rencontre_answers_by_reaction_on_a_real_homeserver(bot_factory, users) -> None:
    chargee, alice = await users("chargee"), await users("alice")
    _, room = await club_room(bot_factory, chargee, [alice])
    planned = await ask(chargee, room, f"!rencontre planifier {long_fr(THU)} 18h30 "
                                       "--lieu https://visio.example.org/cct --territoire commun")
    assert long_fr(THU) in planned.body
    command = await alice.send_text(room, "!rencontre present")
    reaction = await alice.wait_for(
        room, lambda e: e.source.get("type") == "m.reaction"
        and e.source["content"]["m.relates_to"]["event_id"] == command, timeout=60)
    assert reaction.source["content"]["m.relates_to"]["key"] == "✅"
    assert alice.replies_to(room, command) == []  # answered by the reaction only
    info = await ask(alice, room, "!rencontre info")
    assert alice.user_id in info.body
