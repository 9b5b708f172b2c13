"""Comments on polls and the adoption of the cadre de confiance. Every timestamp is aware
UTC."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import (
    CharterAdoption,
    CharterPost,
    CharterProposal,
    CharterVersion,
    Poll,
    PollComment,
)
from storage.personal import ERASED_KEY


def _replaced() -> ColumnElement[bool]:
    """A ``!cadre`` answer of which the same member has a later one in the same room."""
    later = aliased(CharterPost)
    return and_(CharterPost.asked_by.is_not(None), exists().where(
        later.asked_by == CharterPost.asked_by, later.room_id == CharterPost.room_id,
        or_(later.posted_at > CharterPost.posted_at,
            and_(later.posted_at == CharterPost.posted_at, later.txn_id > CharterPost.txn_id))))


class CommentRepository:
    """Members' comments on polls."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *, poll_id: int, author: str, text: str, at: datetime,
                  event_id: str | None = None) -> PollComment:
        row = PollComment(poll_id=poll_id, author=author, text=text, event_id=event_id,
                          created_at=at)
        self.session.add(row)
        await self.session.flush()
        return row

    async def count_by(self, poll_id: int, author: str) -> int:
        query = select(func.count()).select_from(PollComment).where(
            PollComment.poll_id == poll_id, PollComment.author == author)
        return int((await self.session.execute(query)).scalar_one())

    async def count(self, poll_id: int) -> int:
        query = select(func.count()).select_from(PollComment).where(PollComment.poll_id == poll_id)
        return int((await self.session.execute(query)).scalar_one())

    async def latest(self, poll_id: int, limit: int) -> list[PollComment]:
        """The poll's ``limit`` latest comments, oldest first."""
        query = (select(PollComment).where(PollComment.poll_id == poll_id)
                 .order_by(PollComment.id.desc()).limit(limit))
        return list(reversed((await self.session.scalars(query)).all()))

    async def by_event(self, event_id: str) -> PollComment | None:
        """The comment a thread reply became (``None``: it was not one)."""
        return await self.session.scalar(
            select(PollComment).where(PollComment.event_id == event_id).limit(1))

    async def has_event(self, event_id: str) -> bool:
        return await self.by_event(event_id) is not None

    async def remove(self, comment: PollComment) -> None:
        await self.session.delete(comment)
        await self.session.flush()


class CharterRepository:
    """The versions of the charter, the proposals carrying a new one, who adopted which version,
    and the bot's messages that show it."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def adopt(self, user_id: str, version: str, at: datetime,
                    reaction_event_id: str | None = None) -> bool:
        """Records that ``user_id`` adopted ``version``; ``False`` when they had already."""
        row = await self.session.get(CharterAdoption, user_id)
        if row is not None and row.version == version:
            return False
        if row is None:
            self.session.add(CharterAdoption(user_id=user_id, version=version, at=at,
                                             reaction_event_id=reaction_event_id))
        else:
            row.version, row.at, row.reaction_event_id = version, at, reaction_event_id
        await self.session.flush()
        return True

    async def adoption(self, user_id: str) -> CharterAdoption | None:
        return await self.session.get(CharterAdoption, user_id)

    async def by_reaction(self, reaction_event_id: str) -> CharterAdoption | None:
        return await self.session.scalar(select(CharterAdoption).where(
            CharterAdoption.reaction_event_id == reaction_event_id).limit(1))

    async def withdraw(self, user_id: str) -> bool:
        result = await self.session.execute(
            delete(CharterAdoption).where(CharterAdoption.user_id == user_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def adoptions(self) -> Sequence[CharterAdoption]:
        """Everyone who adopted a version, by when they did."""
        query = select(CharterAdoption).order_by(CharterAdoption.at, CharterAdoption.user_id)
        return (await self.session.scalars(query)).all()

    async def posted(self, txn_id: str, version: str, room_id: str, at: datetime,
                     asked_by: str | None = None) -> None:
        """Notes a message showing ``version`` of the charter (once per transaction id);
        ``asked_by``: the member whose ``!cadre`` it answers."""
        if await self.session.get(CharterPost, txn_id) is not None:
            return
        self.session.add(CharterPost(txn_id=txn_id, version=version, room_id=room_id,
                                     posted_at=at, asked_by=asked_by))
        await self.session.flush()

    async def post(self, txn_id: str) -> CharterPost | None:
        return await self.session.get(CharterPost, txn_id)

    async def posts_of(self, version: str) -> list[str]:
        """The transaction ids of the messages showing ``version`` kept whatever their age:
        the bot's own (a welcome, the call to adopt) and each member's latest ``!cadre`` in
        each room (their earlier ones go with the retention purge: ``purge_replaced``)."""
        query = select(CharterPost.txn_id).where(CharterPost.version == version,
                                                 ~_replaced())
        return list((await self.session.scalars(query)).all())

    async def purge_replaced(self, before: datetime) -> int:
        """Deletes the ``!cadre`` answers posted before ``before`` that the same member's later
        ``!cadre`` in the same room replaced (their messages are purged then); returns how
        many."""
        result = await self.session.execute(delete(CharterPost).where(
            CharterPost.posted_at < before, _replaced()))
        purged = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if purged:  # their askers' ids: scrubbed from the free space (``Database``)
            self.session.info.setdefault(ERASED_KEY, set()).add("charter_posts")
        return purged

    async def current(self) -> CharterVersion | None:
        """The version adopted last (``None``: none recorded yet)."""
        query = (select(CharterVersion)
                 .order_by(CharterVersion.adopted_at.desc(), CharterVersion.seq.desc()).limit(1))
        return await self.session.scalar(query)

    async def versions(self) -> Sequence[CharterVersion]:
        """Every version recorded, the first adopted first."""
        query = select(CharterVersion).order_by(CharterVersion.adopted_at, CharterVersion.seq)
        return (await self.session.scalars(query)).all()

    async def version(self, label: str) -> CharterVersion | None:
        return await self.session.scalar(
            select(CharterVersion).where(CharterVersion.version == label).limit(1))

    async def record_version(self, label: str, text: str, at: datetime,
                             poll_id: int | None = None) -> CharterVersion:
        """``label`` becomes the club's charter (the newest) with ``text``."""
        row = CharterVersion(version=label, text=text, poll_id=poll_id, adopted_at=at)
        self.session.add(row)
        await self.session.flush()
        return row

    async def correct(self, row: CharterVersion, text: str) -> None:
        """The text of a version, corrected (the config's text under the same label)."""
        if row.text != text:
            row.text = text
            await self.session.flush()

    async def propose(self, poll_id: int, label: str, text: str) -> None:
        self.session.add(CharterProposal(poll_id=poll_id, version=label, text=text))
        await self.session.flush()

    async def proposal(self, poll_id: int) -> CharterProposal | None:
        return await self.session.get(CharterProposal, poll_id)

    async def undecided_proposals(self) -> Sequence[CharterProposal]:
        """The proposals of a new version whose outcome is not written yet (open or closed)."""
        query = (select(CharterProposal).join(Poll, Poll.id == CharterProposal.poll_id)
                 .where(Poll.outcome.is_(None)).order_by(CharterProposal.poll_id))
        return (await self.session.scalars(query)).all()
