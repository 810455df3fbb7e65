"""The API double's shared plumbing: service names, faults, sliding windows, counters, the request path.

Every request, whatever the service, takes :meth:`DoubleCore.serve`, in this order:

1. counted under ``(service, sub-path)`` (:meth:`DoubleCore.request_count`), its User-Agent remembered;
2. the configured latency (``latency`` seconds of the object given to :class:`DoubleCore`);
3. the service's sliding window (:meth:`DoubleCore.set_rate_limit`): Spotify 429 + Retry-After, Deezer's
   HTTP-200 error code 4, MusicBrainz 503 + Retry-After; each refusal counted in :meth:`DoubleCore.rejections`;
4. an injected :class:`Fault` whose match is the sub-path, one of the request's ids, or ``"*"``;
5. the route's own answer, which may apply the service's rules first (Spotify tokens, Premium, quota, profile).

The error shapes are the documented ones (``shared/api-facts.md``): Spotify ``{"error": {"status", "message"}}``,
Deezer ``{"error": {"type", "message", "code"}}`` with HTTP 200, MusicBrainz ``{"error": "..."}``.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

SPOTIFY = "spotify"
SPOTIFY_ACCOUNTS = "spotify-accounts"
DEEZER = "deezer"
MUSICBRAINZ = "musicbrainz"
IMAGES = "images"
WIKIDATA = "wikidata"
WIKIMEDIA = "wikimedia"
LASTFM = "lastfm"
LISTENBRAINZ = "listenbrainz"
SERVICES = (SPOTIFY, SPOTIFY_ACCOUNTS, DEEZER, MUSICBRAINZ, IMAGES, WIKIDATA, WIKIMEDIA, LASTFM, LISTENBRAINZ)

#: Where each service answers on the double; request counters key on the path below this prefix.
PREFIXES = {
    SPOTIFY: "/spotify/v1",
    SPOTIFY_ACCOUNTS: "/spotify-accounts",
    DEEZER: "/deezer",
    MUSICBRAINZ: "/musicbrainz/ws/2",
    IMAGES: "/images",
    WIKIDATA: "/wikidata",
    WIKIMEDIA: "/wikimedia",
    LASTFM: "/lastfm",
    LISTENBRAINZ: "/listenbrainz",
}

#: A route's real answer, called once the request got through counting, quota and injected faults.
Answer = Callable[[], Awaitable[Response]]

#: Deezer's HTTP-200 error codes (developers.deezer.com/api/errors): code -> (type, message).
DEEZER_ERRORS = {
    4: ("Exception", "Quota limit exceeded"),
    100: ("Exception", "An exception occurred"),
    600: ("InvalidQueryException", "Invalid query"),
    700: ("Exception", "Service busy"),
    800: ("DataException", "no data"),
}

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class _Remove:
    """Marker: leave the field out of the answer."""

    def __repr__(self) -> str:
        return "REMOVE"


#: Pass as an override value to leave that field out of the answer (e.g. ``nb_fan=REMOVE``).
REMOVE: Any = _Remove()


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    """``data`` with ``overrides`` merged in and every field whose value is :data:`REMOVE` left out."""
    if overrides:
        data.update(overrides)
    return {key: value for key, value in data.items() if value is not REMOVE}


@dataclass(frozen=True, slots=True)
class Fault:
    """A wrong answer to inject. With only ``delay`` set, the normal answer follows the stall."""

    status: int | None = None
    deezer_code: int | None = None
    body: str | None = None
    content_type: str = "application/json"
    retry_after: float | None = None
    delay: float = 0.0

    @classmethod
    def http(cls, status: int, *, retry_after: float | None = None) -> Fault:
        """An HTTP error in the service's documented error shape."""
        return cls(status=status, retry_after=retry_after)

    @classmethod
    def rate_limited(cls, retry_after: float = 1) -> Fault:
        """Spotify 429 / MusicBrainz 503 with Retry-After, or Deezer's code 4 (the service decides)."""
        return cls(status=429, retry_after=retry_after)

    @classmethod
    def deezer(cls, code: int) -> Fault:
        """Deezer's HTTP-200 error object with this code (4 quota, 700 busy, 800 no data...)."""
        return cls(deezer_code=code)

    @classmethod
    def malformed(cls) -> Fault:
        """HTTP 200 whose body is cut-off JSON."""
        return cls(status=200, body='{"id": 1, "name": "Trunc')

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Stall before answering (for client timeouts)."""
        return cls(delay=seconds)


class SlidingWindow:
    """A sliding-window counter: at most ``limit`` admitted requests in any ``period`` seconds."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self._times: deque[float] = deque()

    def admit(self) -> float | None:
        """None when admitted, else the seconds until a slot frees."""
        now = time.monotonic()
        while self._times and now - self._times[0] >= self.period:
            self._times.popleft()
        if len(self._times) >= self.limit:
            return self.period - (now - self._times[0])
        self._times.append(now)
        return None


