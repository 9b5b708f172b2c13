"""The public pages in headless Chromium, JavaScript off (the pages have none): a resident
navigates from the home page to an event and a group, filters the programme, searches the
panorama without accents, at a phone's width too; the skip link and the focus work from the
keyboard; nothing breaks the CSP; axe-core finds no serious or critical violation on any page,
at phone and desktop widths."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio

from devtools.browser import DESKTOP, PHONE, axe_violations, opened
from storage.db import Database
from tests.web.conftest import START, add_event

Site = tuple[str, dict[str, int]]


@pytest_asyncio.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    """A page without JavaScript, at a phone's width; the CSP violations it reports kept."""
    async with opened(browser, PHONE) as shown:
        shown.csp = []
        shown.on(
            "console",
            lambda message: (
                shown.csp.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        yield shown
        assert shown.csp == []


async def headings(page: Any) -> list[str]:
    return [text.strip() for text in await page.locator("main .cards :is(h2, h3, h4)").all_inner_texts()]


async def test_a_resident_browses_the_pages_without_javascript(page: Any, site: Site) -> None:
    url, ids = site
    await page.goto(url + "/")
    assert await page.title() == "Accueil — Club Climat et Transition"
    assert (await headings(page))[:2] == ["Rénover sa maison", "Réparer son vélo"]
    await page.get_by_role("navigation").get_by_role("link", name="Programme").click()
    await page.wait_for_url(url + "/programme")
    assert await page.get_by_role("heading", level=1).inner_text() == "Programme"
    await page.get_by_role("link", name="Réparer son vélo").click()
    await page.wait_for_url(f"{url}/programme/{ids['atelier']}")
    assert "11 places libres sur 12" in await page.locator("main").inner_text()
    await page.get_by_role("link", name="Vélo partagé").click()
    await page.wait_for_url(url + "/groupes/velo")
    main = await page.locator("main").inner_text()
    assert "un local fermé pour ranger six vélos" in main  # where to help
    assert "!projet rejoindre velo" in main  # how to join
    assert (
        await page.get_by_role("link", name="s'abonner dans l'agenda").get_attribute("href")
        == f"webcal://agenda.example.org/calendrier/groupe/{ids['velo']}.ics"
    )
    await page.get_by_role("link", name="Groupes-projets", exact=True).first.click()
    await page.wait_for_url(url + "/groupes")
    await page.get_by_label("Seulement ceux qui cherchent de l'aide").check()
    await page.get_by_role("button", name="Filtrer").click()
    await page.wait_for_url("**/groupes?theme=&territoire=&besoin=1")
    assert await headings(page) == ["Jardins de Ribérac", "Vélo partagé"]  # where to help
    assert (
        await page.get_by_role("link", name="Groupes-projets", exact=True).first.get_attribute("aria-current")
        == "page"
    )


async def test_filtering_the_programme(page: Any, site: Site) -> None:
    url, _ = site
    await page.goto(url + "/programme")
    assert len(await headings(page)) == 4
    await page.get_by_label("Territoire").select_option(label="nord")
    await page.get_by_role("button", name="Filtrer").click()
    await page.wait_for_url(url + "/programme?type=&territoire=nord&groupe=&theme=")
    assert await headings(page) == ["Rénover sa maison", "Rencontre du nord", "Plan du jardin"]
    await page.get_by_label("Thème").select_option(label="agriculture et alimentation")
    await page.get_by_role("button", name="Filtrer").click()
    await page.wait_for_url("**theme=agriculture")
    assert await headings(page) == ["Plan du jardin"]
    assert await page.get_by_label("Territoire").input_value() == "nord"  # the form remembers
    await page.get_by_role("link", name="Tout afficher").click()
    await page.wait_for_url(url + "/programme")
    assert len(await headings(page)) == 4


async def test_searching_the_panorama_without_accents(page: Any, site: Site) -> None:
    url, ids = site
    await page.goto(url + "/initiatives")
    search = page.get_by_label("Mots cherchés")
    await search.fill("epicerie riberacois")
    await search.press("Enter")
    await page.wait_for_url("**/initiatives?q=epicerie+riberacois**")
    assert await headings(page) == ["Épicerie solidaire du Ribéracois"]
    await search.fill("")
    await page.get_by_label("Commune").select_option(label="Périgueux")
    await page.get_by_role("button", name="Chercher").click()
    await page.wait_for_url("**commune=P%C3%A9rigueux**")
    assert await headings(page) == ["Jardin partagé des Mounards", "Repair café"]
    await page.get_by_role("link", name="Repair café").click()
    await page.wait_for_url(f"{url}/initiatives/{ids['repair']}")
    assert await page.get_by_role("heading", level=1).inner_text() == "Repair café"


async def test_the_keyboard_reaches_the_content_first(page: Any, site: Site) -> None:
    url, _ = site
    await page.goto(url + "/programme")
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    assert await skip.evaluate("link => link === document.activeElement")
    assert (await skip.bounding_box())["y"] >= 0  # shown once focused
    await page.keyboard.press("Enter")
    await page.wait_for_url(url + "/programme#contenu")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "f-type"  # the first filter
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # the focus is seen


PAGES = [
    "/",
    "/programme",
    "/programme?territoire=sud",
    "/programme/{webinaire}",
    "/programme/{annulee}",
    "/groupes",
    "/groupes?besoin=1",
    "/groupes/velo",
    "/initiatives",
    "/initiatives?q=jardin",
    "/initiatives/{epicerie}",
    "/absente",
]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
async def test_no_serious_accessibility_violation(browser: Any, site: Site, viewport: dict[str, int]) -> None:
    url, ids = site
    found = {}
    async with opened(browser, viewport, javascript=True, bypass_csp=True) as page:
        for path in PAGES:
            await page.goto(url + path.format(**ids))
            found[path] = await axe_violations(page)
            wide = await page.evaluate("document.documentElement.scrollWidth")
            assert wide <= viewport["width"], path  # nothing wider than the screen
    assert found == {path: [] for path in PAGES}


async def test_a_page_is_opened_in_french_without_javascript(browser: Any, site: Site) -> None:
    url, _ = site
    async with opened(browser, PHONE) as page:
        await page.goto(url + "/")
        assert await page.evaluate("[navigator.language, innerWidth]") == ["fr-FR", PHONE["width"]]
        await page.set_content("<title>sans</title><script>document.title = 'avec'</script>")
        assert await page.title() == "sans"  # no script runs


async def test_a_long_programme_page_by_page(browser: Any, site: Site, db: Database) -> None:
    url, _ = site
    for n in range(30):
        await add_event(db, START + timedelta(days=20 + 3 * n, hours=8), kind="webinaire",
                        title=f"Atelier {n:02d}")
    async with opened(browser, PHONE, javascript=True, bypass_csp=True) as page:
        await page.goto(url + "/programme?territoire=sud")
        months = page.locator("main h3.month")
        assert await months.all_inner_texts() == ["Janvier 2099", "Février 2099", "Mars 2099"]
        assert await axe_violations(page) == []
        await page.get_by_role("navigation", name="Pages du programme").get_by_role(
            "link", name="Page suivante").click()
        await page.wait_for_url(url + "/programme?territoire=sud&page=2")
        assert (await months.all_inner_texts())[0] == "Mars 2099 (suite)"
        assert await page.locator("[aria-current=page]").last.inner_text() == "Page 2 sur 2"
        assert await axe_violations(page) == []
        wide = await page.evaluate("document.documentElement.scrollWidth")
        assert wide <= PHONE["width"]
