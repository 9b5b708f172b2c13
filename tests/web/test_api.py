"""The JSON API: the programme (places left, no names), the groups (needs, how to join), the
panorama (search without accents, theme and commune filters); nothing personal."""

from __future__ import annotations

import json
import unicodedata
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import FakeClock
from commands.initiatives import search_key
from commands.text import fold
from commands.vocabulary import THEMES
from storage.db import Database
from tests.web.conftest import START, add_event, public_of, serve
from web.server import ROUTES, RateLimit, make_app

Client = TestClient[object, object]
SOON = START + timedelta(days=3)
PARIS = ZoneInfo("Europe/Paris")
MARC, LEA = "@marc:example.org", "@lea:example.org"


async def seed(db: Database) -> dict[str, int]:
    webinaire = await add_event(db, SOON, kind="webinaire", title="Rénover sa maison",
                                theme="energie", link="https://visio.example.org/r", capacity=2)
    nord = await add_event(db, SOON + timedelta(days=1), territory="nord", place="Ribérac")
    cancelled = await add_event(db, SOON + timedelta(days=2), title="Annulé")
    async with db.transaction() as repos:
        await repos.meetings.set_rsvp(webinaire.id, MARC, "present", START, tz=PARIS)
        await repos.meetings.set_rsvp(webinaire.id, LEA, "attente", START, tz=PARIS)
        row = await repos.meetings.get(cancelled.id)
        assert row is not None
        row.status = "annulee"
        velo = await repos.groups.create(name="Vélo partagé", name_key="velo partage", slug="velo",
                                         description="Des vélos pour tous.", theme="mobilite",
                                         territory="sud", status="en-cours", created_by=MARC,
                                         at=START)
        await repos.groups.create(name="Ancien", name_key="ancien", slug="ancien",
                                  description="", theme="energie", territory="nord",
                                  status="archive", created_by=MARC, at=START)
        await repos.groups.add_member(velo.id, MARC, START, tz=PARIS)
        await repos.groups.add_need(velo.id, "competence", "un mécanicien", MARC, START)
        for name, theme, commune in (("Repair café", "biens-services", "Périgueux"),
                                     ("Épicerie solidaire", "agriculture", "Ribérac"),
                                     ("Jardin partagé", "agriculture", "Périgueux")):
            await repos.initiatives.add(name=name, name_key=fold(name), description="",
                                        theme=theme, commune=commune, contact="06 00 00 00 00",
                                        link="", search_key=search_key(name, "", commune),
                                        created_by=LEA, created_at=START)
    return {"webinaire": webinaire.id, "nord": nord.id, "annule": cancelled.id, "velo": velo.id}


async def get(client: Client, path: str, status: int = 200) -> object:
    response = await client.get(path)
    assert response.status == status, path
    assert response.content_type == "application/json"
    text = await response.text()
    assert "example.org" not in text.replace("visio.example.org", "")  # no Matrix id
    assert "06 00" not in text and "Marc" not in text
    return json.loads(text)


async def test_the_programme(client: Client, db: Database) -> None:
    ids = await seed(db)
    data = await get(client, "/api/evenements")
    events = data["evenements"]  # type: ignore[index]
    assert [e["id"] for e in events] == [ids["webinaire"], ids["nord"]]  # cancelled: not coming
    webinaire = events[0]
    assert webinaire["kind"] == {"key": "webinaire", "label": "Webinaire"}
    assert webinaire["theme"] == {"key": "energie", "label": "énergie"}
    assert webinaire["starts_at"] == "2099-01-08T10:00:00+01:00"
    assert webinaire["link"] == "https://visio.example.org/r"
    assert webinaire["registration"] == {"capacity": 2, "taken": 1, "free": 1, "waiting": 1}
    assert events[1]["registration"] is None and events[1]["place"] == "Ribérac"
    north = await get(client, "/api/evenements?territoire=nord")
    assert [e["id"] for e in north["evenements"]] == [ids["nord"]]  # type: ignore[index]
    kind = await get(client, "/api/evenements?type=Webinaire")
    assert [e["id"] for e in kind["evenements"]] == [ids["webinaire"]]  # type: ignore[index]
    one = await get(client, f"/api/evenements/{ids['annule']}")
    assert one["status"] == {"key": "annulee", "label": "annulée"}  # type: ignore[index]


