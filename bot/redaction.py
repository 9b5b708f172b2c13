"""Secrets kept out of what the bot writes: its log and the command line's messages.

``Redactor.mask`` replaces a password in a URL (``scheme://user:password@`` →
``scheme://user:***@``), each configured secret (the Matrix password and access token, the
database's password) and the values a database error quotes (``storage.faults``) by ``***``.
``bot.logs.RedactingFilter`` applies it to every record of the log's handler.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from storage.faults import without_values

if TYPE_CHECKING:
    from bot.settings import Settings

MASK = "***"
# A configured secret shorter than this is not masked by value: it would mask ordinary words
# (a password in a URL is masked whatever its length).
MIN_SECRET_LENGTH = 8
URL_PASSWORD = re.compile(r"\b([A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@]*):[^\s@]+@")


def mask_url_passwords(text: str) -> str:
    """``postgresql+asyncpg://cct:secret@host/db`` → ``postgresql+asyncpg://cct:***@host/db``."""
    return URL_PASSWORD.sub(rf"\1:{MASK}@", text)


def secrets_of(settings: Settings, env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The secrets of a config: the Matrix password and access token (from the file or the
    environment), the database's password (the URL's, as written and decoded, or asyncpg's
    ``PGPASSWORD``)."""
    password = urlsplit(settings.database_url).password or ""
    environment = os.environ if env is None else env
    found = (settings.matrix.password, settings.matrix.access_token, password, unquote(password),
             environment.get("PGPASSWORD", ""))
    return tuple(dict.fromkeys(secret for secret in found if secret))


class Redactor:
    """Masks URL passwords, the secrets it was given and the values database errors quote."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Secrets to mask from now on (those shorter than ``MIN_SECRET_LENGTH`` left out)."""
        kept = {*self._secrets, *(s for s in secrets if len(s) >= MIN_SECRET_LENGTH)}
        self._secrets = sorted(kept, key=len, reverse=True)  # a secret inside another: longest first

    def mask(self, text: str) -> str:
        text = mask_url_passwords(text)
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return without_values(text)
