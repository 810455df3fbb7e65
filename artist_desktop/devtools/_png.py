"""Small, real PNG artwork drawn deterministically from a key (no imaging library needed)."""

from __future__ import annotations

import colorsys
import functools
import hashlib
import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _colours(key: str) -> tuple[bytes, bytes]:
    digest = hashlib.sha256(key.encode()).digest()
    hue = digest[0] / 255
    light = colorsys.hls_to_rgb(hue, 0.62, 0.55)
    dark = colorsys.hls_to_rgb((hue + 0.08) % 1.0, 0.32, 0.6)
    return bytes(round(c * 255) for c in light), bytes(round(c * 255) for c in dark)


@functools.lru_cache(maxsize=256)
def artwork_png(key: str, size: int) -> bytes:
    """A ``size`` x ``size`` RGB PNG: a light square with a dark lower band, colours from ``key``."""
    light, dark = _colours(key)
    band = max(1, size // 3)
    light_row = b"\x00" + light * size
    dark_row = b"\x00" + dark * size
    raw = light_row * (size - band) + dark_row * band
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b"")


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, or None when ``data`` is not a PNG."""
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height
