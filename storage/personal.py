"""Personal data by exact key: where each person's Matrix id is held, everything held about one
person, its erasure (pseudonym, neutral marker, event ids dropped) and the people the retention
purge reaches. A person is found only where a column holds their exact id: the columns of
``HOLDERS``, the link tables ``outbox_people`` and ``audit_people``, and two structured texts
parsed exactly (an agenda item's space-separated presenters, a published agenda's JSON); never
by substring, never by display name. See docs/privacy.md."""

from __future__ import annotations

import html
import json
import re
import secrets
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import unquote

from sqlalchemy import Table, bindparam, delete, func, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AgendaItem,
    AgendaState,
    AgendaSuggestion,
    AgendaSupport,
    AuditEntry,
    AuditPerson,
    Base,
    BotState,
    GroupMember,
    GroupNeed,
    GroupProgress,
    InboxEvent,
    Initiative,
    Meeting,
    MeetingAttendance,
    MeetingRsvp,
    OutboxMessage,
    OutboxPerson,
    Participant,
    ParticipantYear,
    Person,
    Poll,
    PollVote,
    ProjectGroup,
    Reminder,
    Remontee,
    Welcome,
)
from storage.participants import state_keys
from storage.statements import table

# A user id as the spec's grammar has it (historical localparts included).
_USER_ID = re.compile(r"@[\x21-\x39\x3b-\x7e]+:(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)"
                      r"(?::[0-9]{1,5})?")
PILL_PREFIX = "https://matrix.to/#/"
# A pill's target as the bot writes it (in HTML: the href's value; its ``?via=`` left out).
_PILL = re.compile(r"https://matrix\.to/#/((?:@|%40)[^\"'<>\s)?]+)")
# A pill in HTML, the whole link (its label may be a display name).
_PILL_LINK = re.compile(r"<a href=\"https://matrix\.to/#/((?:@|%40)[^\"]+)\"[^>]*>.*?</a>",
                        re.DOTALL)
REDACTED = json.dumps({"redacted": True})
ERASED_KEY = "personal_data_erased"  # session.info: tables whose rows were erased (db.py)


def is_user_id(value: str) -> bool:
    return _USER_ID.fullmatch(value) is not None


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
            elif PILL_PREFIX in value:
                found.update(target for target in map(_pill_target, _PILL.findall(value))
                             if is_user_id(target))

    walk(content, "")
    return found


def presenters(value: str | None) -> list[str]:
    """An agenda item's presenters (space-separated ids)."""
    return (value or "").split()


def _published_presenters(published: str) -> set[str]:
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
    Holder(Initiative, "created_by", "created_at"),
    Holder(AuditEntry, "actor", "at"),
    Holder(Person, "user_id", "updated_at"),
    Holder(Meeting, "created_by", "created_at"),
    Holder(Meeting, "organiser", "created_at"),
    Holder(MeetingRsvp, "user_id", "at"),
    Holder(MeetingAttendance, "user_id", "recorded_at"),
    Holder(Poll, "created_by", "created_at"),
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
)
# Rows removed, not kept under the pseudonym: what only served the person.
DELETED_ON_ERASURE = (Person, Welcome, Reminder)
# Free text a person wrote, by the column naming its author.
AUTHORED = ((GroupProgress, "author", ("text",)), (GroupNeed, "created_by", ("text",)),
            (AgendaSuggestion, "author", ("text",)), (Remontee, "author", ("text",)))


@dataclass(frozen=True)
class AuditFacts:
    """An audit entry, as the erasure of a person reads it."""

    subject: str
    subject_id: int
    action: str
    details: Mapping[str, Any]


