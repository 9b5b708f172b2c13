"""What happens to a poll of any kind (dates, a poll on anything, a proposal), whoever asks (a
command, a native vote, the deadline): voting, counting, refreshing its message, reminding,
closing. Each returns the effects to queue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from commands.charter import proposed_markdown
from commands.context import Club
from commands.dates import format_moment
from commands.digest import in_groups_of
from commands.effects import Effect, FollowUp, Post, Reply, SendEvent, effect_txn, ref
from commands.events import PollResponse
from commands.i18n import Translator
from commands.polls import boards, native, render
from commands.polls.choices import POSITIONS
from commands.polls.tally import SlotResult, results
from commands.text import pill, shorten

if TYPE_CHECKING:
    from storage.models import Poll, PollSlot
    from storage.repositories import Repositories

REFUSING_KEPT = 20


def root_key(poll_id: int) -> str:
    return f"poll-{poll_id}-root"


def slot_key(poll_id: int, position: int) -> str:
    return f"poll-{poll_id}-slot-{position}"


def choice_key(poll_id: int) -> str:
    """The one native poll of a proposal or of a single-choice poll."""
    return f"poll-{poll_id}-choice"


def per_option(poll: Poll) -> bool:
    """Whether the poll has a native poll per option (dates, several choices) rather than one."""
    return poll.kind == "dates" or (poll.kind == "choice" and poll.multiple)


def native_keys(poll: Poll, slots: Sequence[PollSlot]) -> list[tuple[str, PollSlot | None]]:
    """The keys of the poll's native polls, with the option each is about (``None``: all)."""
    if per_option(poll):
        return [(slot_key(poll.id, slot.position), slot) for slot in slots]
    return [(choice_key(poll.id), None)]


def answer_labels(t: Translator) -> list[tuple[str, str]]:
    return [(answer, t(f"polls.answer_{answer}")) for answer in native.ANSWERS]


async def board(repos: Repositories, poll: Poll) -> boards.Board:
    proposed = await repos.charter.proposal(poll.id) if poll.kind == "proposal" else None
    return boards.Board(poll, await repos.polls.slots(poll.id), await repos.polls.votes(poll.id),
                        proposed_markdown(proposed.text) if proposed else "")


async def tally(repos: Repositories, poll: Poll) -> tuple[Sequence[PollSlot], list[SlotResult]]:
    slots = await repos.polls.slots(poll.id)
    counts = await repos.polls.counts(poll.id)
    refusing = await repos.polls.refusals([s.id for s in slots], REFUSING_KEPT)
    return slots, results([(s.id, s.position, s.starts_at, s.ends_at) for s in slots], counts,
                          refusing)


