"""How polls on anything and proposals look: their message (with live results), the results
on demand, the text of their native poll's end. Names are never shown for an anonymous poll;
every text people wrote is escaped (``@room`` defused)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from commands.i18n import Translator
from commands.polls.choices import POSITIONS
from commands.text import escape_markdown, one_line, pill, shorten

if TYPE_CHECKING:
    from storage.models import Poll, PollSlot, PollVote

IN_MESSAGE = 10  # names, reasons or « autre » texts shown per option in the poll's message
ON_DEMAND = 100  # … in ``!proposition resultats`` / ``!sondage resultats``
NATIVE_LABEL_MAX = 200


@dataclass(frozen=True)
class Board:
    """What is shown of a poll: its options (or a proposal's positions) and its votes."""

    poll: Poll
    slots: Sequence[PollSlot]
    votes: Sequence[PollVote]  # answered (not withdrawn), earliest first
    proposed: str = ""  # the Markdown of the new charter a proposal carries (``!cadre proposer``)

    @property
    def voters(self) -> int:
        return len({vote.user_id for vote in self.votes})

    def count(self, slot_id: int, answer: str) -> int:
        return sum(1 for v in self.votes if v.slot_id == slot_id and v.answer == answer)


def option_label(slot: PollSlot, t: Translator) -> str:
    return t("decisions.other_option") if slot.other else (slot.label or "")


def position_label(answer: str, t: Translator) -> str:
    return t(f"decisions.position_{answer}")


def _who(board: Board, vote: PollVote) -> str:
    return "" if board.poll.anonymous else pill(vote.user_id)


def _capped(lines: list[str], limit: int, t: Translator) -> list[str]:
    if len(lines) <= limit:
        return lines
    return [*lines[:limit], "  - " + t("polls.and_more", count=len(lines) - limit)]


def choice_lines(board: Board, t: Translator, limit: int) -> list[str]:
    """One line per option: its count, then who chose it (unless anonymous), and the « autre »
    texts."""
    lines = []
    for slot in board.slots:
        chosen = [v for v in board.votes if v.slot_id == slot.id and v.answer == "yes"]
        label = escape_markdown(option_label(slot, t))
        lines.append(f"{slot.position}. {label} — **{len(chosen)}**")
        if slot.other:
            texts = [f"  - « {escape_markdown(one_line(v.reason))} »"
                     + (f" ({_who(board, v)})" if _who(board, v) else "")
                     for v in chosen if v.reason]
            lines += _capped(texts, limit, t)
        elif chosen and not board.poll.anonymous:
            names = ", ".join(pill(v.user_id) for v in chosen[:limit])
            more = len(chosen) - limit
            lines.append("  " + names + (" " + t("polls.and_more", count=more) if more > 0 else ""))
    return lines


def proposal_lines(board: Board, t: Translator, limit: int) -> list[str]:
    """The counts of each position, then, by position, the reasons (and who, unless
    anonymous); a block without its reason says so."""
    slot = board.slots[0]
    counts = " · ".join(f"{position_label(p, t)} : **{board.count(slot.id, p)}**"
                        for p in POSITIONS)
    lines = [counts]
    for position in POSITIONS:
        given = [v for v in board.votes if v.answer == position]
        if not given:
            continue
        shown = []
        for vote in given:
            who = _who(board, vote)
            if vote.reason:
                reason = escape_markdown(one_line(vote.reason))
                shown.append(f"  - {who} : {reason}" if who else f"  - {reason}")
            elif position == "block":
                shown.append(f"  - {who} : {t('decisions.block_without_reason')}" if who
                             else f"  - {t('decisions.block_without_reason')}")
            elif who:
                shown.append(f"  - {who}")
        if shown:
            lines.append(f"- **{position_label(position, t)}**")
            lines += _capped(shown, limit, t)
    return lines


def message(board: Board, closes: str | None, t: Translator, prefix: str, limit: int) -> str:
    """The message of a poll on anything or of a proposal, as it should read now."""
    poll = board.poll
    if poll.kind == "proposal":
        lines = [t("decisions.proposal_title", number=poll.id, who=pill(poll.created_by)),
                 quote([escape_markdown(line) for line in poll.question.splitlines()]), ""]
        if board.proposed:
            lines += [quote(board.proposed.splitlines()), ""]
        how = t("decisions.proposal_how", prefix=prefix, number=poll.id)
    else:
        lines = [t("decisions.poll_title", number=poll.id,
                   question=escape_markdown(poll.question)), mode(poll, t)]
        how = t("decisions.poll_how_multiple" if poll.multiple else "decisions.poll_how_single",
                prefix=prefix, number=poll.id)
        if poll.allow_other:
            how += " " + t("decisions.poll_how_other", prefix=prefix, number=poll.id)
    if poll.anonymous and poll.kind == "proposal":
        lines.append(t("decisions.anonymous"))
    if poll.status != "open":
        lines.append(t("decisions.message_closed"))
    else:
        lines.append(how)
        if closes:
            lines.append(t("polls.message_deadline", when=closes))
    lines += ["", *(proposal_lines(board, t, limit) if poll.kind == "proposal"
                    else choice_lines(board, t, limit))]
    lines += ["", t("decisions.voters", count=board.voters)]
    if poll.outcome:
        lines += ["", t("decisions.outcome_line", text=escape_markdown(poll.outcome))]
    elif poll.kind == "proposal" and poll.status != "open":
        lines += ["", t("decisions.outcome_awaited", prefix=prefix, number=poll.id)]
    return "\n".join(lines)


def quote(lines: Sequence[str]) -> str:
    """Markdown lines as one quoted block (its blank lines kept inside it)."""
    return "\n".join(f"> {line}" if line.strip() else ">" for line in lines)


def mode(poll: Poll, t: Translator) -> str:
    parts = [t("decisions.mode_multiple" if poll.multiple else "decisions.mode_single")]
    if poll.anonymous:
        parts.append(t("decisions.mode_anonymous"))
    if poll.allow_other:
        parts.append(t("decisions.mode_other"))
    return " · ".join(parts)


def end_text(board: Board, t: Translator) -> str:
    """The text of the end of a proposal's or a single-choice poll's native poll."""
    if board.poll.kind == "proposal":
        slot = board.slots[0]
        return ", ".join(f"{position_label(p, t)} : {board.count(slot.id, p)}" for p in POSITIONS)
    return ", ".join(f"{shorten(option_label(s, t), 60)} : {board.count(s.id, 'yes')}"
                     for s in board.slots)


def option_end_text(board: Board, slot: PollSlot, t: Translator) -> str:
    """The text of the end of one option's native poll (a multiple-choice poll)."""
    return t("decisions.option_end", option=shorten(option_label(slot, t), NATIVE_LABEL_MAX),
             count=board.count(slot.id, "yes"))


def decision_line(poll: Poll, when: str) -> str:
    """A line of ``!decisions`` (a text of several lines on one: the item stays whole)."""
    question, outcome = one_line(poll.question), one_line(poll.outcome or "")
    return (f"- n°{poll.id} ({when}) — {escape_markdown(shorten(question, 200))} → "
            f"**{escape_markdown(shorten(outcome, 400))}**")
