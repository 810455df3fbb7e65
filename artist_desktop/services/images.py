"""Downloads images (artist pictures, album art) under the shared HTTP policy, with a size cap.

Image hosts are optional sources: each host has its own gate (no quota; its door follows the host's
Retry-After, shared through Redis when the client has :class:`~artist_desktop.services.http.SharedGates`)
and its own :class:`~artist_desktop.services.breaker.Breaker`, and a download never waits longer than
:data:`~artist_desktop.services.http.OPTIONAL_WAIT` on a Retry-After or on retries. A host answering 429 with
``Retry-After: 86400`` costs its images at once (a warning each), never the batch.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlsplit

import httpx

from artist_desktop.services.breaker import Breaker
from artist_desktop.services.errors import RequestError, ServiceUnavailableError
from artist_desktop.services.http import OPTIONAL_WAIT, RateGate, RetryPolicy, ServiceClient, SharedGates
from artist_desktop.services.quotas import IMAGE_HOST, quota_for

DEFAULT_MAX_BYTES = 5 * 1024 * 1024


class ImageClient(ServiceClient):
    """`fetch(url)` returns the image's bytes; a file over `max_bytes` is refused, not truncated.

    ``shared`` keeps each host's gate in Redis (every process holds back when one host asked to wait);
    ``concurrency`` caps the downloads from one host at once in this process.
    """

    service: ClassVar[str] = IMAGE_HOST

    def __init__(
        self,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        http: httpx.AsyncClient | None = None,
        timeout: float = 15.0,
        retry: RetryPolicy | None = None,
        shared: SharedGates | None = None,
        concurrency: int | None = None,
    ) -> None:
        retry = (retry or RetryPolicy(max_attempts=3, max_total=10)).bounded(OPTIONAL_WAIT)
        super().__init__("", http=http, timeout=timeout, retry=retry)
        self.max_bytes = max_bytes
        self.shared = shared
        self.concurrency = concurrency
        self._gates: dict[str, RateGate] = {}
        self._breakers: dict[str, Breaker] = {}

    def gate_for_host(self, host: str) -> RateGate:
        """The gate of one image host (``i.scdn.co``), made on first use."""
        gate = self._gates.get(host)
        if gate is None:
            if self.shared is not None:
                gate = self.shared.gate(
                    self.service, f"https://{host}", quota_for(IMAGE_HOST), concurrency=self.concurrency
                )
            else:
                gate = RateGate(self.service, concurrency=self.concurrency, host=host)
            self._gates[host] = gate
        return gate

    def breaker_for_host(self, host: str) -> Breaker:
        """The breaker of one image host, made on first use: "Image host i.scdn.co unavailable, skipped"."""
        breaker = self._breakers.get(host)
        if breaker is None:
            breaker = self._breakers[host] = Breaker(self.service, f"{self.service} {host}")
        return breaker

    def _gate_for(self, url: httpx.URL) -> RateGate:
        return self.gate_for_host(_host(url))

    async def fetch(self, url: str) -> bytes:
        if urlsplit(url).scheme not in ("http", "https"):
            raise RequestError(self.service, f"not a web address: {url!r}")
        host = _host(httpx.URL(url))
        gate = self.gate_for_host(host)
        return await self.breaker_for_host(host).call(lambda: self.retry.run(lambda: self._fetch_once(url, gate), gate))

    async def _fetch_once(self, url: str, gate: RateGate) -> bytes:
        try:
            async with (
                gate.slot(max_wait=self.retry.max_total),
                self._http.stream("GET", url, headers={"User-Agent": self.user_agent}) as response,
            ):
                if response.status_code >= 400:
                    await response.aread()  # the error mapping reads the body
                    error = self._error_for_status(response, f"image not found ({url})")
                    if error is not None:
                        await gate.flush()
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


def _host(url: httpx.URL) -> str:
    """``host[:port]`` as httpx writes it (the default port left out), so a request and its answer agree."""
    return url.netloc.decode("ascii")
