"""Typed settings read from a TOML file (+ environment variables for secrets), validated at once.

Every problem is collected with the key's name, so ``cct-bot check-config`` can report them all
in one go and ``cct-bot run`` refuses a bad file with the same messages.
Relative paths (store, charter file, SQLite database) are resolved from the config file's folder.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.config_reader import (
    Reader,
    is_database_url,
    is_inviter,
    is_room,
    is_timezone,
    is_url,
    is_user,
    resolve,
    resolve_sqlite,
)
from bot.config_report import read_report
from bot.files import image_mimetype
from bot.settings import (
    ClubSettings,
    ConfigError,
    ConfigProblem,
    EventSettings,
    MatrixSettings,
    MeetingSettings,
    PrivacySettings,
    ReminderSettings,
    RoomSettings,
    Settings,
    WebSettings,
)
from commands.caps import CAP_MAX, Limits
from commands.categories import DEFAULT_CATEGORIES
from commands.charter import valid_version
from commands.event_kinds import DEFAULT_EVENT_KINDS, KEY_PATTERN, LABEL_MAX
from commands.i18n import LANGUAGES, Translator

PASSWORD_ENV = "CCT_BOT_PASSWORD"
ACCESS_TOKEN_ENV = "CCT_BOT_ACCESS_TOKEN"

DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
PREFIX_MAX = 3
DISPLAY_NAME_MAX = 256  # Synapse's limit
AVATAR_MAX_BYTES = 1024 * 1024
LOG_FORMATS = ("text", "json")


def _read_matrix(r: Reader, base: Path, env: Mapping[str, str]) -> MatrixSettings:
    homeserver = r.required("matrix.homeserver", is_url, "config.bad_url")
    user_id = r.required("matrix.user_id", is_user, "config.bad_user")
    password = r.string("matrix.password") or env.get(PASSWORD_ENV, "")
    token = r.string("matrix.access_token") or env.get(ACCESS_TOKEN_ENV, "")
    if not password and not token:
        r.problem("matrix.password", "config.no_secret", pw=PASSWORD_ENV, tok=ACCESS_TOKEN_ENV)
    device_id = r.string("matrix.device_id", "CCTBOT")
    if not DEVICE_ID_RE.match(device_id):
        r.problem("matrix.device_id", "config.bad_device", value=device_id)
    return MatrixSettings(
        homeserver=homeserver.rstrip("/"),
        user_id=user_id,
        password=password,
        access_token=token,
        device_id=device_id,
        store_path=resolve(base, r.string("matrix.store_path", "data/store")),
        encryption=r.boolean("matrix.encryption", True),
        catch_up_minutes=r.integer("matrix.catch_up_minutes", 1440, 1, 60 * 24 * 30),
        sync_timeout_ms=r.integer("matrix.sync_timeout_ms", 30000, 1000, 120000),
        sync_timeline_limit=r.integer("matrix.sync_timeline_limit", 100, 1, 1000),
        request_timeout_seconds=r.integer("matrix.request_timeout_seconds", 30, 5, 300),
        send_retry_hours=r.integer("matrix.send_retry_hours", 24, 1, 24 * 30),
        undecryptable_notice_seconds=r.integer("matrix.undecryptable_notice_seconds", 60, 0,
                                               24 * 3600),
        display_name=_read_display_name(r),
        avatar=_read_avatar(r, base),
    )


def _read_display_name(r: Reader) -> str:
    name = r.string("matrix.display_name")
    if len(name) > DISPLAY_NAME_MAX:
        r.problem("matrix.display_name", "config.display_name_too_long", maximum=DISPLAY_NAME_MAX)
        return ""
    return name


def _read_avatar(r: Reader, base: Path) -> Path | None:
    """The avatar's path, once checked to be a readable PNG, JPEG, GIF or WebP image, small
    enough for an avatar."""
    value = r.string("matrix.avatar")
    if not value:
        return None
    path = resolve(base, value)
    try:
        data = path.read_bytes()
    except OSError as exc:
        r.problem("matrix.avatar", "config.unreadable", value=value, reason=exc.strerror)
        return None
    if len(data) > AVATAR_MAX_BYTES:
        r.problem("matrix.avatar", "config.avatar_too_large", value=value,
                  maximum=AVATAR_MAX_BYTES // 1024)
    elif image_mimetype(data) is None:
        r.problem("matrix.avatar", "config.avatar_not_image", value=value)
    return path


def _read_charter(r: Reader, base: Path) -> str:
    text = r.string("club.charter")
    path = r.string("club.charter_file")
    if text and path:
        r.problem("club.charter_file", "config.charter_both")
    if path:
        try:
            return resolve(base, path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            r.problem("club.charter_file", "config.unreadable", value=path, reason=exc.strerror)
        except UnicodeDecodeError:
            r.problem("club.charter_file", "config.unreadable", value=path, reason="UTF-8")
    return text


def _read_charter_version(r: Reader) -> str:
    """The charter's version (a short label: ``1``, ``2026-03``): adopting records it, and a
    new one asks those who adopted an older one to adopt it."""
    version = r.string("club.charter_version", "1").strip()
    if not valid_version(version):
        r.problem("club.charter_version", "config.bad_charter_version", value=version[:80])
        return "1"
    return version


def _read_club(r: Reader, base: Path) -> ClubSettings:
    language = r.string("club.language", "fr")
    if language not in LANGUAGES:
        r.problem("club.language", "config.bad_language", value=language, choices=", ".join(LANGUAGES))
    timezone = r.string("club.timezone", "Europe/Paris")
    if not is_timezone(timezone):
        r.problem("club.timezone", "config.bad_timezone", value=timezone)
    prefix = r.string("club.prefix", "!")
    if not prefix or len(prefix) > PREFIX_MAX or any(c.isalnum() or c.isspace() for c in prefix):
        r.problem("club.prefix", "config.bad_prefix", value=prefix)
    return ClubSettings(
        name=r.string("club.name", "Club Climat et Transition"),
        timezone=timezone if is_timezone(timezone) else "Europe/Paris",
        language=language if language in LANGUAGES else "fr",
        prefix=prefix or "!",
        coordinators=r.string_list("club.coordinators", is_user, "config.bad_user"),
        allowed_inviters=r.string_list("club.allowed_inviters", is_inviter, "config.bad_inviter"),
        welcome_message=r.string("club.welcome_message"),
        charter=_read_charter(r, base),
        charter_version=_read_charter_version(r),
        coordinator_power_level=r.integer("club.coordinator_power_level", 50, 1, 100),
        welcome_every_seconds=r.integer("club.welcome_every_seconds", 60, 0, 24 * 3600),
    )


def _read_rooms(r: Reader) -> RoomSettings:
    main = r.required("rooms.main", is_room, "config.bad_room")
    others = {}
    for name in ("north", "south", "announcements", "space"):
        value = r.string(f"rooms.{name}")
        if value and not is_room(value):
            r.problem(f"rooms.{name}", "config.bad_room", value=value)
        others[name] = value
    return RoomSettings(main=main, **others)


QUIET_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def _read_reminders(r: Reader) -> ReminderSettings:
    quiet = r.string("reminders.quiet_hours", "21:00-08:00")
    if quiet and not QUIET_RE.match(quiet):
        r.problem("reminders.quiet_hours", "config.bad_quiet_hours", value=quiet)
        quiet = "21:00-08:00"
    return ReminderSettings(
        meeting_days_before=r.int_list("reminders.meeting_days_before", (7, 1), 60),
        meeting_hours_before=r.int_list("reminders.meeting_hours_before", (2,), 48),
        agenda_call_days_before=r.integer("reminders.agenda_call_days_before", 14, 0, 90),
        minutes_days_after=r.integer("reminders.minutes_days_after", 3, 0, 60),
        minutes_repeat_days=r.integer("reminders.minutes_repeat_days", 7, 1, 60),
        progress_weeks_after=r.integer("reminders.progress_weeks_after", 3, 0, 26),
        action_days_before=r.integer("reminders.action_days_before", 2, 0, 30),
        quiet_hours=quiet)


def _read_events(r: Reader) -> EventSettings:
    """``[events.kinds]`` and ``[events.categories]``: ``key = "Label"`` lines, in order;
    absent: the defaults."""
    return EventSettings(_labels(r, "events.kinds", DEFAULT_EVENT_KINDS),
                         _labels(r, "events.categories", DEFAULT_CATEGORIES))


def _labels(r: Reader, name: str,
            default: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """A table of ``key = "Label"`` lines, in order; absent (or all wrong): ``default``."""
    table = r.raw(name)
    if table is None:
        return default
    if not isinstance(table, Mapping) or not table:
        r.problem(name, "config.bad_event_kinds", section=name)
        return default
    kinds = []
    for key, label in table.items():
        if not KEY_PATTERN.match(key):
            r.problem(f"{name}.{key}", "config.bad_event_kind_key")
        elif not isinstance(label, str) or not label.strip() or len(label) > LABEL_MAX:
            r.problem(f"{name}.{key}", "config.bad_event_kind_label", maximum=LABEL_MAX)
        else:
            kinds.append((key, " ".join(label.split())))
    return tuple(kinds) or default


def _read_limits(r: Reader) -> Limits:
    """``[limits]``: one key per cap of ``commands.caps.Limits``, its default there."""
    default = Limits()
    return Limits(**{cap.name: r.integer(f"limits.{cap.name}", getattr(default, cap.name), 0,
                                         cap.metadata.get("maximum", CAP_MAX))
                     for cap in fields(Limits)})


def _read_web(r: Reader) -> WebSettings:
    """``[web]``: the public web server; its public address is required once it is enabled
    (the calendar links ``!calendrier`` gives are made from it)."""
    enabled = r.boolean("web.enabled", False)
    host = r.string("web.host", "127.0.0.1")
    if not host:
        r.problem("web.host", "config.missing")
    port = r.integer("web.port", 8080, 1, 65535)
    base_url = r.string("web.base_url")
    if base_url and (not is_url(base_url) or urlsplit(base_url).query
                     or urlsplit(base_url).fragment):
        r.problem("web.base_url", "config.bad_url", value=base_url)
    elif enabled and not base_url:
        r.problem("web.base_url", "config.missing")
    return WebSettings(enabled=enabled, host=host or "127.0.0.1", port=port,
                       base_url=base_url.rstrip("/"),
                       requests_per_minute=r.integer("web.requests_per_minute", 120, 0, 100_000))


def _check_unknown_keys(r: Reader) -> None:
    known = {
        "matrix": {"homeserver", "user_id", "password", "access_token", "device_id", "store_path",
                   "encryption", "catch_up_minutes", "sync_timeout_ms", "sync_timeline_limit",
                   "request_timeout_seconds", "send_retry_hours",
                   "undecryptable_notice_seconds", "display_name", "avatar"},
        "database": {"url", "busy_notice_seconds"},
        "club": {"name", "timezone", "language", "prefix", "coordinators", "allowed_inviters",
                 "welcome_message", "charter", "charter_file", "charter_version",
                 "coordinator_power_level",
                 "welcome_every_seconds"},
        "rooms": {"main", "north", "south", "announcements", "space"},
        "logging": {"level", "format"},
        "meetings": {"duration_minutes", "poll_reminder_hours", "agenda_deadline_hours"},
        "reminders": {"meeting_days_before", "meeting_hours_before", "agenda_call_days_before",
                      "minutes_days_after", "minutes_repeat_days", "progress_weeks_after",
                      "action_days_before", "quiet_hours"},
        "privacy": {"retention_days", "messages_retention_days"},
        "limits": {cap.name for cap in fields(Limits)},
        "events": {"kinds", "categories"},
        "web": {"enabled", "host", "port", "base_url", "requests_per_minute"},
        "report": {"periods", "indicators"},
    }
    for section, table in r.data.items():
        if section not in known:
            r.problem(section, "config.unknown_section")
        elif not isinstance(table, Mapping):
            r.problem(section, "config.not_table")
        else:
            for name in table:
                if name not in known[section]:
                    r.problem(f"{section}.{name}", "config.unknown_key")


def parse_settings(
    data: Mapping[str, Any], *, base: Path, env: Mapping[str, str] | None = None,
    source: Path | None = None,
) -> Settings:
    """Validates parsed TOML into ``Settings``; raises ``ConfigError`` listing every problem."""
    club_table = data.get("club", {})
    lang = club_table.get("language", "fr") if isinstance(club_table, Mapping) else "fr"
    r = Reader(data, Translator(lang if lang in LANGUAGES else "fr"))
    _check_unknown_keys(r)
    matrix = _read_matrix(r, base, os.environ if env is None else env)
    url = r.string("database.url", "sqlite+aiosqlite:///data/cct.db")
    if not is_database_url(url):
        r.problem("database.url", "config.bad_database", value=url)
    busy_notice = r.integer("database.busy_notice_seconds", 5, 0, 3600)
    club = _read_club(r, base)
    rooms = _read_rooms(r)
    meetings = MeetingSettings(
        duration_minutes=r.integer("meetings.duration_minutes", 120, 15, 12 * 60),
        poll_reminder_hours=r.integer("meetings.poll_reminder_hours", 24, 0, 24 * 14),
        agenda_deadline_hours=r.integer("meetings.agenda_deadline_hours", 48, 0, 24 * 30))
    reminders = _read_reminders(r)
    privacy = PrivacySettings(
        retention_days=r.integer("privacy.retention_days", 730, 0, 36500),
        messages_retention_days=r.integer("privacy.messages_retention_days", 30, 0, 3650))
    limits = _read_limits(r)
    events = _read_events(r)
    web = _read_web(r)
    report = read_report(r, [key for key, _label in events.kinds])
    level = r.string("logging.level", "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        r.problem("logging.level", "config.bad_log_level", value=level)
    log_format = r.string("logging.format", "text").lower()
    if log_format not in LOG_FORMATS:
        r.problem("logging.format", "config.bad_log_format", value=log_format)
    if r.problems:
        raise ConfigError(r.problems)
    return Settings(matrix, resolve_sqlite(base, url), club, rooms, source, level, log_format,
                    meetings, reminders, privacy, limits, busy_notice, events, web,
                    report)


def load_settings(path: Path, env: Mapping[str, str] | None = None) -> Settings:
    """Reads and validates the TOML file at ``path``, refusing it when others may read the
    secrets it holds (``file_exposed``) as ssh refuses a private key readable by others."""
    t = Translator("fr")
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
            mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(str(path), t("config.file_missing"))]) from None
    except OSError as exc:  # not readable by the bot's user
        raise ConfigError([ConfigProblem(str(path), t("config.unreadable", value=path,
                                                      reason=exc.strerror))]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([ConfigProblem(str(path), t("config.bad_toml", reason=str(exc)))]) from None
    exposed = file_exposed(path, mode, secrets_in_file(data), t)
    try:
        settings = parse_settings(data, base=path.resolve().parent, env=env, source=path)
    except ConfigError as error:
        raise ConfigError([*exposed, *error.problems]) from None
    if exposed:
        raise ConfigError(exposed)
    return settings


def secrets_in_file(data: Mapping[str, Any]) -> list[str]:
    """The keys of the secrets written in the file itself (not those from the environment)."""
    matrix = data.get("matrix", {})
    database = data.get("database", {})
    found = [f"matrix.{key}" for key in ("password", "access_token")
             if isinstance(matrix, Mapping) and isinstance(matrix.get(key), str)
             and matrix[key].strip()]
    url = database.get("url") if isinstance(database, Mapping) else None
    if isinstance(url, str) and _url_password(url):
        found.append("database.url")
    return found


def _url_password(url: str) -> str:
    try:
        return urlsplit(url).password or ""
    except ValueError:  # a port that is not a number: the URL is refused elsewhere
        return ""


def file_exposed(path: Path, mode: int, secrets: list[str], t: Translator) -> list[ConfigProblem]:
    """A file holding secrets must be the owner's alone (0600); any config, secrets or not,
    must not be writable by everyone (anyone could name themselves coordinator)."""
    quoted = shlex.quote(str(path))
    if secrets and mode & 0o077:
        return [ConfigProblem(str(path), t("config.secret_exposed", keys=", ".join(secrets),
                                           mode=f"{mode:04o}", command=f"chmod 600 {quoted}"))]
    if mode & 0o002:
        return [ConfigProblem(str(path), t("config.world_writable", mode=f"{mode:04o}",
                                           command=f"chmod 644 {quoted}"))]
    return []
