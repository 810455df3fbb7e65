"""The one HTTP policy every API client shares: rate gates per service, retries, error mapping.

- :class:`RateGate`: one per remote service, shared by every caller (a second gate for the same host
  would let the two exceed the quota together). Fixed quotas use an ``aiolimiter`` leaky bucket sized
  so that no window of the documented length ever holds more than the quota; every gate also closes
  for all callers when the service says ``Retry-After`` (adaptive, Spotify's only signal). A pause
  longer than :data:`~artist_desktop.services.errors.LONG_WAIT` is never slept through: callers get a
  :class:`~artist_desktop.services.errors.QuotaExceededError` with the time the service resumes.
- :class:`RetryPolicy`: ``tenacity`` with jittered exponential backoff for the retryable errors of
  :mod:`artist_desktop.services.errors`, Retry-After honoured, bounded attempts and bounded waiting.
  Cancellation stops at once: ``asyncio.CancelledError`` is never caught and interrupts the sleep.
- :class:`ServiceClient`: owns (or borrows) an ``httpx.AsyncClient`` and turns one request into
  decoded JSON or a typed :class:`~artist_desktop.services.errors.ServiceError`.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar
from urllib.parse import urlsplit

import httpx
from aiolimiter import AsyncLimiter
from pydantic import BaseModel, ValidationError
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

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = f"{APP_NAME.replace(' ', '')}/{__version__}"


class RateGate:
    """Admits requests to one service: a fixed quota (optional) plus a door Retry-After closes.

    ``limit`` requests per ``period`` seconds is enforced as a leaky bucket of ``burst`` slots that
    drains at ``(limit - burst + 1) / (period * (1 + margin))`` per second; then any window of
    ``period`` seconds admits at most ``burst + floor(rate * period) < limit + 1`` requests, so a
    service counting in a sliding window never sees more than its quota, even with clock jitter.
    """

    def __init__(
        self,
        service: str,
        limit: int | None = None,
        period: float = 1.0,
        *,
        burst: int | None = None,
        margin: float = 0.02,
    ) -> None:
        self.service = service
        self.limit = limit
        self.period = period
        self._closed_until = 0.0
        self._closed_reason = f"{service} rate limit reached"
        self._limiter: AsyncLimiter | None = None
        self._limiter_loop: asyncio.AbstractEventLoop | None = None
        if limit is not None:
            if limit < 1 or period <= 0:
                raise ValueError(f"a rate limit needs limit >= 1 and period > 0 (got {limit} per {period})")
            # No burst by default: a burst costs steady throughput ((limit - burst + 1) per period).
            self.burst = max(1, min(limit, burst if burst is not None else 1))
            self.rate = (limit - self.burst + 1) / (period * (1 + margin))
        else:
            self.burst = 0
            self.rate = math.inf

    def __repr__(self) -> str:
        quota = f"{self.limit} per {self.period:g} s" if self.limit else "no fixed quota"
        return f"<RateGate {self.service}: {quota}, closed for {self.closed_for:.1f} s>"

    def _bucket(self) -> AsyncLimiter | None:
        """The leaky bucket for the running loop (an aiolimiter bucket belongs to one loop)."""
        if self.limit is None:
            return None
        loop = asyncio.get_running_loop()
        if self._limiter is None or self._limiter_loop is not loop:
            self._limiter = AsyncLimiter(self.burst, self.burst / self.rate)
            self._limiter_loop = loop
        return self._limiter

    @property
    def closed_for(self) -> float:
        """Seconds until the door a Retry-After closed opens again (0 when open)."""
        return max(0.0, self._closed_until - time.monotonic())

    @property
    def resume_at(self) -> datetime | None:
        """When the door opens again (UTC), or None when it is open."""
        wait = self.closed_for
        return datetime.now(UTC) + timedelta(seconds=wait) if wait > 0 else None

    def close_for(self, seconds: float, reason: str | None = None) -> None:
        """Hold every caller back for ``seconds`` (the service asked us to wait); never shortens a wait.

        ``reason`` ("Spotify's daily quota is used up") words the error of callers turned away meanwhile.
        """
        until = time.monotonic() + max(0.0, seconds)
        if until > self._closed_until:
            self._closed_until = until
            self._closed_reason = reason or f"{self.service} rate limit reached"

    async def acquire(self, max_wait: float | None = None) -> None:
        """Wait until one request may be sent.

        When the service asked for a pause longer than ``max_wait`` seconds, raise :class:`RateLimitedError`
        at once instead of blocking the caller that long; a pause longer than ``LONG_WAIT`` (whatever
        ``max_wait``) raises :class:`QuotaExceededError` with ``resume_at``, never a sleep.
        """
        while True:
            wait = self.closed_for
            if wait > 0:
                if wait > LONG_WAIT:
                    raise QuotaExceededError.after(self.service, self._closed_reason, wait)
                if max_wait is not None and wait > max_wait:
                    raise RateLimitedError(
                        self.service,
                        f"{self._closed_reason} (asked to wait {math.ceil(wait)} s)",
                        retry_after=wait,
                    )
                await asyncio.sleep(wait)
                continue
            bucket = self._bucket()
            if bucket is not None:
                await bucket.acquire()
            if self.closed_for <= 0:
                return


_SHARED_GATES: dict[tuple[str, str], RateGate] = {}


def shared_gate(service: str, base_url: str, limit: int | None = None, period: float = 1.0) -> RateGate:
    """The process-wide gate for ``service`` at ``base_url``'s host, created on first use."""
    key = (service, urlsplit(base_url).netloc)
    gate = _SHARED_GATES.get(key)
    if gate is None:
        gate = _SHARED_GATES.setdefault(key, RateGate(service, limit, period))
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
    :meth:`_error_in_payload` (errors sent with HTTP 200, as Deezer does).
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
        """Run one logical request under this client's retry policy and gate."""
        return await self.retry.run(attempt, self.gate)

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
        not_found: str | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> Any:
        """One attempt: wait at the gate, send, and return the JSON or raise a typed error.

        ``extensions`` are httpx request extensions (the Spotify client's disk cache reads its own there).
        """
        await self.gate.acquire(max_wait=self.retry.max_total)
        url = self._url(path_or_url)
        try:
            response = await self._http.request(
                method,
                url,
                params=params,
                headers={**self._headers, **(headers or {})},
                data=data,
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
        self, what: str, status: int, retry_after: float | None, *, quota: bool = False
    ) -> RateLimitedError:
        """The error for an over-quota answer, closing the gate for every caller until the service resumes.

        A pause longer than ``LONG_WAIT`` seconds, or a ``quota`` answer whatever its Retry-After, is a
        :class:`QuotaExceededError` (never retried, never slept through); a short one a :class:`RateLimitedError`.
        """
        if quota or (retry_after is not None and retry_after > LONG_WAIT):
            seconds = retry_after if retry_after is not None else LONG_WAIT
            self.gate.close_for(seconds, what)
            wording = what if quota else f"{what} (asked to wait {seconds:g} s)"
            return QuotaExceededError.after(self.service, wording, seconds, status=status)
        if retry_after is not None:
            self.gate.close_for(retry_after)
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

    def _error_for_status(self, response: httpx.Response, not_found: str | None) -> ServiceError | None:
        status = response.status_code
        if status < 400:
            return None
        service = self.service
        detail = self._error_detail(response)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status == 429:
            return self._rate_limited(f"{service} rate limit reached", status, retry_after)
        if status in (401, 403):
            return AuthenticationError(service, f"{service} refused access (HTTP {status}: {detail})", status=status)
        if status == 404:
            return NotFoundError(service, not_found or f"{service} found nothing ({detail})", status=status)
        if status == 408 or status >= 500:
            if retry_after is not None:
                self.gate.close_for(retry_after, f"{service} is unavailable")
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
    "RateGate",
    "RetryPolicy",
    "ServiceClient",
    "parse_model",
    "parse_retry_after",
    "shared_gate",
]
