"""Erasing one person (``PersonalDataRepository.forget``): what only served them deleted,
the free text they wrote replaced by a marker, the event ids of their acts dropped, the
messages about them blanked or withdrawn, their id replaced by a pseudonym everywhere else so
that every count stays. What it needs besides their id (``Erasure``) is built by
``commands.reports.erasure``. See docs/privacy.md."""

from __future__ import annotations

import json
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import AuditRepository
from storage.models import (
    AgendaItem,
    AgendaState,
    AgendaSupport,
    AuditEntry,
    AuditPerson,
    Base,
    BotState,
    CapUse,
    InboxEvent,
    Initiative,
    OutboxMessage,
    OutboxPerson,
    Participant,
    PollComment,
    PollVote,
    ProjectGroup,
    RemonteeSupport,
)
from storage.participants import EXPORTED, ParticipantRepository, state_keys
from storage.personal import (
    AUTHORED,
    DELETED_ON_ERASURE,
    ERASED_KEY,
    HOLDERS,
    REDACTED,
    json_object,
    presenters,
    presenting,
    published_presenters,
    renamed_in_details,
    without_person,
)
from storage.statements import table


@dataclass(frozen=True)
class AuditFacts:
    """An audit entry, as the erasure of a person reads it."""

    entry_id: int
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
    def caps_since(self) -> datetime: ...  # what they did since then counts in their caps
    @property
    def needed(self) -> Collection[str]: ...  # transaction ids of messages still referenced
    @property
    def descriptions(self) -> Collection[int]: ...  # groups whose description they wrote

    @property
    def copies(self) -> Collection[tuple[str, str]]:
        """(subject, action) of the audit entries of others that may copy their text."""
        ...

    @property
    def replaced(self) -> Collection[int]: ...  # others' entries that keep their replaced text
    @property
    def capped(self) -> Collection[tuple[str, str]]: ...  # (subject, action) daily caps count

    def authored(self, entry: AuditFacts, theirs: bool) -> Collection[str]:
        """The keys of an audit entry's details holding text they wrote (``theirs``: they
        are its actor)."""
        ...

    def search_key(self, name: str, description: str, commune: str) -> str:
        """An initiative's search key from its name, description and commune."""
        ...


async def forget(session: AsyncSession, user_id: str, erasure: Erasure) -> None:
    """Erases ``user_id``: what only served them is deleted (mention preference, welcome,
    reminders, direct room), their profile cleared, the free text they wrote replaced by
    the marker, the event ids of their commands, votes and reactions dropped, the messages
    the bot sent about them blanked (pending ones withdrawn, or losing them when they
    concern others too), and their id replaced by the pseudonym in every other column that
    holds it, so every count stays; what their limits count of their last day is kept under
    their id for that day (``cap_uses``)."""
    pseudonym = erasure.pseudonym
    await _keep_cap_uses(session, user_id, erasure)
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
    await _erase_texts(session, user_id, erasure)
    await _erase_audit(session, user_id, erasure)
    await session.execute(update(table(PollVote)).where(table(PollVote).c.user_id == user_id)
                          .values(event_id=""))
    for supports in (table(AgendaSupport), table(RemonteeSupport)):
        await session.execute(update(supports).where(supports.c.user_id == user_id)
                              .values(reaction_event_id=None))
    await session.execute(update(table(PollComment)).where(table(PollComment).c.author == user_id)
                          .values(event_id=None))
    await _erase_commands(session, user_id, erasure.commands_since)
    await _erase_messages(session, user_id, erasure)
    for holder in HOLDERS:
        if holder.model not in DELETED_ON_ERASURE and holder.model is not InboxEvent:
            await session.execute(update(holder.table)
                                  .where(holder.table.c[holder.column] == user_id)
                                  .values({holder.column: pseudonym}))
    await _replace_presenters(session, user_id, pseudonym)
    erased = session.info.setdefault(ERASED_KEY, set())
    erased.update(target.name for target in Base.metadata.sorted_tables)


async def _erase_texts(session: AsyncSession, user_id: str, erasure: Erasure) -> None:
    marker = erasure.marker
    for model, author, columns in AUTHORED:
        target = table(model)
        for column in columns:  # a text never written (a vote without a reason) stays empty
            await session.execute(update(target).where(target.c[author] == user_id,
                                                       target.c[column].is_not(None))
                                  .values({column: marker}))
    if erasure.descriptions:
        groups = table(ProjectGroup)
        await session.execute(update(groups).where(
            groups.c.id.in_(list(erasure.descriptions)), groups.c.description != "")
            .values(description=marker))
    initiatives = table(Initiative)
    rows = (await session.execute(
        select(initiatives.c.id, initiatives.c.name, initiatives.c.description,
               initiatives.c.contact, initiatives.c.commune)
        .where(initiatives.c.created_by == user_id))).all()
    for item, name, description, contact, commune in rows:
        description = marker if description else ""
        await session.execute(update(initiatives).where(initiatives.c.id == item).values(
            description=description, contact=marker if contact else "",
            search_key=erasure.search_key(name, description, commune)))