async def test_events_of_a_group_or_of_a_theme(client: Client, db: Database) -> None:
    ids = await seed(db)
    async with db.transaction() as repos:
        old = await repos.groups.by_slug("ancien")
        assert old is not None
    ride = await add_event(db, SOON + timedelta(days=3), kind="groupe", title="Sortie vélo",
                           theme="mobilite", group_id=ids["velo"], place="Local de l'atelier")
    await add_event(db, SOON + timedelta(days=4), title="Réunion", theme="energie",
                    group_id=old.id)  # an archived group's: still in the programme

    async def found(query: str) -> list[int]:
        data = await get(client, "/api/evenements" + query)
        return [e["id"] for e in data["evenements"]]  # type: ignore[index]

    assert await found("?groupe=velo") == [ride.id]
    assert await found(f"?groupe={ids['velo']}") == [ride.id]
    assert await found("?theme=mobilite") == [ride.id]
    assert await found("?theme=mobilité") == [ride.id]  # its label too
    assert len(await found("?theme=energie")) == 2
    assert await found("?groupe=velo&theme=energie") == []
    assert await found("?groupe=velo&territoire=nord") == []
    assert await found("?groupe=velo&type=groupe&territoire=sud&theme=mobilite") == [ride.id]
    for name in ("ancien", str(old.id), "inconnu"):  # an archived group is not named
        refused = await error(client, f"/api/evenements?groupe={name}", 400)
        assert refused == {"erreur": f"groupe inconnu : {name}", "valeurs": ["velo"]}
        assert (await client.get(f"/calendrier/groupe/{name}.ics")).status == 404
    assert (await client.get("/calendrier/groupe/velo.ics")).status == 200
    refused = await error(client, "/api/evenements?theme=cuisine", 400)
    assert refused["valeurs"] == THEMES.keys
    sneaky = await client.get("/api/evenements?groupe=%3Cscript%3E" + "x" * 100)
    assert sneaky.status == 400 and sneaky.content_type == "application/json"
    assert json.loads(await sneaky.text())["erreur"] == "groupe inconnu : <script>" + "x" * 32


@pytest.mark.parametrize("path", ["/api/evenements?type=bal", "/api/evenements?territoire=ouest",
                                  "/api/evenements?groupe=ancien", "/api/evenements?theme=x",
                                  "/api/initiatives?theme=cuisine"])
async def test_unknown_filters_are_refused(client: Client, db: Database, path: str) -> None:
    data = await error(client, path, 400)
    assert "inconnu" in data["erreur"] and "valeurs" in data


async def error(client: Client, path: str, status: int, method: str = "GET") -> dict[str, Any]:
    """An error of the API: JSON with a short French ``erreur``, readable from any origin,
    never kept by a cache, the HTML pages' nowhere."""
    response = await client.request(method, path)
    assert response.status == status, path
    assert response.content_type == "application/json", path
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "no-store"
    data: dict[str, Any] = json.loads(await response.text())
    assert 0 < len(data["erreur"]) <= 120 and "<" not in data["erreur"]
    return data


@pytest.mark.parametrize(("path", "said"), [
    ("/api/evenements/999", "Cet événement n'existe pas."),
    ("/api/evenements/abc", "Cet événement n'existe pas."),
    ("/api/groupes/ancien", "Ce groupe-projet n'existe pas, ou plus."),  # archived
    ("/api/groupes/999", "Ce groupe-projet n'existe pas, ou plus."),
    ("/api/initiatives/99999999999", "Cette initiative n'existe pas, ou plus."),
])  # fmt: skip
async def test_unknown_items_are_not_found(client: Client, db: Database, path: str,
                                           said: str) -> None:
    await seed(db)
    assert await error(client, path, 404) == {"erreur": said}


@pytest.mark.parametrize("path", ["/api", "/api/", "/api/evenement", "/api/groupes/velo/x",
                                  "/api/../api/x", "/api/%3Cscript%3E"])
