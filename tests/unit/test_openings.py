"""Finding a room asked for again after a lost answer (``bot.openings``): only a room the sync
shows the bot made with the intended person is asked for its mark; a mark planted elsewhere
is never trusted, and the other rooms cost no request."""

from __future__ import annotations

from typing import Any

from bot.openings import OPENING_STATE, find_opening, opening_state


async def test_only_a_room_made_for_the_person_is_asked_for_its_mark() -> None:
    marks = {"!planted": "cct-effect-1", "!ours": "cct-effect-1", "!other": "cct-effect-2"}
    asked: list[str] = []

    async def state(room: str, event_type: str) -> dict[str, Any]:
        assert event_type == OPENING_STATE
        asked.append(room)
        return {"opening": marks[room]} if room in marks else {}

    rooms = ["!planted", "!club", "!other", "!ours"]  # "!planted": a stranger's room, marked
    made = {"!ours", "!other"}
    assert await find_opening(rooms, "cct-effect-1", state, made.__contains__) == "!ours"
    assert asked == ["!other", "!ours"]
    asked.clear()
    assert await find_opening(rooms, "cct-effect-3", state, made.__contains__) is None
    assert asked == ["!other", "!ours"]
    assert await find_opening(rooms, "cct-effect-1", state, {"!other"}.__contains__) is None


def test_the_mark_is_initial_state_of_the_new_room() -> None:
    assert opening_state("") == []
    assert opening_state("cct-effect-1") == [
        {"type": OPENING_STATE, "state_key": "", "content": {"opening": "cct-effect-1"}}]
