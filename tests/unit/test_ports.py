"""What a handler may ask of the homeserver while its transaction is open: nothing."""

from __future__ import annotations

import inspect

from commands.ports import MatrixPort


def test_a_handler_cannot_wait_for_the_homeserver() -> None:
    """The port handlers receive only reads the bot's synced state: no coroutine, so no handler
    can hold its transaction (SQLite's write lock) while the homeserver answers. Creating a
    room, opening a direct one or fetching a posted file is an effect, done after the commit."""
    methods = {name: member for name, member in vars(MatrixPort).items()
               if callable(member) and not name.startswith("_")}
    assert sorted(methods) == ["is_member", "latest_file", "room_facts"]
    assert not [name for name, member in methods.items()
                if inspect.iscoroutinefunction(member)]
