"""The bot's settings, typed (read and validated by ``bot.config``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from commands.caps import Limits
from commands.categories import DEFAULT_CATEGORIES
from commands.event_kinds import DEFAULT_EVENT_KINDS
from commands.report_settings import ReportSettings


@dataclass(frozen=True)
class MatrixSettings:
    homeserver: str
    user_id: str
    password: str
    access_token: str
    device_id: str
    store_path: Path
    encryption: bool = True
    catch_up_minutes: int = 1440
    sync_timeout_ms: int = 30000
    sync_timeline_limit: int = 100
    request_timeout_seconds: int = 30  # the deadline of each request to the homeserver
    send_retry_hours: int = 24  # how long a failing outbox row is retried before it is set aside
    undecryptable_notice_seconds: int = 60  # 0: never tell
    display_name: str = ""  # the bot's profile; empty: left as it is
    avatar: Path | None = None


@dataclass(frozen=True)
class ClubSettings:
    name: str
    timezone: str
    language: str
    prefix: str
    coordinators: tuple[str, ...]
    allowed_inviters: tuple[str, ...]
    welcome_message: str
    charter: str
    charter_version: str = "1"
    coordinator_power_level: int = 50
    welcome_every_seconds: int = 60  # newcomers arriving this soon after a welcome wait for the next

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class MeetingSettings:
    """Rencontres and date polls."""

    duration_minutes: int = 120
    poll_reminder_hours: int = 24
    agenda_deadline_hours: int = 48  # suggestions for the agenda close this long before


@dataclass(frozen=True)
class EventSettings:
    """The kinds of the club's events: (key, French label), the first one the default; the
    categories of the people who come to them (headcounts, sign-in sheets)."""

    kinds: tuple[tuple[str, str], ...] = DEFAULT_EVENT_KINDS
    categories: tuple[tuple[str, str], ...] = DEFAULT_CATEGORIES


@dataclass(frozen=True)
class ReminderSettings:
    """The club's automatic reminders (each can be turned off) and quiet hours."""

    meeting_days_before: tuple[int, ...] = (7, 1)
    meeting_hours_before: tuple[int, ...] = (2,)
    agenda_call_days_before: int = 14
    minutes_days_after: int = 3
    minutes_repeat_days: int = 7
    progress_weeks_after: int = 3
    action_days_before: int = 2
    quiet_hours: str = "21:00-08:00"


@dataclass(frozen=True)
class PrivacySettings:
    """Personal data: the data of people inactive for ``retention_days`` is erased; commands
    handled and messages sent are deleted after ``messages_retention_days`` (0: never)."""

    retention_days: int = 730
    messages_retention_days: int = 30


@dataclass(frozen=True)
class WebSettings:
    """The public web server (calendar feeds, JSON API, pages): off unless enabled; it listens
    on ``host``:``port`` behind a reverse proxy that serves it at ``base_url``."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 8080
    base_url: str = ""  # the public address, https://…, without a trailing slash
    requests_per_minute: int = 120  # per client address; 0: no limit


@dataclass(frozen=True)
class RoomSettings:
    main: str
    north: str = ""
    south: str = ""
    announcements: str = ""
    space: str = ""  # the club's Matrix space: group rooms are created in it

    def configured(self) -> dict[str, str]:
        """The configured rooms by role (main, north, south, announcements), empty ones left out."""
        rooms = {"main": self.main, "north": self.north, "south": self.south}
        rooms["announcements"] = self.announcements
        return {role: room for role, room in rooms.items() if room}


@dataclass(frozen=True)
class Settings:
    matrix: MatrixSettings
    database_url: str
    club: ClubSettings
    rooms: RoomSettings
    source: Path | None = None
    log_level: str = "INFO"
    log_format: str = "text"
    meetings: MeetingSettings = field(default_factory=MeetingSettings)
    reminders: ReminderSettings = field(default_factory=ReminderSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    limits: Limits = field(default_factory=Limits)
    # how long a command waits for another program's lock on the database before its sender
    # is told « La base de données est occupée, je réessaie… »
    database_busy_notice_seconds: int = 5
    events: EventSettings = field(default_factory=EventSettings)
    web: WebSettings = field(default_factory=WebSettings)
    report: ReportSettings = field(default_factory=ReportSettings)  # [report]


@dataclass(frozen=True)
class ConfigProblem:
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class ConfigError(Exception):
    """A config file with one or more problems."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
