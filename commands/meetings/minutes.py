"""The minutes posted in the event's rooms: the first recording is a message in each room (keyed
by event and room), a new text edits that message where it is still known, and is posted anew
where it is not (sent too long ago to be kept, or never sent)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from commands.context import Club
from commands.effects import Effect, Post, Reply, effect_txn, ref
from commands.i18n import Translator
from commands.meetings import render
from commands.meetings.service import rooms_of

if TYPE_CHECKING:
    from storage.models import Meeting
    from storage.repositories import Repositories


@dataclass
class Published:
    """The messages to queue, and how many rooms got a new message or an edit."""

    effects: list[Effect] = field(default_factory=list)
    posted: int = 0
    edited: int = 0

    def told(self, t: Translator, replaced: bool) -> list[str]:
        """What the reply says of it."""
        if not self.effects:
            return [t("meeting.minutes_no_room")]
        said = [t("meeting.minutes_edited", edited=self.edited)] if self.edited else []
        if self.posted:
            key = "meeting.minutes_reposted" if replaced else "meeting.minutes_published"
            said.append(t(key, posted=self.posted))
        return said


def minutes_key(meeting_id: int, room: str) -> str:
    """The effect key of the first minutes message of an event in one room."""
    return f"meeting-{meeting_id}-minutes-{room}"


async def publish_minutes(repos: Repositories, meeting: Meeting, club: Club, t: Translator,
                          *, replaced: bool) -> Published:
    """The minutes (``meeting.minutes``, already checked) in each room of the event: no
    mention, the text escaped, a link as a link."""
    text = t("meeting.minutes_posted", heading=render.heading(meeting, club, t),
             when=render.when(meeting, club, t), minutes=render.minutes(meeting.minutes))
    reply = Reply(text)
    done = Published()
    for room in rooms_of(meeting):
        key = minutes_key(meeting.id, room)
        if not replaced:
            done.effects.append(Post(room, reply, key=key))
            done.posted += 1
            continue
        original = await repos.outbox.reference(effect_txn(key))
        if original is None:  # still to be sent: the edit waits for it
            done.effects.append(Post(room, reply, replaces=ref(key)))
        elif original:
            done.effects.append(Post(room, reply, replaces=original))
        else:
            done.effects.append(Post(room, reply))
            done.posted += 1
            continue
        done.edited += 1
    return done
