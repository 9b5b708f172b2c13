"""What one person may make the bot do: caps on what they create, per day or per rencontre
(``[limits]`` in the config; 0: no limit), checked by ``commands.limits``."""

from __future__ import annotations

from dataclasses import dataclass, field

CAP_MAX = 1000  # the highest a cap may be set to (``[limits]``), unless its field says more


@dataclass(frozen=True)
class Limits:
    """The caps of one person (0: none)."""

    groups_per_day: int = 3  # groups created in 24 hours
    suggestions_per_meeting: int = 5  # agenda suggestions waiting for a decision, per rencontre
    remontees_per_day: int = 5  # remontées raised in 24 hours
    initiatives_per_day: int = 5  # initiatives added to the panorama in 24 hours
    proposals_per_day: int = 5  # proposals and polls on anything opened in 24 hours
    actions_per_day: int = 20  # actions recorded at events in 24 hours (``!rencontre action``)
    funding_per_day: int = 5  # funding recorded for groups in 24 hours (``!projet financement``)
    needs_per_day: int = 10  # groups' needs added in 24 hours (``!projet besoin``: public)
    outcomes_per_day: int = 5  # proposals' outcomes written or rewritten in 24 hours
    # commands of any kind (the dispatcher's sliding window)
    commands_per_minute: int = field(default=20, metadata={"maximum": 10_000})
    comments_per_poll: int = 5  # comments on one poll
