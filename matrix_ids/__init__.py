"""Matrix user ids under the spec's grammar (appendices, « User Identifiers »), and the
matrix.to links built from them.

A user id is ``@localpart:server_name``, at most 255 bytes. The localpart is made of
``a-z 0-9 . _ = - / +``; older accounts may still have a *historic* localpart (any printable
ASCII character but ``:``), which the spec asks clients to accept: they are accepted too, and made
harmless where they are shown (escaped text, percent-encoded link). The server name is a DNS
name, an IPv4 address or a bracketed IPv6 address, with an optional port.

A package of its own, below every layer (the standard library only): the bot's config, the
commands' converters and pills, and storage finding a person's exact id in what it keeps all
use this one grammar.
"""

from __future__ import annotations

import re
from urllib.parse import quote

MATRIX_TO = "https://matrix.to/#/"
MAX_USER_ID_BYTES = 255
LOCALPART = re.compile(r"[a-z0-9._=\-/+]+")
HISTORIC_LOCALPART = re.compile(r"[\x21-\x39\x3b-\x7e]+")
_PORT = r"(?::[0-9]{1,5})?"
SERVER_NAME = re.compile(
    rf"(?:[0-9]{{1,3}}(?:\.[0-9]{{1,3}}){{3}}|\[[0-9A-Fa-f:.]{{2,45}}\]|[A-Za-z0-9.\-]{{1,255}}){_PORT}")


def is_server_name(value: str) -> bool:
    """``example.org``, ``matrix.example.org:8448``, ``192.0.2.1``, ``[2001:db8::1]:8448``."""
    return SERVER_NAME.fullmatch(value) is not None


def is_user_id(value: str, *, historic: bool = True) -> bool:
    """Whether ``value`` is a user id of the spec's grammar (historic localparts allowed unless
    ``historic`` is false)."""
    if not value.startswith("@") or len(value.encode()) > MAX_USER_ID_BYTES:
        return False
    localpart, colon, server = value[1:].partition(":")
    grammar = HISTORIC_LOCALPART if historic else LOCALPART
    return bool(colon) and grammar.fullmatch(localpart) is not None and is_server_name(server)


def user_link(user_id: str) -> str:
    """The matrix.to link of a user id, percent-encoded but for ``@`` and ``:`` (kept readable,
    as Element writes them): nothing in the id can end the link or leave its fragment."""
    return MATRIX_TO + quote(user_id, safe="@:")
