"""Log lines: facts as key=value in text, one JSON object per line in JSON."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from bot.logs import formatter, setup_logging


def record(message: str = "command handled", **facts: object) -> logging.LogRecord:
    logger = logging.getLogger("bot.dispatcher")
    return logger.makeRecord("bot.dispatcher", logging.INFO, __file__, 1, message, (), None,
                             extra=facts)


def test_text_lines_end_with_the_facts_quoted_when_needed() -> None:
    line = formatter("text").format(record(command="projet.creer", outcome="ok", ms=3.2,
                                           room="!a:b", note='dit "bonjour"\net part'))
    assert " INFO bot.dispatcher: command handled command=projet.creer outcome=ok ms=3.2 " \
        "room=!a:b " in line
    assert line.endswith(r'note="dit \"bonjour\"\net part"')
    assert "\n" not in line  # one event, one line


def test_text_line_without_facts_is_the_plain_message() -> None:
    assert formatter("text").format(record("stopping")).endswith(" INFO bot.dispatcher: stopping")


def test_traceback_stays_below_the_facts() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        failed = logging.getLogger("x").makeRecord("x", logging.ERROR, __file__, 1, "failed", (),
                                                   sys.exc_info(), extra={"event": "$e"})
    first, *rest = formatter("text").format(failed).splitlines()
    assert first.endswith("failed event=$e")
    assert rest[0].startswith("Traceback") and rest[-1] == "RuntimeError: boom"


def test_json_lines_hold_time_level_logger_message_and_facts() -> None:
    line = formatter("json").format(record(command="rappel", outcome="refused", ms=1.5,
                                           room="!salle:b", note="déjà prévu"))
    data = json.loads(line)
    assert data["level"] == "INFO" and data["logger"] == "bot.dispatcher"
    assert data["message"] == "command handled" and data["time"]
    assert (data["command"], data["outcome"], data["ms"], data["note"]) == (
        "rappel", "refused", 1.5, "déjà prévu")


@pytest.mark.parametrize("kind", ["text", "json"])
def test_setup_replaces_handlers_and_quiets_chatty_libraries(kind: str) -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        setup_logging("INFO", kind)
        setup_logging("INFO", kind)
        assert len(root.handlers) == 1 and root.level == logging.INFO
        assert logging.getLogger("nio").level == logging.WARNING
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
