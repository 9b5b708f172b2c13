"""Reading typed values from a parsed TOML file, each problem collected with its key."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.settings import ConfigProblem
from commands.i18n import Translator
from matrix_ids import is_server_name, is_user_id

# Room ids of room version 12 have no server part (``!opaque``); aliases always have one.
ROOM_RE = re.compile(r"^(![A-Za-z0-9._~+/=\-]+(:[A-Za-z0-9.\-]+(:\d+)?)?|#[^:\s]+:[A-Za-z0-9.\-]+(:\d+)?)$")


@dataclass
class Reader:
    """Reads typed values from the parsed TOML, collecting problems instead of stopping."""

    data: Mapping[str, Any]
    t: Translator
    problems: list[ConfigProblem] = field(default_factory=list)

    def problem(self, key: str, msg_key: str, **values: object) -> None:
        self.problems.append(ConfigProblem(key, self.t(msg_key, **values)))

    def raw(self, key: str) -> Any:
        section, _, name = key.partition(".")
        table = self.data.get(section, {})
        if not isinstance(table, Mapping):
            return None
        return table.get(name)

    def string(self, key: str, default: str = "") -> str:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, str):
            self.problem(key, "config.not_string")
            return default
        return value.strip()

    def required(self, key: str, check: Callable[[str], bool], msg_key: str) -> str:
        value = self.string(key)
        if not value:
            self.problem(key, "config.missing")
        elif not check(value):
            self.problem(key, msg_key, value=value)
        return value

    def integer(self, key: str, default: int, minimum: int, maximum: int) -> int:
        value = self.raw(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(key, "config.not_integer")
            return default
        if not minimum <= value <= maximum:
            self.problem(key, "config.out_of_range", minimum=minimum, maximum=maximum)
            return default
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(key, "config.not_boolean")
            return default
        return value

    def int_list(self, key: str, default: tuple[int, ...], maximum: int) -> tuple[int, ...]:
        value = self.raw(key)
        if value is None:
            return default
        if (not isinstance(value, list)
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
            self.problem(key, "config.not_int_list")
            return default
        if not all(0 < v <= maximum for v in value):
            self.problem(key, "config.out_of_range", minimum=1, maximum=maximum)
            return default
        return tuple(sorted(set(value), reverse=True))

    def string_list(self, key: str, check: Callable[[str], bool], msg_key: str) -> tuple[str, ...]:
        value = self.raw(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(key, "config.not_string_list")
            return ()
        for item in value:
            if not check(item.strip()):
                self.problem(key, msg_key, value=item)
        return tuple(v.strip() for v in value)


def is_url(value: str) -> bool:
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def is_timezone(value: str) -> bool:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def is_database_url(value: str) -> bool:
    return value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://"))


def is_user(value: str) -> bool:
    return is_user_id(value)


def is_room(value: str) -> bool:
    return bool(ROOM_RE.match(value))


def is_inviter(value: str) -> bool:
    return is_user_id(value) or (value.startswith(":") and is_server_name(value[1:]))


def resolve(base: Path, path: str) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else (base / candidate)


def resolve_sqlite(base: Path, url: str) -> str:
    """Makes a relative SQLite path relative to the config file's folder."""
    prefix = "sqlite+aiosqlite:///"
    if not url.startswith(prefix) or url == prefix + ":memory:":
        return url
    path = url[len(prefix) :]
    if path.startswith("/"):
        return url
    return prefix + str(resolve(base, path))
