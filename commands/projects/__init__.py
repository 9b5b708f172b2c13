"""Project groups (groupes-projets): the registry, members, progress, needs, rooms, history.

``!projet``'s subcommands are declared by the modules below, in the order ``!aide projet``
lists them: reading, membership, editing, funding, rooms (each module adds its own when imported)."""

# isort: off
from commands.projects import reading, membership, editing, funding, rooms
# isort: on
from commands.capability import Capability
from commands.projects.common import projet

CAPABILITY = Capability("projects", commands=(projet, reading.mesprojets),
                        outcomes={rooms.ROOM_OPENED: rooms.room_opened})

__all__ = ["CAPABILITY", "editing", "funding", "membership", "reading", "rooms"]
