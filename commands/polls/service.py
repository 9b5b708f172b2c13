"""What happens to a poll, whoever asks (a command, a native vote, the deadline): voting,
counting, refreshing its message, reminding, closing. Each returns the effects to queue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from commands.context import Club
from commands.dates import format_moment
from commands.digest import in_groups_of
from commands.effects import Effect, FollowUp, Post, Reply, SendEvent, effect_txn, ref
from commands.events import PollResponse
from commands.i18n import Translator
from commands.polls import native, render
from commands.polls.tally import SlotResult, results
from commands.text import pill

if TYPE_CHECKING:
    from storage.models import Poll, PollSlot
    from storage.repositories import Repositories

REFUSING_KEPT = 20


def root_key(poll_id: int) -> str:
    return f"poll-{poll_id}-root"


def slot_key(poll_id: int, position: int) -> str:
    return f"poll-{poll_id}-slot-{position}"


def answer_labels(t: Translator) -> dict[str, str]:
    return {answer: t(f"polls.answer_{answer}") for answer in native.ANSWERS}


async def tally(repos: Repositories, poll: Poll) -> tuple[Sequence[PollSlot], list[SlotResult]]:
    slots = await repos.polls.slots(poll.id)
    counts = await repos.polls.counts(poll.id)
    refusing = await repos.polls.refusals([s.id for s in slots], REFUSING_KEPT)
    return slots, results([(s.id, s.position, s.starts_at, s.ends_at) for s in slots], counts,
                          refusing)


async def message(repos: Repositories, poll: Poll, club: Club, t: Translator) -> str:
    """The poll's message as it should read now."""
    _, found = await tally(repos, poll)
    voters = await repos.polls.voter_count(poll.id)
    closes = format_moment(poll.closes_at, t.language, club.tz) if poll.closes_at else None
    text = render.poll_message(poll.id, poll.question, poll.territory, found, voters, closes,
                               poll.status != "open", t, club.tz, club.prefix)
    count = await repos.comments.count(poll.id)
    if count:
        shown = await repos.comments.latest(poll.id, render.COMMENTS_SHOWN)
        text += "\n\n" + render.comments(
            [(c.author if comment_authors_shown(poll) else None, c.text) for c in shown],
            count, t)
    return text


def comment_authors_shown(poll: Poll) -> bool:
    """Whether the poll's comments are shown with their authors: not when the poll is
    anonymous (a poll's ``anonymous`` flag, once polls have one)."""
    return not getattr(poll, "anonymous", False)


async def opening(repos: Repositories, poll: Poll, club: Club, t: Translator) -> list[Effect]:
    """The poll's message, then one native poll per slot in its thread."""
    effects: list[Effect] = [Post(poll.room_id, Reply(await message(repos, poll, club, t)),
                                  key=root_key(poll.id))]
    labels = answer_labels(t)
    for slot in await repos.polls.slots(poll.id):
        question = t("polls.native_question", position=slot.position,
                     slot=render.slot_label(SlotResult(slot.id, slot.position, slot.starts_at,
                                                       slot.ends_at), t, club.tz))
        effects.append(SendEvent(poll.room_id, native.START,
                                 native.start_content(question, labels, ref(root_key(poll.id))),
                                 key=slot_key(poll.id, slot.position)))
    return effects


def results_key(poll: Poll) -> str:
    """The key of the edit that shows the poll's results as of its current version."""
    return f"poll-{poll.id}-results-{poll.results_version}"


async def refresh(repos: Repositories, poll: Poll, club: Club, t: Translator) -> Effect:
    """An edit of the poll's message with the current results."""
    await repos.polls.bump_results(poll)
    return await _edit(repos, poll, club, t)


async def _edit(repos: Repositories, poll: Poll, club: Club, t: Translator) -> Post:
    text = await message(repos, poll, club, t)
    return Post(poll.room_id, Reply(text), key=results_key(poll), replaces=ref(root_key(poll.id)))


async def changed(repos: Repositories, poll: Poll, club: Club, t: Translator) -> FollowUp:
    """The poll's results changed: its version moves now (in the vote's transaction) and its
    message is edited once the reply is on its way (``Reply.then``); ``stale_edits`` catches
    up at start if the bot stopped in between."""
    await repos.polls.bump_results(poll)
    poll_id = poll.id

    async def bring_up_to_date(repos: Repositories) -> list[Effect]:
        current = await repos.polls.get(poll_id)
        if current is None or await repos.outbox.has(effect_txn(results_key(current))):
            return []  # edited already (a later vote's follow-up came first)
        return [await _edit(repos, current, club, t)]

    return bring_up_to_date


