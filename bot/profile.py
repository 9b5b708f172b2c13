"""The bot's Matrix profile: its display name and avatar from the config (``[matrix]
display_name``, ``avatar``), set at start when they differ from the homeserver's. The avatar is
uploaded once: its content URI is remembered with the file's SHA-256 in the database, so a
restart uploads it again only when the file changed. A key left out leaves the profile as it is."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    ProfileGetResponse,
    ProfileSetAvatarResponse,
    ProfileSetDisplayNameResponse,
    UploadResponse,
)

from bot.files import image_mimetype
from bot.matrix_api import MatrixError
from bot.settings import MatrixSettings
from storage.db import Database

log = logging.getLogger(__name__)

AVATAR_STATE = "avatar"  # bot_state: {"sha256": …, "uri": …} of the avatar last uploaded
REQUEST_S = 60.0  # one profile request or the avatar's upload


class Profile:
    """Brings the homeserver's profile of the bot in line with the config."""

    def __init__(self, client: AsyncClient, db: Database, settings: MatrixSettings) -> None:
        self.client = client
        self.db = db
        self.settings = settings

    async def keep(self) -> None:
        """Sets what differs; a failure is logged (the bot works with any profile)."""
        if not (self.settings.display_name or self.settings.avatar):
            return
        try:
            async with asyncio.timeout(REQUEST_S):
                current = await self.client.get_profile(self.client.user_id)
            if not isinstance(current, ProfileGetResponse):
                raise MatrixError("profile", current)
            name = self.settings.display_name
            if name and current.displayname != name:
                await self._set("display name", ProfileSetDisplayNameResponse,
                                self.client.set_displayname(name))
            if self.settings.avatar is not None:
                uri = await self._avatar_uri(self.settings.avatar)
                if current.avatar_url != uri:
                    await self._set("avatar", ProfileSetAvatarResponse,
                                    self.client.set_avatar(uri))
        except (MatrixError, OSError, TimeoutError) as error:
            log.warning("the bot's profile could not be set (%s); trying again at the next "
                        "start", error)

    async def _avatar_uri(self, path: Path) -> str:
        """The content URI of the avatar file: the one remembered for the same content, else
        a new upload (remembered)."""
        data = await asyncio.to_thread(path.read_bytes)
        digest = hashlib.sha256(data).hexdigest()
        async with self.db.transaction() as repos:
            saved = json.loads(await repos.state.get(AVATAR_STATE) or "{}")
        if saved.get("sha256") == digest and saved.get("uri"):
            return str(saved["uri"])
        mimetype = image_mimetype(data)
        if mimetype is None:
            raise MatrixError("avatar", f"{path} is not a PNG, JPEG, GIF or WebP image")
        async with asyncio.timeout(REQUEST_S):
            response, _keys = await self.client.upload(
                io.BytesIO(data), content_type=mimetype, filename=path.name, filesize=len(data))
        if not isinstance(response, UploadResponse):
            raise MatrixError("avatar upload", response)
        uri = str(response.content_uri)
        async with self.db.transaction() as repos:
            await repos.state.set(AVATAR_STATE, json.dumps({"sha256": digest, "uri": uri}))
        log.info("avatar uploaded (%s)", uri, extra={"event_kind": "avatar_uploaded"})
        return uri

    async def _set(self, what: str, expected: type, request: Awaitable[Any]) -> None:
        async with asyncio.timeout(REQUEST_S):
            response = await request
        if not isinstance(response, expected):
            raise MatrixError(f"set {what}", response)
        log.info("the bot's %s is set", what, extra={"event_kind": "profile_set", "what": what})
