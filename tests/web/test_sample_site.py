"""The sample club's site (``devtools.sample_site.served_site``), as the browser tests and
``scripts/screenshots.py`` both serve it: seeded, on a free loopback port, links made from the
club's public address."""

from __future__ import annotations

import aiohttp

from bot.clock import FakeClock
from devtools.sample_site import CLUB, CONTACT, served_site
from storage.db import Database


async def test_the_sample_club_is_served_on_a_loopback_port(db: Database, clock: FakeClock) -> None:
    async with served_site(db, clock.now) as (url, ids), aiohttp.ClientSession() as session:
        assert url.startswith("http://127.0.0.1:")
        async with session.get(f"{url}/groupes/velo") as response:
            assert response.status == 200
            html = await response.text()
        async with session.get(f"{url}/api/evenements/{ids['webinaire']}") as response:
            event = await response.json()
    assert "<title>Vélo partagé — Club Climat et Transition</title>" in html
    assert CLUB.entrance in html  # where to say « !projet rejoindre velo »
    assert f'href="webcal://agenda.example.org/calendrier/groupe/{ids["velo"]}.ics"' in html
    assert "secret" not in html and CONTACT not in html
    assert event["title"] == "Rénover sa maison"
