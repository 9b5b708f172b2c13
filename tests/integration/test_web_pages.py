"""The real bot (a real Synapse) with its web server, its pages read in headless Chromium at a
phone's width, JavaScript off: what residents plan and write in the rooms appears on the pages
(a webinaire with its link and places left, a group with its need and how to join, an
initiative found without accents), nobody's Matrix id nor contact does; a cancelled webinaire
says so and leaves the programme."""

from __future__ import annotations

from typing import Any

import pytest

from devtools.browser import PHONE, axe_violations, chromium, missing, opened
from tests.conftest import unavailable
from tests.integration.future_dates import long_fr, tuesday_ahead
from tests.integration.test_projects import ask
from tests.integration.test_web import VISIO, club_with_site

pytestmark = pytest.mark.integration
CONTACT = "06 11 22 33 44"


async def text_of(page: Any, url: str) -> str:
    response = await page.goto(url)
    assert response.status == 200, url
    return str(await page.locator("main").inner_text())


async def test_residents_browse_what_the_club_does_on_a_phone(bot_factory, users) -> None:
    why = missing()
    if why is not None:
        unavailable(why)
    club = await club_with_site(bot_factory, users)
    site, chargee, alice, main, south = club.site, club.chargee, club.alice, club.main, club.south

    planned = await ask(
        chargee,
        south,
        f"!rencontre planifier {long_fr(tuesday_ahead())} 18h30 "
        "--type webinaire --titre Le vélo au quotidien "
        f"--territoire sud --lien {VISIO} --places 20",
    )
    assert "Webinaire n°1" in planned.body, planned.body
    assert "inscrit" in (await ask(alice, main, "!rencontre inscrire 1")).body
    created = await ask(
        alice,
        main,
        "!projet creer Atelier vélo --theme mobilité --territoire sud --description Réparer les vélos",
    )
    assert "créé" in created.body, created.body
    need = await ask(alice, main, "!projet besoin 1 un local pour l'atelier")
    assert "ajouté" in need.body, need.body
    added = await ask(
        alice,
        main,
        f"!initiative ajouter Épicerie solidaire --theme agriculture --commune Ribérac --contact {CONTACT}",
    )
    assert "Épicerie solidaire" in added.body, added.body

    async with chromium() as browser, opened(browser, PHONE) as page:
        home = await text_of(page, site + "/")
        assert "Le vélo au quotidien" in home and "Atelier vélo" in home
        await page.get_by_role("link", name="Le vélo au quotidien").click()
        await page.wait_for_url(site + "/programme/1")
        event = str(await page.locator("main").inner_text())
        assert "19 places libres sur 20" in event and "En ligne" in event
        assert await page.get_by_role("link", name=VISIO).get_attribute("href") == VISIO
        groups = await text_of(page, site + "/groupes")
        assert "un local pour l'atelier" in groups  # where residents can help
        await page.get_by_role("link", name="Atelier vélo").click()
        group = str(await page.locator("main").inner_text())
        assert "!projet rejoindre" in group and "Réparer les vélos" in group
        found = await text_of(page, site + "/initiatives?q=epicerie+riberac")
        assert "Épicerie solidaire" in found and CONTACT not in found
        for path in ("/", "/programme", "/programme/1", "/groupes", "/initiatives"):
            html = await (await page.goto(site + path)).text()
            for person in (alice, chargee):
                assert person.user_id not in html and person.user_id.split(":")[0] not in html

        cancelled = await ask(chargee, south, "!rencontre annuler 1 intervenant malade")
        assert "annulé" in cancelled.body, cancelled.body
        assert "Annulé : cet événement n'aura pas lieu." in await text_of(page, site + "/programme/1")
        programme = await text_of(page, site + "/programme?territoire=sud")
        assert "Le vélo au quotidien" not in programme and "0 événement à venir" in programme

        async with opened(browser, PHONE, javascript=True, bypass_csp=True) as scan:
            await scan.goto(site + "/groupes/1")
            assert await axe_violations(scan) == []
