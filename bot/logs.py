"""The bot's logs: one line per event, its facts as fields.

A log call gives its facts with ``extra`` (``log.info("command handled", extra={"command":
"projet.creer", "outcome": "ok", "ms": 3.2})``). Text lines end with them as ``key=value``;
with ``[logging] format = "json"`` each line is a JSON object (python-json-logger) holding the
time, level, logger, message and the same fields, for journald, Loki or any log collector.
Fields never hold message text or secrets: ids, names of commands, counts, durations. And
whatever a library writes, every record goes through ``RedactingFilter`` (``bot.redaction``):
passwords in URLs, the configured secrets and the values database errors quote become ``***``.
"""

from __future__ import annotations

import logging
from typing import Any, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from bot.redaction import Redactor

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


class RedactingFilter(logging.Filter):
    """Masks every record's message, fields, traceback and stack with ``redactor``. The
    traceback is formatted here, masked and kept as the record's ``exc_text``, which the text
    and JSON formatters both print when the record holds no ``exc_info``."""

    _tracebacks = logging.Formatter()

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        mask = self.redactor.mask
        if isinstance(record.msg, str):
            record.msg, record.args = mask(record.getMessage()), None
        if record.exc_info:
            record.exc_text = self._tracebacks.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        for key, value in fields_of(record).items():
            if isinstance(value, str):
                setattr(record, key, mask(value))
        return True


def formatter(kind: str) -> logging.Formatter:
    """The formatter for ``[logging] format``: ``text`` or ``json``."""
    if kind == "json":
        return JsonFormatter(JSON_FORMAT, rename_fields={"asctime": "time", "levelname": "level",
                                                         "name": "logger"},
                             json_ensure_ascii=False)
    return FieldsFormatter(TEXT_FORMAT)


def setup_logging(level: str, kind: str = "text", redactor: Redactor | None = None,
                  stream: TextIO | None = None) -> None:
    """Logs to standard error (journald under systemd; or ``stream``) at ``level``, every
    record masked by ``redactor`` (URL passwords at least)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(kind))
    handler.addFilter(RedactingFilter(redactor or Redactor()))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # nio warns about every error answer it validates (a missing alias, say): not our problem.
    logging.getLogger("nio.responses").setLevel(logging.ERROR)
