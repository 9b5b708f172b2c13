"""The agenda of a rencontre, whoever changes it: the schedule (times from the start and the
durations), the tour of project groups, publication (posts and pins) and, once published, the
"ordre du jour mis à jour" messages that carry only what changed.

Times are elapsed time from the rencontre's start in aware UTC, written in the club's time
zone: a rencontre that crosses a DST change still shows the right wall-clock times.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING

from commands.agenda import render
from commands.agenda.lines import Line, end_of, schedule
from commands.context import Club
from commands.effects import Effect, Pin, Post, Reply, ref
from commands.i18n import Translator
from commands.meetings.service import rooms_of
from commands.meetings.vocabulary import CANCELLED as CANCELLED_MEETING

if TYPE_CHECKING:
    from storage.models import AgendaItem, AgendaState, Meeting
    from storage.repositories import Repositories

DEFAULT_MINUTES = 15
GROUP_MINUTES = 10
ACTIVE_GROUP_STATUSES = ("en-cours", "en-definition", "idee")
GROUP_TERRITORIES = {"nord": ("nord", "tout"), "sud": ("sud", "tout")}  # commun: every group
PRESENTER_MAX = 255  # the column holding the presenters (space-separated user ids)
PROPOSED, ACCEPTED, REFUSED, WITHDRAWN = "proposee", "acceptee", "refusee", "retiree"
CANCELLED, HELD = "annulee", "tenue"


def suggestions_deadline(meeting: Meeting, club: Club) -> datetime:
    """Suggestions for a rencontre's agenda close ``club.agenda_deadline`` before its start."""
    return meeting.starts_at - club.agenda_deadline


def presenters_of(item: AgendaItem) -> tuple[str, ...]:
    return tuple((item.presenter or "").split())


def join_presenters(users: list[str]) -> str | None:
    """As many presenters as the column holds (space-separated)."""
    kept: list[str] = []
    for user in dict.fromkeys(users):
        if len(" ".join([*kept, user])) > PRESENTER_MAX:
            break
        kept.append(user)
    return " ".join(kept) or None


def agenda_rooms(meeting: Meeting, club: Club) -> list[str]:
    """Where the agenda goes: the rooms the rencontre was announced in, else its territory's."""
    return rooms_of(meeting) or club.rooms_for(meeting.territory)


# --- lines: the items with their groups' news ----------------------------------------------------

async def previous_meeting(repos: Repositories, meeting: Meeting) -> Meeting | None:
    """The last rencontre before this one that was not cancelled."""
    for summary in await repos.meetings.past(meeting.starts_at, limit=20):
        if summary.meeting.id != meeting.id and summary.meeting.status != CANCELLED:
            return summary.meeting
    return None


async def group_note(repos: Repositories, group_id: int, since: datetime | None,
                     club: Club, t: Translator) -> str:
    """The group's latest progress entry since ``since``, or « pas de nouvelles… »."""
    latest = await repos.groups.progress(group_id, limit=1)
    if not latest or (since is not None and latest[0].created_at < since):
        return t("odj.no_news")
    return render.news(latest[0].text, latest[0].created_at, club, t)


async def lines_of(repos: Repositories, meeting: Meeting, club: Club, t: Translator,
                   items: list[AgendaItem] | None = None) -> list[Line]:
    """The agenda as it stands, with the news of each group of the tour."""
    rows = items if items is not None else await repos.agenda.items(meeting.id)
    since: datetime | None = None
    if any(item.group_id is not None for item in rows):
        previous = await previous_meeting(repos, meeting)
        since = previous.starts_at if previous is not None else None
    lines = []
    for item in rows:
        note = (await group_note(repos, item.group_id, since, club, t)
                if item.group_id is not None else "")
        lines.append(Line(item.id, item.title, item.minutes, item.method, presenters_of(item),
                          note, item.group_id))
    return lines


