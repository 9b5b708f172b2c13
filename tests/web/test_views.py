"""What the public sees, as values: a key of a closed list with its French label, and every
view given as JSON the same way (nested labels as objects, dates in ISO 8601 with their
offset), whatever its kind."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from commands.i18n import Translator
from commands.meetings.vocabulary import MEETING_STATUSES
from commands.vocabulary import NEED_KINDS, THEMES
from web.views import EventView, GroupView, InitiativeView, Label, NeedView, PublicView, Registration

T = Translator("fr")
PARIS = ZoneInfo("Europe/Paris")


def test_a_label_is_a_key_and_its_french_label() -> None:
    assert Label.of(THEMES, "energie", T) == Label("energie", "énergie")
    assert Label.of(MEETING_STATUSES, "annulee", T) == Label("annulee", "annulée")


def test_every_view_is_given_as_json_the_same_way() -> None:
    theme = Label.of(THEMES, "mobilite", T)
    start = datetime(2027, 1, 14, 18, 30, tzinfo=PARIS)
    event = EventView(
        id=1, kind=Label("webinaire", "Webinaire"), title="Vélo", theme=theme, description="",
        starts_at=start, ends_at=start.replace(hour=20), territory=Label("sud", "sud"), group=3,
        place="", link="", status=Label.of(MEETING_STATUSES, "prevue", T),
        registration=Registration(capacity=20, taken=2, free=18, waiting=0))  # fmt: skip
    group = GroupView(
        id=3, slug="velo", name="Vélo partagé", theme=theme, territory=Label("sud", "sud"),
        status=Label("en-cours", "en cours"), members=2,
        needs=[NeedView(Label.of(NEED_KINDS, "materiel", T), "un local")],
        join="!projet rejoindre velo", room="#cct:example.org")  # fmt: skip
    initiative = InitiativeView(id=4, name="Repair café", theme=theme, commune="Périgueux",
                                description="", link="")  # fmt: skip
    assert all(isinstance(view, PublicView) for view in (event, group, initiative))
    shown = event.as_json()
    assert shown["starts_at"] == "2027-01-14T18:30:00+01:00"
    assert shown["theme"] == {"key": "mobilite", "label": "mobilité"}
    assert shown["registration"] == {"capacity": 20, "taken": 2, "free": 18, "waiting": 0}
    assert group.as_json()["needs"] == [
        {"kind": {"key": "materiel", "label": NEED_KINDS.label("materiel", T)}, "text": "un local"}
    ]
    assert initiative.as_json()["theme"]["label"] == "mobilité"
    for view in (event, group, initiative):
        json.dumps(view.as_json())  # plain values only
