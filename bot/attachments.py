"""Files people post in the rooms (``m.file``): the latest CSV file of each person in each room,
remembered from the sync (in memory: a file posted before the bot started is posted again), and
its download — outside any database transaction, with a deadline and a size limit, decrypted
when the room is encrypted (``nio``'s ``decrypt_attachment``)."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from aiohttp import ClientError
from nio import AsyncClient, RoomEncryptedFile, RoomMessageFile
from nio.crypto.attachments import decrypt_attachment

from commands.ports import FILE_SIZE_LIMIT, PostedFile

log = logging.getLogger(__name__)
FILE_EVENTS = (RoomMessageFile, RoomEncryptedFile)
KEPT = 2000  # (room, person) pairs remembered, the least recent forgotten first
FRESH = timedelta(days=1)  # an older file is not offered
DEADLINE_S = 30.0
CSV_TYPES = ("text/csv", "application/csv", "text/comma-separated-values",
             "application/vnd.ms-excel", "text/plain", "text/x-csv")


class FileTooLarge(Exception):
    """The file is larger than the limit."""


class FileUnreadable(Exception):
    """The homeserver did not give the file in time, or it does not decrypt."""


def is_csv(name: str, mimetype: str) -> bool:
    return name.lower().endswith((".csv", ".txt")) or mimetype.split(";")[0] in CSV_TYPES


def posted_file(event: Any) -> PostedFile | None:
    """The file of an ``m.file`` event, if it looks like a CSV file."""
    content = event.source.get("content", {}) if isinstance(event.source, dict) else {}
    info: dict[str, Any] = content["info"] if isinstance(content.get("info"), dict) else {}
    name = str(content.get("filename") or content.get("body") or "")[:200]
    mimetype = str(info.get("mimetype") or "")
    source = ({"file": content["file"]} if isinstance(content.get("file"), dict)
              else {"url": content.get("url")} if isinstance(content.get("url"), str) else None)
    if source is None or not is_csv(name, mimetype):
        return None
    size = info.get("size")
    return PostedFile(event.event_id, name, mimetype,
                      size if isinstance(size, int) else None,
                      datetime.fromtimestamp(event.server_timestamp / 1000, tz=UTC), source)


class PostedFiles:
    """The latest CSV file each person posted in each room."""

    def __init__(self) -> None:
        self._latest: OrderedDict[tuple[str, str], PostedFile] = OrderedDict()

    def seen(self, room_id: str, event: Any) -> None:
        found = posted_file(event)
        if found is None:
            return
        self._latest[room_id, event.sender] = found
        self._latest.move_to_end((room_id, event.sender))
        while len(self._latest) > KEPT:
            self._latest.popitem(last=False)

    def latest(self, room_id: str, user_id: str, now: datetime) -> PostedFile | None:
        found = self._latest.get((room_id, user_id))
        return found if found is not None and now - found.sent_at <= FRESH else None


async def download(client: AsyncClient, source: Mapping[str, Any], *,
                   limit: int = FILE_SIZE_LIMIT, deadline_s: float = DEADLINE_S) -> bytes:
    """The file's bytes (decrypted): ``FileTooLarge`` past ``limit``, ``FileUnreadable`` when
    the homeserver does not give it within ``deadline_s`` or it does not decrypt."""
    encrypted = source.get("file") if isinstance(source.get("file"), dict) else None
    mxc = str((encrypted or source).get("url") or "")
    if not mxc.startswith("mxc://") or mxc.count("/") != 3:
        raise FileUnreadable(mxc[:80])
    server, media = mxc.removeprefix("mxc://").split("/")
    data = await _fetch(client, f"{quote(server)}/{quote(media)}", limit, deadline_s)
    if encrypted is None:
        return data
    try:
        return bytes(decrypt_attachment(data, encrypted["key"]["k"], encrypted["hashes"]["sha256"],
                                        encrypted["iv"]))
    except Exception as error:  # a wrong key, hash or iv: nio raises several kinds
        raise FileUnreadable("decryption") from error


async def _fetch(client: AsyncClient, media: str, limit: int, deadline_s: float) -> bytes:
    """Authenticated media first (``/_matrix/client/v1/media``), the older path if the
    homeserver does not know it; the body read up to the limit, no more."""
    headers = {"Authorization": f"Bearer {client.access_token}"}
    try:
        async with asyncio.timeout(deadline_s):
            for path in (f"/_matrix/client/v1/media/download/{media}",
                         f"/_matrix/media/v3/download/{media}"):
                response = await client.send("GET", path, None, headers, timeout=deadline_s)
                if response.status in (404, 400) and path.startswith("/_matrix/client"):
                    response.release()
                    continue
                if response.status != 200:
                    raise FileUnreadable(f"status {response.status}")
                declared = response.content_length
                if declared is not None and declared > limit:
                    response.release()
                    raise FileTooLarge(declared)
                try:
                    return await _body(response, limit)
                finally:
                    response.release()
    except (ClientError, TimeoutError) as error:
        raise FileUnreadable(type(error).__name__) from error
    raise FileUnreadable("not found")


async def _body(response: Any, limit: int) -> bytes:
    """The response's body, read chunk by chunk: ``FileTooLarge`` as soon as it passes
    ``limit`` (whatever size the homeserver announced)."""
    chunks, total = [], 0
    async for chunk in response.content.iter_chunked(65536):
        total += len(chunk)
        if total > limit:
            raise FileTooLarge(total)
        chunks.append(chunk)
    return b"".join(chunks)


async def fetched(client: AsyncClient, source: Mapping[str, Any]) -> dict[str, Any]:
    """What an outcome's handler is given: ``{"content": base64}``, or ``{"problem":
    "too_big"}`` / ``{"problem": "unreadable"}``."""
    try:
        return {"content": base64.b64encode(await download(client, source)).decode()}
    except FileTooLarge:
        return {"problem": "too_big"}
    except FileUnreadable as error:
        log.warning("a posted file could not be read (%s)", error)
        return {"problem": "unreadable"}
