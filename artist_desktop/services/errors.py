"""The typed errors every external API client raises, and which of them are retried.

Exception tree (every error a caller sees is one of these)::

    ServiceError                   base; .service names the service ("Spotify", "Deezer", "MusicBrainz")
    ├── NotFoundError              the service has no such thing (HTTP 404, Deezer code 800)
    ├── RateLimitedError           over quota (HTTP 429, Deezer code 4, MusicBrainz 503); .retry_after
    │   └── QuotaExceededError     a pause too long to sleep through (Spotify's daily quota, 429
    │                              "QUOTA_EXCEEDED", or any Retry-After over a minute); .resume_at
    ├── ServiceUnavailableError    5xx, Deezer code 700 "busy", connection refused/reset, timeout
    │   └── SourceSkippedError     an optional source's breaker is open: not called at all (services.breaker)
    ├── BadResponseError           the answer is not JSON or not the documented shape
    ├── AuthenticationError        Spotify rejected the client credentials or the token
    │   ├── MissingCredentialsError    no Spotify client id/secret is configured
    │   └── PremiumRequiredError       the owner of a Development Mode app has no Premium (403)
    └── RequestError               any other 4xx / service error code (a bug or a bad argument)
        └── EndpointUnavailableError   the endpoint is removed for this app (Spotify 403 "Forbidden")

Retry decision (``is_retryable``): only RateLimitedError and ServiceUnavailableError are retried: they
describe a state of the service that passes (a quota window, a restart, a network blip). QuotaExceededError
is not: a wait of hours is a state the user sees ("Spotify resumes at 14:20"), never a sleep; nor is
SourceSkippedError: no request was made, and the breaker decides when the source is tried again. Everything
else is answered the same way on every try, so retrying would only burn quota: NotFoundError,
BadResponseError (a malformed answer is a bug on one side, not a blip), AuthenticationError (Spotify's
expired token is renewed once by the Spotify client itself, outside the retry policy) and RequestError.
When the retries run out, the last error is raised again with the attempts and time in its message:
"Deezer quota exceeded, retried 4 times over 31 s".
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

#: A Retry-After longer than this many seconds is not slept through (``../shared/api-facts.md``, Spotify
#: "Rate limit"): it becomes a :class:`QuotaExceededError` with the time the service resumes.
LONG_WAIT = 60.0


class ServiceError(Exception):
    """Any failure talking to an external service; the message names the service and is meant for people."""

    def __init__(
        self, service: str, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.service = service
        self.message = message
        #: The HTTP status (or Deezer error code for Deezer's HTTP-200 errors), when there was one.
        self.status = status
        #: Seconds the service asked us to wait (Retry-After); never retried sooner.
        self.retry_after = retry_after
        #: How many requests were made and how long it took, set when retries ran out.
        self.attempts = 1
        self.elapsed = 0.0

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild with (service, message) and the attributes: copies and pickles keep everything.
        return (type(self), (self.service, self.message), dict(self.__dict__))

    def after_retries(self, attempts: int, elapsed: float) -> ServiceError:
        """A copy of this error whose message says how long the client kept trying."""
        clone = copy.copy(self)
        clone.attempts = attempts
        clone.elapsed = elapsed
        if attempts > 1:
            retries = "once" if attempts == 2 else f"{attempts - 1} times"
            clone.message = f"{self.message}, retried {retries} over {elapsed:.0f} s"
        clone.args = (clone.message,)
        return clone


class NotFoundError(ServiceError):
    """The service has no such artist/resource; not retried."""


class RateLimitedError(ServiceError):
    """Over the service's quota; retried no sooner than ``retry_after`` seconds (when the service said)."""


class QuotaExceededError(RateLimitedError):
    """Over a quota whose Retry-After is too long to wait in place; not retried. ``resume_at`` (UTC) is when
    the service said it answers again."""

    def __init__(
        self,
        service: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        resume_at: datetime | None = None,
    ) -> None:
        super().__init__(service, message, status=status, retry_after=retry_after)
        seconds = retry_after if retry_after is not None else LONG_WAIT
        self.resume_at = resume_at if resume_at is not None else datetime.now(UTC) + timedelta(seconds=seconds)

    @classmethod
    def after(cls, service: str, what: str, seconds: float, *, status: int | None = None) -> QuotaExceededError:
        """The error for a pause of ``seconds`` from now: "<what>: available again at 14:20"."""
        resume_at = datetime.now(UTC) + timedelta(seconds=max(0.0, seconds))
        return cls(
            service,
            f"{what}: available again at {format_resume_at(resume_at)}",
            status=status,
            retry_after=seconds,
            resume_at=resume_at,
        )


def format_resume_at(when: datetime, now: datetime | None = None) -> str:
    """``when`` in local time for people: "14:20" today, "2026-12-04 14:20" on another day."""
    local = when.astimezone()
    today = (now or datetime.now(UTC)).astimezone().date()
    return f"{local:%H:%M}" if local.date() == today else f"{local:%Y-%m-%d %H:%M}"


class ServiceUnavailableError(ServiceError):
    """The service is down, busy, unreachable or too slow; retried with backoff."""


class SourceSkippedError(ServiceUnavailableError):
    """An optional source failed several times in a row and its breaker is open: the call was not made
    ("MusicBrainz unavailable, skipped"); not retried (see :mod:`artist_desktop.services.breaker`)."""


class BadResponseError(ServiceError):
    """The answer is not JSON or lacks documented fields; not retried."""


class AuthenticationError(ServiceError):
    """The service rejected our credentials; not retried (the user must fix the settings)."""


class MissingCredentialsError(AuthenticationError):
    """No credentials are configured at all; raised before any request is made."""


class PremiumRequiredError(AuthenticationError):
    """Spotify's 403 "Active premium subscription required for the owner of the app" (since 2026-02-11);
    not retried, and not a credentials problem: the app owner's account needs Premium."""


class RequestError(ServiceError):
    """Any other client error (bad argument, unsupported query); not retried."""


class EndpointUnavailableError(RequestError):
    """The endpoint is removed for this app (Spotify Development Mode answers 403 "Forbidden" for top tracks
    and the batch endpoints); ``endpoint`` names it. Never called again for this app."""

    def __init__(self, service: str, message: str, *, endpoint: str = "", status: int | None = None) -> None:
        super().__init__(service, message, status=status)
        self.endpoint = endpoint


def is_retryable(error: BaseException) -> bool:
    """The written retry decision above, as the predicate the retry policy uses."""
    return isinstance(error, RateLimitedError | ServiceUnavailableError) and not isinstance(
        error, QuotaExceededError | SourceSkippedError
    )


__all__ = [
    "LONG_WAIT",
    "AuthenticationError",
    "BadResponseError",
    "EndpointUnavailableError",
    "MissingCredentialsError",
    "NotFoundError",
    "PremiumRequiredError",
    "QuotaExceededError",
    "RateLimitedError",
    "RequestError",
    "ServiceError",
    "ServiceUnavailableError",
    "SourceSkippedError",
    "format_resume_at",
    "is_retryable",
]
