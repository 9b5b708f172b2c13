"""Faults on the real Synapse: a person on a server that accepts connections and never answers,
and an invitation that fails every time. Meanwhile the other rooms are answered (while the
fault lasts, within a generous bound: no timing is asserted), the group's room gets its reply
once the failing invitation is set aside, and nothing is lost or said twice."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from nio import RoomMessageNotice

from tests.integration.conftest import BotRunner
from tests.integration.matrix_user import MatrixUser, reply_target
from tests.silent_server import silent_server as never_answering

pytestmark = pytest.mark.integration


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """A "homeserver" on loopback that accepts connections and never answers: its name."""
    async with never_answering() as name:
        yield name


@pytest.fixture
async def refused_server() -> AsyncIterator[str]:
    """The same listener named by its IP literal (``127.0.0.1:port``): Synapse refuses such a
    server name before connecting, so every request to it fails after Synapse's own retries
    (``M_UNKNOWN Can't connect to server``, a few seconds), instead of never answering."""
    async with never_answering() as name:
        yield name.replace("localhost:", "127.0.0.1:")


async def ask(user: MatrixUser, room: str, text: str, timeout: float = 60) -> Any:
    event_id = await user.send_text(room, text)
    return await user.wait_for_reply(room, event_id, timeout=timeout)


async def _pings_answered_once(user: MatrixUser, room: str, count: int) -> list[str]:
    """``count`` !ping in ``room``, each answered (while the fault lasts)."""
    sent = []
    for _ in range(count):
        sent.append(await user.send_text(room, "!ping"))
        await user.wait_for_reply(room, sent[-1], timeout=90)
    return sent


class Club:
    """A main room with Chargée (coordinator) and Alice, the bot, and Alice's group."""

    def __init__(self, runner: BotRunner, chargee: MatrixUser, alice: MatrixUser,
                 main: str) -> None:
        self.runner, self.chargee, self.alice, self.main = runner, chargee, alice, main

    @classmethod
    async def start(cls, bot_factory: Any, users: Any) -> Club:
        chargee, alice = await users("chargee"), await users("alice")
        runner = await bot_factory(
            start=False, matrix={"request_timeout_seconds": 5, "encryption": False},
            club={"coordinators": [chargee.user_id], "allowed_inviters": [chargee.user_id]})
        main = await chargee.create_room(name="CCT", invite=[runner.user_id, alice.user_id])
        await alice.join(main)
        runner.overrides["rooms"] = {"main": main}
        await runner.start()
        await chargee.wait_membership(main, runner.user_id, "join")
        created = await ask(alice, main, "!projet creer Vélo-école")
        assert "créé" in created.body, created.body
        return cls(runner, chargee, alice, main)

    async def add_member(self, user_id: str) -> None:
        """Someone joined the group earlier (from a server that was answering then)."""
        assert self.runner.bot is not None
        async with self.runner.bot.db.transaction() as repos:
            await repos.groups.add_member(1, user_id, datetime.now(UTC),
                                          tz=ZoneInfo("Europe/Paris"))

    async def group_room(self) -> str:
        """``!projet salon``: the group's room is created, its members invited."""
        asked = await ask(self.alice, self.main, "!projet salon velo")
        assert asked.body.startswith("Je crée le salon"), asked.body
        made = await self.alice.wait_for(self.main, lambda e: isinstance(e, RoomMessageNotice)
                                         and e.body.startswith("Salon créé : "), timeout=90)
        match = re.search(r'href="https://matrix\.to/#/(![^"]+)"',
                          made.source["content"]["formatted_body"])
        assert match, made.source
        room = match.group(1)
        await self.alice.wait_membership(room, self.alice.user_id, "invite", timeout=90)
        await self.alice.join(room)
        return room

    async def invitation_of(self, user_id: str) -> tuple[bool, bool, bool]:
        """The invitation's row: (failing, set aside for good, sent)."""
        assert self.runner.bot is not None
        async with self.runner.bot.db.transaction() as repos:
            rows = [row for row in [*await repos.outbox.pending(), *await repos.outbox.failed()]
                    if row.action == "invite" and user_id in row.content]
        assert len(rows) == 1, rows
        return (rows[0].failing_since is not None, rows[0].failed_at is not None,
                rows[0].sent_at is not None)

    def notices(self, room: str, start: str) -> list[str]:
        return [e.body for e in self.alice.events.get(room, [])
                if isinstance(e, RoomMessageNotice) and e.body.startswith(start)]


async def test_a_member_on_a_server_that_never_answers_delays_nothing_else(
        bot_factory: Any, users: Any, refused_server: str) -> None:
    """The group's room invites a member whose server Synapse cannot reach (each try fails
    after Synapse's retries): the main room is answered all along, a reminder comes on time, a
    room alias on that server is answered at once (no request), and the group room's own
    reply, queued behind the invitation, goes once the invitation is set aside to be retried
    on its own. (A member on a server that truly never answers, ``silent_server``, is not
    covered here yet.)"""
    club = await Club.start(bot_factory, users)
    silent_server = refused_server
    ghost = f"@ghost:{silent_server}"
    await club.add_member(ghost)
    alias = await ask(club.alice, club.main, f"!projet salon velo #salon:{silent_server}")
    assert alias.body.startswith(f"Je ne suis pas dans le salon « #salon:{silent_server} »"), \
        alias.body
    room = await club.group_room()
    asked = await club.alice.send_text(club.main, "!rappel dans 1 minute arroser le compost")
    await club.alice.wait_for_reply(club.main, asked, timeout=90)
    pings = await _pings_answered_once(club.alice, club.main, 3)
    in_group = await club.alice.send_text(room, "!ping")
    more = await _pings_answered_once(club.chargee, club.main, 2)
    await club.alice.wait_for_reply(room, in_group, timeout=300)

    def is_reminder(event: Any) -> bool:
        return (isinstance(event, RoomMessageNotice) and "arroser le compost" in event.body
                and reply_target(event) != asked)
    await club.alice.wait_for(club.main, is_reminder, timeout=300)  # the fault goes on
    assert await club.invitation_of(ghost) == (True, False, False)  # retried on its own
    sentinel = await club.alice.send_text(club.main, "!ping")
    await club.alice.wait_for_reply(club.main, sentinel, timeout=90)
    for event_id in [*pings, sentinel]:
        assert len(club.alice.replies_to(club.main, event_id)) == 1
    for event_id in more:
        assert len(club.chargee.replies_to(club.main, event_id)) == 1
    assert len(club.alice.replies_to(room, in_group)) == 1
    assert len(club.notices(club.main, "Salon créé")) == 1
    assert len([e for e in club.alice.events.get(club.main, []) if is_reminder(e)]) == 1


async def test_an_invitation_that_fails_every_time_is_set_aside_and_reported_once(
        bot_factory: Any, users: Any, caplog: pytest.LogCaptureFixture) -> None:
    """A member on a server that refuses connections: the invitation fails at every try. It is
    retried with growing waits (not thousands of times), the main room is answered meanwhile,
    and once the retries' limit is past (shortened here) it is set aside and reported once to
    the coordinators in the main room."""
    caplog.set_level(logging.WARNING, logger="bot.outbox")
    club = await Club.start(bot_factory, users)
    dead = "@ghost:127.0.0.1:1"
    await club.add_member(dead)
    assert club.runner.bot is not None
    club.runner.bot.outbox.failures.retry_for = timedelta(seconds=60)  # instead of 24 h
    room = await club.group_room()
    pings = await _pings_answered_once(club.alice, club.main, 3)
    in_group = await club.alice.send_text(room, "!ping")
    await club.alice.wait_for_reply(room, in_group, timeout=300)
    report = await club.chargee.wait_for(
        club.main, lambda e: isinstance(e, RoomMessageNotice) and "j'ai abandonné" in e.body,
        timeout=300)
    assert f"l'invitation de {dead} dans le salon" in report.body, report.body
    assert (await club.invitation_of(dead))[1]  # set aside for good
    assert report.source["content"]["m.mentions"] == {"user_ids": [club.chargee.user_id]}
    sentinel = await club.alice.send_text(club.main, "!ping")
    await club.alice.wait_for_reply(club.main, sentinel, timeout=90)
    await asyncio.sleep(5)  # a second report would have come by now
    assert len(club.notices(club.main, "⚠️")) == 1
    for event_id in [*pings, sentinel]:
        assert len(club.alice.replies_to(club.main, event_id)) == 1
    assert len(club.alice.replies_to(room, in_group)) == 1
    tries = [r for r in caplog.records if "invite" in r.getMessage()
             and "failed" in r.getMessage() and r.name == "bot.outbox"]
    assert 1 <= len(tries) < 30, len(tries)



def _warned(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return any(text in record.getMessage() for record in caplog.records)


async def test_a_configured_room_on_a_server_that_never_answers_does_not_hold_the_start(
        bot_factory: Any, users: Any, silent_server: str,
        caplog: pytest.LogCaptureFixture) -> None:
    """The north room is configured by an alias on a server that never answers (the bot's
    request deadline is 120 s; Synapse gives up on such an alias after 10 s): the bot starts
    and answers in the main room while that alias is still being resolved. A room not known to
    be the club's may be the north room until its alias is given up: a command there waits
    until then, and is answered once."""
    caplog.set_level(logging.WARNING, logger="bot.app")
    chargee = await users("chargee")
    runner = await bot_factory(
        start=False, matrix={"request_timeout_seconds": 120, "encryption": False},
        club={"coordinators": [chargee.user_id], "allowed_inviters": [chargee.user_id]})
    main = await chargee.create_room(name="CCT", invite=[runner.user_id])
    other = await chargee.create_room(name="Autre", invite=[runner.user_id])
    runner.overrides["rooms"] = {"main": main, "north": f"#nord:{silent_server}"}
    await runner.start()
    await chargee.wait_membership(main, runner.user_id, "join", timeout=90)
    pong = await ask(chargee, main, "!ping", timeout=90)
    assert "pong" in pong.body
    assert not _warned(caplog, "cannot find the north room")  # still being resolved
    await chargee.wait_membership(other, runner.user_id, "join", timeout=90)
    asked = await chargee.send_text(other, "!ping")
    await chargee.wait_for_reply(other, asked, timeout=120)
    assert _warned(caplog, "cannot find the north room")  # given up before the command ran
    await ask(chargee, main, "!ping", timeout=60)  # anything more would have come by now
    assert len(chargee.replies_to(other, asked)) == 1