async def _erase_audit(session: AsyncSession, user_id: str, erasure: Erasure) -> None:
    """Their entries lose what they typed and their reactions' event ids; entries naming
    them (``audit_people``) name the pseudonym instead."""
    audit = table(AuditEntry)
    named = select(AuditPerson.audit_id).where(AuditPerson.user_id == user_id)
    copies = [(audit.c.subject == subject) & (audit.c.action == action)
              for subject, action in erasure.copies]
    rows = (await session.execute(
        select(audit.c.id, audit.c.actor, audit.c.subject, audit.c.subject_id,
               audit.c.action, audit.c.details)
        .where(or_(audit.c.actor == user_id, audit.c.id.in_(named),
                   audit.c.id.in_(list(erasure.replaced)), *copies)))).all()
    named_ids = set((await session.scalars(named)).all())
    changes = []
    for entry, actor, subject, subject_id, action, text in rows:
        details = json_object(text)
        if details is None:
            continue
        theirs = actor == user_id
        new = renamed_in_details(details, user_id, erasure.pseudonym) \
            if entry in named_ids else dict(details)
        if theirs:
            new.pop("reaction", None)
        for key in erasure.authored(AuditFacts(entry, subject, subject_id, action, details),
                                    theirs):
            if key in new:
                new[key] = erasure.marker
        if new != details:
            changes.append({"b_id": entry, "b_details": json.dumps(new, ensure_ascii=False)})
    if changes:
        await session.execute(
            update(audit).where(audit.c.id == bindparam("b_id"))
            .values(details=bindparam("b_details")), changes)
    links = table(AuditPerson)
    await session.execute(update(links).where(links.c.user_id == user_id)
                          .values(user_id=erasure.pseudonym))


async def _keep_cap_uses(session: AsyncSession, user_id: str, erasure: Erasure) -> None:
    """The kind and time of their audit entries that a daily cap counts, and of their last
    ``!mes-donnees``, since ``caps_since``, under their id: the caps and the hourly export
    still count them (``!oublier-moi`` does not give them back)."""
    audit = table(AuditEntry)
    kinds = [(audit.c.subject == subject) & (audit.c.action == action)
             for subject, action in erasure.capped]
    if kinds:
        await session.execute(insert(table(CapUse)).from_select(
            ["user_id", "subject", "action", "at"],
            select(audit.c.actor, audit.c.subject, audit.c.action, audit.c.at)
            .where(audit.c.actor == user_id, audit.c.at > erasure.caps_since, or_(*kinds))))
    exported = await ParticipantRepository(session).exported_at(user_id)  # not one kept already
    if exported is not None and exported > erasure.caps_since:
        await AuditRepository(session).keep_use(user_id, *EXPORTED, exported)


async def _erase_commands(session: AsyncSession, user_id: str, since: datetime) -> None:
    """Their commands: gone, except those recent enough to come back in a sync, which stay
    as bare event ids (a command seen again is not run twice) until the nightly purge."""
    inbox = table(InboxEvent)
    await session.execute(delete(inbox).where(inbox.c.sender == user_id,
                                              inbox.c.sent_at < since))
    await session.execute(update(inbox).where(inbox.c.sender == user_id)
                          .values(sender="", body="", room_id="", thread_root=None))


async def _erase_messages(session: AsyncSession, user_id: str, erasure: Erasure) -> None:
    """Messages the bot sent about them are blanked (their event id and transaction id
    dropped, unless a later message needs them); pending ones about them alone are
    withdrawn (blanked and marked sent: the sender skips them), the others lose them. No
    row is deleted: a row being sent at that moment keeps its id (see ``outbox_sent``)."""
    outbox, links = table(OutboxMessage), table(OutboxPerson)
    rows = (await session.execute(
        select(outbox.c.id, outbox.c.txn_id, outbox.c.sent_at, outbox.c.content)
        .where(outbox.c.id.in_(select(links.c.outbox_id)
                               .where(links.c.user_id == user_id))))).all()
    others = set((await session.scalars(
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
        await session.execute(update(outbox).where(outbox.c.id == message)
                              .values(values))
    await session.execute(delete(links).where(links.c.user_id == user_id))


async def _replace_presenters(session: AsyncSession, user_id: str, pseudonym: str) -> None:
    items = table(AgendaItem)
    for item in await presenting(session, user_id):
        names = await session.scalar(select(items.c.presenter)
                                     .where(items.c.id == item))
        await session.execute(update(items).where(items.c.id == item).values(
            presenter=" ".join(pseudonym if n == user_id else n for n in presenters(names))))
    states = table(AgendaState)
    rows = (await session.execute(select(states.c.meeting_id, states.c.published))).all()
    for meeting, published in rows:
        if user_id not in published_presenters(published):
            continue
        lines = json.loads(published)
        for line in lines:
            if isinstance(line, dict) and line.get("presenters"):
                line["presenters"] = [pseudonym if p == user_id else p
                                      for p in line["presenters"]]
        await session.execute(update(states).where(states.c.meeting_id == meeting)
                              .values(published=json.dumps(lines, ensure_ascii=False)))
