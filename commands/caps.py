"""What one person may make the bot do: caps on what they create, per day or per rencontre
(``[limits]`` in the config; 0: no limit), checked by ``commands.limits``."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

CAP_MAX = 1000  # the highest a cap may be set to (``[limits]``), unless its field says more


@dataclass(frozen=True)
class Counted:
    """What a daily cap counts: the sender's audit entries of one kind (``subject``,
    ``action``) in the last 24 hours; ``message``: the catalog key of its refusal."""

    subject: str
    action: str
    message: str


def _daily(default: int, subject: str, action: str, message: str) -> int:
    return field(default=default, metadata={"counts": Counted(subject, action, message)})


@dataclass(frozen=True)
class Limits:
    """The caps of one person (0: none)."""

    groups_per_day: int = _daily(3, "group", "created", "limit.groups")  # groups created
    suggestions_per_meeting: int = 5  # agenda suggestions waiting for a decision, per rencontre
    remontees_per_day: int = _daily(5, "remontee", "raised", "limit.remontees")
    initiatives_per_day: int = _daily(5, "initiative", "created", "limit.initiatives")
    # proposals and polls on anything opened (together)
    proposals_per_day: int = _daily(5, "poll", "opened", "limit.proposals")
    # actions recorded at events (``!rencontre action``)
    actions_per_day: int = _daily(20, "action", "created", "limit.actions")
    # funding recorded for groups (``!projet financement``)
    funding_per_day: int = _daily(5, "group", "funding", "limit.funding")
    # groups' needs added (``!projet besoin``: public)
    needs_per_day: int = _daily(10, "group", "need", "limit.needs")
    # proposals' outcomes written or rewritten
    outcomes_per_day: int = _daily(5, "poll", "decided", "limit.outcomes")
    # existing rooms linked to groups (``!projet salon <groupe> <salon>``: invites the members)
    room_links_per_day: int = _daily(3, "group", "room_linked", "limit.room_links")
    # erasures of oneself (``!oublier-moi``: what one did since an erasure waits for the next)
    erasures_per_day: int = _daily(1, "person", "erased", "limit.erasures")
    # commands of any kind (the dispatcher's sliding window)
    commands_per_minute: int = field(default=20, metadata={"maximum": 10_000})
    comments_per_poll: int = 5  # comments on one poll


def counted(cap: str) -> Counted:
    """What the daily cap ``cap`` (a field of ``Limits``) counts."""
    for daily in fields(Limits):
        if daily.name == cap and "counts" in daily.metadata:
            counts: Counted = daily.metadata["counts"]
            return counts
    raise KeyError(f"{cap} is not a daily cap of Limits")


def counted_by_caps() -> frozenset[tuple[str, str]]:
    """The kinds of audit entries (subject, action) some daily cap counts."""
    return frozenset((f.metadata["counts"].subject, f.metadata["counts"].action)
                     for f in fields(Limits) if "counts" in f.metadata)
