"""The JSON API: the programme (places left, no names), the groups (needs, how to join), the
panorama (search without accents, theme and commune filters); nothing personal."""

from __future__ import annotations

import json
import unicodedata
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient

from bot.clock import FakeClock
from commands.initiatives import search_key
from commands.text import fold
from storage.db import Database
from tests.web.conftest import START, add_event, serve

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


@pytest.mark.parametrize("path", ["/api/evenements?type=bal", "/api/evenements?territoire=ouest",
                                  "/api/initiatives?theme=cuisine"])
async def test_unknown_filters_are_refused(client: Client, db: Database, path: str) -> None:
    response = await client.get(path)
    assert response.status == 400
    assert "valeurs" in json.loads(await response.text())


@pytest.mark.parametrize("path", ["/api/evenements/999", "/api/evenements/abc",
                                  "/api/groupes/ancien", "/api/groupes/999",
                                  "/api/initiatives/99999999999"])
async def test_unknown_items_are_not_found(client: Client, db: Database, path: str) -> None:
    await seed(db)
    assert (await client.get(path)).status == 404


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


async def test_the_api_on_postgresql(both_db: Database) -> None:
    ids = await seed(both_db)
    client = await serve(both_db, FakeClock(START))
    try:
        data = await get(client, "/api/evenements")
        assert [e["id"] for e in data["evenements"]] == [ids["webinaire"], ids["nord"]]  # type: ignore[index]
        groups = await get(client, "/api/groupes")
        assert groups["groupes"][0]["needs"][0]["text"] == "un mécanicien"  # type: ignore[index]
    finally:
        await client.close()


@pytest.mark.parametrize("path", [
    "/api/initiatives?q=%00", "/api/initiatives?q=%25%5F%5C", "/api/initiatives?commune=%00",
    "/api/groupes/%00", "/api/groupes/" + "x" * 500, "/calendrier/groupe/%2e%2e.ics",
    "/api/evenements?type=%00&territoire=%FF", "/api/evenements/0", "/api/initiatives/-1",
    "/calendrier/type/%C3%A9.ics", "/api/initiatives?q=" + "é" * 300])
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