def published_lines(state: AgendaState | None) -> list[Line] | None:
    """The agenda as last published, or ``None`` if it never was."""
    if state is None or state.published_at is None:
        return None
    return [Line.from_dict(data) for data in json.loads(state.published or "[]")]


def snapshot(lines: list[Line]) -> str:
    return json.dumps([asdict(line) for line in lines], ensure_ascii=False)


async def agenda_summary(repos: Repositories, meeting: Meeting, club: Club,
                         t: Translator) -> str | None:
    """The published agenda as short Markdown (one line per item with its time), ``None`` if
    it was not published (for reminders of the rencontre)."""
    lines = published_lines(await repos.agenda.state(meeting.id))
    if lines is None:
        return None
    return render.summary(meeting, schedule(meeting.starts_at, lines), club, t)


# --- the tour of project groups ------------------------------------------------------------------

async def add_group_tour(repos: Repositories, meeting: Meeting, actor: str, now: datetime,
                         t: Translator) -> list[AgendaItem]:
    """One item per active group of the rencontre's territory not on the agenda yet; presented
    by its referents."""
    territories = GROUP_TERRITORIES.get(meeting.territory)
    summaries = (await repos.groups.listing(order=ACTIVE_GROUP_STATUSES, limit=500)).rows
    present = {item.group_id for item in await repos.agenda.items(meeting.id)}
    added = []
    for group in summaries:
        if group.id in present or (territories is not None and group.territory not in territories):
            continue
        referents = [m.user_id for m in await repos.groups.members(group.id) if m.referent]
        added.append(await repos.agenda.add_item(
            meeting_id=meeting.id, title=t("odj.group_title", name=group.name),
            minutes=GROUP_MINUTES, method="", presenter=join_presenters(referents),
            created_by=actor, at=now, group_id=group.id))
    return added


# --- publication and its updates -----------------------------------------------------------------

def version_key(meeting_id: int, version: int, room: str) -> str:
    return f"agenda-{meeting_id}-v{version}-{room}"


async def publish(repos: Repositories, meeting: Meeting, club: Club, t: Translator,
                  now: datetime, fallback_room: str) -> tuple[list[Effect], list[str]]:
    """Posts the full agenda in the rencontre's rooms and pins it there (the previous version
    of this rencontre's agenda is unpinned); keeps what was published."""
    state = await repos.agenda.state_for_update(meeting.id)
    lines = await lines_of(repos, meeting, club, t)
    rooms = agenda_rooms(meeting, club) or [fallback_room]
    previous_rooms = set(json.loads(state.rooms or "[]"))
    previous = state.version
    state.version += 1
    text = render.published(meeting, schedule(meeting.starts_at, lines), club, t)
    effects: list[Effect] = []
    for room in rooms:
        key = version_key(meeting.id, state.version, room)
        effects.append(Post(room, Reply(text), key=key))
        unpin = ((ref(version_key(meeting.id, previous, room)),)
                 if previous and room in previous_rooms else ())
        effects.append(Pin(room, ref(key), unpin=unpin,
                           refused=Post(room, Reply(t("odj.pin_refused")))))
    for room in sorted(previous_rooms - set(rooms)):  # a room the rencontre left: unpin there
        effects.append(_unpin(room, ref(version_key(meeting.id, previous, room)), meeting, t))
    state.published = snapshot(lines)
    state.published_at = now
    state.rooms = json.dumps(rooms)
    return effects, rooms


async def after_change(repos: Repositories, meeting: Meeting, club: Club, t: Translator,
                       moved: int | None = None) -> list[Effect]:
    """Once the agenda is published, a change posts « ordre du jour mis à jour » with only what
    changed, and silently edits the pinned agenda so that it stays right. Nothing before."""
    state = await repos.agenda.state(meeting.id)
    old = published_lines(state)
    if state is None or old is None:
        return []
    new = await lines_of(repos, meeting, club, t)
    changes = describe(old, new, meeting.starts_at, club, t, moved)
    if not changes:
        return []
    full = render.published(meeting, schedule(meeting.starts_at, new), club, t)
    message = render.changed(meeting, changes, club, t)
    effects: list[Effect] = []
    for room in json.loads(state.rooms or "[]"):
        effects.append(Post(room, Reply(message)))
        effects.append(Post(room, Reply(full), replaces=ref(version_key(meeting.id,
                                                                         state.version, room))))
    state.published = snapshot(new)
    return effects


