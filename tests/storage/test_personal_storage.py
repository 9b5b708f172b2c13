"""Personal data by exact key (SQLite and PostgreSQL): a queued message records the people it
concerns, an audit entry the people it names; the text parsers find exact ids only, and a
pending message loses a person without losing its shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import text

from storage.db import Database
from storage.personal import audit_people, people_in, without_person

AT = datetime(2030, 5, 1, 12, tzinfo=UTC)
ALICE, ALICE_COM, BOB = "@alice:example.co", "@alice:example.com", "@bob:example.org"


def html_pill(user: str, label: str) -> str:
    return f'<a href="https://matrix.to/#/{user}">{label}</a>'


def test_people_in_a_message_are_its_mentions_pills_and_invitee() -> None:
    content = {
        "body": f"Bravo {ALICE_COM} et @carol:x", "m.mentions": {"user_ids": [ALICE]},
        "formatted_body": (html_pill(BOB, "Bob") + html_pill("%40dan%3Aexample.org", "Dan")
                           + html_pill("@eve:example.org?via=x&amp;y=z", "Eve")
                           + html_pill("@not an id", "x")
                           + '<a href="https://matrix.to/#/#room:example.org">salon</a>'),
        "m.new_content": {"formatted_body": html_pill("@fred:example.org", "Fred")},
        "data": "aHR0cHM6Ly9tYXRyaXgudG8vIy9AZ3JlZzp4",
    }
    assert people_in(content) == {ALICE, BOB, "@dan:example.org", "@eve:example.org",
                                  "@fred:example.org"}
    assert people_in({"user_id": BOB}) == {BOB}
    assert people_in({"body": "no one", "m.mentions": {}}) == set()
    assert people_in(None) == set()


def test_audit_people_are_its_user_and_people() -> None:
    assert audit_people({"user": ALICE, "people": [BOB, ALICE_COM, 3], "text": BOB}) == {
        ALICE, BOB, ALICE_COM}
    assert audit_people({"name": "Jardin"}) == set()


def test_a_pending_message_loses_a_person_exactly() -> None:
    content = json.dumps({
        "body": f"Bravo {ALICE} et {ALICE_COM}. Merci {ALICE}.",
        "formatted_body": f"Bravo {html_pill(ALICE, 'A')} et {html_pill(ALICE_COM, 'B')}",
        "m.mentions": {"user_ids": [ALICE, ALICE_COM]}, "msgtype": "m.notice"})
    new = json.loads(without_person(content, ALICE, "anonyme-1"))
    assert new["body"] == f"Bravo anonyme-1 et {ALICE_COM}. Merci anonyme-1."
    assert new["formatted_body"] == f"Bravo anonyme-1 et {html_pill(ALICE_COM, 'B')}"
    assert new["m.mentions"] == {"user_ids": [ALICE_COM]}
    assert new["msgtype"] == "m.notice"
    assert json.loads(without_person('{"body": "x" anonyme-1', ALICE, "p")) == {"redacted": True}


async def links(db: Database, table: str) -> list[tuple[object, ...]]:
    async with db.transaction() as repos:
        return [tuple(row) for row in (await repos.session.execute(
            text(f"SELECT * FROM {table} ORDER BY 1, 2"))).all()]


async def test_a_queued_message_records_whom_it_concerns(db: Database) -> None:
    async with db.transaction() as repos:
        reply = await repos.outbox.add(txn_id="t1", room_id="!r:x", created_at=AT, content={
            "body": "x", "formatted_body": html_pill(BOB, "Bob"),
            "m.mentions": {"user_ids": [ALICE]}})
        invite = await repos.outbox.add(txn_id="t2", room_id="!r:x", action="invite",
                                        content={"user_id": ALICE_COM}, created_at=AT)
        upload = await repos.outbox.add(txn_id="t3", room_id="!dm:x", action="upload",
                                        content={"body": "f.json", "data": "e30="},
                                        created_at=AT, about=(ALICE,))
        nobody = await repos.outbox.add(txn_id="t4", room_id="!r:x", created_at=AT,
                                        content={"body": f"{ALICE} en texte"})
        assert await repos.outbox.add(txn_id="t1", room_id="!r:x", created_at=AT,
                                      content={"m.mentions": {"user_ids": [BOB]}}) is None
    assert reply and invite and upload and nobody
    assert await links(db, "outbox_people") == [
        (reply.id, ALICE), (reply.id, BOB), (invite.id, ALICE_COM), (upload.id, ALICE)]
    async with db.transaction() as repos:
        await repos.outbox.drop(reply.id)
    assert await links(db, "outbox_people") == [(invite.id, ALICE_COM), (upload.id, ALICE)]


async def test_an_audit_entry_records_the_people_it_names(db: Database) -> None:
    async with db.transaction() as repos:
        await repos.audit.record(actor=BOB, subject="group", subject_id=1, action="joined", at=AT)
        await repos.audit.record(actor=BOB, subject="group", subject_id=1,
                                 action="referent_added", at=AT, user=ALICE)
        await repos.audit.record(actor=BOB, subject="meeting", subject_id=1,
                                 action="attendance", at=AT, count=2, people=[ALICE, ALICE_COM])
    entries = await links(db, "audit_log")
    assert [(e[0], e[5]) for e in entries] == [(1, "joined"), (2, "referent_added"),
                                               (3, "attendance")]
    assert await links(db, "audit_people") == [(2, ALICE), (3, ALICE), (3, ALICE_COM)]


async def test_last_activity_reads_every_holder(db: Database) -> None:
    needle, later = ALICE, datetime(2031, 1, 1, tzinfo=UTC)
    async with db.transaction() as repos:
        await repos.welcomes.first_time(needle, "!r:x", AT)
        await repos.outbox.add(txn_id="t1", room_id="!r:x", created_at=later,
                               content={"m.mentions": {"user_ids": [needle]}})
        await repos.audit.record(actor="@coord:x", subject="group", subject_id=1,
                                 action="referent_added", at=AT, user=needle)
    async with db.transaction() as repos:
        latest = await repos.personal.last_activity()
        assert latest == {needle: later, "@coord:x": AT}
        assert await repos.personal.inactive_since(later) == ["@coord:x"]


async def test_a_purged_message_never_gives_its_id_to_a_new_one(db: Database) -> None:
    """The sender remembers the ids it sent: a new row taking a purged row's id would be
    taken for sent."""
    async with db.transaction() as repos:
        old = await repos.outbox.add(txn_id="t1", room_id="!r:x", content={}, created_at=AT)
        assert old is not None
        await repos.outbox.mark_sent(old.id, "$e1", AT)
    async with db.transaction() as repos:
        assert await repos.personal.purge_messages(datetime(2031, 1, 1, tzinfo=UTC), ()) == (
            0, 1)
    async with db.transaction() as repos:
        new = await repos.outbox.add(txn_id="t2", room_id="!r:x", content={}, created_at=AT)
    assert new is not None and new.id > old.id


# Every text column that holds no person's id, or holds one only as described: a new column must
# be added to one of these lists (or to ``storage.personal.HOLDERS``), so that access, erasure
# and retention cannot forget it.
READ_EXACTLY = {("outbox_people", "user_id"), ("audit_people", "user_id"),  # link tables
                ("outbox", "content"), ("audit_log", "details"),  # through the links
                ("agenda_items", "presenter"), ("agenda_states", "published"),  # parsed
                ("bot_state", "key"), ("bot_state", "value"),  # keys: a digest of the id
                ("cap_uses", "user_id")}  # kept through their erasure, for a day
FREE_TEXT = {("inbox", "body"), ("group_progress", "text"), ("group_needs", "text"),
             ("agenda_suggestions", "text"), ("remontees", "text"), ("reminders", "text"),
             ("initiatives", "description"), ("initiatives", "contact"),
             ("initiatives", "search_key"), ("project_groups", "description"),
             ("poll_votes", "reason"),  # a position's reason, an « autre » answer
             ("poll_comments", "text")}
EVENT_IDS = {("inbox", "event_id"), ("inbox", "thread_root"), ("poll_votes", "event_id"),
             ("agenda_supports", "reaction_event_id"), ("outbox", "event_id"),
             ("outbox", "txn_id"), ("agenda_suggestions", "confirmation_txn"),
             ("joined_rooms", "last_event_id"), ("poll_comments", "event_id"),
             ("remontee_supports", "reaction_event_id"), ("remontees", "confirmation_txn"),
             ("charter_adoptions", "reaction_event_id"), ("charter_posts", "txn_id")}
# Names of people without Matrix (guests of an event, from a sign-in sheet): no Matrix id, so no
# access or erasure by id; erased with the event's retention, or on request, their count kept
# (``storage.attendance``: ``expire_guests``, ``forget_guest``).
GUEST_NAMES = {("meeting_guests", "name")}
NOT_PERSONAL = {
    ("audit_log", "subject"), ("audit_log", "action"), ("inbox", "room_id"),
    ("cap_uses", "subject"), ("cap_uses", "action"),
    ("charter_versions", "version"), ("charter_versions", "text"),  # the club's charter
    ("charter_proposals", "version"), ("charter_proposals", "text"),
    ("initiatives", "name"), ("initiatives", "name_key"), ("initiatives", "theme"),
    ("initiatives", "commune"), ("initiatives", "link"), ("joined_rooms", "room_id"),
    ("meetings", "place"), ("meetings", "territory"), ("meetings", "status"),
    ("meetings", "minutes"), ("meetings", "cancel_reason"), ("meetings", "rooms"),
    ("meetings", "kind"), ("meetings", "title"), ("meetings", "theme"),
    ("meetings", "description"), ("meetings", "link"),
    ("outbox", "room_id"), ("outbox", "action"), ("outbox", "event_type"),
    ("outbox", "state_key"), ("participants", "territory"), ("participants", "commune"),
    ("participants", "category"), ("polls", "question"), ("polls", "territory"),
    ("polls", "room_id"), ("polls", "status"), ("project_groups", "slug"),
    ("project_groups", "name"), ("project_groups", "name_key"), ("project_groups", "theme"),
    ("project_groups", "territory"), ("project_groups", "status"),
    ("project_groups", "funding"), ("project_groups", "room_id"), ("reminders", "kind"),
    ("reminders", "room_id"), ("reminders", "rule"), ("reminders", "offset"),
    ("reminders", "status"), ("remontees", "room_id"), ("remontees", "status"),
    ("remontees", "answer"), ("scheduled_messages", "room_id"),
    ("scheduled_messages", "markdown"), ("welcomes", "room_id"), ("agenda_items", "title"),
    ("agenda_items", "method"), ("agenda_states", "rooms"), ("agenda_suggestions", "status"),
    ("agenda_suggestions", "reason"), ("agenda_suggestions", "room_id"),
    ("group_needs", "kind"), ("meeting_rsvps", "answer"), ("poll_votes", "answer"),
    ("poll_votes", "source"), ("meeting_guests", "category"), ("meeting_guests", "territory"),
    ("meeting_guests", "source"), ("meeting_headcounts", "category"),
    ("meeting_headcounts", "territory"),
    ("actions", "text"), ("actions", "status"),  # an action: written for the club, in a role
    # a poll's kind, its options, a proposal's outcome: written for the club
    ("polls", "kind"), ("polls", "outcome"), ("poll_slots", "label"),
    ("group_funding", "funder"),  # an organisation's name (ADEME, the Région…), not a person's
    ("charter_adoptions", "version"), ("charter_posts", "version"), ("charter_posts", "room_id")}


def test_every_text_column_is_known_to_the_personal_data_rules() -> None:
    from sqlalchemy import String, Text

    from storage.models import Base
    from storage.personal import HOLDERS

    known = ({(h.model.__tablename__, h.column) for h in HOLDERS} | READ_EXACTLY | FREE_TEXT
             | EVENT_IDS | NOT_PERSONAL | GUEST_NAMES)
    columns = {(table.name, column.name) for table in Base.metadata.sorted_tables
               for column in table.columns if isinstance(column.type, String | Text)}
    assert columns - known == set()
    assert known - columns == set()


async def test_the_messages_purge_keeps_any_number_of_needed_messages(db: Database) -> None:
    """The messages still needed may be many (each adoptable charter message, every open
    poll's): more than a statement takes parameters (32,767 on PostgreSQL, 32,766 on SQLite)."""
    needed = {f"needed-{index}" for index in range(40_000)}
    async with db.transaction() as repos:
        for txn in ("needed-7", "needed-39999", "gone"):
            row = await repos.outbox.add(txn_id=txn, room_id="!r:x", content={}, created_at=AT)
            assert row is not None
            await repos.outbox.mark_sent(row.id, f"${txn}", AT)
    async with db.transaction() as repos:
        assert await repos.personal.purge_messages(datetime(2031, 1, 1, tzinfo=UTC),
                                                   needed) == (0, 1)
    async with db.transaction() as repos:
        assert await repos.outbox.event_ids_of(["needed-7", "needed-39999", "gone"]) == {
            "needed-7": "$needed-7", "needed-39999": "$needed-39999"}
