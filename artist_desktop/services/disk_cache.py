"""The on-disk cache of Spotify GET answers: which answers are kept, for how long, and keyed without the token.

Built on hishel 2.x (``hishel.httpx.AsyncCacheTransport`` over an ``AsyncSqliteStorage`` file in the cache
directory), in its default non-RFC mode: an answer is kept for the TTL the client gives per request, whatever
Spotify's own ``Cache-Control`` says, and only successful answers (2xx) are stored, so an error answer (404,
403, 429...) is never served from the cache.

What is cached (a Development Mode app has a quota of ~100-200 requests a day, api-facts.md):

- ``GET /artists/{id}`` and ``GET /artists/{id}/top-tracks``: :data:`ARTIST_TTL` (24 h), so a re-import of
  the same artist within the day costs no Spotify request (not even a token).
- ``GET /search``: :data:`SEARCH_TTL` (1 h). Paging back and forth or repeating a search is free; an hour
  is short enough that a newly released artist shows up the same afternoon.
- Nothing else: the token ``POST`` and the batch ``GET /artists?ids=`` go straight to Spotify.

The key is the method and the full URL (query included) under an ``artist-desktop`` prefix: the
``Authorization`` header is not part of it (tokens change hourly), and it is not written to disk either.
The client looks an answer up with :meth:`SpotifyDiskCache.lookup` before it asks for a token or waits at
the rate gate, so a hit costs nothing even while Spotify's quota is used up; a miss is sent with
:meth:`SpotifyDiskCache.extensions` and stored by the transport on the way back.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import httpx
from hishel import AsyncSqliteStorage, Entry, Headers, Request, Response
from hishel.httpx import AsyncCacheTransport

log = logging.getLogger(__name__)

#: Seconds an artist object (and an artist's top tracks) is served from the disk.
ARTIST_TTL = 24 * 3600.0
#: Seconds a search page is served from the disk.
SEARCH_TTL = 3600.0
#: The cache file in the cache directory; a new layout gets a new name (hishel refuses foreign tables).
DATABASE_NAME = "spotify-hishel2.sqlite3"
#: Size the cache file is kept under (hishel evicts the least recently used answers past it).
MAX_BYTES = 64 * 1024 * 1024

_KEY_PREFIX = "artist-desktop/1"


def cache_key(method: str, url: httpx.URL | str) -> str:
    """The storage key of one request: method and full URL only (never a header such as Authorization)."""
    return hashlib.sha256(f"{_KEY_PREFIX} {method.upper()} {url}".encode()).hexdigest()


class _TokenlessSqliteStorage(AsyncSqliteStorage):
    """hishel's SQLite storage, minus the request's ``Authorization`` header (a bearer token) on disk."""

    async def create_entry(
        self,
        request: Request,
        response: Response,
        key: str,
        *,
        ttl: float | None = None,
        tti: float | None = None,
    ) -> Entry:
        kept = {name: request.headers.get_list(name) or [] for name in request.headers if name != "authorization"}
        safe = Request(method=request.method, url=request.url, headers=Headers(kept))
        return await super().create_entry(safe, response, key, ttl=ttl, tti=tti)


class _CacheRouter(httpx.AsyncBaseTransport):
    """Sends GETs marked with the ``caching`` extension through hishel (with our key); the rest go straight on."""

    def __init__(self, cached: AsyncCacheTransport, network: httpx.AsyncBaseTransport) -> None:
        self._cached = cached
        self._network = network

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        config = request.extensions.get("caching")
        if not isinstance(config, dict) or request.method != "GET":
            return await self._network.handle_async_request(request)
        request.extensions = {
            **request.extensions,
            "caching": {**config, "key": cache_key(request.method, request.url)},
        }
        return await self._cached.handle_async_request(request)

    async def aclose(self) -> None:
        await self._cached.aclose()  # closes the network transport and the storage too


class SpotifyDiskCache:
    """One SQLite cache file under ``directory`` (created on first use), shared safely by several processes."""

    def __init__(self, directory: Path, *, max_bytes: int = MAX_BYTES) -> None:
        self.directory = directory
        self.path = directory / DATABASE_NAME
        self._storage = _TokenlessSqliteStorage(database_path=self.path, default_ttl=ARTIST_TTL, max_size=max_bytes)

    def transport(self, network: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        """``network`` behind the cache: marked GETs are stored on the way back; closing it closes the file."""
        return _CacheRouter(AsyncCacheTransport(network, storage=self._storage), network)

    @staticmethod
    def extensions(ttl: float) -> dict[str, Any]:
        """The httpx request extensions asking the transport to keep a successful answer ``ttl`` seconds."""
        return {"caching": {"ttl": ttl}}

    async def lookup(self, url: httpx.URL) -> Any | None:
        """The decoded JSON answer stored for ``GET url``, or None (a miss, or an entry that cannot be read)."""
        try:
            entries = await self._storage.get_entries(cache_key("GET", url))
            for entry in entries:
                if entry.request.method != "GET" or not 200 <= entry.response.status_code < 300:
                    continue
                stream = entry.response.stream
                if stream is None or not hasattr(stream, "__aiter__"):
                    continue
                body = b"".join([chunk async for chunk in stream])
                stored = entry.response.headers
                headers = [(name, value) for name in stored for value in stored.get_list(name) or []]
                response = httpx.Response(entry.response.status_code, headers=headers, content=body)
                return response.json()
        except (RuntimeError, ValueError, OSError) as exc:  # closed storage, entry evicted mid-read, bad JSON
            log.warning("Spotify disk cache: ignoring an unreadable entry for %s (%s)", url, exc)
        return None

    async def aclose(self) -> None:
        """Close the cache file (also done by closing the transport)."""
        await self._storage.close()


__all__ = ["ARTIST_TTL", "DATABASE_NAME", "SEARCH_TTL", "SpotifyDiskCache", "cache_key"]
