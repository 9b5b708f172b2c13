"""A "homeserver" on loopback that accepts connections and never answers, for the fault tests
and ``bench.faults``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


@asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """Listens on loopback, accepts and never answers; yields its server name. A host name, not
    an IP literal: Synapse refuses a server name that is a blocked address at once, even one its
    ``ip_range_whitelist`` allows (the test homeserver's allows 127.0.0.1), and checks only the
    addresses a name resolves to against that list."""
    connections: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield f"localhost:{server.sockets[0].getsockname()[1]}"
    finally:
        for writer in connections:
            writer.close()
        server.close()
