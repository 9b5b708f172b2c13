"""The agenda of each rencontre (suggestions, supports, items, publication) and the remontées
aux élus. Every timestamp is aware UTC."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AgendaItem,
    AgendaState,
    AgendaSuggestion,
    AgendaSupport,
    Remontee,
    RemonteeSupport,
)

PROPOSED = "proposee"


class AgendaRepository:
    """Suggestions and their supports, the ordered items, and where publication stands."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- suggestions ------------------------------------------------------------------------
    async def add_suggestion(self, *, meeting_id: int, author: str, text: str, room_id: str,
                             confirmation_txn: str, at: datetime) -> AgendaSuggestion:
        suggestion = AgendaSuggestion(meeting_id=meeting_id, author=author, text=text,
                                      status=PROPOSED, reason="", room_id=room_id,
                                      confirmation_txn=confirmation_txn, created_at=at)
        self.session.add(suggestion)
        await self.session.flush()
        return suggestion

    async def suggestion(self, suggestion_id: int) -> AgendaSuggestion | None:
        return await self.session.get(AgendaSuggestion, suggestion_id)

    async def suggestions(self, meeting_id: int) -> Sequence[AgendaSuggestion]:
        """A rencontre's suggestions, oldest first."""
        query = (select(AgendaSuggestion).where(AgendaSuggestion.meeting_id == meeting_id)
                 .order_by(AgendaSuggestion.id))
        return (await self.session.scalars(query)).all()

    async def waiting_suggestions_of(self, meeting_id: int, author: str) -> int:
        """How many of ``author``'s suggestions for the rencontre still wait for a decision."""
        query = (select(func.count()).select_from(AgendaSuggestion)
                 .where(AgendaSuggestion.meeting_id == meeting_id,
                        AgendaSuggestion.status == PROPOSED, AgendaSuggestion.author == author))
        return int((await self.session.execute(query)).scalar_one())

    async def suggestion_confirmed_by(self, txn_id: str) -> AgendaSuggestion | None:
        """The suggestion whose confirmation message was sent with ``txn_id``."""
        query = select(AgendaSuggestion).where(AgendaSuggestion.confirmation_txn == txn_id)
        return await self.session.scalar(query.limit(1))

    # --- supports ---------------------------------------------------------------------------
    async def add_support(self, suggestion_id: int, user_id: str, at: datetime,
                          reaction_event_id: str | None = None) -> bool:
        """Records a support; ``False`` when this person already supports it."""
        return await _add_support(self.session, AgendaSupport(
            suggestion_id=suggestion_id, user_id=user_id, at=at,
            reaction_event_id=reaction_event_id), (suggestion_id, user_id))

    async def support(self, suggestion_id: int, user_id: str) -> AgendaSupport | None:
        return await self.session.get(AgendaSupport, (suggestion_id, user_id))

    async def remove_support(self, suggestion_id: int, user_id: str) -> bool:
        """Forgets a support; ``False`` when there was none."""
        return await _remove_support(self.session, AgendaSupport, (suggestion_id, user_id))

    async def support_by_reaction(self, reaction_event_id: str) -> AgendaSupport | None:
        """The support given by this reaction, if any."""
        return await self.session.scalar(select(AgendaSupport).where(
            AgendaSupport.reaction_event_id == reaction_event_id).limit(1))

    async def supporters(self, suggestion_id: int) -> list[str]:
        query = (select(AgendaSupport.user_id).where(AgendaSupport.suggestion_id == suggestion_id)
                 .order_by(AgendaSupport.at, AgendaSupport.user_id))
        return list((await self.session.scalars(query)).all())

    async def support_counts(self, meeting_id: int) -> dict[int, int]:
        """How many people support each suggestion of a rencontre (absent: none)."""
        query = (select(AgendaSupport.suggestion_id, func.count())
                 .join(AgendaSuggestion, AgendaSuggestion.id == AgendaSupport.suggestion_id)
                 .where(AgendaSuggestion.meeting_id == meeting_id)
                 .group_by(AgendaSupport.suggestion_id))
        return {int(sid): int(n) for sid, n in (await self.session.execute(query)).all()}

    # --- items ------------------------------------------------------------------------------
    async def items(self, meeting_id: int) -> list[AgendaItem]:
        """A rencontre's agenda, in order (positions 1, 2, 3…)."""
        query = (select(AgendaItem).where(AgendaItem.meeting_id == meeting_id)
                 .order_by(AgendaItem.position, AgendaItem.id))
        return list((await self.session.scalars(query)).all())

    async def item(self, item_id: int) -> AgendaItem | None:
        return await self.session.get(AgendaItem, item_id)

    async def add_item(self, *, meeting_id: int, title: str, minutes: int, method: str,
                       presenter: str | None, created_by: str, at: datetime,
                       suggestion_id: int | None = None, group_id: int | None = None) -> AgendaItem:
        """Appends an item at the end of the agenda."""
        last = await self.session.scalar(
            select(func.max(AgendaItem.position)).where(AgendaItem.meeting_id == meeting_id))
        item = AgendaItem(meeting_id=meeting_id, position=int(last or 0) + 1, title=title,
                          minutes=minutes, method=method, presenter=presenter,
                          suggestion_id=suggestion_id, group_id=group_id, created_by=created_by,
                          created_at=at)
        self.session.add(item)
        await self.session.flush()
        return item

    async def move_item(self, item: AgendaItem, position: int) -> list[AgendaItem]:
        """Puts ``item`` at ``position`` (1-based, within the agenda) and renumbers the others;
        returns the agenda in its new order."""
        items = [i for i in await self.items(item.meeting_id) if i.id != item.id]
        items.insert(position - 1, item)
        self._renumber(items)
        await self.session.flush()
        return items

    async def remove_item(self, item: AgendaItem) -> list[AgendaItem]:
        """Deletes ``item`` and closes the gap; returns the agenda left."""
        meeting_id = item.meeting_id
        await self.session.delete(item)
        await self.session.flush()
        items = await self.items(meeting_id)
        self._renumber(items)
        await self.session.flush()
        return items

    @staticmethod
    def _renumber(items: Sequence[AgendaItem]) -> None:
        for index, row in enumerate(items, start=1):
            row.position = index

    # --- publication state ------------------------------------------------------------------
    async def state(self, meeting_id: int) -> AgendaState | None:
        return await self.session.get(AgendaState, meeting_id)

    async def published_states(self) -> Sequence[AgendaState]:
        """The agendas published (their pinned messages are still referenced)."""
        return (await self.session.scalars(select(AgendaState).where(AgendaState.version > 0))
                ).all()

    async def confirmations(self, statuses: Sequence[str]) -> list[str]:
        """The transaction ids of the confirmations of the suggestions in ``statuses`` (a 👍
        there counts as a support)."""
        query = select(AgendaSuggestion.confirmation_txn).where(
            AgendaSuggestion.status.in_(list(statuses)))
        return list((await self.session.scalars(query)).all())

    async def state_for_update(self, meeting_id: int) -> AgendaState:
        """The rencontre's state, created (nothing posted, nothing published) if new."""
        state = await self.state(meeting_id)
        if state is None:
            state = AgendaState(meeting_id=meeting_id, version=0, published="[]", rooms="[]")
            self.session.add(state)
            await self.session.flush()
        return state