class Erasure(Protocol):
    """What erasing a person needs besides their id (built by ``commands.reports.erasure``)."""

    @property
    def pseudonym(self) -> str: ...  # their stand-in in every count
    @property
    def marker(self) -> str: ...  # replaces the free text they wrote
    @property
    def now(self) -> datetime: ...
    @property
    def commands_since(self) -> datetime: ...  # their commands since then: bare event ids kept
    @property
    def needed(self) -> Collection[str]: ...  # transaction ids of messages still referenced
    @property
    def descriptions(self) -> Collection[int]: ...  # groups whose description they wrote

    @property
    def copies(self) -> Collection[tuple[str, str]]:
        """(subject, action) of the audit entries of others that may copy their text."""
        ...

    def authored(self, entry: AuditFacts, theirs: bool) -> Collection[str]:
        """The keys of an audit entry's details holding text they wrote (``theirs``: they
        are its actor)."""
        ...

    def search_key(self, name: str, description: str, commune: str) -> str:
        """An initiative's search key from its name, description and commune."""
        ...


class PersonalDataRepository:
    """Everything held about a person, its erasure, and when each person last took part."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- access (!mes-donnees) ----------------------------------------------------------------

    async def everything_about(self, user_id: str) -> dict[str, list[dict[str, Any]]]:
        """Every row naming ``user_id`` exactly (with their ``bot_state`` facts), by table; a
        file's data is left out of the outbox rows."""
        found: dict[str, list[dict[str, Any]]] = {}
        conditions: dict[Table, list[Any]] = {}
        for holder in HOLDERS:
            conditions.setdefault(holder.table, []).append(holder.table.c[holder.column] == user_id)
        outbox, audit = table(OutboxMessage), table(AuditEntry)
        conditions.setdefault(outbox, []).append(outbox.c.id.in_(
            select(OutboxPerson.outbox_id).where(OutboxPerson.user_id == user_id)))
        conditions[audit].append(audit.c.id.in_(
            select(AuditPerson.audit_id).where(AuditPerson.user_id == user_id)))
        items = table(AgendaItem)
        conditions[items].append(items.c.id.in_(await self._presenting(user_id)))
        conditions[table(BotState)] = [table(BotState).c.key.in_(state_keys(user_id))]
        for target in Base.metadata.sorted_tables:
            if target in conditions:
                rows = (await self.session.execute(
                    select(target).where(or_(*conditions[target])))).mappings()
                kept = [_exported(target.name, row) for row in rows]
                if kept:
                    found[target.name] = kept
        states = [_exported("agenda_states", row) for row in
                  (await self.session.execute(select(table(AgendaState)))).mappings()
                  if user_id in _published_presenters(row["published"])]
        if states:
            found["agenda_states"] = states
        for link, name in ((OutboxPerson, "outbox_people"), (AuditPerson, "audit_people")):
            rows = (await self.session.execute(
                select(table(link)).where(table(link).c.user_id == user_id))).mappings()
            kept = [_exported(name, row) for row in rows]
            if kept:
                found[name] = kept
        return found

    async def _presenting(self, user_id: str) -> list[int]:
        """The agenda items ``user_id`` presents (their presenters split and compared)."""
        rows = await self.session.execute(select(AgendaItem.id, AgendaItem.presenter)
                                          .where(AgendaItem.presenter.is_not(None)))
        return [item for item, names in rows.all() if user_id in presenters(names)]

    # --- erasure ------------------------------------------------------------------------------

    async def forget(self, user_id: str, erasure: Erasure) -> None:
        """Erases ``user_id``: what only served them is deleted (mention preference, welcome,
        reminders, direct room), their profile cleared, the free text they wrote replaced by
        the marker, the event ids of their commands, votes and reactions dropped, the messages
        the bot sent about them blanked (pending ones withdrawn, or losing them when they
        concern others too), and their id replaced by the pseudonym in every other column that
        holds it, so every count stays."""
        session, pseudonym = self.session, erasure.pseudonym
        for model in DELETED_ON_ERASURE:
            holder = next(h for h in HOLDERS if h.model is model)
            await session.execute(delete(holder.table).where(
                holder.table.c[holder.column] == user_id))
        await session.execute(delete(table(BotState)).where(
            table(BotState).c.key.in_(state_keys(user_id))))
        await session.execute(update(table(Participant))
                              .where(table(Participant).c.user_id == user_id)
                              .values(territory=None, commune=None, category=None,
                                      consent_at=None))
        await self._erase_texts(user_id, erasure)
        await self._erase_audit(user_id, erasure)
        await session.execute(update(table(PollVote)).where(table(PollVote).c.user_id == user_id)
                              .values(event_id=""))
        await session.execute(update(table(AgendaSupport))
                              .where(table(AgendaSupport).c.user_id == user_id)
                              .values(reaction_event_id=None))
        await self._erase_commands(user_id, erasure.commands_since)
        await self._erase_messages(user_id, erasure)
        for holder in HOLDERS:
            if holder.model not in DELETED_ON_ERASURE and holder.model is not InboxEvent:
                await session.execute(update(holder.table)
                                      .where(holder.table.c[holder.column] == user_id)
                                      .values({holder.column: pseudonym}))
        await self._replace_presenters(user_id, pseudonym)
        erased = session.info.setdefault(ERASED_KEY, set())
        erased.update(target.name for target in Base.metadata.sorted_tables)

    async def _erase_texts(self, user_id: str, erasure: Erasure) -> None:
        marker = erasure.marker
        for model, author, columns in AUTHORED:
            target = table(model)
            await self.session.execute(update(target).where(target.c[author] == user_id)
                                       .values({column: marker for column in columns}))
        if erasure.descriptions:
            groups = table(ProjectGroup)
            await self.session.execute(update(groups).where(
                groups.c.id.in_(list(erasure.descriptions)), groups.c.description != "")
                .values(description=marker))
        initiatives = table(Initiative)
        rows = (await self.session.execute(
            select(initiatives.c.id, initiatives.c.name, initiatives.c.description,
                   initiatives.c.contact, initiatives.c.commune)
            .where(initiatives.c.created_by == user_id))).all()
        for item, name, description, contact, commune in rows:
            description = marker if description else ""
            await self.session.execute(update(initiatives).where(initiatives.c.id == item).values(
                description=description, contact=marker if contact else "",
                search_key=erasure.search_key(name, description, commune)))

    async def _erase_audit(self, user_id: str, erasure: Erasure) -> None:
        """Their entries lose what they typed and their reactions' event ids; entries naming
        them (``audit_people``) name the pseudonym instead."""
        audit = table(AuditEntry)
        named = select(AuditPerson.audit_id).where(AuditPerson.user_id == user_id)
        copies = [(audit.c.subject == subject) & (audit.c.action == action)
                  for subject, action in erasure.copies]
        rows = (await self.session.execute(
            select(audit.c.id, audit.c.actor, audit.c.subject, audit.c.subject_id,
                   audit.c.action, audit.c.details)
            .where(or_(audit.c.actor == user_id, audit.c.id.in_(named), *copies)))).all()
        named_ids = set((await self.session.scalars(named)).all())
        changes = []
        for entry, actor, subject, subject_id, action, text in rows:
            details = _json_object(text)
            if details is None:
                continue
            theirs = actor == user_id
            new = _renamed_in_details(details, user_id, erasure.pseudonym) \
                if entry in named_ids else dict(details)
            if theirs:
                new.pop("reaction", None)
            for key in erasure.authored(AuditFacts(subject, subject_id, action, details), theirs):
                if key in new:
                    new[key] = erasure.marker
            if new != details:
                changes.append({"b_id": entry, "b_details": json.dumps(new, ensure_ascii=False)})
        if changes:
            await self.session.execute(
                update(audit).where(audit.c.id == bindparam("b_id"))
                .values(details=bindparam("b_details")), changes)
        links = table(AuditPerson)
        await self.session.execute(update(links).where(links.c.user_id == user_id)
                                   .values(user_id=erasure.pseudonym))

    async def _erase_commands(self, user_id: str, since: datetime) -> None:
        """Their commands: gone, except those recent enough to come back in a sync, which stay
        as bare event ids (a command seen again is not run twice) until the nightly purge."""
        inbox = table(InboxEvent)
        await self.session.execute(delete(inbox).where(inbox.c.sender == user_id,
                                                       inbox.c.sent_at < since))
        await self.session.execute(update(inbox).where(inbox.c.sender == user_id)
                                   .values(sender="", body="", room_id="", thread_root=None))

    async def _erase_messages(self, user_id: str, erasure: Erasure) -> None:
        """Messages the bot sent about them are blanked (their event id and transaction id
        dropped, unless a later message needs them); pending ones about them alone are
        withdrawn (blanked and marked sent: the sender skips them), the others lose them. No
        row is deleted: a row being sent at that moment keeps its id (see ``outbox_sent``)."""
        outbox, links = table(OutboxMessage), table(OutboxPerson)
        rows = (await self.session.execute(
            select(outbox.c.id, outbox.c.txn_id, outbox.c.sent_at, outbox.c.content)
            .where(outbox.c.id.in_(select(links.c.outbox_id)
                                   .where(links.c.user_id == user_id))))).all()
        others = set((await self.session.scalars(
            select(links.c.outbox_id).where(links.c.outbox_id.in_([row[0] for row in rows]),
                                            links.c.user_id != user_id))).all()) if rows else set()
        for message, txn, sent_at, content in rows:
            needed = txn in erasure.needed
            values: dict[str, Any] = {"content": REDACTED}
            if sent_at is None and (message in others or needed):
                values = {"content": without_person(content, user_id, erasure.pseudonym)}
            elif not needed:
                values.update(event_id=None, txn_id=f"cct-erased-{secrets.token_hex(16)}",
                              sent_at=sent_at or erasure.now)
            await self.session.execute(update(outbox).where(outbox.c.id == message)
                                       .values(values))
        await self.session.execute(delete(links).where(links.c.user_id == user_id))

    async def _replace_presenters(self, user_id: str, pseudonym: str) -> None:
        items = table(AgendaItem)
        for item in await self._presenting(user_id):
            names = await self.session.scalar(select(items.c.presenter)
                                              .where(items.c.id == item))
            await self.session.execute(update(items).where(items.c.id == item).values(
                presenter=" ".join(pseudonym if n == user_id else n for n in presenters(names))))
        states = table(AgendaState)
        rows = (await self.session.execute(select(states.c.meeting_id, states.c.published))).all()
        for meeting, published in rows:
            if user_id not in _published_presenters(published):
                continue
            lines = json.loads(published)
            for line in lines:
                if isinstance(line, dict) and line.get("presenters"):
                    line["presenters"] = [pseudonym if p == user_id else p
                                          for p in line["presenters"]]
            await self.session.execute(update(states).where(states.c.meeting_id == meeting)
                                       .values(published=json.dumps(lines, ensure_ascii=False)))

    async def needs_of(self, user_id: str) -> list[tuple[int, str]]:
        """(group id, text) of the needs ``user_id`` wrote."""
        return [(group, text) for group, text in (await self.session.execute(
            select(GroupNeed.group_id, GroupNeed.text)
            .where(GroupNeed.created_by == user_id))).all()]

    async def group_creators(self) -> list[tuple[int, str]]:
        """(group id, creator) of every group."""
        return [(group, creator) for group, creator in (await self.session.execute(
            select(ProjectGroup.id, ProjectGroup.created_by))).all()]

    async def audit_details(self, subject: str, action: str) -> list[tuple[int, str, dict[str, Any]]]:
        """(subject id, actor, details) of the audit entries of one kind, oldest first."""
        audit = table(AuditEntry)
        rows = await self.session.execute(
            select(audit.c.subject_id, audit.c.actor, audit.c.details)
            .where(audit.c.subject == subject, audit.c.action == action)
            .order_by(audit.c.at, audit.c.id))
        return [(subject_id, actor, _json_object(details) or {})
                for subject_id, actor, details in rows.all()]

    # --- retention ----------------------------------------------------------------------------

    async def last_activity(self) -> dict[str, datetime]:
        """Each person the bot recorded anywhere (by exact id; pseudonyms left out), and their
        latest activity: the latest time of any row naming them (see ``HOLDERS``; a message
        about them: when it was queued; an audit entry naming them: its time; a pending
        reminder of theirs: when it is due; an agenda item they present: its creation; a
        published agenda naming them: its publication)."""
        parts = [select(h.table.c[h.column].label("user_id"), h.table.c[h.at].label("at"))
                 .where(h.table.c[h.at].is_not(None)) for h in HOLDERS]
        outbox, audit = table(OutboxMessage), table(AuditEntry)
        reminders, items, states = table(Reminder), table(AgendaItem), table(AgendaState)
        parts += [
            select(OutboxPerson.user_id, outbox.c.created_at)
            .join_from(table(OutboxPerson), outbox, outbox.c.id == OutboxPerson.outbox_id),
            select(AuditPerson.user_id, audit.c.at)
            .join_from(table(AuditPerson), audit, audit.c.id == AuditPerson.audit_id),
            select(reminders.c.owner, reminders.c.send_at).where(reminders.c.status == "pending"),
        ]
        every = union_all(*parts).subquery()
        rows = await self.session.execute(select(every.c.user_id, func.max(every.c.at))
                                          .group_by(every.c.user_id))
        latest: dict[str, datetime] = {}
        found: list[tuple[Iterable[str], datetime]] = [([user], _utc(at))
                                                       for user, at in rows.all()]
        for names, at in (await self.session.execute(
                select(items.c.presenter, items.c.created_at)
                .where(items.c.presenter.is_not(None)))).all():
            found.append((presenters(names), at))
        for published, at in (await self.session.execute(
                select(states.c.published, states.c.published_at)
                .where(states.c.published_at.is_not(None)))).all():
            found.append((_published_presenters(published), at))
        for people, at in found:
            for user in people:
                if is_user_id(user) and (user not in latest or at > latest[user]):
                    latest[user] = at
        return latest

    async def inactive_since(self, before: datetime) -> list[str]:
        """Everyone recorded whose latest activity is older than ``before``."""
        return sorted(user for user, at in (await self.last_activity()).items() if at < before)

    async def purge_messages(self, before: datetime, needed: Collection[str]) -> tuple[int, int]:
        """Deletes the commands handled and the messages sent (or set aside as failed) before
        ``before``, except the messages still referenced (``needed``: transaction ids); returns
        how many of each."""
        inbox, outbox = table(InboxEvent), table(OutboxMessage)
        commands = await self.session.execute(delete(inbox).where(
            inbox.c.handled_at.is_not(None), inbox.c.handled_at < before))
        condition = [or_(outbox.c.sent_at < before, outbox.c.failed_at < before)]
        if needed:
            condition.append(outbox.c.txn_id.not_in(list(needed)))
        messages = await self.session.execute(delete(outbox).where(*condition))
        counts = int(commands.rowcount or 0), int(messages.rowcount or 0)  # type: ignore[attr-defined]
        if any(counts):
            self.session.info.setdefault(ERASED_KEY, set()).update({"inbox", "outbox"})
        return counts

    async def purge_bare_commands(self, before: datetime) -> int:
        """Deletes the bare event ids left by erasures (commands sent before ``before``)."""
        inbox = table(InboxEvent)
        result = await self.session.execute(delete(inbox).where(inbox.c.sender == "",
                                                                inbox.c.sent_at < before))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


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
            return token.sub(pseudonym, pills(value) if PILL_PREFIX in value else value)
        return value

    return json.dumps(walk(data, ""), ensure_ascii=False)


def _utc(moment: datetime | str) -> datetime:
    """An aggregate (``max``) bypasses the column type: SQLite gives naive UTC text back."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _renamed_in_details(details: dict[str, Any], user_id: str, pseudonym: str) -> dict[str, Any]:
    """An audit entry's details with ``user_id`` replaced where it names a person (``user``,
    ``people``)."""
    new = dict(details)
    if new.get("user") == user_id:
        new["user"] = pseudonym
    if isinstance(new.get("people"), list):
        new["people"] = [pseudonym if person == user_id else person for person in new["people"]]
    return new


def audit_people(details: Mapping[str, Any]) -> set[str]:
    """The people an audit entry's details name (``user``, ``people``), exactly."""
    named = [details.get("user"), *(details.get("people") or ())]
    return {person for person in named if isinstance(person, str) and is_user_id(person)}


def _exported(table_name: str, row: Mapping[Any, Any]) -> dict[str, Any]:
    values = {key: _jsonable(value) for key, value in row.items()}
    if table_name == "outbox" and isinstance(values.get("content"), dict):
        values["content"] = {k: v for k, v in values["content"].items() if k != "data"}
    return values


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
