"""What a person may do in the club."""

from __future__ import annotations

from enum import IntEnum


class Role(IntEnum):
    """What a person may do; higher includes lower. A ``VISITOR`` is not a club member (in none
    of the club's rooms nor of the groups' rooms): only commands declared ``VISITOR`` are open
    to them. ``REFERENT`` marks commands for a group's referents and the coordinators, whose
    check (of the command or its family) or handler finds the group: every member sees them,
    the check decides."""

    VISITOR = 0
    PARTICIPANT = 1
    REFERENT = 2
    COORDINATOR = 3
