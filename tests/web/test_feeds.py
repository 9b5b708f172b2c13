"""The calendar feeds, read back with two independent parsers (icalendar, ical) and expanded
by a calendar library (recurring-ical-events); the same events as the bot's own .ics files."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from aiohttp.test_utils import TestClient
from ical.calendar_stream import IcsCalendarStream

from bot.clock import FakeClock
from commands.i18n import Translator
from commands.meetings.calendar import meeting_ics
from storage.db import Database
from storage.models import Meeting
from tests.web.conftest import START, add_event, serve, web_club

Client = TestClient[object, object]
SOON = START + timedelta(days=3)
PARIS = ZoneInfo("Europe/Paris")


async def programme(db: Database) -> dict[str, Meeting]:
    """A webinaire for the south with a link, a rencontre in the north at a place, one for
    the whole club, a group's meeting, a cancelled one, and one long past."""
    async with db.transaction() as repos:
        velo = await repos.groups.create(name="Vélo partagé", name_key="velo partage",
                                         slug="velo", description="", theme="mobilite",
                                         territory="sud", status="actif",
                                         created_by="@marc:example.org", at=START)
    events = {
        "webinaire": await add_event(db, SOON, kind="webinaire", title="Le vélo au quotidien",
                                     theme="mobilite", link="https://visio.example.org/velo"),
        "nord": await add_event(db, SOON + timedelta(days=1), territory="nord",
                                place="Salle des fêtes, Ribérac"),
        "commun": await add_event(db, SOON + timedelta(days=2), territory="commun",
                                  kind="formation", title="Fresque du climat", place="Mairie"),
        "groupe": await add_event(db, SOON + timedelta(days=3), kind="groupe", group_id=velo.id,
                                  place="Atelier vélo"),
        "annule": await add_event(db, SOON + timedelta(days=4), title="Annulé"),
        "ancien": await add_event(db, START - timedelta(days=400), title="Il y a longtemps"),
    }
    async with db.transaction() as repos:
        cancelled = await repos.meetings.get(events["annule"].id)
        assert cancelled is not None
        cancelled.status, cancelled.cancel_reason = "annulee", "intempéries"
        cancelled.sequence += 1
        cancelled.updated_at = START + timedelta(hours=1)
    return events


async def read(client: Client, path: str) -> bytes:
    response = await client.get(path)
    assert response.status == 200, path
    assert response.content_type == "text/calendar"
    assert response.charset == "utf-8"
    return await response.read()


def uids(data: bytes) -> set[str]:
    return {str(e["UID"]) for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}


def uid(meeting: Meeting) -> str:
    return f"rencontre-{meeting.id}@cct-bot"


