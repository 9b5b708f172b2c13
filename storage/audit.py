"""The audit trail: who changed what, and when."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import desc, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.groups import AuditEntry, AuditPerson, CapUse
from storage.personal import audit_people, json_object
from storage.statements import table

RESTATED_AMONG = 50  # the latest entries ``AuditRepository.restate`` looks through


class AuditRepository:
    """The audit trail: who changed what, and when."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, *, actor: str, subject: str, subject_id: int, action: str,
                     at: datetime, **details: Any) -> None:
        """An entry; the people its details name (``user``, ``people``) are recorded by exact
        id in ``audit_people`` (then two statements, the entry's insert returning its id)."""
        values = {"actor": actor, "subject": subject, "subject_id": subject_id,
                  "action": action, "at": at, "details": json.dumps(details, ensure_ascii=False)}
        named = audit_people(details)
        if not named:
            self.session.add(AuditEntry(**values))
            return
        entry = table(AuditEntry)
        entry_id = (await self.session.execute(
            entry.insert().values(values).returning(entry.c.id))).scalar_one()
        await self.session.execute(table(AuditPerson).insert(), [
            {"audit_id": entry_id, "user_id": user} for user in sorted(named)])

    async def restate(self, *, actor: str, subject: str, subject_id: int, action: str,
                      at: datetime, of: tuple[str, ...], same: str, since: datetime,
                      **details: Any) -> None:
        """Like ``record`` (for details naming no one), but the latest entry of ``actor`` on
        the subject written after ``since``, with an action of ``of`` and the same detail
        ``same``, takes the new action, time and details instead: a stance changed back and
        forth leaves one entry, its latest."""
        query = (select(AuditEntry)
                 .where(AuditEntry.actor == actor, AuditEntry.at > since,
                        AuditEntry.subject == subject, AuditEntry.subject_id == subject_id,
                        AuditEntry.action.in_(of))
                 .order_by(AuditEntry.at.desc()).limit(RESTATED_AMONG))
        for entry in (await self.session.scalars(query)).all():
            if (json_object(entry.details) or {}).get(same) == details[same]:
                entry.action, entry.at = action, at
                entry.details = json.dumps(details, ensure_ascii=False)
                return
        await self.record(actor=actor, subject=subject, subject_id=subject_id, action=action,
                          at=at, **details)

    async def latest_of(self, actor: str, subject: str, action: str, since: datetime,
                        limit: int) -> list[datetime]:
        """When ``actor`` last did ``action`` on a ``subject`` after ``since``: at most
        ``limit`` times, newest first (read from the indexes on actor and time), what they
        did before an erasure included (``cap_uses``)."""
        logged = select(AuditEntry.at).where(
            AuditEntry.actor == actor, AuditEntry.at > since,
            AuditEntry.subject == subject, AuditEntry.action == action)
        kept = select(CapUse.at).where(CapUse.user_id == actor, CapUse.at > since,
                                       CapUse.subject == subject, CapUse.action == action)
        query = union_all(logged, kept).order_by(desc("at")).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def keep_use(self, actor: str, subject: str, action: str, at: datetime) -> None:
        """Something a daily cap counts that leaves no audit entry (an erasure), kept under
        ``actor``'s id in ``cap_uses`` (``latest_of`` reads it; the nightly purge deletes it
        once a day old)."""
        self.session.add(CapUse(user_id=actor, subject=subject, action=action, at=at))
        await self.session.flush()

    async def entries(self, subject: str, subject_id: int, limit: int = 20,
                      offset: int = 0) -> Sequence[AuditEntry]:
        """Newest first."""
        query = (select(AuditEntry)
                 .where(AuditEntry.subject == subject, AuditEntry.subject_id == subject_id)
                 .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset))
        return (await self.session.scalars(query)).all()

    async def count(self, subject: str, subject_id: int) -> int:
        query = select(func.count()).where(AuditEntry.subject == subject,
                                           AuditEntry.subject_id == subject_id)
        return int(await self.session.scalar(query) or 0)
