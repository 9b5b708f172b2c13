"""The homeserver's answers as the bot reads them: ``MatrixError`` (nio's error objects and lost
connections become exceptions here), the wait a 429 asks for, the backoff between tries, a JSON
request nio has no method for, the sync filter, nio's store."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import ClientError
from nio import AsyncClient
from nio.store import DefaultStore
from peewee import SqliteDatabase  # type: ignore[import-untyped]  # nio's store library

from matrix_ids import MATRIX_TO

REQUEST_TIMEOUT_S = 30.0  # a request made without nio, unless told otherwise
RATE_LIMITED_WAIT_S = 5.0  # a 429 that says nothing of how long to wait

PERMANENT_ERRORS = {"M_FORBIDDEN", "M_NOT_FOUND", "M_UNKNOWN_TOKEN", "M_BAD_JSON", "M_NOT_JSON",
                    "M_TOO_LARGE", "M_INVALID_PARAM", "M_MISSING_PARAM"}


class MatrixError(Exception):
    """A request the homeserver answered with an error, or did not answer in time (``code``
    ``None``: transient). ``retry_after``: the seconds it asked the bot to wait (a 429)."""

    def __init__(self, what: str, response: Any) -> None:
        code = getattr(response, "status_code", None)
        message = getattr(response, "message", None) or str(response) or type(response).__name__
        super().__init__(f"{what}: {code} {message}")
        self.code = code
        self.retry_after = retry_after(response)

    @property
    def permanent(self) -> bool:
        return self.code in PERMANENT_ERRORS


def retry_after(response: Any) -> float | None:
    """The wait a 429 asks for, in seconds: the ``Retry-After`` header (seconds), else the
    body's ``retry_after_ms``; ``None`` for any other answer."""
    transport = getattr(response, "transport_response", None)
    header = transport.headers.get("Retry-After") if transport is not None else None
    if header is not None:
        with contextlib.suppress(ValueError):
            return max(0.0, float(header))
    milliseconds = getattr(response, "retry_after_ms", None)
    if isinstance(milliseconds, int | float) and milliseconds >= 0:
        return float(milliseconds) / 1000
    status = getattr(transport, "status", None)
    return RATE_LIMITED_WAIT_S if getattr(response, "status_code", None) in (
        "M_LIMIT_EXCEEDED", 429) or status == 429 else None


def backoff(attempt: int, base: float = 1.0, cap: float = 30.0) -> float:
    """The wait before try ``attempt + 1``: exponential from ``base``, at most ``cap``, with
    jitter (×0.5 to ×1.5) so that the bot's many waits do not all end at once."""
    return min(cap, base * 2.0 ** (attempt - 1)) * random.uniform(0.5, 1.5)


class LoginFailed(MatrixError):
    """Neither the token nor the password let the bot in."""


class RoomUnavailable(Exception):
    """A room the bot cannot enter: unknown, not invited, no permission…"""


@dataclass(frozen=True)
class History:
    """A page of a room's history, newest first, and the token to go further back."""

    events: list[Any]
    end: str | None


async def api_request(client: AsyncClient, method: str, path: str, body: Mapping[str, Any],
                      timeout_s: float | None = None) -> tuple[int, dict[str, Any]]:
    """One JSON request to the client-server API (``/_matrix/client/v3/<path>``), for what nio
    has no method for: the status and the JSON answer; ``MatrixError`` when the homeserver does
    not answer within ``timeout_s`` (by default the client's request deadline)."""
    timeout_s = timeout_s or float(client.config.request_timeout) or REQUEST_TIMEOUT_S
    url = "/_matrix/client/v3/" + "/".join(quote(part, safe="") for part in path.split("/"))
    headers = {"Authorization": f"Bearer {client.access_token}",
               "Content-Type": "application/json"}
    try:
        async with asyncio.timeout(timeout_s):
            response = await client.send(method, url, json.dumps(body), headers,
                                         timeout=timeout_s)
            answer = await response.json(content_type=None)
    except (ClientError, TimeoutError, ValueError) as error:
        raise MatrixError(path, error) from error
    return response.status, answer if isinstance(answer, dict) else {}


def room_from_link(text: str) -> str:
    """``https://matrix.to/#/#salon:server?via=…`` → ``#salon:server``; ids and aliases as they are."""
    value = text.strip()
    for prefix in (MATRIX_TO, "matrix:r/", "matrix:roomid/"):
        if value.startswith(prefix):
            value = unquote(value[len(prefix):]).split("?", 1)[0].split("/", 1)[0]
            if prefix == "matrix:r/":
                value = "#" + value
            elif prefix == "matrix:roomid/":
                value = "!" + value
    return value


def check(what: str, response: Any, expected: type) -> Any:
    """``response`` if it is the answer expected, else its ``MatrixError``."""
    if isinstance(response, expected):
        return response
    raise MatrixError(what, response)


def sync_filter(timeline_limit: int = 100) -> dict[str, Any]:
    """Asks for large timelines (the server may cap them; gaps are backfilled) and lazy members."""
    return {
        "room": {
            "timeline": {"limit": timeline_limit},
            "state": {"lazy_load_members": True},
            "ephemeral": {"types": []},
        },
        "presence": {"types": []},
        "account_data": {"types": []},
    }


class BotStore(DefaultStore):  # type: ignore[misc]
    """nio's default store, except that a sync which found no newly encrypted room saves
    nothing (nio opens a store transaction on every sync to save that empty set, before the
    bot can read the batch), and that its SQLite file is in WAL mode with ``synchronous=NORMAL``:
    nio writes Olm sessions and room keys in the event loop's thread, and a commit then waits
    for no flush to disk (a commit survives the bot's crash; a power cut may lose the last
    ones, which the other devices share again)."""

    def _create_database(self) -> SqliteDatabase:
        return SqliteDatabase(self.database_path, pragmas={
            "foreign_keys": 1, "secure_delete": 1, "journal_mode": "wal", "synchronous": 1})

    def save_encrypted_rooms(self, rooms: set[str]) -> None:
        if rooms:
            super().save_encrypted_rooms(rooms)

