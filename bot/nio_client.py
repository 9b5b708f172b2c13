"""matrix-nio's client, with one change: a large sync or history response (the catch-up at start:
every room's state and what was said while the bot was down; a page of backfill; the bot's own
messages coming back after a burst) is parsed in a worker thread. nio checks each response
against its JSON schemas and builds an object for each event, about a millisecond per event on
a loaded host: a few dozen events would stop the event loop for tens of milliseconds, during
which nothing else is answered."""

from __future__ import annotations

import asyncio
import json
from os import PathLike
from typing import Any

from aiohttp import ClientResponse
from nio import AsyncClient, Response, RoomMessagesResponse, SyncResponse

# A response longer than this is parsed in a worker thread. A sync in the loop's steady state
# (a command, a receipt: one to a few events of about a kilobyte) is shorter and parsed at
# once: the thread would delay its commands.
THREAD_ABOVE_BYTES = 8 * 1024
# The responses that can hold many events (the others are small, or read apart: member lists).
OFF_LOOP = (SyncResponse, RoomMessagesResponse)


class BotClient(AsyncClient):  # type: ignore[misc]  # nio is untyped
    """``AsyncClient`` parsing large sync and history responses off the event loop."""

    async def create_matrix_response(self, response_class: type,
                                     transport_response: ClientResponse,
                                     data: tuple[Any, ...] | None = None,
                                     save_to: PathLike[str] | None = None) -> Response:
        if response_class not in OFF_LOOP or transport_response.status != 200:
            return await super().create_matrix_response(response_class, transport_response,
                                                        data, save_to)
        body = await transport_response.read()  # kept by aiohttp: nio may read it again
        if len(body) <= THREAD_ABOVE_BYTES:
            return await super().create_matrix_response(response_class, transport_response,
                                                        data, save_to)
        response = await asyncio.to_thread(parsed, response_class, body, data or ())
        response.transport_response = transport_response
        return response


def parsed(response_class: type, body: bytes, data: tuple[Any, ...]) -> Response:
    """nio's response of ``response_class`` (or its error) from the body's bytes; run in a
    worker thread."""
    try:
        content = json.loads(body)
    except ValueError:
        content = {}
    response: Response = response_class.from_dict(content, *data)  # type: ignore[attr-defined]
    return response
