"""``!rencontre feuille <n>``: the sign-in sheet of an event, imported from the latest CSV file
its sender posted in the room. The handler only checks and asks for the file (``Fetch``); the
runtime downloads it outside any transaction, then ``sheet_read`` reads and records it in a
transaction of its own: the club members' Matrix ids become named attendance, the other lines
guests by name (replacing those of an earlier sheet); the reply says what was recorded and
which lines were refused, and why."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from commands.arguments import UserId
from commands.categories import NOT_SAID
from commands.context import Context, RoomOutcome
from commands.effects import Effect, Fetch, Outcome, Post, Reply
from commands.errors import BadArgument, UserError
from commands.meetings.attendance import GUEST_NAME_MAX, default_territory, held
from commands.meetings.common import MEETING, recording
from commands.meetings.details import clean_text
from commands.meetings.render import names
from commands.meetings.sheet import SheetLine, read_sheet
from commands.meetings.turnout import TERRITORIES, counts_text, summary
from commands.meetings.vocabulary import CANCELLED
from commands.ports import FILE_SIZE_LIMIT

if TYPE_CHECKING:
    from storage.models import Meeting

OUTCOME = "signin"  # the outcome of the file fetched (``sheet_read``)
REFUSALS_SHOWN = 30
FRESH_HOURS = 24


@recording.subcommand("feuille", fr=("feuille", "emargement", "feuille-emargement"),
                      en=("sheet", "sign-in-sheet"), params=(MEETING,), names_people=True)
async def feuille(ctx: Context, meeting: Meeting) -> Reply:
    """Asks for the latest CSV file the sender posted here, for the event."""
    posted = ctx.homeserver().latest_file(ctx.room_id, ctx.sender)
    if posted is None:
        raise UserError("signin.no_file", hours=FRESH_HOURS, prefix=ctx.club.prefix,
                        number=meeting.id)
    if posted.size is not None and posted.size > FILE_SIZE_LIMIT:
        raise UserError("signin.too_big", name=posted.name, maximum=FILE_SIZE_LIMIT // 1000)
    data = {"meeting": meeting.id, "name": posted.name, "user_id": ctx.sender}
    return Reply(ctx.t("signin.fetching", name=posted.name, number=meeting.id),
                 effects=(Fetch(ctx.room_id, posted.source, Outcome(OUTCOME, data),
                                about=(ctx.sender,)),))


@dataclass
class Checked:
    """A sheet's lines sorted out: members named, guests, lines refused (number, why)."""

    members: list[str] = field(default_factory=list)
    guests: list[tuple[str, str, str]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)


async def sheet_read(done: RoomOutcome) -> Sequence[Effect]:
    """The fetched file, read and recorded; the reply posted where the command was said."""
    data, t = done.data, done.t
    name = str(data.get("name", ""))
    meeting = await done.repos.meetings.get(int(data["meeting"]))
    if meeting is None or meeting.status == CANCELLED:
        return _say(done, t("meeting.attendance_cancelled", number=data["meeting"]))
    if "content" not in data:
        problem = "too_big" if data.get("problem") == "too_big" else "unreadable"
        return _say(done, t(f"signin.{problem}", name=name, maximum=FILE_SIZE_LIMIT // 1000))
    try:
        lines = read_sheet(base64.b64decode(str(data["content"])))
    except UserError as error:
        return _say(done, t("signin.not_csv", name=name,
                            why=t(error.message_key, **error.values)))
    checked = await _check(lines, meeting, done)
    return _say(done, await _record(done, meeting, name, len(lines), checked))


def _say(done: RoomOutcome, text: str) -> list[Effect]:
    return [Post(done.told_in, Reply(text))]


async def _check(lines: Sequence[SheetLine], meeting: Meeting, done: RoomOutcome) -> Checked:
    checked = Checked()
    for line in lines:
        try:
            if line.matrix:
                checked.members.append(await _member(line, checked, done))
            else:
                checked.guests.append(_guest(line, meeting, done))
        except BadArgument as why:
            checked.refused.append((line.number, done.t(why.message_key, **why.values)))
    return checked


async def _member(line: SheetLine, checked: Checked, done: RoomOutcome) -> str:
    """A club member's Matrix id, once."""
    try:
        user = UserId().convert(line.matrix)
    except BadArgument:
        raise BadArgument("signin.why_matrix", value=line.matrix[:60]) from None
    if not await done.is_member(user):
        raise BadArgument("signin.why_outsider", value=user)
    if user in checked.members:
        raise BadArgument("signin.why_twice", value=user)
    return user


def _guest(line: SheetLine, meeting: Meeting, done: RoomOutcome) -> tuple[str, str, str]:
    """(name, category, territory) of a line without a Matrix id."""
    if not line.name:
        raise BadArgument("signin.why_empty_name")
    try:
        name = clean_text(line.name, "name", GUEST_NAME_MAX)
    except BadArgument as error:
        key = ("signin.why_long_name" if error.message_key == "error.text_too_long"
               else "signin.why_markup")
        raise BadArgument(key, maximum=GUEST_NAME_MAX) from None
    category = done.club.categories.find(line.category) if line.category else NOT_SAID
    if category is None:
        raise BadArgument("signin.why_category", value=line.category[:40])
    territory = (TERRITORIES.find(line.territory) if line.territory
                 else default_territory(meeting))
    if territory is None:
        raise BadArgument("signin.why_territory", value=line.territory[:40])
    return name, category, territory


async def _record(done: RoomOutcome, meeting: Meeting, name: str, count: int,
                  checked: Checked) -> str:
    """Records the sheet; what the reply says."""
    repos, t, actor = done.repos, done.t, str(done.data["user_id"])
    await repos.attendance.add_members(meeting, checked.members, done.now, tz=done.club.tz)
    replaced = await repos.attendance.clear_guests(meeting.id, "feuille")
    await repos.attendance.add_guests(meeting.id, checked.guests, done.now, source="feuille")
    if checked.members or checked.guests:
        await held(repos, meeting, actor, done.now, "sheet", members=len(checked.members),
                   guests=len(checked.guests), refused=len(checked.refused))
    lines = [t("signin.recorded", name=name, number=meeting.id, lines=count)]
    if checked.members:
        lines.append(t("signin.members_added", count=len(checked.members),
                       names=names(checked.members, t)))
    if checked.guests:
        lines.append(t("signin.guests_added", count=len(checked.guests),
                       counts=_by_category(checked.guests, done)))
    if replaced:
        lines.append(t("signin.guests_replaced", count=replaced))
    lines += _refusals(checked.refused, done)
    lines += ["", summary(await repos.attendance.turnout(meeting.id), done.club, t)]
    return "\n".join(lines)


def _by_category(guests: Sequence[tuple[str, str, str]], done: RoomOutcome) -> str:
    counts: dict[str, int] = {}
    for _name, category, _territory in guests:
        counts[category] = counts.get(category, 0) + 1
    return counts_text(counts, done.club, done.t)


def _refusals(refused: Sequence[tuple[int, str]], done: RoomOutcome) -> list[str]:
    if not refused:
        return []
    lines = [done.t("signin.refused_title")]
    lines += [done.t("signin.refused_line", line=number, why=why)
              for number, why in refused[:REFUSALS_SHOWN]]
    if len(refused) > REFUSALS_SHOWN:
        lines.append(done.t("signin.refused_more", count=len(refused) - REFUSALS_SHOWN))
    return lines
