"""Repositories of polls of every kind (their options, votes) and of people's preferences."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from storage import statements
from storage.models import Person, Poll, PollSlot, PollVote
from storage.participants import record_participation


class PollRepository:
    """Polls, their slots and the latest vote of each person for each slot."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, *, question: str, territory: str, room_id: str,
                     closes_at: datetime | None, created_by: str, at: datetime,
                     kind: str = "dates", multiple: bool = False, anonymous: bool = False,
                     allow_other: bool = False) -> Poll:
        poll = Poll(question=question, territory=territory, room_id=room_id, status="open",
                    closes_at=closes_at, created_by=created_by, created_at=at, results_version=0,
                    kind=kind, multiple=multiple, anonymous=anonymous, allow_other=allow_other)
        self.session.add(poll)
        await self.session.flush()
        return poll

    async def add_slot(self, poll_id: int, position: int, starts_at: datetime,
                       ends_at: datetime, label: str | None = None,
                       other: bool = False) -> PollSlot:
        slot = PollSlot(poll_id=poll_id, position=position, starts_at=starts_at, ends_at=ends_at,
                        label=label, other=other)
        self.session.add(slot)
        await self.session.flush()
        return slot

    async def get(self, poll_id: int) -> Poll | None:
        return await self.session.get(Poll, poll_id)

    async def slots(self, poll_id: int) -> Sequence[PollSlot]:
        return (await self.session.scalars(statements.poll_slots(),
                                           {"b_poll_id": poll_id})).all()

    async def open_slots(self) -> Sequence[tuple[int, str, int]]:
        """(poll id, room, slot position) of every slot of the open polls, in one statement."""
        query = (select(Poll.id, Poll.room_id, PollSlot.position)
                 .join(PollSlot, PollSlot.poll_id == Poll.id).where(Poll.status == "open")
                 .order_by(Poll.id.desc(), PollSlot.position))
        return [(poll_id, room_id, position)
                for poll_id, room_id, position in await self.session.execute(query)]

    async def open_polls(self, room_id: str | None = None) -> Sequence[Poll]:
        """Open polls, newest first (of one room when given)."""
        query = select(Poll).where(Poll.status == "open").order_by(Poll.id.desc())
        if room_id is not None:
            query = query.where(Poll.room_id == room_id)
        return (await self.session.scalars(query)).all()

    async def latest(self, room_id: str) -> Poll | None:
        """The newest poll of a room, open or not."""
        query = select(Poll).where(Poll.room_id == room_id).order_by(Poll.id.desc()).limit(1)
        return await self.session.scalar(query)

    async def with_deadline(self) -> Sequence[Poll]:
        """Open polls that close by themselves."""
        query = select(Poll).where(Poll.status == "open", Poll.closes_at.is_not(None))
        return (await self.session.scalars(query)).all()

    async def cast(self, *, poll_id: int, user_id: str,
                   answers: Iterable[tuple[int, str | None]], source: str, at: datetime,
                   event_id: str, tz: ZoneInfo,
                   reasons: Mapping[int, str] | None = None) -> tuple[bool, dict[int, str]]:
        """Records a person's (slot id, answer) pairs for one poll, each unless a later answer
        is already known (the latest choice wins, whatever the way it was given; ``None``
        withdraws; a slot named twice keeps its first answer): one read of the person's
        answers, one statement writing those that change (run once per slot; it leaves alone an
        answer a concurrent transaction recorded later), and, if anything was recorded, one write
        to the ledger (they took part at ``at``, its year in ``tz``, the club's time zone).
        ``reasons`` (slot id → text): the reason or « autre » text given with an answer; an
        answer without one keeps the reason recorded when it does not change, and drops it
        when it does. Returns whether an answer changed, and the person's answers now (slot
        id → answer). (Plain statements: no vote is ever an object of the session.)"""
        reasons = reasons or {}
        rows = (await self.session.execute(statements.votes_of(),
                                           {"b_poll_id": poll_id, "b_user_id": user_id})).all()
        mine = {row.slot_id: row.answer for row in rows}
        kept = {row.slot_id: row.reason for row in rows}
        known = {row.slot_id: (row.voted_at, row.event_id) for row in rows}
        writes = []
        changed = False
        for slot_id, answer in answers:
            if slot_id in known and (known[slot_id][0] > at or known[slot_id][1] == event_id):
                continue
            changed = changed or mine.get(slot_id) != answer
            reason = reasons.get(slot_id)
            if reason is None and answer is not None and mine.get(slot_id) == answer:
                reason = kept.get(slot_id)
            mine[slot_id], known[slot_id] = answer, (at, event_id)
            writes.append({"slot_id": slot_id, "user_id": user_id, "poll_id": poll_id,
                           "answer": answer, "source": source, "voted_at": at,
                           "event_id": event_id, "reason": reason})
        if writes:
            await self.session.execute(statements.vote_upsert(statements.dialect_of(self.session)), writes)
        if writes:
            await record_participation(self.session, [user_id], at, tz)
        return changed, {slot: str(answer) for slot, answer in mine.items()
                         if answer is not None}

    async def bump_results(self, poll: Poll) -> int:
        """Moves the poll's results version on by one (in the database, and in ``poll`` without
        making it a change to flush); returns the new version."""
        version = int((await self.session.execute(statements.results_bump(),
                                                  {"b_id": poll.id})).scalar_one())
        set_committed_value(poll, "results_version", version)
        return version

    async def votes(self, poll_id: int) -> Sequence[PollVote]:
        query = (select(PollVote).where(PollVote.poll_id == poll_id, PollVote.answer.is_not(None))
                 .order_by(PollVote.voted_at))
        return (await self.session.scalars(query)).all()

    async def counts(self, poll_id: int) -> dict[tuple[int, str], int]:
        """(slot id, answer) → number of people, counted by the database."""
        rows = await self.session.execute(statements.vote_counts(), {"b_poll_id": poll_id})
        return {(slot, str(answer)): int(n) for slot, answer, n in rows}

    async def refusals(self, slot_ids: Sequence[int], limit: int) -> dict[int, list[str]]:
        """Slot id → the first ``limit`` people who answered no, earliest first: one small
        indexed read per slot (cheaper than ranking every "no" of a big poll), all in one
        statement."""
        if not slot_ids:
            return {}
        values = {"b_limit": limit, **{f"b_slot{n}": slot for n, slot in enumerate(slot_ids)}}
        found: dict[int, list[str]] = {}
        for slot_id, user_id, _ in await self.session.execute(
                statements.refusals(len(slot_ids)), values):
            found.setdefault(slot_id, []).append(user_id)
        return found

    async def set_outcome(self, poll: Poll, text: str, by: str, at: datetime) -> None:
        poll.outcome, poll.outcome_by, poll.outcome_at = text, by, at
        await self.session.flush()

    async def proposal_ids(self) -> list[int]:
        """The number of every proposal, open or closed (its message shows its outcome, written
        or rewritten at any time)."""
        return list((await self.session.scalars(
            select(Poll.id).where(Poll.kind == "proposal"))).all())

    async def decisions(self) -> Sequence[Poll]:
        """The proposals whose outcome is written, the latest decided first."""
        query = (select(Poll).where(Poll.kind == "proposal", Poll.outcome_at.is_not(None))
                 .order_by(Poll.outcome_at.desc(), Poll.id.desc()))
        return (await self.session.scalars(query)).all()

    async def voter_count(self, poll_id: int) -> int:
        return int(await self.session.scalar(statements.voter_count(),
                                             {"b_poll_id": poll_id}) or 0)

    async def voters(self, poll_id: int) -> set[str]:
        query = (select(PollVote.user_id).distinct()
                 .where(PollVote.poll_id == poll_id, PollVote.answer.is_not(None)))
        return set((await self.session.scalars(query)).all())


class PeopleRepository:
    """What each person chose about the bot."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def wants_mentions(self, user_ids: Sequence[str]) -> set[str]:
        """Those of ``user_ids`` who agreed to be mentioned in reminders."""
        if not user_ids:
            return set()
        query = select(Person.user_id).where(Person.user_id.in_(list(user_ids)),
                                             Person.mentions.is_(True))
        return set((await self.session.scalars(query)).all())

    async def set_mentions(self, user_id: str, wanted: bool, at: datetime) -> None:
        person = await self.session.get(Person, user_id)
        if person is None:
            self.session.add(Person(user_id=user_id, mentions=wanted, updated_at=at))
        else:
            person.mentions, person.updated_at = wanted, at
