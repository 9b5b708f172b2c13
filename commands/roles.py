"""What a person may do in the club."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Role(IntEnum):
    """What a person may do; higher includes lower. A ``VISITOR`` is not a club member (in none
    of the club's rooms nor of the groups' rooms): only commands declared ``VISITOR`` are open
    to them. ``REFERENT`` marks commands for a group's referents and the coordinators (and,
    where a command says so, an event's organiser), whose check (of the command or its family)
    or handler finds the group: any member may try them, the check decides; ``!aide`` shows
    them to those who hold such a place somewhere (``Asker``)."""

    VISITOR = 0
    PARTICIPANT = 1
    REFERENT = 2
    COORDINATOR = 3


@dataclass(frozen=True)
class Asker:
    """Who reads ``!aide``: their role, whether they are a referent of a group and whether
    they organise an event; the commands shown are those they may run somewhere."""

    role: Role
    referent: bool = False
    organiser: bool = False

    def may(self, role: Role, *, organisers: bool = False) -> bool:
        """Whether a command declared for ``role`` (``organisers``: and for an event's
        organiser) is for them."""
        if self.role >= role:
            return True
        if role != Role.REFERENT or self.role < Role.PARTICIPANT:
            return False
        return self.referent or (organisers and self.organiser)


def asker(who: Asker | Role) -> Asker:
    """``who`` as an ``Asker`` (a bare role holds no place in a group nor at an event)."""
    return who if isinstance(who, Asker) else Asker(who)