async def message(repos: Repositories, poll: Poll, club: Club, t: Translator,
                  limit: int = boards.IN_MESSAGE) -> str:
    """The poll's message as it should read now (``limit``: names or reasons shown per option
    of a poll on anything or a proposal)."""
    closes = format_moment(poll.closes_at, t.language, club.tz) if poll.closes_at else None
    if poll.kind != "dates":
        text = boards.message(await board(repos, poll), closes, t, club.prefix, limit)
    else:
        _, found = await tally(repos, poll)
        voters = await repos.polls.voter_count(poll.id)
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
    anonymous."""
    return not poll.anonymous


async def opening(repos: Repositories, poll: Poll, club: Club, t: Translator) -> list[Effect]:
    """The poll's message, then its native polls in its thread: one per slot (dates, several
    choices), or one for all (a single choice, a proposal's positions)."""
    effects: list[Effect] = [Post(poll.room_id, Reply(await message(repos, poll, club, t)),
                                  key=root_key(poll.id))]
    slots = await repos.polls.slots(poll.id)
    for key, slot in native_keys(poll, slots):
        question, answers = _native_poll(poll, slot, slots, club, t)
        effects.append(SendEvent(poll.room_id, native.START,
                                 native.start_content(question, answers, ref(root_key(poll.id))),
                                 key=key))
    return effects


def _native_poll(poll: Poll, slot: PollSlot | None, slots: Sequence[PollSlot], club: Club,
                 t: Translator) -> tuple[str, list[tuple[str, str]]]:
    """The question and answers (id, label) of one of the poll's native polls."""
    label = boards.NATIVE_LABEL_MAX
    if slot is not None and poll.kind == "dates":
        when = render.slot_label(SlotResult(slot.id, slot.position, slot.starts_at,
                                            slot.ends_at), t, club.tz)
        return t("polls.native_question", position=slot.position, slot=when), answer_labels(t)
    if slot is not None:  # one option of a multiple-choice poll
        question = t("polls.native_question", position=slot.position,
                     slot=shorten(boards.option_label(slot, t), label))
        return question, [("yes", t("polls.answer_yes")), ("no", t("polls.answer_no"))]
    if poll.kind == "proposal":
        question = t("decisions.native_question", number=poll.id,
                     text=shorten(poll.question, 300))
        return question, [(p, boards.position_label(p, t)) for p in POSITIONS]
    return (shorten(poll.question, 300),
            [(str(s.position), shorten(boards.option_label(s, t), label)) for s in slots])


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
    """Counts the answers given with native polls (a response from another room than its
    poll's is not one); one message refresh per poll whose answers changed."""
    if not responses:
        return []
    targets = await _native_targets(repos)
    touched: dict[int, Poll] = {}
    for response in responses:
        txn = await repos.outbox.txn_of(response.start_event_id, response.room_id)
        found = targets.get(txn or "")
        if found is None:
            continue  # not one of our open polls in this room: somebody else's, or closed
        poll, slot, slots = found
        answer = response.answers[0] if response.answers else None
        changed, _ = await repos.polls.cast(
            poll_id=poll.id, user_id=response.sender,
            answers=native_answers(poll, slot, slots, answer), source="native", at=response.at,
            event_id=response.event_id, tz=club.tz)
        if changed:
            touched[poll.id] = poll
    return [await refresh(repos, poll, club, t) for poll in touched.values()]


def native_answers(poll: Poll, slot: PollSlot | None, slots: Sequence[PollSlot],
                   answer: str | None) -> list[tuple[int, str | None]]:
    """What an answer to one of the poll's native polls records (an unknown answer id
    withdraws): a date's answer, one option chosen or not, the one option of a single choice
    (the others withdrawn), a proposal's position (its reason kept if unchanged)."""
    if slot is not None:
        valid = native.ANSWERS if poll.kind == "dates" else ("yes",)
        return [(slot.id, answer if answer in valid else None)]
    if poll.kind == "proposal":
        return [(slots[0].id, answer if answer in POSITIONS else None)]
    return [(each.id, "yes" if str(each.position) == answer else None) for each in slots]


async def _native_targets(
        repos: Repositories) -> dict[str, tuple[Poll, PollSlot | None, Sequence[PollSlot]]]:
    """The open polls' native polls by their transaction id: the poll, the option it is
    about (``None``: all of them), the poll's options."""
    found = {}
    for poll in await repos.polls.open_polls():
        slots = await repos.polls.slots(poll.id)
        for key, slot in native_keys(poll, slots):
            found[effect_txn(key)] = (poll, slot, slots)
    return found


async def close(repos: Repositories, poll: Poll, club: Club, t: Translator,
                now: datetime) -> list[Effect]:
    """Closes the poll: end events with each slot's results, the message's last edit, and the
    outcome told in the room, naming the coordinators."""
    poll.status, poll.closed_at = "closed", now
    if poll.kind != "dates":
        return await _close_other(repos, poll, club, t)
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


async def _close_other(repos: Repositories, poll: Poll, club: Club,
                       t: Translator) -> list[Effect]:
    """Closes a poll on anything or a proposal: its native polls ended with their counts,
    the message's last edit, and the results told in the room, naming its author and the
    coordinators (who write a proposal's outcome)."""
    shown = await board(repos, poll)
    effects: list[Effect] = []
    for key, slot in native_keys(poll, shown.slots):
        text = (boards.option_end_text(shown, slot, t) if slot is not None
                else boards.end_text(shown, t))
        effects.append(SendEvent(poll.room_id, native.END, native.end_content(ref(key), text),
                                 key=f"{key}-end"))
    effects.append(await refresh(repos, poll, club, t))
    told = tuple(dict.fromkeys([poll.created_by, *club.coordinators]))
    if poll.kind == "proposal":
        lines = boards.proposal_lines(shown, t, boards.IN_MESSAGE)
        after = t("decisions.outcome_awaited", prefix=club.prefix, number=poll.id)
    else:
        lines = boards.choice_lines(shown, t, boards.IN_MESSAGE)
        after = ""
    text = "\n".join([t(f"decisions.closed_{poll.kind}", number=poll.id), "", *lines, "",
                      t("decisions.voters", count=shown.voters), after,
                      t("polls.closed_coordinators", names=", ".join(pill(u) for u in told))])
    effects.append(Post(poll.room_id, Reply(text, mentions=told), key=f"poll-{poll.id}-closed"))
    return effects


async def remind(repos: Repositories, poll: Poll, members: Sequence[str], club: Club,
                 t: Translator, now: datetime) -> list[Effect]:
    """Before the deadline, one message in the poll's room (``members``: its members but
    the bot): those who have not voted are counted, and mentioned if they agreed to be
    (``MAX_NAMED`` at most a message: more are named in the messages that follow it); an
    anonymous poll names nobody (who is not named would have answered)."""
    poll.reminded_at = now
    voters = await repos.polls.voters(poll.id)
    missing = [m for m in members if m not in voters]
    if not missing or poll.closes_at is None:
        return []
    when = format_moment(poll.closes_at, t.language, club.tz)
    named = [] if poll.anonymous else sorted(await repos.people.wants_mentions(missing))
    section = "polls" if poll.kind == "dates" else f"decisions.{poll.kind}"
    text = t(f"{section}.reminder", number=poll.id, when=when, count=len(missing),
             prefix=club.prefix)
    parts = in_groups_of(named) or [[]]
    effects: list[Effect] = []
    for index, part in enumerate(parts):
        names = t(f"{section}.reminder_named", names=", ".join(pill(u) for u in part))
        body = (text + "\n\n" + names if part else text) if index == 0 else names
        key = f"poll-{poll.id}-reminder" + (f"-{index}" if index else "")
        effects.append(Post(poll.room_id, Reply(body, mentions=tuple(part)), key=key))
    return effects