@dataclass(slots=True)
class _Injection:
    service: str
    match: str
    fault: Fault
    remaining: int | None


class Timing(Protocol):
    """Where the core reads the latency every request waits (``DoubleConfig`` is one)."""

    latency: float


class DoubleCore:
    """Counters, windows and injected faults of one double, and :meth:`serve`, the path every request takes.

    ``lock`` guards this object and every service module's run-time state: tests change knobs from their own
    thread while the server answers from its loop (``ApiDouble.start_in_thread``).
    """

    def __init__(self, timing: Timing) -> None:
        self.timing = timing
        self.lock = threading.Lock()
        self._injections: list[_Injection] = []
        self._windows: dict[str, SlidingWindow] = {}
        self._requests: Counter[tuple[str, str]] = Counter()
        self._rejections: Counter[str] = Counter()
        self._user_agents: dict[str, str] = {}

    # -- knobs -----------------------------------------------------------------------------------

    def inject(self, service: str, match: str | int, fault: Fault, times: int | None = 1) -> None:
        """Answer requests of ``service`` whose id or sub-path equals ``match`` ("*": all) with ``fault``,
        ``times`` times (None: until :meth:`clear_injections`)."""
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
        with self.lock:
            self._injections.append(_Injection(service, str(match), fault, times))

    def clear_injections(self) -> None:
        with self.lock:
            self._injections.clear()

    def set_rate_limit(self, service: str, rate: tuple[int, float] | None) -> None:
        """Change a service's sliding-window limit ``(requests, seconds)`` (None: unlimited); counting starts
        afresh. ``ApiDouble`` sets Spotify's Web API, Deezer and MusicBrainz from ``DoubleConfig``."""
        with self.lock:
            if rate is None:
                self._windows.pop(service, None)
            else:
                self._windows[service] = SlidingWindow(*rate)

    # -- counters --------------------------------------------------------------------------------

    def request_count(self, service: str | None = None, path: str | None = None, *, prefix: str | None = None) -> int:
        """Requests received: all, per service, per exact sub-path (``"/artist/27"``), or per sub-path
        prefix (``prefix="/artists/"`` counts every ``/artists/{id}`` and ``/artists/{id}/top-tracks``)."""
        with self.lock:
            return sum(
                n
                for (svc, sub), n in self._requests.items()
                if (service is None or svc == service)
                and (path is None or sub == path)
                and (prefix is None or sub.startswith(prefix))
            )

    def count_rejection(self, service: str) -> None:
        """Count one request refused for a quota or rate (a service rule beside the sliding window)."""
        with self.lock:
            self._rejections[service] += 1

    def rejections(self, service: str) -> int:
        """Requests refused for being over a quota or rate (Deezer code 4, Spotify 429, MusicBrainz 503)."""
        with self.lock:
            return self._rejections[service]

    def last_user_agent(self, service: str) -> str | None:
        with self.lock:
            return self._user_agents.get(service)

    def reset_counters(self) -> None:
        with self.lock:
            self._requests.clear()
            self._rejections.clear()

    # -- the request path ------------------------------------------------------------------------

    def _take_fault(self, service: str, keys: Iterable[str]) -> Fault | None:
        wanted = set(keys) | {"*"}
        with self.lock:
            for injection in self._injections:
                if injection.service == service and injection.match in wanted and injection.remaining != 0:
                    if injection.remaining is not None:
                        injection.remaining -= 1
                    return injection.fault
        return None

    def _over_limit(self, service: str) -> float | None:
        with self.lock:
            window = self._windows.get(service)
            wait = window.admit() if window is not None else None
            if wait is not None:
                self._rejections[service] += 1
            return wait

    async def serve(self, service: str, request: Request, keys: Iterable[str], answer: Answer) -> Response:
        """The path every request takes: count, latency, sliding window, injected fault, then ``answer()``.
        ``keys`` are the ids an injected fault may match besides the sub-path."""
        sub_path = request.url.path.removeprefix(PREFIXES[service])
        keys = [sub_path, *keys]
        with self.lock:
            self._requests[(service, sub_path)] += 1
            self._user_agents[service] = request.headers.get("user-agent", "")
        if self.timing.latency > 0:
            await asyncio.sleep(self.timing.latency)
        wait = self._over_limit(service)
        if wait is not None:
            return rate_limited(service, wait)
        fault = self._take_fault(service, keys)
        if fault is not None:
            if fault.delay > 0:
                await asyncio.sleep(fault.delay)
            response = fault_response(service, fault)
            if response is not None:
                return response
        return await answer()


