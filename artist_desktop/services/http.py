"""The one HTTP policy every API client shares: rate gates per service host, retries, error mapping.

- :class:`RateGate`: one per remote service host, shared by every caller (a second gate for the same host
  would let the two exceed the quota together). A fixed quota is a moving window (``limits``) that no window
  of the quota's length ever sees exceeded; every gate also closes for all callers when the service says
  ``Retry-After`` (adaptive, Spotify's only signal), and caps the requests to its host in flight. A pause
  longer than :data:`~artist_desktop.services.errors.LONG_WAIT` is never slept through: callers get a
  :class:`~artist_desktop.services.errors.QuotaExceededError` with the time the service resumes.
- :class:`SharedGates`: the gates' window and door kept in Redis, so every process on the machine (the
  window, ``import``, ``serve``, team workers) shares one gate per host, as the services count per IP.
- :class:`RetryPolicy`: ``tenacity`` with jittered exponential backoff for the retryable errors of
  :mod:`artist_desktop.services.errors`, Retry-After honoured, bounded attempts and bounded waiting
  (:data:`OPTIONAL_WAIT` for optional sources). Cancellation stops at once: ``asyncio.CancelledError`` is
  never caught and interrupts the sleep.
- :class:`ServiceClient`: owns (or borrows) an ``httpx.AsyncClient`` and turns one request into
  decoded JSON or a typed :class:`~artist_desktop.services.errors.ServiceError`; an optional source's
  client carries a :class:`~artist_desktop.services.breaker.Breaker`.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import math
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar
from urllib.parse import urlsplit

import httpx
from limits import RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from pydantic import BaseModel, ValidationError
from redis.exceptions import RedisError
from tenacity import AsyncRetrying, RetryCallState, RetryError, retry_if_exception

from artist_desktop import APP_NAME, __version__
from artist_desktop.services.errors import (
    LONG_WAIT,
    AuthenticationError,
    BadResponseError,
    NotFoundError,
    QuotaExceededError,
    RateLimitedError,
    RequestError,
    ServiceError,
    ServiceUnavailableError,
    is_retryable,
)
from artist_desktop.services.quotas import Quota, quota_for

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from artist_desktop.services.breaker import Breaker

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = f"{APP_NAME.replace(' ', '')}/{__version__}"

#: The longest an optional source (MusicBrainz, Deezer in an import, an image host) may keep its caller
#: waiting on a Retry-After and on retries, in seconds: past it the call fails at once and the artist gets a
#: warning. The quota's own pace (the gate's window) is not such a wait: it is known and bounded by the quota.
OPTIONAL_WAIT = 30.0
#: The most requests one call to an optional source makes (the first and two retries): a source that fails
#: three times in a row is down for this call, and three such calls open its breaker. Five attempts cost ~9 s of
#: backoff per call, which made a batch with MusicBrainz down 1.3-1.8x slower than a healthy one (bench/).
OPTIONAL_ATTEMPTS = 3
#: A quota window is kept this fraction of its period longer than the service's, and at least
#: :data:`MIN_MARGIN` seconds: a request reaches the service some ms after the gate admitted it (a Redis
#: round trip, a connection, a busy event loop: up to ~20 ms measured on an idle machine, more under load),
#: and those ms must not let the service's window see one request more than the gate's did. Three importing
#: processes on 2 busy cores (load 2-3) saw 51 Deezer requests within 4.997 s with a 100 ms margin (bench/), and
#: the two-process test was still refused once at 150 ms under load 4, so the floor is 250 ms. The cost: 5 % of
#: Deezer's rate (250 ms on 5 s), 25 % of MusicBrainz's 1/s (whose lookups are coalesced, 100 per request).
MARGIN_FRACTION = 0.02
MIN_MARGIN = 0.25
#: After Redis failed, gates use their in-process window and door this many seconds before trying it again.
REDIS_RETRY_AFTER = 10.0

#: Set the door key to ARGV[1] for ARGV[2] ms, unless it is already closed for longer (never shortens a wait).
_CLOSE_DOOR = """
local left = redis.call('pttl', KEYS[1])
if left < tonumber(ARGV[2]) then
    redis.call('set', KEYS[1], ARGV[1], 'px', ARGV[2])
    return 1
