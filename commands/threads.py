"""Threads (``rel_type: m.thread``): which thread an event is in, and the relations of the
bot's messages there.

A reply to a command sent in a thread stays in that thread and names the command
(``is_falling_back: false``). A message the bot posts in a thread without answering anyone (a
native poll under the poll's message) points, for clients without threads, at the thread's
latest event (``is_falling_back: true``), as Element does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

THREAD = "m.thread"
# In a stored message, the fallback reply of a thread message: the thread's latest event, put in
# when the message is sent (``bot.matrix.MatrixTransport``: the latest the bot knows then).
LATEST = "$$cct-thread-latest"


def thread_root(content: Mapping[str, Any]) -> str | None:
    """The root of the thread an event's content places it in, if any."""
    relates = content.get("m.relates_to")
    if not isinstance(relates, Mapping) or relates.get("rel_type") != THREAD:
        return None
    root = relates.get("event_id")
    return root if isinstance(root, str) and root else None


def reply_in_thread(root: str, command: str) -> dict[str, Any]:
    """The relation of an answer to ``command``, in the thread of ``root``."""
    return {"rel_type": THREAD, "event_id": root, "is_falling_back": False,
            "m.in_reply_to": {"event_id": command}}


def in_thread(root: str) -> dict[str, Any]:
    """The relation of a message in the thread of ``root`` that answers nobody: its fallback
    reply is the thread's latest event when it is sent (``LATEST`` until then)."""
    return {"rel_type": THREAD, "event_id": root, "is_falling_back": True,
            "m.in_reply_to": {"event_id": LATEST}}


def awaits_latest(content: Mapping[str, Any]) -> str | None:
    """The thread root of a message whose fallback reply is still ``LATEST``, if any."""
    relates = content.get("m.relates_to")
    if thread_root(content) is None or not isinstance(relates, Mapping):
        return None
    reply = relates.get("m.in_reply_to")
    if not isinstance(reply, Mapping) or reply.get("event_id") != LATEST:
        return None
    return str(relates["event_id"])


def with_latest(content: Mapping[str, Any], latest: str) -> dict[str, Any]:
    """``content`` whose fallback reply is ``latest`` (the thread's latest event)."""
    relates = {**content["m.relates_to"], "m.in_reply_to": {"event_id": latest}}
    return {**content, "m.relates_to": relates}
