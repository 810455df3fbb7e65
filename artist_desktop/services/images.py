"""Downloads images (artist pictures, album art) under the shared HTTP policy, with a size cap."""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlsplit

import httpx

from artist_desktop.services.errors import RequestError, ServiceUnavailableError
from artist_desktop.services.http import RetryPolicy, ServiceClient

DEFAULT_MAX_BYTES = 5 * 1024 * 1024


class ImageClient(ServiceClient):
    """`fetch(url)` returns the image's bytes; a file over `max_bytes` is refused, not truncated."""

    service: ClassVar[str] = "Image host"

    def __init__(
        self,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        http: httpx.AsyncClient | None = None,
        timeout: float = 15.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__("", http=http, timeout=timeout, retry=retry or RetryPolicy(max_attempts=3, max_total=10))
        self.max_bytes = max_bytes

    async def fetch(self, url: str) -> bytes:
        if urlsplit(url).scheme not in ("http", "https"):
            raise RequestError(self.service, f"not a web address: {url!r}")
        return await self._call(lambda: self._fetch_once(url))

    async def _fetch_once(self, url: str) -> bytes:
        await self.gate.acquire()
        try:
            async with self._http.stream("GET", url, headers={"User-Agent": self.user_agent}) as response:
                if response.status_code >= 400:
                    await response.aread()  # the error mapping reads the body
                    error = self._error_for_status(response, f"image not found ({url})")
                    if error is not None:
                        raise error
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > self.max_bytes:
                    raise RequestError(self.service, self._too_big(int(declared)))
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise RequestError(self.service, self._too_big(size))
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.TransportError as exc:
            host = urlsplit(url).netloc
            raise ServiceUnavailableError(
                self.service, f"cannot download from {host} ({exc or type(exc).__name__})"
            ) from exc

    def _too_big(self, size: int) -> str:
        return f"image larger than {self.max_bytes // 1024} KiB ({size // 1024}+ KiB)"
