"""What the coordinators are told when the bot gives up sending something: one message in the
main room naming them, once per row set aside (the outbox keys it by the row)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from commands.context import Club
from commands.effects import Post, Reply
from commands.i18n import Translator
from commands.text import escape_markdown, pill, room_link

MESSAGES = ("send", "upload")


def failure_report(club: Club, t: Translator, *, row: int, action: str, room_id: str,
                   content: str, since: datetime, now: datetime) -> Post | None:
    """The report of a row set aside after failing since ``since``; ``None`` without a main
    room, or for a message of the main room itself (its report would fail the same way)."""
    main = club.rooms.get("main")
    if main is None or (room_id == main and action in MESSAGES):
        return None
    data: dict[str, Any] = json.loads(content) if content else {}
    user = str(data.get("user_id", ""))
    name = str(data.get("room", {}).get("name", "")) if action == "create_room" else ""
    what = t(f"delivery.what_{action}" if action in WHAT else "delivery.what_send",
             room=room_link(room_id, room_id), user=pill(user) if user else "",
             name=escape_markdown(name))
    hours = max(1, round((now - since).total_seconds() / 3600))
    names = ", ".join(pill(c) for c in club.coordinators) or t("reminder.coordination")
    return Post(main, Reply(t("delivery.failed", names=names, what=what, hours=hours, row=row),
                            mentions=club.coordinators))


WHAT = ("send", "upload", "invite", "pin", "state", "leave", "create_room", "direct_room")
