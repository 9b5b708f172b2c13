"""The bot's web server on a real Synapse: the south room's ``!calendrier`` gives links that
work; a webinaire the coordinator plans there appears in the south's feed with its link, and
once cancelled stays in it, STATUS:CANCELLED, its SEQUENCE bumped."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from typing import Any

import aiohttp
import icalendar
import pytest
from ical.calendar_stream import IcsCalendarStream

from tests.integration.future_dates import long_fr, tuesday_ahead
from tests.integration.test_projects import ask

pytestmark = pytest.mark.integration
VISIO = "https://visio.example.org/velo-au-quotidien"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def fetch(url: str) -> bytes:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200, url
        assert response.content_type == "text/calendar"
        return await response.read()


def vevents(data: bytes) -> list[icalendar.Event]:
    IcsCalendarStream.calendar_from_ics(data.decode())  # a second parser reads it too
    return list(icalendar.Calendar.from_ical(data).walk("VEVENT"))


@dataclass
class ClubSite:
    """The bot with its web server at ``site``, a coordinator, a resident, two rooms."""

    site: str
    port: int
    chargee: Any
    alice: Any
    main: str
    south: str


async def club_with_site(bot_factory: Any, users: Any) -> ClubSite:
    """The bot started with its web server on a free port, its main and south rooms joined by
    the coordinator (``chargee``) and ``alice``."""
    chargee, alice = await users("chargee"), await users("alice")
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    runner = await bot_factory(start=False, club={"coordinators": [chargee.user_id],
                                                  "allowed_inviters": [chargee.user_id]},
                               matrix={"encryption": False},
                               web={"enabled": True, "port": port, "base_url": site})
    main = await chargee.create_room(name="CCT", invite=[runner.user_id, alice.user_id])
    south = await chargee.create_room(name="CCT sud", invite=[runner.user_id, alice.user_id])
    runner.overrides["rooms"] = {"main": main, "south": south}
    for room in (main, south):
        await alice.join(room)
    await runner.start()
    for room in (main, south):
        await chargee.wait_membership(room, runner.user_id, "join")
    return ClubSite(site, port, chargee, alice, main, south)


async def test_a_resident_subscribes_to_the_south_feed(bot_factory, users) -> None:
    club = await club_with_site(bot_factory, users)
    site, port, chargee, alice = club.site, club.port, club.chargee, club.alice
    main, south = club.main, club.south

    links = (await ask(alice, south, "!calendrier")).body
    feed = f"{site}/calendrier/territoire/sud.ics"
    assert f"webcal://127.0.0.1:{port}/calendrier/territoire/sud.ics" in links, links
    assert re.search(re.escape(feed) + r"\b", links), links
    assert vevents(await fetch(feed)) == []

    thursday = tuesday_ahead()
    planned = await ask(chargee, south, f"!rencontre planifier {long_fr(thursday)} 18h30 "
                                        "--type webinaire --titre Le vélo au quotidien "
                                        f"--territoire sud --lien {VISIO}")
    assert "Webinaire n°1" in planned.body, planned.body
    [event] = vevents(await fetch(feed))
    assert str(event["SUMMARY"]) == "Webinaire — Le vélo au quotidien"
    assert str(event["URL"]) == VISIO
    assert str(event["STATUS"]) == "CONFIRMED" and event["SEQUENCE"] == 0
    assert vevents(await fetch(f"{site}/calendrier/territoire/nord.ics")) == []

    cancelled = await ask(chargee, south, "!rencontre annuler 1 intervenant malade")
    assert "annulé" in cancelled.body, cancelled.body
    [event] = vevents(await fetch(feed))
    assert str(event["STATUS"]) == "CANCELLED" and event["SEQUENCE"] == 1
    assert str(event["UID"]) == "rencontre-1@cct-bot"
    whole = (await ask(alice, main, "!calendrier")).body
    assert f"{site}/calendrier.ics" in whole and "territoire/sud" not in whole


async def test_the_bot_answers_when_its_web_server_cannot_listen(bot_factory, users,
                                                                 caplog) -> None:
    chargee, alice = await users("chargee"), await users("alice")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        runner = await bot_factory(start=False, club={"coordinators": [chargee.user_id],
                                                      "allowed_inviters": [chargee.user_id]},
                                   matrix={"encryption": False},
                                   web={"enabled": True, "port": port,
                                        "base_url": "https://agenda.example.org"})
        main = await chargee.create_room(name="CCT", invite=[runner.user_id, alice.user_id])
        runner.overrides["rooms"] = {"main": main}
        await alice.join(main)
        await runner.start()
        await chargee.wait_membership(main, runner.user_id, "join")
        assert "pong" in (await ask(alice, main, "!ping")).body.lower()
    assert "web server not started" in caplog.text
    links = (await ask(alice, main, "!calendrier")).body  # the links, for when it is back
    assert "https://agenda.example.org/calendrier.ics" in links
