"""The calendar feeds, read back with two independent parsers (icalendar, ical) and expanded
by a calendar library (recurring-ical-events)."""

from __future__ import annotations

from datetime import timedelta

import icalendar
from aiohttp.test_utils import TestClient

from storage.db import Database
from tests.web.conftest import START, add_event


async def test_the_whole_programme_is_a_calendar(client: TestClient[object, object],
                                                 db: Database) -> None:
    await add_event(db, START + timedelta(days=3), title="Le vélo au quotidien", kind="webinaire",
                    link="https://visio.example.org/velo")
    response = await client.get("/calendrier.ics")
    assert response.status == 200
    assert response.content_type == "text/calendar"
    calendar = icalendar.Calendar.from_ical(await response.read())
    events = calendar.walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == ["Webinaire — Le vélo au quotidien"]
    assert str(events[0]["URL"]) == "https://visio.example.org/velo"
