"""matrix-nio's client, with one change: a large sync response (the catch-up at start: every
room's state and what was said while the bot was down) is parsed in a worker thread. nio checks
each response against its JSON schemas and builds an object for each event; for thousands of
events that is a tenth of a second of the event loop, during which nothing else is answered."""

from __future__ import annotations

import asyncio
import json
from os import PathLike
from typing import Any

from aiohttp import ClientResponse
from nio import AsyncClient, Response, SyncResponse

# A sync response longer than this is parsed in a worker thread. A sync in the loop's steady
# state (a few events) is far shorter and parsed at once: the thread would delay its commands.
THREAD_ABOVE_BYTES = 32 * 1024


class BotClient(AsyncClient):  # type: ignore[misc]  # nio is untyped
    """``AsyncClient`` parsing large sync responses off the event loop."""

    async def create_matrix_response(self, response_class: type,
                                     transport_response: ClientResponse,
                                     data: tuple[Any, ...] | None = None,
                                     save_to: PathLike[str] | None = None) -> Response:
        if response_class is not SyncResponse or transport_response.status != 200:
            return await super().create_matrix_response(response_class, transport_response,
                                                        data, save_to)
        body = await transport_response.read()  # kept by aiohttp: nio may read it again
        if len(body) <= THREAD_ABOVE_BYTES:
            return await super().create_matrix_response(response_class, transport_response,
                                                        data, save_to)
        response = await asyncio.to_thread(parsed_sync, body, data or ())
        response.transport_response = transport_response
        return response


def parsed_sync(body: bytes, data: tuple[Any, ...]) -> Response:
    """nio's sync response (or its error) from the body's bytes; run in a worker thread."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = {}
    response: Response = SyncResponse.from_dict(parsed, *data)
    return response