async def follow_meeting(repos: Repositories, meeting: Meeting, club: Club,
                         t: Translator) -> list[Effect]:
    """The rencontre moved or was cancelled (``!rencontre`` announces it): the pinned agenda
    follows silently. Moved: edited in place to its new date and times (as last published, so
    unpublished changes stay unpublished). Cancelled: unpinned."""
    state = await repos.agenda.state(meeting.id)
    lines = published_lines(state)
    if state is None or lines is None:
        return []
    rooms = json.loads(state.rooms or "[]")
    keys = {room: ref(version_key(meeting.id, state.version, room)) for room in rooms}
    if meeting.status == CANCELLED_MEETING:
        return [_unpin(room, keys[room], meeting, t) for room in rooms]
    full = render.published(meeting, schedule(meeting.starts_at, lines), club, t)
    return [Post(room, Reply(full), replaces=keys[room]) for room in rooms]


def _unpin(room: str, event: str, meeting: Meeting, t: Translator) -> Pin:
    """Unpins a version of the agenda; told in the room if the bot may not."""
    return Pin(room, "", unpin=(event,),
               refused=Post(room, Reply(t("odj.unpin_refused", meeting=meeting.id))))


def _kept_in_order(old: list[int], new: list[int], moved: int | None) -> set[int]:
    """The items that kept their relative order (the others were moved): the longest common
    subsequence, or everything but ``moved`` when that explains the change."""
    if moved is not None and [i for i in old if i != moved] == [i for i in new if i != moved]:
        return set(old) - {moved}
    lengths = [[0] * (len(new) + 1) for _ in range(len(old) + 1)]
    for a in range(len(old) - 1, -1, -1):
        for b in range(len(new) - 1, -1, -1):
            lengths[a][b] = (lengths[a + 1][b + 1] + 1 if old[a] == new[b]
                             else max(lengths[a + 1][b], lengths[a][b + 1]))
    kept, a, b = set(), 0, 0
    while a < len(old) and b < len(new):
        if old[a] == new[b]:
            kept.add(old[a])
            a, b = a + 1, b + 1
        elif lengths[a + 1][b] >= lengths[a][b + 1]:
            a += 1
        else:
            b += 1
    return kept


def describe(old: list[Line], new: list[Line], start: datetime, club: Club, t: Translator,
             moved: int | None = None) -> list[str]:
    """What changed between two versions of an agenda, one Markdown line each: items added,
    removed, moved or edited, then the new times of the items whose start changed."""
    before = {line.id: line for line in old}
    after = {line.id: line for line in new}
    common_old = [line.id for line in old if line.id in after]
    common_new = [line.id for line in new if line.id in before]
    kept = _kept_in_order(common_old, common_new, moved)
    changes = []
    old_times = {timed.line.id: timed.start for timed in schedule(start, old)}
    new_timed = schedule(start, new)
    for timed in new_timed:
        line = timed.line
        if line.id not in before:
            changes.append(render.change_added(timed, club, t))
        elif line.id not in kept:
            changes.append(render.change_moved(timed, t))
        if line.id in before and not line.same_item(before[line.id]):
            changes.append(render.change_edited(before[line.id], line, t))
    changes += [render.change_removed(line, t) for line in old if line.id not in after]
    retimed = [timed for timed in new_timed
               if timed.line.id in before and old_times[timed.line.id] != timed.start]
    if retimed and changes:
        changes.append(render.change_times(retimed, club, t))
    if changes and end_of(start, old) != end_of(start, new):
        changes.append(render.change_end(end_of(start, new), club, t))
    return changes