async def stale_edits(repos: Repositories, club: Club, t: Translator) -> list[Effect]:
    """The edits of open polls whose message does not show their latest results."""
    edits: list[Effect] = []
    for poll in await repos.polls.open_polls():
        if poll.results_version and not await repos.outbox.has(effect_txn(results_key(poll))):
            edits.append(await _edit(repos, poll, club, t))
    return edits


async def record_native(repos: Repositories, responses: Sequence[PollResponse], club: Club,
                        t: Translator) -> list[Effect]:
    """Counts the answers given with native polls; one message refresh per poll touched."""
    if not responses:
        return []
    slots = await _native_slots(repos)
    touched: dict[int, Poll] = {}
    for response in responses:
        txn = await repos.outbox.txn_of(response.start_event_id)
        found = slots.get(txn or "")
        if found is None:
            continue  # not one of our open polls: somebody else's, or closed
        poll, slot = found
        answer = response.answers[0] if response.answers else None
        changed, _ = await repos.polls.cast(
            poll_id=poll.id, user_id=response.sender, answers=[(slot.id, answer)],
            source="native", at=response.at, event_id=response.event_id, tz=club.tz)
        if changed:
            touched[poll.id] = poll
    return [await refresh(repos, poll, club, t) for poll in touched.values()]


async def _native_slots(repos: Repositories) -> dict[str, tuple[Poll, PollSlot]]:
    """The open polls' slots by the transaction id of their native poll."""
    found = {}
    for poll in await repos.polls.open_polls():
        for slot in await repos.polls.slots(poll.id):
            found[effect_txn(slot_key(poll.id, slot.position))] = (poll, slot)
    return found


async def close(repos: Repositories, poll: Poll, club: Club, t: Translator,
                now: datetime) -> list[Effect]:
    """Closes the poll: end events with each slot's results, the message's last edit, and the
    outcome told in the room, naming the coordinators."""
    poll.status, poll.closed_at = "closed", now
    _slots, found = await tally(repos, poll)
    effects: list[Effect] = []
    for result in found:
        effects.append(SendEvent(poll.room_id, native.END,
                                 native.end_content(ref(slot_key(poll.id, result.position)),
                                                    render.end_text(result, t, club.tz)),
                                 key=f"poll-{poll.id}-end-{result.position}"))
    effects.append(await refresh(repos, poll, club, t))
    told = tuple(dict.fromkeys([poll.created_by, *club.coordinators]))
    text = (t("polls.closed", number=poll.id) + "\n\n" + render.table(found, t, club.tz) + "\n\n"
            + render.outcome(poll.id, found, t, club.tz, club.prefix) + "\n\n"
            + t("polls.closed_coordinators", names=", ".join(pill(u) for u in told)))
    effects.append(Post(poll.room_id, Reply(text, mentions=told), key=f"poll-{poll.id}-closed"))
    return effects


async def remind(repos: Repositories, poll: Poll, members: Sequence[str], club: Club,
                 t: Translator, now: datetime) -> list[Effect]:
    """Before the deadline, one message in the poll's room (``members``: its members but
    the bot): those who have not voted are
    counted, and mentioned if they agreed to be (``MAX_NAMED`` at most a message: more are
    named in the messages that follow it)."""
    poll.reminded_at = now
    voters = await repos.polls.voters(poll.id)
    missing = [m for m in members if m not in voters]
    if not missing or poll.closes_at is None:
        return []
    when = format_moment(poll.closes_at, t.language, club.tz)
    named = sorted(await repos.people.wants_mentions(missing))
    text = t("polls.reminder", number=poll.id, when=when, count=len(missing), prefix=club.prefix)
    parts = in_groups_of(named) or [[]]
    effects: list[Effect] = []
    for index, part in enumerate(parts):
        names = t("polls.reminder_named", names=", ".join(pill(u) for u in part))
        body = (text + "\n\n" + names if part else text) if index == 0 else names
        key = f"poll-{poll.id}-reminder" + (f"-{index}" if index else "")
        effects.append(Post(poll.room_id, Reply(body, mentions=tuple(part)), key=key))
    return effects