async def test_the_whole_programme_read_by_two_parsers(client: Client, db: Database) -> None:
    events = await programme(db)
    data = await read(client, "/calendrier.ics")
    calendar = icalendar.Calendar.from_ical(data)
    assert str(calendar["REFRESH-INTERVAL"].to_ical(), "ascii") == "PT1H"
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in data.decode()
    assert "X-PUBLISHED-TTL:PT1H" in data.decode()
    assert [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    by_uid = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(by_uid) == {uid(m) for key, m in events.items() if key != "ancien"}
    webinaire = by_uid[uid(events["webinaire"])]
    assert str(webinaire["URL"]) == "https://visio.example.org/velo"
    assert str(webinaire["LOCATION"]) == "https://visio.example.org/velo"
    assert webinaire["DTSTART"].params["TZID"] == "Europe/Paris"
    assert webinaire.decoded("DTSTART") == SOON
    assert [str(c) for c in webinaire["CATEGORIES"].cats] == ["Webinaire", "mobilité"]
    assert str(by_uid[uid(events["nord"])]["LOCATION"]) == "Salle des fêtes, Ribérac"
    assert str(by_uid[uid(events["annule"])]["STATUS"]) == "CANCELLED"
    assert by_uid[uid(events["annule"])]["SEQUENCE"] == 1
    assert "intempéries" in str(by_uid[uid(events["annule"])]["DESCRIPTION"])
    assert str(by_uid[uid(events["nord"])]["STATUS"]) == "CONFIRMED"

    other = IcsCalendarStream.calendar_from_ics(data.decode())  # the second, independent parser
    read_back = {e.uid: e for e in other.events}
    assert set(read_back) == set(by_uid)
    assert read_back[uid(events["webinaire"])].url == "https://visio.example.org/velo"
    assert read_back[uid(events["webinaire"])].dtstart == SOON
    assert str(read_back[uid(events["annule"])].status) in ("CANCELLED", "EventStatus.CANCELLED")
    assert read_back[uid(events["annule"])].sequence == 1
    assert [z.tz_id for z in other.timezones] == ["Europe/Paris"]


async def test_a_calendar_library_expands_the_feed(client: Client, db: Database) -> None:
    """The feed imported into ical's calendar, whose timeline expands the events over a span
    of time as a calendar application does."""
    events = await programme(db)
    calendar = IcsCalendarStream.calendar_from_ics((await read(client, "/calendrier.ics")).decode())
    week = list(calendar.timeline_tz(PARIS).overlapping(SOON - timedelta(hours=1),
                                                        SOON + timedelta(days=2, hours=1)))
    assert {e.summary for e in week} == {
        "Webinaire — Le vélo au quotidien", "Rencontre du Club Climat et Transition — nord",
        "Formation — Fresque du climat"}
    starts = sorted(e.dtstart.astimezone(UTC) for e in week)  # type: ignore[union-attr]
    assert starts[0] == events["webinaire"].starts_at


async def test_the_feeds_of_a_territory_a_kind_a_group(client: Client, db: Database) -> None:
    events = await programme(db)
    south = {uid(events[k]) for k in ("webinaire", "commun", "groupe", "annule")}
    assert uids(await read(client, "/calendrier/territoire/sud.ics")) == south
    assert uids(await read(client, "/calendrier/territoire/south.ics")) == south
    assert uids(await read(client, "/calendrier/territoire/nord.ics")) == {
        uid(events["nord"]), uid(events["commun"])}
    assert uids(await read(client, "/calendrier/type/webinaire.ics")) == {
        uid(events["webinaire"])}
    group = events["groupe"].group_id
    assert uids(await read(client, f"/calendrier/groupe/{group}.ics")) == {uid(events["groupe"])}
    named = await read(client, "/calendrier/groupe/velo.ics")
    assert uids(named) == {uid(events["groupe"])}
    assert "Vélo partagé" in str(icalendar.Calendar.from_ical(named)["X-WR-CALNAME"])


@pytest.mark.parametrize("path", ["/calendrier/territoire/ouest.ics", "/calendrier/type/bal.ics",
                                  "/calendrier/groupe/99.ics", "/calendrier/groupe/inconnu.ics",
                                  "/calendrier/groupe/99999999999999999999.ics"])
async def test_unknown_feeds_are_not_found(client: Client, db: Database, path: str) -> None:
    await programme(db)
    assert (await client.get(path)).status == 404


async def test_the_feed_holds_the_events_own_ics(client: Client, db: Database) -> None:
    """The same VEVENT as the file the bot posts: calendars that imported one keep one."""
    events = await programme(db)
    async with db.reading() as repos:
        cancelled = await repos.meetings.get(events["annule"].id)
    assert cancelled is not None
    own = icalendar.Calendar.from_ical(meeting_ics(cancelled, web_club(), Translator("fr"),
                                                   web_club().tz)).walk("VEVENT")[0]
    feed = icalendar.Calendar.from_ical(await read(client, "/calendrier.ics"))
    same = next(e for e in feed.walk("VEVENT") if e["UID"] == own["UID"])
    assert same.to_ical() == own.to_ical()


async def test_one_events_file_is_its_vevent_in_the_feeds(client: Client, db: Database) -> None:
    """``/programme/<n>.ics``, linked from the event's page: the feeds' VEVENT (same UID,
    SEQUENCE), PUBLISH; a cancelled event STATUS:CANCELLED; one the feeds no longer hold,
    none (its cancellation's reason, say, published no longer)."""
    events = await programme(db)
    feed = icalendar.Calendar.from_ical(await read(client, "/calendrier.ics")).walk("VEVENT")
    for name, status in (("webinaire", "CONFIRMED"), ("annule", "CANCELLED"),
                         ("groupe", "CONFIRMED")):
        meeting = events[name]
        for _ in range(2):  # rendered, then kept: the same headers
            response = await client.get(f"/programme/{meeting.id}.ics")
            assert response.status == 200 and response.content_type == "text/calendar"
            assert (response.headers["Content-Disposition"]
                    == f'attachment; filename="rencontre-{meeting.id}.ics"')
            assert response.headers["Last-Modified"]
            data = await response.read()
        calendar = icalendar.Calendar.from_ical(data)
        assert calendar["METHOD"] == "PUBLISH"
        [event] = calendar.walk("VEVENT")
        assert event["UID"] == uid(meeting) and event["STATUS"] == status
        assert event.to_ical() == next(e for e in feed if e["UID"] == event["UID"]).to_ical()
        [parsed] = IcsCalendarStream.calendar_from_ics(data.decode()).events  # a second parser
        assert parsed.uid == uid(meeting)
    recent = await add_event(db, START - timedelta(days=30), title="Le mois dernier")
    assert uids(await read(client, f"/programme/{recent.id}.ics")) == {uid(recent)}
    assert (await client.get(f"/programme/{events['ancien'].id}.ics")).status == 404


@pytest.mark.parametrize("path", ["/programme/999.ics", "/programme/99999999999.ics"])
async def test_an_unknown_events_file_is_not_found(client: Client, db: Database,
                                                   path: str) -> None:
    await programme(db)
    response = await client.get(path)
    assert response.status == 404 and response.content_type != "text/calendar"


async def test_nothing_personal_in_the_feeds(client: Client, db: Database) -> None:
    events = await programme(db)
    one = f"/programme/{events['webinaire'].id}.ics"
    for path in ("/calendrier.ics", "/calendrier/groupe/velo.ics", one):
        body = (await read(client, path)).decode()
        assert "example.org" not in body.replace("visio.example.org", "")
        assert "@" not in body.replace("@cct-bot", "")


async def test_the_feed_query_on_both_databases(both_db: Database) -> None:
    events = await programme(both_db)
    test_client = await serve(both_db, FakeClock(START))
    try:
        assert uids(await read(test_client, "/calendrier/territoire/nord.ics")) == {
            uid(events["nord"]), uid(events["commun"])}
        assert uids(await read(test_client, "/calendrier/type/webinaire.ics")) == {
            uid(events["webinaire"])}
    finally:
        await test_client.close()


def test_an_empty_feed_is_still_a_calendar() -> None:
    from commands.meetings.calendar import feed_ics
    data = feed_ics([], web_club(), Translator("fr"), web_club().tz, name="Vide",
                    refresh=timedelta(hours=1))
    assert IcsCalendarStream.calendar_from_ics(data.decode()).events == []
    assert datetime.now(UTC) > START - timedelta(days=365 * 100)


async def test_stored_control_characters_never_reach_a_feed(client: Client, db: Database) -> None:
    """Text kept before the bot cleaned it at its boundary, or written by another program: a
    calendar holds no control character but its line ends (RFC 5545 forbids them in text)."""
    controls = "\x00\x01\x08\x0b\x0c\x1b\x7f\x85\x9f"
    event = await add_event(db, SOON, title=f"Titre{controls}", place=f"Mairie{controls}",
                            description=f"Des\ncription{controls}")
    # a link with a line break (icalendar refuses it in a URI): the feeds still answer
    linked = await add_event(db, SOON + timedelta(days=1), title="En ligne",
                             link=f"https://visio.example.org/a\r\nX-INJECTE:1{controls}b")
    assert (await client.get(f"/programme/{linked.id}.ics")).status == 200
    for data in (await read(client, "/calendrier.ics"),
                 meeting_ics(event, web_club(), Translator("fr"), PARIS)):
        text = data.decode()
        assert {c for c in text if unicodedata.category(c) == "Cc"} <= {"\r", "\n"}
        assert "\r\n" in text and "\r" not in text.replace("\r\n", "")
        assert "\r\nX-INJECTE" not in text
        parsed, *others = icalendar.Calendar.from_ical(data).walk("VEVENT")
        assert [str(e["URL"]) for e in others] in (
            [], ["https://visio.example.org/aX-INJECTE:1b"])
        assert str(parsed["summary"]).startswith("Rencontre du club — Titre")
        assert str(parsed["description"]).startswith(
            "Rencontre du club n°1 du Club Climat et Transition, pour : sud.\nDes\ncription")
