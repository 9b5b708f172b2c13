"""The encryption keys' upkeep (``KeyUpkeep``, part of ``bot.matrix.MatrixTransport``): uploads,
queries and claims after each sync, beside the batch's commands; a send to an encrypted room
waits for it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from nio import AsyncClient

log = logging.getLogger("bot.matrix")


class KeyUpkeep:
    """The background key work of the transport's ``client``."""

    client: AsyncClient
    _key_work: asyncio.Task[None] | None
    is_encrypted: Callable[[str], bool]  # ``SyncedRooms.is_encrypted``

    def keep_keys_meanwhile(self) -> None:
        """Starts ``keep_keys`` in the background, as the homeserver's device list changes call
        for a query (a round trip) before a batch's commands can be answered otherwise; a send
        to an encrypted room waits for it (a member's new device must get the room key)."""
        if self._key_work is not None and self._key_work.done():
            error = None if self._key_work.cancelled() else self._key_work.exception()
            if error is not None:  # a batch failed before it was waited for
                log.warning("key maintenance failed (%s); trying again", error)
            self._key_work = None
        if self._key_work is None:
            self._key_work = asyncio.create_task(self.keep_keys())

    async def keys_kept(self) -> None:
        """Waits for the background key maintenance; raises what it raised."""
        if self._key_work is not None:
            work, self._key_work = self._key_work, None
            await work

    async def _encryption_ready(self, room_id: str) -> None:
        work = self._key_work
        if work is not None and not work.done() and self.is_encrypted(room_id):
            await asyncio.wait([work])  # its failure is the sync loop's to report

    async def keep_keys(self) -> None:
        """Uploads, queries and claims encryption keys when nio says it should (like sync_forever)."""
        if not self.client.olm:
            return
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        if self.client.should_query_keys:
            await self.client.keys_query()
        if self.client.should_claim_keys:
            await self.client.keys_claim(self.client.get_users_for_key_claiming())
        await self.client.send_to_device_messages()
