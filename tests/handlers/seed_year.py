"""A seeded year (2026) of the club: 200 participants, rencontres, groups, votes, RSVPs,
suggestions and remontées, with the exact figures it must give. Every activity goes through the
repository method the bot writes it with, so the participation ledger is fed as in real use."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from storage.db import Database
from storage.models import AgendaSuggestion, ProjectGroup, Remontee

PARIS = ZoneInfo("Europe/Paris")
YEAR = 2026


def user(n: int) -> str:
    return f"@p{n:03d}:example.org"


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


EXPECTED = {
    "participants_year": 200, "participants_total": 201, "new_participants": 200,
    "attended": 85, "meetings_held": 3, "attendance_total": 115, "active_groups": 2,
    "by_territory": {"nord": 60, "non-renseigne": 100, "sud": 40},
    "by_category": {"elu": 10, "habitant": 30, "non-renseigne": 160},
    "groups_by_status": {"en-cours": 1, "idee": 1},
    "suggestions": {"acceptee": 2, "proposee": 1}, "remontees": {"nouvelle": 1, "repondue": 1},
}


async def seed(db: Database) -> None:
    async with db.transaction() as repos:
        people = repos.participants
        for n in range(150):  # used the bot during the year
            at = paris(YEAR, n % 12 + 1, 10, 12)
            await people.took_part([user(n)], at, YEAR)
            values: dict[str, str] = {}
            if n < 60:
                values["territory"] = "nord"
            elif n < 100:
                values["territory"] = "sud"
            if n < 30:
                values["category"] = "habitant"
            elif n < 40:
                values["category"] = "elu"
            if values:
                await people.set_profile(user(n), at, **values)
        await people.took_part(["@old:example.org"], paris(2025, 5, 1, 10), 2025)
        # 1 January 2027 at 00:30 in Paris is still 2026 in UTC: next year's.
        await people.took_part(["@next:example.org"], paris(2027, 1, 1, 0, 30), 2027)

        s = repos.session
        meetings = []
        for when, status in ((paris(2025, 11, 5, 18), "tenue"), (paris(YEAR, 3, 20, 18), "tenue"),
                             (paris(YEAR, 6, 12, 18), "tenue"), (paris(YEAR, 9, 10, 18), "annulee"),
                             (paris(YEAR, 11, 5, 18), "tenue")):
            meeting = await repos.meetings.create(starts_at=when, ends_at=when, place="Embrun",
                                                  territory="commun", created_by=user(0), at=when)
            meeting.status = status
            meetings.append(meeting)
        old, m1, m2, _cancelled, m4 = meetings
        attendance = {old.id: ["@old:example.org"],
                      m1.id: [user(n) for n in [*range(40), *range(195, 200)]],
                      m2.id: [user(n) for n in range(20, 80)],
                      m4.id: [user(n) for n in range(10)]}
        for meeting_id, users in attendance.items():
            await repos.meetings.set_attendance(meeting_id, users, paris(YEAR, 12, 1), tz=PARIS)
        for n in range(190, 195):
            await repos.meetings.set_rsvp(m4.id, user(n), "present", paris(YEAR, 10, 1), tz=PARIS)
        groups = []
        for index, (status, created) in enumerate((("en-cours", paris(YEAR, 2, 1)),
                                                   ("idee", paris(YEAR, 4, 1)),
                                                   ("archive", paris(YEAR, 5, 1)),
                                                   ("idee", paris(2027, 2, 1)))):
            group = ProjectGroup(slug=f"g{index}", name=f"Groupe {index}", name_key=f"g{index}",
                                 description="", theme="energie", territory="sud", status=status,
                                 funding="", created_by=user(0), created_at=created,
                                 updated_at=created)
            s.add(group)
            groups.append(group)
        await s.flush()
        for n in [0, *range(150, 170)]:
            await repos.groups.add_member(groups[0].id, user(n), paris(YEAR, 3, 15), tz=PARIS,
                                          referent=n == 0)
        for n in range(170, 180):
            await repos.groups.add_member(groups[1].id, user(n), paris(YEAR, 4, 15), tz=PARIS)
        poll = await repos.polls.create(question="Date ?", territory="tous", room_id="!r:x",
                                        closes_at=None, created_by=user(0), at=paris(YEAR, 4, 1))
        slot = await repos.polls.add_slot(poll.id, 1, paris(YEAR, 6, 12, 18), paris(YEAR, 6, 12, 20))
        for n in range(180, 190):
            await repos.polls.cast(poll_id=poll.id, user_id=user(n), answers=[(slot.id, "yes")],
                                   source="text", at=paris(YEAR, 5, 1), event_id=f"$v{n}", tz=PARIS)
        for status in ("acceptee", "acceptee", "proposee"):
            s.add(AgendaSuggestion(meeting_id=m2.id, author=user(1), text="Un point", status=status,
                                   reason="", room_id="!r:x", confirmation_txn="t",
                                   created_at=paris(YEAR, 6, 1)))
        for status in ("nouvelle", "repondue"):
            s.add(Remontee(author=user(2), room_id="!r:x", text="Des bus", status=status,
                           created_at=paris(YEAR, 7, 1), answer=""))
