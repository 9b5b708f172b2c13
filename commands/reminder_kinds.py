"""The kinds of the reminders ``!rappel`` sets (the ``reminders.kind`` column)."""

from __future__ import annotations

GROUP_ROOM = "group_room"  # for a group's room, set by one of its members (as a member)
ROOM_KINDS = ("room", GROUP_ROOM)  # for a whole room (``room``: set by a coordinator)
SET_WITH_RAPPEL = ("personal", *ROOM_KINDS)  # ``personal``: for oneself
