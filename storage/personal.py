"""Where a person's Matrix id is held, exactly: the columns of ``HOLDERS``, the link tables
``outbox_people`` and ``audit_people``, and two structured texts parsed exactly (an agenda
item's space-separated presenters, a published agenda's JSON); never by substring, never by
display name. What reads them: ``storage.personal_data`` (access, last activity, purges) and
``storage.erasure``. See docs/privacy.md."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from matrix_ids import MATRIX_TO, is_user_id
from storage.models import (
    Action,
    AgendaItem,
    AgendaSuggestion,
    AgendaSupport,
    AuditEntry,
    Base,
    CharterAdoption,
    CharterPost,
    GroupFunding,
    GroupMember,
    GroupNeed,
    GroupProgress,
    InboxEvent,
    Initiative,
    Meeting,
    MeetingAttendance,
    MeetingRsvp,
    Participant,
    ParticipantYear,
    Person,
    Poll,
    PollComment,
    PollVote,
    ProjectGroup,
    Reminder,
    Remontee,
    RemonteeSupport,
    Welcome,
)
from storage.statements import table

# A pill's target as the bot writes it (in HTML: the href's value; its ``?via=`` left out).
_PILL = re.compile(re.escape(MATRIX_TO) + r"((?:@|%40)[^\"'<>\s)?]+)")
# A pill in HTML, the whole link (its label may be a display name).
_PILL_LINK = re.compile(r"<a href=\"" + re.escape(MATRIX_TO) + r"((?:@|%40)[^\"]+)\"[^>]*>.*?</a>",
                        re.DOTALL)
REDACTED = json.dumps({"redacted": True})
ERASED_KEY = "personal_data_erased"  # session.info: tables whose rows were erased (db.py)


def _pill_target(raw: str) -> str:
    """A pill's user id as written in a link (HTML-escaped, maybe URL-encoded)."""
    return unquote(html.unescape(raw)).split("?")[0]


def people_in(content: Any) -> set[str]:
    """The people a message's content names, exactly: ``m.mentions.user_ids``, an invite's
    ``user_id`` and the user ids of the pills (``https://matrix.to/#/@…`` links) the bot wrote;
    a file's ``data`` is not read."""
    found: set[str] = set()

    def walk(value: Any, key: str) -> None:
        if isinstance(value, dict):
            for name, item in value.items():
                if name != "data":
                    walk(item, name)
        elif isinstance(value, list):
            for item in value:
                walk(item, key)
        elif isinstance(value, str):
            if key in ("user_ids", "user_id"):
                if is_user_id(value):
                    found.add(value)
            elif MATRIX_TO in value:
                found.update(target for target in map(_pill_target, _PILL.findall(value))
                             if is_user_id(target))

    walk(content, "")
    return found


def presenters(value: str | None) -> list[str]:
    """An agenda item's presenters (space-separated ids)."""
    return (value or "").split()


def published_presenters(published: str) -> set[str]:
    """The presenters a published agenda (JSON) names."""
    try:
        lines = json.loads(published or "[]")
    except ValueError:
        return set()
    return {str(user) for line in lines if isinstance(line, dict)
            for user in line.get("presenters") or ()}


@dataclass(frozen=True)
class Holder:
    """A column holding one person's exact Matrix id, and the column of the same row telling
    when they did (or were recorded doing) what the row records."""

    model: type[Base]
    column: str
    at: str

    @property
    def table(self) -> Table:
        return table(self.model)


