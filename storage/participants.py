"""Participants (who took part, their optional profile), the participation ledger, and the
runtime facts kept about a person (direct room, pending erasure). The report's counts:
``storage.report``.
Everything held about a person and its erasure: ``storage.personal``."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import statements
from storage.models import BotState, CapUse, Participant, ParticipantYear
from storage.statements import dialect_of

DM_KEY = "dm:"  # bot_state key prefix: the direct-message room of a person
FORGET_KEY = "forget:"  # bot_state key prefix: when the person asked to be forgotten
EXPORT_KEY = "export:"  # bot_state key prefix: when the person's data was last sent to them
EXPORTED = ("person", "exported")  # a ``cap_uses`` kind: their last export, kept through erasure


def _key(prefix: str, user_id: str) -> str:
    """A ``bot_state`` key about a person (keys are short: a digest of the id)."""
    return prefix + hashlib.sha256(user_id.encode()).hexdigest()[:40]


def export_key(user_id: str) -> str:
    """The ``bot_state`` key of when the person's data was last sent to them."""
    return _key(EXPORT_KEY, user_id)


def state_keys(user_id: str) -> list[str]:
    """The ``bot_state`` keys about a person: their direct room, their pending erasure, their
    last ``!mes-donnees``."""
    return [_key(DM_KEY, user_id), _key(FORGET_KEY, user_id), export_key(user_id)]


async def record_participation(session: AsyncSession, user_ids: Iterable[str], at: datetime,
                               tz: ZoneInfo) -> None:
    """What every activity calls when it is recorded: ``user_ids`` took part at ``at``, in its
    calendar year in ``tz`` (the club's time zone)."""
    await ParticipantRepository(session).took_part(user_ids, at, at.astimezone(tz).year)


class ParticipantRepository:
    """Participants, their profile and the participation ledger."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def took_part(self, user_ids: Iterable[str], at: datetime, year: int) -> None:
        """Records that ``user_ids`` took part at ``at``, ``year`` being its calendar year in
        the club's time zone: their participant row (created, or its span widened) and the
        ledger's row of the year (its earliest time kept); two statements, no read. Called by
        every activity when it happens."""
        people = sorted(set(user_ids))  # one order for every writer: no deadlock between them
        if not people:
            return
        dialect = dialect_of(self.session)
        await self.session.execute(statements.participant_took_part(dialect), [
            {"user_id": user, "first_seen": at, "last_seen": at, "first_year": year,
             "last_year": year} for user in people])
        await self.session.execute(statements.ledger_upsert(dialect), [
            {"user_id": user, "year": year, "first_at": at} for user in people])

    async def get(self, user_id: str) -> Participant | None:
        return await self.session.get(Participant, user_id)

    async def direct_room(self, user_id: str) -> str | None:
        row = await self.session.get(BotState, _key(DM_KEY, user_id))
        return row.value if row else None

    async def set_direct_room(self, user_id: str, room_id: str) -> None:
        await self._set_state(_key(DM_KEY, user_id), room_id)

    async def forget_asked(self, user_id: str) -> datetime | None:
        """When the person last asked to be forgotten (waiting for the confirmation)."""
        row = await self.session.get(BotState, _key(FORGET_KEY, user_id))
        return datetime.fromisoformat(row.value) if row else None

    async def ask_forget(self, user_id: str, at: datetime) -> None:
        await self._set_state(_key(FORGET_KEY, user_id), at.isoformat())

    async def last_export(self, user_id: str) -> datetime | None:
        """When the person's data was last sent to them (``!mes-donnees``), before their
        erasure too (``cap_uses``, for a day: the hourly limit holds through it)."""
        at = await self.exported_at(user_id)
        if at is not None:
            return at
        subject, action = EXPORTED
        kept: datetime | None = await self.session.scalar(
            select(func.max(CapUse.at)).where(CapUse.user_id == user_id,
                                              CapUse.subject == subject, CapUse.action == action))
        return kept

    async def exported_at(self, user_id: str) -> datetime | None:
        """When the person's data was last sent to them, as ``bot_state`` holds it."""
        row = await self.session.get(BotState, export_key(user_id))
        return datetime.fromisoformat(row.value) if row is not None else None

    async def exported(self, user_id: str, at: datetime) -> None:
        await self._set_state(export_key(user_id), at.isoformat())

    async def _set_state(self, key: str, value: str) -> None:
        await self.session.execute(statements.state_upsert(dialect_of(self.session)),
                                   {"key": key, "value": value})

    async def set_profile(self, user_id: str, at: datetime, **values: str) -> Participant:
        """Sets profile fields (``territory``, ``commune``, ``category``); the first one
        records the person's consent, with its date."""
        person = await self.get(user_id)
        if person is None:
            person = Participant(user_id=user_id, first_seen=at, last_seen=at)
            self.session.add(person)
        for name, value in values.items():
            setattr(person, name, value)
        if person.consent_at is None:
            person.consent_at = at
        await self.session.flush()
        return person

    async def clear_profile(self, user_id: str) -> bool:
        """Erases the profile and the consent; ``False`` when there was none."""
        person = await self.get(user_id)
        if person is None or person.consent_at is None:
            return False
        person.territory = person.commune = person.category = None
        person.consent_at = None
        return True

    # --- the ledger -----------------------------------------------------------------------

    async def active_in(self, year: int) -> set[str]:
        """Everyone who took part in the calendar ``year`` (the ledger's rows of that year)."""
        query = select(ParticipantYear.user_id).where(ParticipantYear.year == year)
        return set((await self.session.scalars(query)).all())

