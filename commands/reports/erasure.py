"""Erasure of a person (``!oublier-moi``, the retention purge) and the nightly purge of old
commands and messages: the domain's part (which texts a person wrote, which messages the bot
still needs); ``storage.erasure`` does the rest by exact key. See docs/privacy.md."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from commands import charter
from commands.agenda.remontees import NEW, SENT
from commands.agenda.service import ACCEPTED, PROPOSED, version_key
from commands.caps import counted_by_caps
from commands.context import Club
from commands.effects import REF_PREFIX, effect_txn
from commands.i18n import LANGUAGES, Translator, translate
from commands.initiatives import search_key
from commands.limits import DAY
from commands.polls.service import native_keys, results_key, root_key

if TYPE_CHECKING:
    from storage.erasure import AuditFacts
    from storage.repositories import Repositories

ERASED_TEXT = "rgpd.erased_text"  # the marker of what a person asked to erase
EXPIRED_TEXT = "rgpd.expired_text"  # ... and of what the retention purge erased
# Audit details a person typed (their free text) in their own entries, by (subject, action).
AUTHORED_DETAILS = {("agenda", "suggested"): ("text",), ("remontee", "raised"): ("text",),
                    ("group", "progress"): ("text",), ("group", "need"): ("text",)}
NEED_TEXT_KEPT = 200  # how much of a need's text its audit entries copy


@dataclass(frozen=True)
class Erasure:
    """What erasing a person needs besides their id (``storage.erasure.Erasure``)."""

    marker: str  # replaces the free text they wrote
    now: datetime
    commands_since: datetime  # their commands sent since then stay as bare event ids (dedup)
    caps_since: datetime  # what they did since then still counts in their daily caps
    needed: frozenset[str]  # transaction ids of the messages still referenced
    pseudonym: str = ""  # their stand-in in every count
    descriptions: tuple[int, ...] = ()  # groups whose current description they wrote
    needs: frozenset[tuple[int, str]] = frozenset()  # (group, text) of the needs they wrote
    replaced: frozenset[int] = frozenset()  # audit entries whose « old » description they wrote
    labels: frozenset[str] = field(default_factory=lambda: frozenset(_description_labels()))
    copies: tuple[tuple[str, str], ...] = (("group", "need_met"),)
    capped: frozenset[tuple[str, str]] = field(default_factory=counted_by_caps)

    def search_key(self, name: str, description: str, commune: str) -> str:
        return search_key(name, description, commune)

    def authored(self, entry: AuditFacts, theirs: bool) -> tuple[str, ...]:
        """The details of an audit entry that are their text: what they typed in their own
        entries (a group's description they set among them), a description of theirs that an
        edit replaced, and their need's text copied when another marks it met."""
        if (entry.subject, entry.action) == ("group", "edited"):
            if entry.details.get("field") not in self.labels:
                return ()
            replaced = entry.entry_id in self.replaced
            return (("new",) if theirs else ()) + (("old",) if replaced else ())
        if theirs:
            return AUTHORED_DETAILS.get((entry.subject, entry.action), ())
        if (entry.subject, entry.action) == ("group", "need_met"):
            copied = (entry.subject_id, str(entry.details.get("text", "")))
            return ("text",) if copied in self.needs else ()
        return ()


def pseudonym() -> str:
    """A stable stand-in for an erased person: random, stored nowhere with their id."""
    return f"anonyme-{secrets.token_hex(8)}"


async def needed_messages(repos: Repositories, club: Club) -> set[str]:
    """The transaction ids of the messages sent that the bot still reads or names: each open
    poll's message, native polls (one per option, or one for all) and latest results edit
    (votes are matched to them, edits and ends name them); every proposal's message (its
    outcome, written at any time, edits it); the confirmations of suggestions
    still open and of remontées not answered yet (a 👍 there is a support); the messages
    showing the charter's current version (a ✅ there adopts it; of a member's ``!cadre``
    answers in a room, the latest); each published agenda's
    pinned message (later changes edit or unpin it); and every message a message still to be
    sent names."""
    needed: set[str] = set()
    for poll in await repos.polls.open_polls():
        needed.update(effect_txn(key) for key in (root_key(poll.id), results_key(poll)))
        needed.update(effect_txn(key)
                      for key, _ in native_keys(poll, await repos.polls.slots(poll.id)))
    needed.update(effect_txn(root_key(number)) for number in await repos.polls.proposal_ids())
    needed.update(await repos.agenda.confirmations((PROPOSED, ACCEPTED)))
    needed.update(await repos.remontees.confirmations((NEW, SENT)))
    shown = await charter.current(repos, club)
    if shown is not None:
        needed.update(await repos.charter.posts_of(shown.version))
    for state in await repos.agenda.published_states():
        needed.update(effect_txn(version_key(state.meeting_id, state.version, room))
                      for room in json.loads(state.rooms or "[]"))
    for message in await repos.outbox.pending(limit=100000):
        needed.update(_references(json.loads(message.content)))
    return needed


def _references(content: Any) -> Iterable[str]:
    """The transaction ids a queued content names (``ref`` placeholders)."""
    if isinstance(content, dict):
        for value in content.values():
            yield from _references(value)
    elif isinstance(content, list):
        for value in content:
            yield from _references(value)
    elif isinstance(content, str) and content.startswith(REF_PREFIX):
        yield content[len(REF_PREFIX):]


def _description_labels() -> set[str]:
    """How the audit trail names a group's description, in every language."""
    return {translate(language, "projects.field_description") for language in LANGUAGES}


@dataclass(frozen=True)
class _DescriptionEdit:
    entry: int  # its audit entry
    before: str  # who wrote the text it replaced: who changed it before, else the creator
    old: str  # the text it replaced (as the entry keeps it)


@dataclass(frozen=True)
class _Descriptions:
    """Who wrote the groups' descriptions: each one's current writer (the last to change it,
    else its creator) and each change, oldest first, with the writer of the text it replaced.
    Read once for everyone erased in one transaction."""

    writers: dict[int, str]
    edits: list[_DescriptionEdit]

    def of(self, user_id: str) -> tuple[tuple[int, ...], frozenset[int]]:
        """The groups whose current description ``user_id`` wrote, and the changes (audit
        entries) that replaced a text of theirs."""
        return (tuple(group for group, writer in self.writers.items() if writer == user_id),
                frozenset(edit.entry for edit in self.edits
                          if edit.before == user_id and edit.old))


async def _read_descriptions(repos: Repositories) -> _Descriptions:
    writers = dict(await repos.personal.group_creators())
    labels = _description_labels()
    edits = []
    for entry, group, actor, details in await repos.personal.audit_details("group", "edited"):
        if details.get("field") in labels:
            edits.append(_DescriptionEdit(entry, writers.get(group, ""),
                                          str(details.get("old", ""))))
            writers[group] = actor
    return _Descriptions(writers, edits)


async def erasure_for(repos: Repositories, club: Club, t: Translator, now: datetime,
                      marker_key: str = ERASED_TEXT) -> Erasure:
    """What erasing people now needs (the same for everyone erased in one transaction)."""
    return Erasure(marker=t(marker_key), now=now, commands_since=now - club.catch_up,
                   caps_since=now - DAY, needed=frozenset(await needed_messages(repos, club)))


async def forget_person(repos: Repositories, user_id: str, erasure: Erasure,
                        written: _Descriptions | None = None) -> str:
    """Erases ``user_id``'s personal data (counts kept); returns the pseudonym used."""
    if written is None:
        written = await _read_descriptions(repos)
    name = pseudonym()
    groups, replaced = written.of(user_id)
    needs = frozenset((group, text[:NEED_TEXT_KEPT])
                      for group, text in await repos.personal.needs_of(user_id))
    await repos.personal.forget(user_id, replace(erasure, pseudonym=name, descriptions=groups,
                                                 needs=needs, replaced=replaced))
    return name


async def purge_inactive(repos: Repositories, club: Club, t: Translator, now: datetime,
                         retention: timedelta) -> int:
    """Forgets everyone recorded whose latest activity is older than ``retention``; returns
    how many."""
    people = await repos.personal.inactive_since(now - retention)
    if not people:
        return 0
    erasure = await erasure_for(repos, club, t, now, EXPIRED_TEXT)
    written = await _read_descriptions(repos)
    for user_id in people:
        await forget_person(repos, user_id, erasure, written)
    return len(people)


async def purge_messages(repos: Repositories, club: Club, now: datetime,
                         retention: timedelta | None) -> tuple[int, int]:
    """Deletes the commands handled and the messages sent more than ``retention`` ago (``None``:
    kept), except the messages still needed, and the bare event ids erasures left once out of
    the catch-up window, and what erased people did once it no longer counts in their daily
    caps; returns (commands, messages) deleted."""
    await repos.personal.purge_cap_uses(now - DAY)
    bare = await repos.personal.purge_bare_commands(now - club.catch_up)
    if retention is None:
        return bare, 0
    before = now - max(retention, club.catch_up)
    commands, messages = await repos.personal.purge_messages(
        before, await needed_messages(repos, club))
    await repos.charter.purge_replaced(before)
    return bare + commands, messages