HOLDERS = (
    Holder(InboxEvent, "sender", "sent_at"),
    Holder(Welcome, "user_id", "welcomed_at"),
    Holder(ProjectGroup, "created_by", "created_at"),
    Holder(GroupMember, "user_id", "joined_at"),
    Holder(GroupProgress, "author", "created_at"),
    Holder(GroupNeed, "created_by", "created_at"),
    Holder(GroupFunding, "created_by", "created_at"),
    Holder(Initiative, "created_by", "created_at"),
    Holder(AuditEntry, "actor", "at"),
    Holder(Person, "user_id", "updated_at"),
    Holder(Meeting, "created_by", "created_at"),
    Holder(Meeting, "organiser", "created_at"),
    Holder(MeetingRsvp, "user_id", "at"),
    Holder(MeetingAttendance, "user_id", "recorded_at"),
    Holder(Poll, "created_by", "created_at"),
    Holder(Poll, "outcome_by", "outcome_at"),
    Holder(PollVote, "user_id", "voted_at"),
    Holder(AgendaSuggestion, "author", "created_at"),
    Holder(AgendaSuggestion, "decided_by", "decided_at"),
    Holder(AgendaSupport, "user_id", "at"),
    Holder(AgendaItem, "created_by", "created_at"),
    Holder(Remontee, "author", "created_at"),
    Holder(Remontee, "sent_by", "sent_at"),
    Holder(Remontee, "answered_by", "answered_at"),
    Holder(Reminder, "owner", "created_at"),
    Holder(Participant, "user_id", "last_seen"),
    Holder(ParticipantYear, "user_id", "first_at"),
    Holder(Action, "assignee", "created_at"),
    Holder(Action, "created_by", "created_at"),
    Holder(Action, "closed_by", "closed_at"),
    Holder(PollComment, "author", "created_at"),
    Holder(RemonteeSupport, "user_id", "at"),
    Holder(CharterAdoption, "user_id", "at"),
    Holder(CharterPost, "asked_by", "posted_at"),
)
# Rows removed, not kept under the pseudonym: what only served the person.
DELETED_ON_ERASURE = (Person, Welcome, Reminder, CharterAdoption, CharterPost)
# Free text a person wrote, by the column naming its author.
AUTHORED = ((GroupProgress, "author", ("text",)), (GroupNeed, "created_by", ("text",)),
            (AgendaSuggestion, "author", ("text",)), (Remontee, "author", ("text",)),
            (PollVote, "user_id", ("reason",)), (PollComment, "author", ("text",)))


async def presenting(session: AsyncSession, user_id: str) -> list[int]:
    """The agenda items ``user_id`` presents (their presenters split and compared)."""
    rows = await session.execute(select(AgendaItem.id, AgendaItem.presenter)
                                 .where(AgendaItem.presenter.is_not(None)))
    return [item for item, names in rows.all() if user_id in presenters(names)]


def without_person(content: str, user_id: str, pseudonym: str) -> str:
    """A pending message's content (JSON) that no longer names ``user_id``: out of
    ``m.mentions``, their pills become the pseudonym (as text), their id in plain text too. A
    content that is not JSON (damaged by an older erasure) is blanked."""
    try:
        data = json.loads(content)
    except ValueError:
        return REDACTED
    token = re.compile(rf"(?<![\w@.:+=/-]){re.escape(user_id)}(?!\.?[\w:-])")

    def pills(text: str) -> str:
        return _PILL_LINK.sub(lambda m: html.escape(pseudonym) if _pill_target(m.group(1))
                              == user_id else m.group(0), text)

    def walk(value: Any, key: str) -> Any:
        if isinstance(value, dict):
            return {name: item if name == "data" else walk(item, name)
                    for name, item in value.items()}
        if isinstance(value, list):
            kept = [item for item in value if not (key == "user_ids" and item == user_id)]
            return [walk(item, key) for item in kept]
        if isinstance(value, str):
            return token.sub(pseudonym, pills(value) if MATRIX_TO in value else value)
        return value

    return json.dumps(walk(data, ""), ensure_ascii=False)


def json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def renamed_in_details(details: dict[str, Any], user_id: str, pseudonym: str) -> dict[str, Any]:
    """An audit entry's details with ``user_id`` replaced where it names a person (``user``,
    ``people``)."""
    new = dict(details)
    if new.get("user") == user_id:
        new["user"] = pseudonym
    if isinstance(new.get("people"), list):
        new["people"] = [pseudonym if person == user_id else person for person in new["people"]]
    return new


def only_them_in_details(details: dict[str, Any], user_id: str) -> dict[str, Any]:
    """An audit entry's details naming no one but ``user_id`` (``user``, ``people``): what a
    person's copy of their data keeps of an entry about others too (an attendance list)."""
    new = dict(details)
    if new.get("user") not in (None, user_id):
        del new["user"]
    if isinstance(new.get("people"), list):
        new["people"] = [person for person in new["people"] if person == user_id]
    return new


def audit_people(details: Mapping[str, Any]) -> set[str]:
    """The people an audit entry's details name (``user``, ``people``), exactly."""
    named = [details.get("user"), *(details.get("people") or ())]
    return {person for person in named if isinstance(person, str) and is_user_id(person)}
