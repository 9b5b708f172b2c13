"""Files the bot writes for people (exports, the demo's secrets): private to its user."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, data: bytes) -> None:
    """Writes ``data`` to ``path`` atomically (a file beside it, then renamed over it),
    readable and writable by its owner only (0600): a file already at ``path``, whatever its
    mode, is replaced by a private one."""
    tmp = path.with_name(path.name + ".tmp")
    descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(data)
    os.replace(tmp, path)
