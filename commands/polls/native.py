"""Native Matrix polls (MSC3381): what the bot sends and how it reads people's answers.

Element sends and renders the unstable namespace (``org.matrix.msc3381.poll.*`` with
``org.matrix.msc1767.text``); the stable ``m.poll.*`` events are read too. One single-choice poll
per candidate date (Oui / Si nécessaire / Non) works in every client, Element Web included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from commands.events import PollResponse
from commands.text import defuse_mentions
from commands.threads import in_thread

START = "org.matrix.msc3381.poll.start"
END = "org.matrix.msc3381.poll.end"
TEXT = "org.matrix.msc1767.text"
RESPONSE_TYPES = ("org.matrix.msc3381.poll.response", "m.poll.response")
END_TYPES = (END, "m.poll.end")
ANSWERS = ("yes", "maybe", "no")
ANSWER_ID_MAX = 16


def start_content(question: str, answers: Sequence[tuple[str, str]],
                  thread_root: str) -> dict[str, Any]:
    """A single-choice, disclosed poll (``answers``: id and label of each), in the thread of the
    poll's message (its fallback reply: the thread's latest event when it is sent): about one
    date (Oui / Si nécessaire / Non), one option of a multiple-choice poll (Oui / Non), the
    options of a single-choice one, or a proposal's positions. ``@room`` in the texts is
    defused. Shaped as the JS SDK's
    ``PollStartEvent`` builds it (Element Web's polls): the question is a text message
    (``msgtype: m.text``, ``body``), each answer a text, and the only fallback is the text
    representation of the whole poll (no top-level ``body``: MSC3381 gives the fallback as
    ``m.text`` only)."""
    question = defuse_mentions(question)
    listed = [{"id": answer, TEXT: defuse_mentions(label)} for answer, label in answers]
    fallback = question + "\n" + "\n".join(
        f"{index}. {answer[TEXT]}" for index, answer in enumerate(listed, 1))
    return {
        START: {"kind": "org.matrix.msc3381.poll.disclosed", "max_selections": 1,
                "question": {TEXT: question, "body": question, "msgtype": "m.text"},
                "answers": listed},
        TEXT: fallback,
        "m.relates_to": in_thread(thread_root),
    }


def end_content(start_event: str, text: str) -> dict[str, Any]:
    """Closes one poll, with its results as text: as the JS SDK's ``PollEndEvent`` builds it,
    the closing message a text message (``body``, ``msgtype: m.text``). The text names the
    options people wrote: ``@room`` in it is defused and the empty ``m.mentions`` turns off
    the homeserver's older rules that notify whoever's name a ``body`` contains."""
    text = defuse_mentions(text)
    return {END: {}, TEXT: text, "body": text, "msgtype": "m.text", "m.mentions": {},
            "m.relates_to": {"rel_type": "m.reference", "event_id": start_event}}


def read_response(event_id: str, room_id: str, sender: str, at: datetime,
                  content: Mapping[str, Any]) -> PollResponse | None:
    """The answer a response event carries, unstable or stable form (an answer id of the
    poll's is checked when it is counted); ``None`` if malformed."""
    relates = content.get("m.relates_to")
    if not isinstance(relates, Mapping) or relates.get("rel_type") != "m.reference":
        return None
    start = relates.get("event_id")
    body = content.get("org.matrix.msc3381.poll.response")
    answers = body.get("answers") if isinstance(body, Mapping) else content.get("m.selections")
    if not isinstance(start, str) or not isinstance(answers, list):
        return None
    valid = tuple(a for a in answers if isinstance(a, str) and 0 < len(a) <= ANSWER_ID_MAX)
    return PollResponse(event_id, room_id, sender, at, start, valid[:1])