end
return 0
"""


class _LocalWindow:
    """The moving window of one gate in this process: the admission times of the last ``limit`` requests."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self._times: deque[float] = deque(maxlen=limit)

    def admit(self, margin: float) -> float | None:
        """None when admitted now, else the seconds until the ``limit``-th last admission is old enough."""
        now = time.time()
        if len(self._times) == self.limit:
            wait = self._times[0] + self.period + margin - now
            if wait > 0:
                return wait
        self._times.append(now)
        return None


class SharedGates:
    """Where the gates of one app instance keep their windows and doors: one Redis for every process.

    Every process pointed at the same Redis and key prefix (the settings' ``redis_prefix``: a team's own)
    shares each host's window and door. The windows are ``limits``'s moving windows
    (:class:`~limits.aio.strategies.MovingWindowRateLimiter` on :class:`~limits.aio.storage.RedisStorage`
    with its ``redis`` implementation), built on the given connection's own pool: its timeouts, retries and
    address (the embedded server's ``unix://`` socket) apply unchanged. ``limits`` also opens
    ``async+redis+unix:///path`` URLs itself; sharing the pool saves a second set of connections.

    Keys, under ``<prefix>gate:``: ``LIMITER/<service>@<host>/<limit>/<period>/second`` (a window: a list of
    admission times, newest first, ``limits``'s layout) and ``door/<service>@<host>`` (a closed door: its
    reason, expiring when the door opens).
    """

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        # The URL only names the scheme: the connection pool decides where Redis is.
        self._storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix=f"{prefix}gate",
            # documented (RedisStorage: "connection_pool"), typed only as the URL options' values
            connection_pool=redis.connection_pool,  # type: ignore[arg-type]
        )
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._close_door = redis.register_script(_CLOSE_DOOR)

    def __repr__(self) -> str:
        return f"<SharedGates under {self.prefix}gate:>"

    def gate(self, service: str, base_url: str, quota: Quota | None, *, concurrency: int | None = None) -> RateGate:
        """The gate of ``service`` at ``base_url``'s host, keeping ``quota`` with every other process."""
        limit, period = quota if quota is not None else (None, 1.0)
        return RateGate(service, limit, period, concurrency=concurrency, shared=self, host=urlsplit(base_url).netloc)

    def door_key(self, name: str) -> str:
        return f"{self.prefix}gate:door/{name}"

    async def admit(self, name: str, limit: int, period: int, margin: float) -> float | None:
        """None when one request was admitted into ``name``'s window, else the seconds to wait first.

        The margin check reads ``limits``'s window over ``period + margin`` seconds; the admission itself is
        ``limits``'s atomic moving-window hit over ``period``, so the quota holds whatever other processes do
        between the two. (A process that admits between another's read and hit can leave that one a margin
        short by the gap between two earlier admissions: never below the quota itself.)
        """
        item = RateLimitItemPerSecond(limit, period)
        oldest, count = await self._storage.get_moving_window(
            item.key_for(name),
            limit,
            period + margin,  # type: ignore[arg-type]  # typed int, but only compared with times in this read
        )
        if count >= limit:
            return max(0.0, oldest + period + margin - time.time())
        if await self._limiter.hit(item, name):
            return None
        return 0.0  # another process took the last place meanwhile: read the window again

    async def read_door(self, name: str) -> tuple[float, str | None]:
        """Seconds the door of ``name`` stays closed (0: open) and the reason it was closed with."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.pttl(self.door_key(name))
            pipe.get(self.door_key(name))
            left_ms, reason = await pipe.execute()
        if not isinstance(left_ms, int) or left_ms <= 0:
            return 0.0, None
        text = reason.decode() if isinstance(reason, bytes) else str(reason) if reason is not None else None
        return left_ms / 1000, text or None

    async def close_door(self, name: str, seconds: float, reason: str) -> None:
        """Close the door of ``name`` for every process for ``seconds``; never shortens a longer wait."""
        await self._close_door(keys=[self.door_key(name)], args=[reason, max(1, math.ceil(seconds * 1000))])


@dataclass(slots=True)
class _LoopState:
    """What a gate keeps per event loop (asyncio primitives belong to one loop)."""

    loop: asyncio.AbstractEventLoop
    lock: asyncio.Lock
    slots: asyncio.Semaphore | None


class RateGate:
    """Admits requests to one service host: a quota (optional), a door Retry-After closes, a cap in flight.

    - Quota: at most ``limit`` requests in any ``period`` seconds, a moving window of admission times: a
      request is admitted only while fewer than ``limit`` admissions lie in the last ``period`` seconds, so no
      window of ``period`` seconds ever sees more than ``limit``. It is also held back until the ``limit``-th
      last admission is ``margin`` seconds older than that (default :data:`MARGIN_FRACTION` of the period, at
      least :data:`MIN_MARGIN`): a service counting in a sliding window from each request's arrival never sees
      more than its quota, even when requests take a few ms more or less to arrive.
    - Door: :meth:`close_for` holds every caller back for the time a service asked (Retry-After).
    - In flight: at most ``concurrency`` requests to the host at once from this process (:meth:`slot`), apart
      from the rate: many callers may wait at the gate, few requests are open at a time.

    With ``shared`` (:class:`SharedGates`) the window and the door live in Redis and every process using it
    shares them (the window's ``period`` is then whole seconds, as ``limits`` counts); the in-flight cap stays
    per process. Should Redis fail, the gate falls back to its in-process window and door for
    :data:`REDIS_RETRY_AFTER` seconds, and says so in the log. Without ``shared`` (pure unit tests of the
    clients, or a client built alone) everything is this process's.
    """

    def __init__(
        self,
        service: str,
        limit: int | None = None,
        period: float = 1.0,
        *,
        margin: float | None = None,
        concurrency: int | None = None,
        shared: SharedGates | None = None,
        host: str = "",
    ) -> None:
        self.service = service
        self.limit = limit
        self.period = period
        self.host = host
        #: The gate's name in Redis keys and logs: ``Deezer@api.deezer.com``.
        self.name = f"{service}@{host}" if host else service
        self.shared = shared
        if limit is not None and (limit < 1 or period <= 0):
            raise ValueError(f"a rate limit needs limit >= 1 and period > 0 (got {limit} per {period})")
        if limit is not None and shared is not None and period != int(period):
            raise ValueError(f"a gate shared through Redis counts whole seconds (got {limit} per {period:g} s)")
        if concurrency is not None and concurrency < 1:
            raise ValueError(f"concurrency must be at least 1 (got {concurrency})")
        self.margin = margin if margin is not None else max(MARGIN_FRACTION * period, MIN_MARGIN)
        #: Requests admitted per second at most, on average (``inf``: no fixed quota).
        self.rate = limit / (period + self.margin) if limit is not None else math.inf
        self.concurrency = concurrency
        self._window = _LocalWindow(limit, period) if limit is not None else None
        self._closed_until = 0.0
        self._closed_reason = f"{service} rate limit reached"
        self._loop_state: _LoopState | None = None
        self._door_writes: set[asyncio.Task[None]] = set()
        self._redis_down_until = 0.0

    def __repr__(self) -> str:
        quota = f"{self.limit} per {self.period:g} s" if self.limit else "no fixed quota"
        where = "shared" if self.shared is not None else "in-process"
        return f"<RateGate {self.name}: {quota}, {where}, closed for {self.closed_for:.1f} s>"

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._loop_state
        if state is None or state.loop is not loop:
            slots = asyncio.Semaphore(self.concurrency) if self.concurrency is not None else None
            state = self._loop_state = _LoopState(loop, asyncio.Lock(), slots)
        return state

    # -- the door ---------------------------------------------------------------------------------

    @property
    def closed_for(self) -> float:
        """Seconds until the door a Retry-After closed opens again (0 when open), as this process last saw it."""
        return max(0.0, self._closed_until - time.monotonic())

    @property
    def resume_at(self) -> datetime | None:
        """When the door opens again (UTC), or None when it is open."""
        wait = self.closed_for
        return datetime.now(UTC) + timedelta(seconds=wait) if wait > 0 else None

    def close_for(self, seconds: float, reason: str | None = None) -> None:
        """Hold every caller back for ``seconds`` (the service asked us to wait); never shortens a wait.

        ``reason`` ("Spotify's daily quota is used up") words the error of callers turned away meanwhile.
        A shared gate tells the other processes too (in the background: :meth:`flush` waits for it).
        """
        seconds = max(0.0, seconds)
        until = time.monotonic() + seconds
        if until > self._closed_until:
            self._closed_until = until
            self._closed_reason = reason or f"{self.service} rate limit reached"
        if self.shared is None or seconds <= 0:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a synchronous caller): this process only
            return
        task = loop.create_task(self._share_door(seconds, reason or f"{self.service} rate limit reached"))
        self._door_writes.add(task)
        task.add_done_callback(self._door_writes.discard)

    async def flush(self) -> None:
        """Wait until the doors this process closed are closed for the other processes too."""
        mine = [task for task in self._door_writes if task.get_loop() is asyncio.get_running_loop()]
        if mine:
            await asyncio.gather(*mine, return_exceptions=True)

    async def _share_door(self, seconds: float, reason: str) -> None:
        assert self.shared is not None
        if not self._redis_usable():
            return
        try:
            await self.shared.close_door(self.name, seconds, reason)
        except (RedisError, OSError) as exc:
            self._redis_failed(exc)

    async def _read_door(self) -> None:
        """Learn a door another process closed (shared gates only)."""
        if self.shared is None or not self._redis_usable():
            return
        try:
            seconds, reason = await self.shared.read_door(self.name)
        except (RedisError, OSError) as exc:
            self._redis_failed(exc)
            return
        until = time.monotonic() + seconds
        if seconds > 0 and until > self._closed_until + 0.001:
            self._closed_until = until
            self._closed_reason = reason or f"{self.service} rate limit reached"

    def _redis_usable(self) -> bool:
        return time.monotonic() >= self._redis_down_until

    def _redis_failed(self, exc: BaseException) -> None:
        self._redis_down_until = time.monotonic() + REDIS_RETRY_AFTER
        log.warning(
            "Redis failed (%s): the %s gate counts in this process only for %g s",
            exc or type(exc).__name__,
            self.name,
            REDIS_RETRY_AFTER,
        )

    # -- admission --------------------------------------------------------------------------------

    async def acquire(self, max_wait: float | None = None) -> None:
        """Wait until one request may be sent (the door open, a place in the quota's window).

        When the service asked for a pause longer than ``max_wait`` seconds, raise :class:`RateLimitedError`
        at once instead of blocking the caller that long; a pause longer than ``LONG_WAIT`` (whatever
        ``max_wait``) raises :class:`QuotaExceededError` with ``resume_at``, never a sleep. Waiting for a place
        in the window is not bounded by ``max_wait``: that is the quota's pace.
        """
        state = self._state()
        while True:
            await self._wait_for_door(max_wait)
            if self._window is None:
                return
            async with state.lock:  # one caller of this process at the window at a time, first come first served
                await self._take_place()
            if self.closed_for <= 0:
                return

    @contextlib.asynccontextmanager
    async def slot(self, max_wait: float | None = None) -> AsyncIterator[None]:
        """Hold one of the host's in-flight places (``concurrency``) and :meth:`acquire` for one request."""
        slots = self._state().slots
        if slots is None:
            await self.acquire(max_wait)
            yield
            return
        async with slots:
            await self.acquire(max_wait)
            yield

    async def _wait_for_door(self, max_wait: float | None) -> None:
        await self._read_door()
        while (wait := self.closed_for) > 0:
            if wait > LONG_WAIT:
                raise QuotaExceededError.after(self.service, self._closed_reason, wait)
            if max_wait is not None and wait > max_wait:
                raise RateLimitedError(
                    self.service, f"{self._closed_reason} (asked to wait {math.ceil(wait)} s)", retry_after=wait
                )
            await asyncio.sleep(wait)
            await self._read_door()

    async def _take_place(self) -> None:
        """Wait for a place in the window and take it (the caller holds this loop's lock)."""
        assert self._window is not None and self.limit is not None
        while True:
            wait = await self._admit()
            if wait is None:
                return
            await asyncio.sleep(wait)

    async def _admit(self) -> float | None:
        assert self._window is not None and self.limit is not None
        if self.shared is not None and self._redis_usable():
            try:
                return await self.shared.admit(self.name, self.limit, int(self.period), self.margin)
            except (RedisError, OSError) as exc:
                self._redis_failed(exc)
        return self._window.admit(self.margin)


_SHARED_GATES: dict[tuple[str, str, int | None, float], RateGate] = {}


def shared_gate(
    service: str, base_url: str, limit: int | None = None, period: float = 1.0, *, concurrency: int | None = None
) -> RateGate:
    """The process-wide in-process gate for ``service`` at ``base_url``'s host, made on first use (``concurrency``
    counts then). Its quota is ``limit`` per ``period``, else the service's in :mod:`~artist_desktop.services.quotas`.

    For clients built without Redis (alone, in a unit test, or by ``build_clients`` without a connection); the
    app's clients get gates shared through Redis from :meth:`SharedGates.gate`.
    """
    if limit is None and (quota := quota_for(service)) is not None:
        limit, period = quota
    key = (service, urlsplit(base_url).netloc, limit, period)
    gate = _SHARED_GATES.get(key)
    if gate is None:
        gate = _SHARED_GATES.setdefault(key, RateGate(service, limit, period, concurrency=concurrency))
    return gate


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard a client tries: at most ``max_attempts`` requests and ``max_total`` seconds of waiting.

    Waits grow as ``base_delay * 2**n`` (capped at ``max_delay``) plus up to ``base_delay`` of jitter;
    a Retry-After from the service is a floor, never shortened. A Retry-After that would exceed the
    remaining budget ends the retries at once with the service's error.
    """

    max_attempts: int = 5
    max_total: float = 60.0
    base_delay: float = 0.5
    max_delay: float = 20.0

    def delay(self, retry_state: RetryCallState) -> float:
        """The wait before the next attempt (tenacity ``wait`` callback)."""
        exponent = max(0, retry_state.attempt_number - 1)
        backoff = min(self.max_delay, self.base_delay * 2.0**exponent) + random.uniform(0, self.base_delay)
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, ServiceError) and error.retry_after is not None:
            return max(error.retry_after + random.uniform(0, self.base_delay / 4), min(backoff, 1.0))
        return backoff

    def bounded(self, seconds: float = OPTIONAL_WAIT, attempts: int = OPTIONAL_ATTEMPTS) -> RetryPolicy:
        """This policy with at most ``seconds`` of waiting and ``attempts`` requests (an optional source's:
        :data:`OPTIONAL_WAIT`, :data:`OPTIONAL_ATTEMPTS`)."""
        return replace(self, max_total=min(self.max_total, seconds), max_attempts=min(self.max_attempts, attempts))

    def should_stop(self, retry_state: RetryCallState) -> bool:
        """Stop when the attempts are used up or the next wait would pass the waiting budget."""
        if retry_state.attempt_number >= self.max_attempts:
            return True
        return retry_state.idle_for + retry_state.upcoming_sleep > self.max_total

    async def run(self, attempt: Callable[[], Awaitable[T]], gate: RateGate | None = None) -> T:
        """Call ``attempt`` until it succeeds, fails for good, or the budget is spent."""

        def before_sleep(retry_state: RetryCallState) -> None:
            outcome = retry_state.outcome
            error = outcome.exception() if outcome is not None else None
            if gate is not None and isinstance(error, RateLimitedError):
                # Over quota: nobody else should call this service either until we retry.
                gate.close_for(retry_state.upcoming_sleep)

        started = time.monotonic()
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_retryable),
            wait=self.delay,
            stop=self.should_stop,
            sleep=asyncio.sleep,
            before_sleep=before_sleep,
            reraise=False,
        )

        async def call() -> T:  # tenacity awaits only what it sees is a coroutine function
            return await attempt()

        try:
            return await retrying(call)
        except RetryError as exc:
            last = exc.last_attempt
            error = last.exception()
            if isinstance(error, ServiceError):
                raise error.after_retries(last.attempt_number, time.monotonic() - started) from error
            raise


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent or garbled."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def parse_model(service: str, model: type[M], data: Any, what: str) -> M:
    """Validate one JSON object against a wire model; a mismatch is a :class:`BadResponseError`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the answer"
        raise BadResponseError(
            service, f"{service} sent {what} in an unexpected shape ({where}: {first['msg']})"
        ) from None


def _snippet(text: str, size: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"


class ServiceClient:
    """Base of the API clients: base URL, timeouts, User-Agent, rate gate, retry policy, error mapping.

    Subclasses set ``service`` and may override :meth:`_error_detail` (the service's error text) and
    :meth:`_error_in_payload` (errors sent with HTTP 200, as Deezer does). ``breaker`` (None by default) makes
    the client an optional source's: while it is open, calls raise
    :class:`~artist_desktop.services.errors.SourceSkippedError` at once (``services.build_clients`` sets it).
    """

    service: ClassVar[str] = "The service"

    def __init__(
        self,
        base_url: str,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        user_agent: str = DEFAULT_USER_AGENT,
        gate: RateGate | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.user_agent = user_agent
        self.gate = gate if gate is not None else RateGate(self.service)
        self.retry = retry if retry is not None else RetryPolicy()
        #: The optional source's breaker, or None for a source the caller cannot do without.
        self.breaker: Breaker | None = None
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=timeout)
        self._headers = {"User-Agent": user_agent, "Accept": "application/json"}
        self._nulls_logged: set[str] = set()

    async def aclose(self) -> None:
        """Close the connection pool (only when this client created it)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _call(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run one logical request under this client's breaker (if any), retry policy and gate."""
        breaker = self.breaker
        if breaker is None:
            return await self.retry.run(attempt, self.gate)
        return await breaker.call(lambda: self.retry.run(attempt, self.gate))

    async def _get_json(
        self, path: str, params: Mapping[str, str | int] | None = None, *, not_found: str | None = None
    ) -> Any:
        """GET ``path`` with retries; ``not_found`` replaces the message of a 404."""
        return await self._call(lambda: self._request_json("GET", path, params=params, not_found=not_found))

    async def _request_json(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
        not_found: str | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> Any:
        """One attempt: wait at the gate, send, and return the JSON or raise a typed error.

        ``json_body`` is sent as a JSON body (ListenBrainz's POSTs); ``extensions`` are httpx request extensions
        (the Spotify client's disk cache reads its own there).
        """
        url = self._url(path_or_url)
        try:
            async with self.gate.slot(max_wait=self.retry.max_total):
                response = await self._http.request(
                    method,
                    url,
                    params=params,
                    headers={**self._headers, **(headers or {})},
                    data=data,
                    json=json_body,
                    extensions=dict(extensions) if extensions else None,
                )
        except httpx.TimeoutException as exc:
            raise ServiceUnavailableError(
                self.service, f"{self.service} did not answer within {self.timeout:g} s"
            ) from exc
        except httpx.ConnectError as exc:
            origin = urlsplit(url).netloc
            reason = str(exc) or type(exc).__name__
            raise ServiceUnavailableError(self.service, f"Cannot reach {self.service} at {origin} ({reason})") from exc
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            raise ServiceUnavailableError(self.service, f"The connection to {self.service} failed ({reason})") from exc
        error = self._error_for_status(response, not_found)
        if error is not None:
            await self.gate.flush()  # a door this answer closed is closed for the other processes first
            raise error
        payload = self._decode(response)
        error = self._error_in_payload(payload, not_found)
        if error is not None:
            raise error
        return payload

    def _url(self, path_or_url: str) -> str:
        return path_or_url if "://" in path_or_url else self.base_url + path_or_url

    def _present(self, items: Iterable[T | None] | None, what: str) -> list[T]:
        """``items`` without its nulls (and ``[]`` for a null list), logged once per client for each ``what``.

        Services sometimes put ``null`` in a list (Spotify search ``items``, api-facts.md): such an entry is
        skipped, never a reason to reject the answer.
        """
        if items is None:
            kept: list[T] = []
            dropped = "the whole list was null"
        else:
            listed = list(items)
            kept = [item for item in listed if item is not None]
            dropped = f"{len(listed) - len(kept)} null entries skipped" if len(kept) < len(listed) else ""
        if dropped and what not in self._nulls_logged:
            self._nulls_logged.add(what)
            log.warning("%s sent null in %s (%s); later nulls there are skipped silently", self.service, what, dropped)
        return kept

    def _rate_limited(
        self,
        what: str,
        status: int,
        retry_after: float | None,
        *,
        quota: bool = False,
        gate: RateGate | None = None,
    ) -> RateLimitedError:
        """The error for an over-quota answer, closing the gate (``gate``, else the client's) for every
        caller until the service resumes.

        A pause longer than ``LONG_WAIT`` seconds, or a ``quota`` answer whatever its Retry-After, is a
        :class:`QuotaExceededError` (never retried, never slept through); a short one a :class:`RateLimitedError`.
        """
        gate = gate if gate is not None else self.gate
        if quota or (retry_after is not None and retry_after > LONG_WAIT):
            seconds = retry_after if retry_after is not None else LONG_WAIT
            gate.close_for(seconds, what)
            wording = what if quota else f"{what} (asked to wait {seconds:g} s)"
            return QuotaExceededError.after(self.service, wording, seconds, status=status)
        if retry_after is not None:
            gate.close_for(retry_after)
        wait = f" (asked to wait {retry_after:g} s)" if retry_after is not None else ""
        return RateLimitedError(self.service, f"{what}{wait}", status=status, retry_after=retry_after)

    def _decode(self, response: httpx.Response) -> Any:
        try:
            payload = response.json()
        except ValueError:
            kind = response.headers.get("content-type", "no content type")
            raise BadResponseError(
                self.service,
                f"{self.service} sent an answer that is not JSON "
                f"(HTTP {response.status_code}, {kind}: {_snippet(response.text)!r})",
                status=response.status_code,
            ) from None
        if not isinstance(payload, dict):
            raise BadResponseError(
                self.service,
                f"{self.service} sent {type(payload).__name__} where a JSON object was expected",
                status=response.status_code,
            )
        return payload

    def _error_detail(self, response: httpx.Response) -> str:
        """The service's own words for an HTTP error, or the reason phrase."""
        try:
            body = response.json()
        except ValueError:
            return _snippet(response.text) or response.reason_phrase
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, dict) and error.get("message"):
                return str(error["message"])
            if isinstance(error, str):
                description = body.get("error_description")
                return f"{error}: {description}" if description else error
            if body.get("message"):
                return str(body["message"])
        return response.reason_phrase

    def _gate_for(self, url: httpx.URL) -> RateGate:
        """The gate of the host ``url`` is on (one gate per client; the image client has one per host)."""
        return self.gate

    def _error_for_status(self, response: httpx.Response, not_found: str | None) -> ServiceError | None:
        status = response.status_code
        if status < 400:
            return None
        service = self.service
        detail = self._error_detail(response)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        gate = self._gate_for(response.request.url)
        if status == 429:
            return self._rate_limited(f"{service} rate limit reached", status, retry_after, gate=gate)
        if status in (401, 403):
            return AuthenticationError(service, f"{service} refused access (HTTP {status}: {detail})", status=status)
        if status == 404:
            return NotFoundError(service, not_found or f"{service} found nothing ({detail})", status=status)
        if status == 408 or status >= 500:
            if retry_after is not None:
                gate.close_for(retry_after, f"{service} is unavailable")
            return ServiceUnavailableError(
                service,
                f"{service} is unavailable (HTTP {status}: {detail})",
                status=status,
                retry_after=retry_after,
            )
        return RequestError(service, f"{service} rejected the request (HTTP {status}: {detail})", status=status)

    def _error_in_payload(self, payload: dict[str, Any], not_found: str | None) -> ServiceError | None:
        """Errors a service sends inside a successful answer (none by default)."""
        return None


__all__ = [
    "DEFAULT_USER_AGENT",
    "MARGIN_FRACTION",
    "MIN_MARGIN",
    "OPTIONAL_WAIT",
    "RateGate",
    "RetryPolicy",
    "ServiceClient",
    "SharedGates",
    "parse_model",
    "parse_retry_after",
    "shared_gate",
]
