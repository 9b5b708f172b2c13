"""The club's rhythm: which automatic reminders, when, and the quiet hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from commands.dates import wall_clock


@dataclass(frozen=True)
class ReminderRules:
    """Each rule can be turned off (an empty tuple, a zero)."""

    meeting_days: tuple[int, ...] = (7, 1)  # J-7, J-1: the same time of day, days before
    meeting_hours: tuple[int, ...] = (2,)  # H-2: sent even in the quiet hours
    agenda_call_days: int = 14  # J-14: call for agenda suggestions
    minutes_days: int = 3  # minutes missing that long after a rencontre: tell the coordinators
    minutes_repeat_days: int = 7  # …then every week until they are recorded
    progress_weeks: int = 3  # that long after a rencontre, each active group is asked for news
    action_days: int = 2  # an action's reminder, that many days before its due date (09:00)
    quiet_start: time | None = time(21, 0)
    quiet_end: time | None = time(8, 0)

    def after_quiet_hours(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """``moment``, or the end of the quiet hours if it falls inside them (wall-clock time)."""
        if self.quiet_start is None or self.quiet_end is None or self.quiet_start == self.quiet_end:
            return moment
        local = moment.astimezone(tz)
        clock = local.time().replace(tzinfo=None)
        start, end = self.quiet_start, self.quiet_end
        if start > end:  # across midnight: 21:00–08:00
            if clock >= start:
                return wall_clock(datetime.combine(local.date() + timedelta(days=1), end), tz)
            if clock < end:
                return wall_clock(datetime.combine(local.date(), end), tz)
            return moment
        if start <= clock < end:
            return wall_clock(datetime.combine(local.date(), end), tz)
        return moment
