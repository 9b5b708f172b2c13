"""How a poll looks: its message (with live results), the results table, the closing news."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from commands.dates import Slot, format_slot
from commands.i18n import Translator
from commands.polls.tally import SlotResult, best
from commands.text import escape_markdown, pill, shorten
from commands.vocabulary import TERRITORIES

REFUSING_SHOWN = 8
COMMENTS_SHOWN = 5  # the latest comments shown with the results
COMMENT_SHOWN_CHARS = 300  # each cut to this length there


def slot_label(result: SlotResult, t: Translator, tz: ZoneInfo) -> str:
    return format_slot(Slot(result.start, result.end), t.language, tz)


def table(found: Sequence[SlotResult], t: Translator, tz: ZoneInfo) -> str:
    """One line per slot: counts, score, who cannot come; the best slot in bold with a mark."""
    winner = best(found)
    lines = [t("polls.table_head"), "|---|---|---|---|---|---|---|"]
    for result in found:
        label: str = escape_markdown(slot_label(result, t, tz))
        if winner is not None and result.slot_id == winner.slot_id:
            label = f"**{label}** 🏆"
        refusing = ", ".join(pill(user) for user in result.refusing[:REFUSING_SHOWN])
        if result.no > REFUSING_SHOWN:
            refusing += " " + t("polls.and_more", count=result.no - REFUSING_SHOWN)
        lines.append(f"| {result.position} | {label} | {result.yes} | {result.maybe} | "
                     f"{result.no} | {result.score} | {refusing or '—'} |")
    return "\n".join(lines)


def poll_message(number: int, question: str, territory: str, found: Sequence[SlotResult],
                 voters: int, closes: str | None, closed: bool, t: Translator, tz: ZoneInfo,
                 prefix: str) -> str:
    """The poll's own message: question, how to vote, and the results so far (kept up to date by
    edits)."""
    lines = [t("polls.message_title", number=number, question=escape_markdown(question)),
             t("polls.message_territory", territory=TERRITORIES.label(territory, t))]
    if closed:
        lines.append(t("polls.message_closed"))
    else:
        lines.append(t("polls.message_how", prefix=prefix, number=number))
        if closes:
            lines.append(t("polls.message_deadline", when=closes))
    lines += ["", table(found, t, tz), "", t("polls.message_voters", count=voters)]
    return "\n".join(lines)


def outcome(number: int, found: Sequence[SlotResult], t: Translator, tz: ZoneInfo,
            prefix: str) -> str:
    """Which slot wins (for the closing message)."""
    winner = best(found)
    if winner is None:
        return t("polls.no_winner", number=number)
    return t("polls.winner", number=number, slot=escape_markdown(slot_label(winner, t, tz)),
             position=winner.position, yes=winner.yes, maybe=winner.maybe, no=winner.no,
             prefix=prefix)


def end_text(result: SlotResult, t: Translator, tz: ZoneInfo) -> str:
    """The text of a native poll's end event."""
    return t("polls.end_text", slot=slot_label(result, t, tz), yes=result.yes,
             maybe=result.maybe, no=result.no)


def comments(shown: Sequence[tuple[str | None, str]], count: int, t: Translator) -> str:
    """The latest comments (author, or ``None`` for an anonymous poll; text), oldest first,
    under a heading with their number; user text made inert (no Markdown, no ``@room``)."""
    lines = [t("comments.heading", count=count)]
    for author, text in shown:
        said = escape_markdown(shorten(" ".join(text.split()), COMMENT_SHOWN_CHARS))
        lines.append(f"- {pill(author)} : {said}" if author else f"- {said}")
    if count > len(shown):
        lines.append(t("comments.older", count=count - len(shown)))
    return "\n".join(lines)