# -- helpers the service modules share -----------------------------------------------------------


def base_url(request: Request) -> str:
    """``http://127.0.0.1:<port>``: where the double answers, as the client reached it."""
    return str(request.base_url).rstrip("/")


def int_param(value: str | None, default: int) -> int | None:
    """A query parameter as an int: ``default`` when absent or empty, None when not a number."""
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        return None


def retry_after_header(seconds: float) -> dict[str, str]:
    """``Retry-After`` in whole seconds, rounded up and at least 1 (never invites a retry too early)."""
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def spotify_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """Spotify's Web API error: ``{"error": {"status", "message"}}`` with that HTTP status."""
    return JSONResponse({"error": {"status": status, "message": message}}, status, headers=headers)


def deezer_error(code: int, message: str | None = None) -> Response:
    """Deezer's error: HTTP 200 with ``{"error": {"type", "message", "code"}}``."""
    kind, default = DEEZER_ERRORS.get(code, ("Exception", "An exception occurred"))
    return JSONResponse({"error": {"type": kind, "message": message or default, "code": code}})


def rate_limited(service: str, wait: float, retry_after: float | None = None) -> Response:
    """The service's answer past its rate: Deezer code 4, MusicBrainz 503, Spotify 429, with ``Retry-After``
    (``retry_after`` as given, else ``wait`` rounded up to whole seconds)."""
    header = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else retry_after_header(wait)
    if service == DEEZER:
        return deezer_error(4)
    if service == MUSICBRAINZ:
        return JSONResponse(
            {
                "error": "Your requests are exceeding the allowable rate limit. Please see "
                "https://wiki.musicbrainz.org/XMLWebService for more information."
            },
            503,
            headers=header,
        )
    if service == LASTFM:
        return JSONResponse(
            {"error": 29, "message": "Rate Limit Exceeded - Your IP has made too many requests in a short period"},
            429,
            headers=header,
        )
    if service == LISTENBRAINZ:
        reset = header["Retry-After"]
        return JSONResponse(
            {"code": 429, "error": "Too many requests. Please wait and try again."},
            429,
            headers={**header, "X-RateLimit-Limit": "30", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset-In": reset},
        )
    if service == WIKIMEDIA:
        return JSONResponse(
            {
                "type": "https://mediawiki.org/wiki/HyperSwitch/errors/request_rate_exceeded",
                "title": "Too Many Requests",
                "detail": "You are making too many requests. Please identify yourself and slow down.",
            },
            429,
            headers=header,
        )
    if service == WIKIDATA:
        return JSONResponse(
            {"error": {"code": "ratelimited", "info": "You've exceeded your rate limit. Please wait and try again."}},
            429,
            headers=header,
        )
    return spotify_error(429, "API rate limit exceeded", header)


def fault_response(service: str, fault: Fault) -> Response | None:
    """The response a fault stands for, in the service's error shape; None when it only delays."""
    if fault.deezer_code is not None:
        return deezer_error(fault.deezer_code)
    if fault.body is not None:
        return Response(fault.body, fault.status or 200, media_type=fault.content_type)
    if fault.status is None:
        return None
    if fault.status == 429:
        return rate_limited(service, 0, fault.retry_after)
    headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
    reason = REASONS.get(fault.status, "Error")
    if service in (SPOTIFY, SPOTIFY_ACCOUNTS):
        return spotify_error(fault.status, reason, headers)
    if service == MUSICBRAINZ:
        return JSONResponse({"error": reason}, fault.status, headers=headers)
    return PlainTextResponse(reason, fault.status, headers=headers)


__all__ = [
    "DEEZER",
    "DEEZER_ERRORS",
    "IMAGES",
    "LASTFM",
    "LISTENBRAINZ",
    "MUSICBRAINZ",
    "PREFIXES",
    "REMOVE",
    "SERVICES",
    "SPOTIFY",
    "SPOTIFY_ACCOUNTS",
    "WIKIDATA",
    "WIKIMEDIA",
    "Answer",
    "DoubleCore",
    "Fault",
    "SlidingWindow",
    "Timing",
    "apply_overrides",
    "base_url",
    "deezer_error",
    "fault_response",
    "int_param",
    "rate_limited",
    "retry_after_header",
    "spotify_error",
]