async def test_unknown_api_addresses_are_json(client: Client, db: Database, path: str) -> None:
    data = await error(client, path, 404)
    assert "/api/evenements" in data["erreur"]  # where to look instead


async def test_the_servers_limits_are_json_under_api(client: Client) -> None:
    refused = await error(client, "/api/evenements", 405, method="POST")
    assert refused == {"erreur": "L'API se lit seulement (GET ou HEAD)."}
    assert (await client.post("/api/evenements")).headers["Allow"] == "GET,HEAD"
    assert "trop longue" in (await error(client, "/api/groupes/" + "x" * 3000, 414))["erreur"]
    assert await error(client, "/api/evenements?type=%01", 400) == {"erreur": "Requête invalide."}


async def test_the_rate_limit_is_json_under_api(db: Database, clock: FakeClock) -> None:
    test_client = await serve(db, clock, RateLimit(60, 1, clock=lambda: 0.0))
    try:
        assert (await test_client.get("/api/evenements")).status == 200
        data = await error(test_client, "/api/evenements", 429)
        assert data == {"erreur": "Trop de requêtes : réessayez dans 2 s."}
        assert (await test_client.get("/api/groupes")).headers["Retry-After"] == "2"
    finally:
        await test_client.close()


async def test_a_failure_is_logged_and_answered_in_json(db: Database, clock: FakeClock,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    app = make_app(public_of(db, clock), routes=[web.get("/api/panne", broken), *ROUTES])
    async with TestClient(TestServer(app)) as test_client:
        data = await error(test_client, "/api/panne", 500)
    assert data == {"erreur": "Erreur du serveur : réessayez plus tard."}
    assert "a bug" not in json.dumps(data)  # nothing of the server's inside
    [record] = [r for r in caplog.records if getattr(r, "event_kind", "") == "web_error"]
    assert record.exc_info is not None and "/api/panne" in record.getMessage()


@pytest.mark.parametrize("path", ["/apis", "/programme/999", "/absente"])
async def test_pages_keep_their_html_404(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status == 404 and response.content_type == "text/html"
    assert "Page introuvable" in await response.text()


async def test_the_groups(client: Client, db: Database) -> None:
    ids = await seed(db)
    data = await get(client, "/api/groupes")
    [velo] = data["groupes"]  # type: ignore[index]  # the archived one is not shown
    assert velo["name"] == "Vélo partagé" and velo["members"] == 1
    assert velo["status"] == {"key": "en-cours", "label": "en cours"}
    assert velo["needs"] == [{"kind": {"key": "competence", "label": "compétences"},
                              "text": "un mécanicien"}]
    assert velo["join"] == "!projet rejoindre velo"
    for name in (str(ids["velo"]), "velo"):
        one = await get(client, f"/api/groupes/{name}")
        assert one["description"] == "Des vélos pour tous."  # type: ignore[index]


async def test_the_panorama(client: Client, db: Database) -> None:
    await seed(db)

    async def names(query: str) -> list[str]:
        data = await get(client, "/api/initiatives" + query)
        return [item["name"] for item in data["initiatives"]]  # type: ignore[index]

    assert await names("") == ["Épicerie solidaire", "Jardin partagé", "Repair café"]
    assert await names("?q=EPICERIE") == ["Épicerie solidaire"]
    assert await names("?q=perigueux") == ["Jardin partagé", "Repair café"]
    assert await names("?theme=agriculture&commune=PERIGUEUX") == ["Jardin partagé"]
    assert await names("?commune=Ribérac") == ["Épicerie solidaire"]


async def test_a_search_reads_200_characters_as_the_page_does(client: Client,
                                                                 db: Database) -> None:
    await seed(db)
    words = "repair " * 40 + "introuvable"  # the last word beyond the 200th character
    data = await get(client, "/api/initiatives?q=" + words.replace(" ", "+"))
    assert [item["name"] for item in data["initiatives"]] == ["Repair café"]  # type: ignore[index]
    page = await (await client.get("/initiatives?q=" + words.replace(" ", "+"))).text()
    assert "Repair café" in page
    data = await get(client, "/api/initiatives?commune=" + "P%C3%A9rigueux" + "+" * 200 + "x")
    assert len(data["initiatives"]) == 2  # type: ignore[arg-type]


async def test_the_api_on_postgresql(both_db: Database) -> None:
    ids = await seed(both_db)
    client = await serve(both_db, FakeClock(START))
    try:
        data = await get(client, "/api/evenements")
        assert [e["id"] for e in data["evenements"]] == [ids["webinaire"], ids["nord"]]  # type: ignore[index]
        data = await get(client, "/api/evenements?theme=energie&groupe=velo")
        assert data == {"evenements": []}
        groups = await get(client, "/api/groupes")
        assert groups["groupes"][0]["needs"][0]["text"] == "un mécanicien"  # type: ignore[index]
    finally:
        await client.close()


@pytest.mark.parametrize("path", [
    "/api/initiatives?q=%00", "/api/initiatives?q=%25%5F%5C", "/api/initiatives?commune=%00",
    "/api/groupes/%00", "/api/groupes/" + "x" * 500, "/calendrier/groupe/%2e%2e.ics",
    "/api/evenements?type=%00&territoire=%FF", "/api/evenements/0", "/api/initiatives/-1",
    "/calendrier/type/%C3%A9.ics", "/api/initiatives?q=" + "é" * 300,
    # digits to str.isdigit, not to int(): « ² » and « ³ » were answered 500
    "/api/evenements/%C2%B2", "/api/initiatives/%C2%B3", "/api/groupes/%C2%B2",
    "/calendrier/groupe/%C2%B2.ics", "/programme/%C2%B2", "/initiatives/%C2%B2",
    "/groupes/%C2%B2", "/api/evenements/%D9%A3"])
async def test_odd_addresses_are_answered_not_failed(client: Client, db: Database,
                                                     path: str) -> None:
    await seed(db)
    response = await client.get(path)
    assert response.status in (200, 400, 404), (path, response.status)


async def test_any_site_may_read_the_api_and_the_feeds(client: Client, db: Database) -> None:
    await seed(db)
    for path in ("/api/evenements", "/api/groupes/velo", "/calendrier.ics"):
        response = await client.get(path, headers={"Origin": "https://www.petr.example"})
        assert response.headers["Access-Control-Allow-Origin"] == "*", path
        again = await client.get(path, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status == 304
        assert again.headers["Access-Control-Allow-Origin"] == "*", path


@pytest.mark.parametrize("path", ["/api/initiatives?q=%00", "/api/groupes/a%00b",
                                  "/calendrier/groupe/a%00b.ics"])
async def test_a_nul_character_on_both_databases(both_db: Database, path: str) -> None:
    client = await serve(both_db, FakeClock(START))
    try:
        assert (await client.get(path)).status == 400
    finally:
        await client.close()


CONTROLS = "\x00\x01\x08\x0b\x0c\x1b\x7f\x85\x9f"


def raw_controls(data: str, allowed: str = "") -> set[str]:
    """The control characters ``data`` holds as they are (not escaped), but ``allowed``."""
    return {c for c in data if unicodedata.category(c) == "Cc" and c not in allowed}


async def test_stored_control_characters_never_reach_the_json_raw(client: Client,
                                                                   db: Database) -> None:
    """Text kept before the bot cleaned it at its boundary (SQLite takes any character), or
    written by another program: the API escapes every control character."""
    await add_event(db, SOON, title=f"Titre{CONTROLS}", description=f"Des\ncription{CONTROLS}",
                    place=f"Mairie{CONTROLS}")
    async with db.transaction() as repos:
        await repos.groups.create(name=f"Vélo{CONTROLS}", name_key="velo", slug="velo",
                                  description=f"D{CONTROLS}", theme="mobilite", territory="sud",
                                  status="en-cours", created_by=MARC, at=START)
    for path in ("/api/evenements", "/api/evenements/1", "/api/groupes", "/api/groupes/velo"):
        response = await client.get(path)
        assert response.status == 200, path
        body = await response.text()
        assert raw_controls(body) == set(), path
        json.loads(body)
    event = json.loads(await (await client.get("/api/evenements/1")).text())
    assert event["title"] == f"Titre{CONTROLS}"  # kept, escaped
