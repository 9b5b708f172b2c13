"""The commands' view of the club (``Club``), built from the settings."""

from __future__ import annotations

from datetime import time, timedelta
from importlib.metadata import PackageNotFoundError, version

from bot.settings import ReminderSettings, Settings
from commands.categories import Categories
from commands.context import Club
from commands.event_kinds import EventKinds
from commands.rhythm import ReminderRules


def reminder_rules(settings: ReminderSettings) -> ReminderRules:
    """The configured rhythm, for the handlers."""
    quiet = settings.quiet_hours.split("-") if settings.quiet_hours else []
    start, end = (time.fromisoformat(part) for part in quiet) if quiet else (None, None)
    return ReminderRules(meeting_days=settings.meeting_days_before,
                         meeting_hours=settings.meeting_hours_before,
                         agenda_call_days=settings.agenda_call_days_before,
                         minutes_days=settings.minutes_days_after,
                         minutes_repeat_days=settings.minutes_repeat_days,
                         progress_weeks=settings.progress_weeks_after,
                         action_days=settings.action_days_before,
                         quiet_start=start, quiet_end=end)


def bot_version() -> str:
    try:
        return version("cct-bot")
    except PackageNotFoundError:
        return "dev"


def club_of(settings: Settings) -> Club:
    """The commands' view of the club, from the settings (its rooms come with the sync)."""
    club, meetings = settings.club, settings.meetings
    return Club(name=club.name, prefix=club.prefix, language=club.language,
                timezone=club.timezone, charter=club.charter,
                charter_version=club.charter_version,
                welcome_message=club.welcome_message, version=bot_version(),
                coordinators=club.coordinators,
                meeting_duration=timedelta(minutes=meetings.duration_minutes),
                poll_reminder=timedelta(hours=meetings.poll_reminder_hours),
                reminders=reminder_rules(settings.reminders),
                agenda_deadline=timedelta(hours=meetings.agenda_deadline_hours),
                entrance=settings.rooms.main or "",
                catch_up=timedelta(minutes=settings.matrix.catch_up_minutes),
                limits=settings.limits,
                event_kinds=EventKinds(settings.events.kinds),
                categories=Categories(settings.events.categories),
                report=settings.report,
                welcome_every=timedelta(seconds=club.welcome_every_seconds),
                retention=_days(settings.privacy.retention_days),
                messages_retention=_days(settings.privacy.messages_retention_days),
                web_url=settings.web.base_url if settings.web.enabled else "")


def _days(days: int) -> timedelta | None:
    """A number of days from the config; ``None`` for zero (nothing expires)."""
    return timedelta(days=days) if days else None