class RemonteeRepository:
    """Citizens' expectations carried to the elected council, and its answers."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *, author: str, room_id: str, text: str, at: datetime,
                  confirmation_txn: str | None = None) -> Remontee:
        row = Remontee(author=author, room_id=room_id, text=text, status="nouvelle",
                       created_at=at, answer="", confirmation_txn=confirmation_txn)
        self.session.add(row)
        await self.session.flush()
        return row

    async def get(self, remontee_id: int) -> Remontee | None:
        return await self.session.get(Remontee, remontee_id)

    async def many(self, ids: Sequence[int]) -> dict[int, Remontee]:
        if not ids:
            return {}
        rows = (await self.session.scalars(select(Remontee).where(Remontee.id.in_(ids)))).all()
        return {row.id: row for row in rows}

    async def listing(self, status: str | None = None,
                      limit: int | None = None) -> Sequence[Remontee]:
        """Oldest first (the council reads them in the order they came): all of them, or the
        first ``limit``."""
        query: Any = select(Remontee)
        if status is not None:
            query = query.where(Remontee.status == status)
        return (await self.session.scalars(query.order_by(Remontee.id).limit(limit))).all()

    async def count_by_status(self) -> dict[str, int]:
        query = select(Remontee.status, func.count()).group_by(Remontee.status)
        return {status: int(n) for status, n in (await self.session.execute(query)).all()}

    async def confirmed_by(self, txn_id: str) -> Remontee | None:
        """The remontée whose confirmation message was sent with ``txn_id``."""
        query = select(Remontee).where(Remontee.confirmation_txn == txn_id)
        return await self.session.scalar(query.limit(1))

    async def confirmations(self, statuses: Sequence[str]) -> list[str]:
        """The transaction ids of the confirmations of the remontées in ``statuses``."""
        query = select(Remontee.confirmation_txn).where(Remontee.status.in_(list(statuses)),
                                                        Remontee.confirmation_txn.is_not(None))
        return [txn for txn in (await self.session.scalars(query)).all() if txn]

    # --- supports ---------------------------------------------------------------------------
    async def add_support(self, remontee_id: int, user_id: str, at: datetime,
                          reaction_event_id: str | None = None) -> bool:
        """Records a support; ``False`` when this person already supports it."""
        return await _add_support(self.session, RemonteeSupport(
            remontee_id=remontee_id, user_id=user_id, at=at,
            reaction_event_id=reaction_event_id), (remontee_id, user_id))

    async def remove_support(self, remontee_id: int, user_id: str) -> bool:
        """Forgets a support; ``False`` when there was none."""
        return await _remove_support(self.session, RemonteeSupport, (remontee_id, user_id))

    async def support_by_reaction(self, reaction_event_id: str) -> RemonteeSupport | None:
        return await self.session.scalar(select(RemonteeSupport).where(
            RemonteeSupport.reaction_event_id == reaction_event_id).limit(1))

    async def support_counts(self) -> dict[int, int]:
        """How many people support each remontée (absent: none)."""
        query = (select(RemonteeSupport.remontee_id, func.count())
                 .group_by(RemonteeSupport.remontee_id))
        return {int(rid): int(n) for rid, n in (await self.session.execute(query)).all()}


async def _add_support(session: AsyncSession, row: AgendaSupport | RemonteeSupport,
                       key: tuple[int, str]) -> bool:
    """Adds a support (``row``, of primary ``key``); ``False`` when it exists already."""
    if await session.get(type(row), key) is not None:
        return False
    session.add(row)
    await session.flush()
    return True


async def _remove_support(session: AsyncSession,
                          model: type[AgendaSupport] | type[RemonteeSupport],
                          key: tuple[int, str]) -> bool:
    """Deletes the support of primary ``key``; ``False`` when there was none."""
    row = await session.get(model, key)
    if row is None:
        return False
    await session.delete(row)
    await session.flush()
    return True
