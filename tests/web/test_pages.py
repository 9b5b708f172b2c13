"""The public pages, read as HTML by aiohttp's test client on a real SQLite database: the same
content as the API, in French, with the filters of their forms; every value escaped, links
only to web addresses, nothing personal; a French 404; no script at all."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import FakeClock
from devtools.sample_site import CONTACT, seed_site
from storage.db import Database
from tests.web.conftest import START, add_event, public_of, serve
from web.server import ROUTES, RateLimit, make_app

Client = TestClient[object, object]


async def page(client: Client, path: str, status: int = 200) -> str:
    response = await client.get(path)
    assert response.status == status, path
    assert response.content_type == "text/html"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    text = await response.text()
    assert '<html lang="fr">' in text
    assert "<script" not in text and "style=" not in text  # nothing inline: the CSP holds
    assert "secret" not in text and CONTACT not in text  # no Matrix id, no contact
    return text


def titles(html: str) -> list[str]:
    """The titles of the cards, in order."""
    return re.findall(r'<h[234]><a href="/[a-z]+/[^"]+">([^<]+)</a>', html)


@pytest.fixture
async def ids(db: Database, clock: FakeClock) -> dict[str, int]:
    return await seed_site(db, clock.now())


async def test_the_home_page(client: Client, ids: dict[str, int]) -> None:
    html = await page(client, "/")
    assert titles(html)[:4] == [
        "Rénover sa maison",
        "Réparer son vélo",
        "Rencontre du nord",
        "Plan du jardin",
    ]  # the cancelled one is not coming
    assert "Vélo partagé" in html and "un local fermé pour ranger six vélos" in html
    for link in (
        'href="/programme"',
        'href="/groupes"',
        'href="/initiatives"',
        'href="webcal://agenda.example.org/calendrier.ics"',
    ):
        assert link in html


async def test_the_programme_and_its_filters(client: Client, ids: dict[str, int]) -> None:
    html = await page(client, "/programme")
    assert "4 événements à venir" in html
    assert "jeudi 8 janvier 2099, 18h30–20h30" in html  # Europe/Paris, French
    assert "Entrée libre, sans inscription" in html
    assert "Complet (3 places), 1 en liste d'attente" in html  # counts, no names
    assert "11 places libres sur 12" in html
    assert "En ligne" in html and "Salle des fêtes, Ribérac" in html
    for path in ("/calendrier.ics", "/calendrier/territoire/sud.ics"):  # to subscribe to
        assert f'href="webcal://agenda.example.org{path}"' in html
        assert f'href="https://agenda.example.org{path}"' in html
    assert titles(await page(client, "/programme?territoire=nord")) == [
        "Rénover sa maison",
        "Rencontre du nord",
        "Plan du jardin",
    ]  # the north and the club's
    assert titles(await page(client, "/programme?type=formation")) == ["Réparer son vélo"]
    assert titles(await page(client, "/programme?theme=energie")) == ["Rénover sa maison"]
    grouped = await page(client, "/programme?groupe=jardins")
    assert titles(grouped) == ["Plan du jardin"]
    assert '<option value="jardins" selected>' in grouped
    assert f"webcal://agenda.example.org/calendrier/groupe/{ids['jardins']}.ics" in grouped
    unknown = await page(client, "/programme?type=bal&territoire=ouest&groupe=x&theme=y")
    assert len(titles(unknown)) == 4  # a value the form never offers: everything


async def test_an_event(client: Client, db: Database, ids: dict[str, int]) -> None:
    html = await page(client, f"/programme/{ids['webinaire']}")
    assert "<h1>Rénover sa maison</h1>" in html
    assert 'href="https://visio.example.org/renovation"' in html
    assert "!rencontre inscrire" in html
    link = f'<a href="/programme/{ids["webinaire"]}.ics" download>Ajouter à mon agenda (fichier .ics)</a>'
    assert link in html  # its calendar file
    free = await page(client, f"/programme/{ids['rencontre']}")
    assert f"!rencontre present {ids['rencontre']}" in free  # no registration: say you come
    atelier = await page(client, f"/programme/{ids['atelier']}")
    assert 'href="/groupes/velo"' in atelier
    cancelled = await page(client, f"/programme/{ids['annulee']}")
    assert "<strong>Annulé :</strong> cet événement n'aura pas lieu." in cancelled
    assert f'href="/programme/{ids["annulee"]}.ics" download>Mettre à jour mon agenda' in cancelled
    async with db.transaction() as repos:  # older than the feeds go back: no .ics of its own
        long_ago = await repos.meetings.get(ids["rencontre"])
        assert long_ago is not None
        long_ago.starts_at -= timedelta(days=400)
        long_ago.ends_at -= timedelta(days=400)
        long_ago.sequence += 1  # as the bot moves an event
    assert f'/programme/{ids["rencontre"]}.ics' not in await page(client, f"/programme/{ids['rencontre']}")
    for missing in ("999", "abc", "99999999999", "abc.ics"):
        assert "Page introuvable" in await page(client, f"/programme/{missing}", status=404)
    assert "aucune page du site" in await page(client, "/nulle/part", status=404)


async def test_the_groups(client: Client, ids: dict[str, int]) -> None:
    html = await page(client, "/groupes")
    assert titles(html) == [
        "Isolation collective",
        "Jardins de Ribérac",
        "Vélo partagé",
        "Fête de la réparation",
    ]  # by status
    assert "un ou une mécanicienne pour l&#39;atelier du samedi" in html
    assert titles(await page(client, "/groupes?besoin=1")) == [
        "Jardins de Ribérac",
        "Vélo partagé",
    ]  # those that need help
    assert titles(await page(client, "/groupes?territoire=nord")) == [
        "Isolation collective",  # the whole territory's
        "Jardins de Ribérac",
    ]
    assert titles(await page(client, "/groupes?theme=energie&besoin=1")) == []
    velo = await page(client, "/groupes/velo")
    assert '<code class="command">!projet rejoindre velo</code>' in velo
    assert titles(velo) == ["Réparer son vélo"]  # its coming events
    assert f"https://agenda.example.org/calendrier/groupe/{ids['velo']}.ics" in velo
    assert "<dt>Membres</dt><dd>4</dd>" in velo  # a count, no names
    assert await page(client, f"/groupes/{ids['velo']}") == velo
    await page(client, "/groupes/inconnu", status=404)


async def test_the_panorama_searched_without_accents(client: Client, ids: dict[str, int]) -> None:
    html = await page(client, "/initiatives")
    assert "5 initiatives" in html and len(titles(html)) == 5
    assert titles(await page(client, "/initiatives?q=EPICERIE+riberacois")) == [
        "Épicerie solidaire du Ribéracois"
    ]
    assert titles(await page(client, "/initiatives?commune=perigueux")) == [
        "Jardin partagé des Mounards",
        "Repair café",
    ]
    assert titles(await page(client, "/initiatives?theme=agriculture&commune=Ribérac")) == [
        "Épicerie solidaire du Ribéracois"
    ]
    one = await page(client, f"/initiatives/{ids['epicerie']}")
    assert 'href="https://epicerie.example.org"' in one and "Ribérac" in one
    nothing = await page(client, "/initiatives?q=piscine")
    assert "Aucune initiative ne correspond" in nothing and "0 initiative sur 5" in nothing


async def test_values_are_escaped_and_only_web_links_are_links(
    client: Client, db: Database, clock: FakeClock
) -> None:
    async with db.transaction() as repos:
        item = await repos.initiatives.add(
            name="<script>alert(1)</script>",
            name_key="x",
            description="",
            theme="energie",
            commune="",
            contact="",
            link="javascript:alert(1)",
            search_key="x",
            created_by="@a:example.org",
            created_at=clock.now(),
        )
    html = await page(client, f"/initiatives/{item.id}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:" not in html


async def test_the_stylesheet_and_the_cache(client: Client, ids: dict[str, int]) -> None:
    css = await client.get("/site.css")
    assert css.status == 200 and css.content_type == "text/css"
    first = await client.get("/programme")
    assert first.headers["Cache-Control"] == "no-cache"  # asked again, each time
    again = await client.get("/programme", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status == 304


def months(html: str) -> list[str]:
    return re.findall(r'<h3 class="month" id="mois-[0-9-]+">([^<]+)</h3>', html)


async def test_a_long_programme_a_page_at_a_time_under_its_months(client: Client,
                                                                  db: Database) -> None:
    for n in range(45):  # every three days from 8 January 2099 to 20 May
        await add_event(db, START + timedelta(days=3 * (n + 1)), kind="webinaire",
                        title=f"Atelier {n:02d}")
    first = await page(client, "/programme")
    assert "45 événements à venir" in first and "Page 1 sur 3." in first
    assert months(first) == ["Janvier 2099", "Février 2099", "Mars 2099"]
    assert titles(first) == [f"Atelier {n:02d}" for n in range(20)]
    assert '<a href="/programme?page=2" rel="next">Page suivante</a>' in first
    assert 'rel="prev"' not in first
    second = await page(client, "/programme?page=2")
    assert months(second) == ["Mars 2099 (suite)", "Avril 2099", "Mai 2099"]
    assert titles(second) == [f"Atelier {n:02d}" for n in range(20, 40)]
    assert '<a href="/programme" rel="prev">Page précédente</a>' in second
    assert '<a href="/programme?page=3" rel="next">' in second
    last = await page(client, "/programme?page=3")
    assert titles(last) == [f"Atelier {n:02d}" for n in range(40, 45)]
    assert months(last) == ["Mai 2099 (suite)"] and 'rel="next"' not in last
    assert titles(await page(client, "/programme?page=99")) == titles(last)  # the last one
    for wrong in ("abc", "0", "-1", "1" * 40):
        assert titles(await page(client, f"/programme?page={wrong}")) == titles(first)


async def test_the_pages_links_keep_the_filters_and_nothing_else(client: Client,
                                                                 db: Database) -> None:
    for n in range(25):
        await add_event(db, START + timedelta(days=n + 1), kind="webinaire", title=f"Atelier {n:02d}")
    html = await page(client, "/programme?type=Webinaire&territoire=sud&theme=&page=2&junk=%3Cb%3E")
    assert titles(html) == [f"Atelier {n:02d}" for n in range(20, 25)]
    assert '<a href="/programme?type=webinaire&amp;territoire=sud" rel="prev">' in html
    assert "junk" not in html and "&lt;b&gt;" not in html  # never echoed (nor kept in the cache)
    few = await page(client, "/programme?type=formation")
    assert "Page 1 sur" not in few and "Pages du programme" not in few


async def refusal(response: ClientResponse, status: int) -> str:
    """A refusal outside /api: a short French page, never cached."""
    assert response.status == status
    assert response.content_type == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    text = await response.text()
    assert '<html lang="fr">' in text and "<script" not in text
    return text


@pytest.mark.parametrize("path", ["/", "/programme", "/calendrier.ics", "/site.css"])
async def test_the_servers_limits_are_french_pages(client: Client, path: str) -> None:
    posted = await client.post(path)
    assert "Lecture seule" in await refusal(posted, 405)
    assert set(posted.headers["Allow"].split(",")) == {"GET", "HEAD"}
    assert "trop longue" in await refusal(await client.get(path + "?q=" + "a" * 3000), 414)
    assert "Requête refusée" in await refusal(await client.get(path, data=b"x"), 413)
    assert "Adresse invalide" in await refusal(await client.get(path + "?q=%01"), 400)


async def test_the_rate_limit_is_a_french_page(db: Database, clock: FakeClock) -> None:
    test_client = await serve(db, clock, RateLimit(60, 1, clock=lambda: 0.0))
    try:
        assert (await test_client.get("/programme")).status == 200
        refused = await test_client.get("/programme")
        assert "réessayez dans 2 s" in await refusal(refused, 429)
        assert refused.headers["Retry-After"] == "2"
        assert "réessayez" in await refusal(await test_client.get("/calendrier.ics"), 429)
    finally:
        await test_client.close()


async def test_a_calendar_not_found_and_a_failure_are_french_pages(
        db: Database, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    app = make_app(public_of(db, clock), routes=[web.get("/panne", broken), *ROUTES])
    async with TestClient(TestServer(app)) as test_client:
        missing = await test_client.get("/calendrier/type/bal.ics")
        assert "Page introuvable" in await refusal(missing, 404)
        text = await refusal(await test_client.get("/panne"), 500)
    assert "Erreur du serveur" in text and "a bug" not in text
    [record] = [r for r in caplog.records if getattr(r, "event_kind", "") == "web_error"]
    assert record.exc_info is not None and "/panne" in record.getMessage()
