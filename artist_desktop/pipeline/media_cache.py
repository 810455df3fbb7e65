"""A content-addressed cache of downloaded images in the data dir: the same bytes are stored once."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: Magic numbers of the image formats the app accepts, with their content type and file extension.
_IMAGE_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"GIF87a", "image/gif", ".gif"),
    (b"GIF89a", "image/gif", ".gif"),
)


class NotAnImageError(ValueError):
    """The downloaded bytes are not a PNG, JPEG, GIF or WebP image."""


@dataclass(frozen=True, slots=True)
class CachedMedia:
    sha256: str
    path: Path
    content_type: str
    size_bytes: int


def sniff_image(data: bytes) -> tuple[str, str]:
    """The (content type, extension) of an image, from its first bytes; NotAnImageError otherwise."""
    for signature, content_type, extension in _IMAGE_SIGNATURES:
        if data.startswith(signature):
            return content_type, extension
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", ".webp"
    raise NotAnImageError("not an image (unknown format)")


class MediaCache:
    """Files live at ``<root>/<sha[:2]>/<sha><ext>``; a write is atomic (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str, extension: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}{extension}"

    def store(self, data: bytes) -> CachedMedia:
        """Keep `data` (an image) in the cache and say where; an existing copy is reused, not rewritten."""
        content_type, extension = sniff_image(data)
        digest = hashlib.sha256(data).hexdigest()
        path = self.path_for(digest, extension)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return CachedMedia(sha256=digest, path=path, content_type=content_type, size_bytes=len(data))
