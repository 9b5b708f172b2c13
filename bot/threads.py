"""The latest event of each thread, for the fallback reply of the bot's own thread messages
(``commands.threads``): what the sync brought and what the bot sent, in memory. A thread not
seen since the start is asked of the homeserver when the bot first posts in it (``/relations``,
newest first: the homeserver keeps the thread, so nothing needs saving)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from commands.threads import thread_root

KEPT = 10000  # threads remembered (the least recently active are forgotten first)
SENT_KEPT = 1000  # events the bot sent lately: a thread rooted there and unseen is empty


class ThreadHeads:
    """The latest event seen of each thread, by room and root."""

    def __init__(self) -> None:
        self._heads: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._sent: OrderedDict[tuple[str, str], None] = OrderedDict()

    def seen(self, room_id: str, events: Iterable[Any], me: str) -> None:
        """Timeline events of a room, oldest first. Those the bot sent lately were recorded as
        it sent them (one coming back from the sync may be older than what it sent since);
        its own from before the start count like anyone's."""
        for event in events:
            if getattr(event, "sender", None) == me and (room_id, event.event_id) in self._sent:
                continue
            source = getattr(event, "source", None)
            content = source.get("content") if isinstance(source, dict) else None
            root = thread_root(content) if isinstance(content, dict) else None
            if root is not None:
                self.note(room_id, root, event.event_id)

    def sent(self, room_id: str, content: dict[str, Any], event_id: str) -> None:
        """The bot sent ``event_id``: the latest of its thread, if it is in one; the root of an
        empty thread otherwise (until someone answers there)."""
        root = thread_root(content)
        if root is not None:
            self.note(room_id, root, event_id)
        self._sent[room_id, event_id] = None
        while len(self._sent) > SENT_KEPT:
            self._sent.popitem(last=False)

    def latest(self, room_id: str, root: str) -> str | None:
        """The thread's latest event as known here: ``root`` itself for a thread of a message
        the bot just sent that nobody answered; ``None`` if unknown."""
        head = self._heads.get((room_id, root))
        if head is None and (room_id, root) in self._sent:
            return root
        return head

    def note(self, room_id: str, root: str, event_id: str) -> None:
        """``event_id`` is the latest event of the thread of ``root``."""
        self._heads[room_id, root] = event_id
        self._heads.move_to_end((room_id, root))
        while len(self._heads) > KEPT:
            self._heads.popitem(last=False)
