"""The bot's logs: one line per event, its facts as fields.

A log call gives its facts with ``extra`` (``log.info("command handled", extra={"command":
"projet.creer", "outcome": "ok", "ms": 3.2})``). Text lines end with them as ``key=value``;
with ``[logging] format = "json"`` each line is a JSON object (python-json-logger) holding the
time, level, logger, message and the same fields, for journald, Loki or any log collector.
Fields never hold message text or secrets: ids, names of commands, counts, durations.
"""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
_STANDARD = frozenset([*RESERVED_ATTRS, "taskName"])
# Libraries that are chatty or print request details or SQL parameters (people's text): kept to
# warnings, even with --verbose.
_NOISY = ("nio", "aiohttp", "apscheduler", "peewee", "alembic", "aiosqlite", "asyncio",
          "matplotlib", "PIL")


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The facts given with ``extra``, in the order given."""
    return {key: value for key, value in record.__dict__.items() if key not in _STANDARD}


class FieldsFormatter(logging.Formatter):
    """``2026-11-23 10:00:00,123 INFO bot.dispatcher: command handled command=projet.creer``."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = "".join(f" {key}={_value(value)}" for key, value in fields_of(record).items())
        if not extra:
            return line
        head, newline, rest = line.partition("\n")  # keep a traceback below the fields
        return f"{head}{extra}{newline}{rest}"


def _value(value: object) -> str:
    text = str(value)
    if not text or any(c.isspace() or c in '"=' for c in text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


def formatter(kind: str) -> logging.Formatter:
    """The formatter for ``[logging] format``: ``text`` or ``json``."""
    if kind == "json":
        return JsonFormatter(JSON_FORMAT, rename_fields={"asctime": "time", "levelname": "level",
                                                         "name": "logger"},
                             json_ensure_ascii=False)
    return FieldsFormatter(TEXT_FORMAT)


def setup_logging(level: str, kind: str = "text") -> None:
    """Logs to standard error (journald under systemd) at ``level``."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(kind))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # nio warns about every error answer it validates (a missing alias, say): not our problem.
    logging.getLogger("nio.responses").setLevel(logging.ERROR)
