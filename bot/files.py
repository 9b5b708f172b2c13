"""Files the bot writes for people (exports, the demo's secrets): private to its user; and the
images it reads (its avatar)."""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image, UnidentifiedImageError

IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}


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


def image_mimetype(data: bytes) -> str | None:
    """The MIME type of a PNG, JPEG, GIF or WebP image (as Pillow reads it, not as its name
    says); ``None`` for anything else."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            return IMAGE_TYPES.get(str(image.format))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError):
        return None
