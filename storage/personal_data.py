"""Personal data by exact key, as a repository: everything held about one person (their
copy), their erasure (``storage.erasure``), each person's last activity and the retention
purges. Where a person's id is held: ``storage.personal``. See docs/privacy.md."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from matrix_ids import is_user_id
from storage.erasure import Erasure, forget
from storage.models import (
    AgendaItem,
    AgendaState,
    AuditEntry,
    AuditPerson,
    Base,
    BotState,
    CapUse,
    GroupNeed,
    InboxEvent,
    OutboxMessage,
    OutboxPerson,
    ProjectGroup,
    Reminder,
)
from storage.models.base import aware
from storage.participants import state_keys
from storage.personal import (
    ERASED_KEY,
    HOLDERS,
    json_object,
    only_them_in_details,
    presenters,
    presenting,
    published_presenters,
)
from storage.statements import table

PURGE_CHUNK = 1000  # messages deleted by one statement (its parameters are bounded)


class PersonalDataRepository:
    """Everything held about a person, its erasure, and when each person last took part."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- access (!mes-donnees) ----------------------------------------------------------------

    async def everything_about(self, user_id: str) -> dict[str, list[dict[str, Any]]]:
        """Every row naming ``user_id`` exactly (with their ``bot_state`` facts), by table; a
        file's data is left out of the outbox rows, the text of messages that concern other
        people too, and the other people an audit entry names."""
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
        conditions[items].append(items.c.id.in_(await presenting(self.session, user_id)))
        conditions[table(BotState)] = [table(BotState).c.key.in_(state_keys(user_id))]
        conditions[table(CapUse)] = [table(CapUse).c.user_id == user_id]
        for target in Base.metadata.sorted_tables:
            if target in conditions:
                rows = (await self.session.execute(
                    select(target).where(or_(*conditions[target])))).mappings()
                kept = [_exported(target.name, row) for row in rows]
                if kept:
                    found[target.name] = kept
        states = [_exported("agenda_states", row) for row in
                  (await self.session.execute(select(table(AgendaState)))).mappings()
                  if user_id in published_presenters(row["published"])]
        if states:
            found["agenda_states"] = states
        await self._withhold_shared(found.get("outbox", []), user_id)
        for entry in found.get("audit_log", []):
            if isinstance(entry.get("details"), dict):
                entry["details"] = only_them_in_details(entry["details"], user_id)
        for link, name in ((OutboxPerson, "outbox_people"), (AuditPerson, "audit_people")):
            rows = (await self.session.execute(
                select(table(link)).where(table(link).c.user_id == user_id))).mappings()
            kept = [_exported(name, row) for row in rows]
            if kept:
                found[name] = kept
        return found

    async def _withhold_shared(self, messages: list[dict[str, Any]], user_id: str) -> None:
        """The messages that concern other people too (a list of registrations shown to the
        organisers…) keep their room, times and event, not their text: no other person's
        message reaches a person's copy."""
        if not messages:
            return
        theirs = select(OutboxPerson.outbox_id).where(OutboxPerson.user_id == user_id)
        shared = set((await self.session.scalars(select(OutboxPerson.outbox_id).where(
            OutboxPerson.outbox_id.in_(theirs), OutboxPerson.user_id != user_id))).all())
        for row in messages:
            if row["id"] in shared:
                row["content"] = None
                row["content_withheld"] = "it concerns other people too"

    # --- erasure ------------------------------------------------------------------------------

    async def forget(self, user_id: str, erasure: Erasure) -> None:
        """Erases ``user_id`` (``storage.erasure.forget``)."""
        await forget(self.session, user_id, erasure)

    async def needs_of(self, user_id: str) -> list[tuple[int, str]]:
        """(group id, text) of the needs ``user_id`` wrote."""
        return [(group, text) for group, text in (await self.session.execute(
            select(GroupNeed.group_id, GroupNeed.text)
            .where(GroupNeed.created_by == user_id))).all()]

    async def group_creators(self) -> list[tuple[int, str]]:
        """(group id, creator) of every group."""
        return [(group, creator) for group, creator in (await self.session.execute(
            select(ProjectGroup.id, ProjectGroup.created_by))).all()]

    async def audit_details(self, subject: str, action: str
                            ) -> list[tuple[int, int, str, dict[str, Any]]]:
        """(entry id, subject id, actor, details) of the audit entries of one kind, oldest
        first."""
        audit = table(AuditEntry)
        rows = await self.session.execute(
            select(audit.c.id, audit.c.subject_id, audit.c.actor, audit.c.details)
            .where(audit.c.subject == subject, audit.c.action == action)
            .order_by(audit.c.at, audit.c.id))
        return [(entry, subject_id, actor, json_object(details) or {})
                for entry, subject_id, actor, details in rows.all()]

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
        found: list[tuple[Iterable[str], datetime]] = [([user], aware(at))
                                                       for user, at in rows.all()]
        for names, at in (await self.session.execute(
                select(items.c.presenter, items.c.created_at)
                .where(items.c.presenter.is_not(None)))).all():
            found.append((presenters(names), at))
        for published, at in (await self.session.execute(
                select(states.c.published, states.c.published_at)
                .where(states.c.published_at.is_not(None)))).all():
            found.append((published_presenters(published), at))
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
        kept = set(needed)  # any number: compared here, not sent as the statement's parameters
        old = await self.session.execute(select(outbox.c.id, outbox.c.txn_id).where(
            or_(outbox.c.sent_at < before, outbox.c.failed_at < before)))
        ids = [row.id for row in old if row.txn_id not in kept]
        messages = 0
        for start in range(0, len(ids), PURGE_CHUNK):
            done = await self.session.execute(
                delete(outbox).where(outbox.c.id.in_(ids[start:start + PURGE_CHUNK])))
            messages += int(done.rowcount or 0)  # type: ignore[attr-defined]
        counts = int(commands.rowcount or 0), messages  # type: ignore[attr-defined]
        if any(counts):
            self.session.info.setdefault(ERASED_KEY, set()).update({"inbox", "outbox"})
        return counts

    async def purge_cap_uses(self, before: datetime) -> int:
        """Deletes what erased people did before ``before`` (their caps no longer count it)."""
        result = await self.session.execute(delete(table(CapUse))
                                            .where(table(CapUse).c.at <= before))
        if deleted := int(result.rowcount or 0):  # type: ignore[attr-defined]
            self.session.info.setdefault(ERASED_KEY, set()).add("cap_uses")
        return deleted

    async def purge_bare_commands(self, before: datetime) -> int:
        """Deletes the bare event ids left by erasures (commands sent before ``before``)."""
        inbox = table(InboxEvent)
        result = await self.session.execute(delete(inbox).where(inbox.c.sender == "",
                                                                inbox.c.sent_at < before))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


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
