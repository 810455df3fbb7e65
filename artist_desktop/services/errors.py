"""The typed errors every external API client raises, and which of them are retried.

Exception tree (every error a caller sees is one of these)::

    ServiceError                   base; .service names the service ("Spotify", "Deezer", "MusicBrainz")
    ├── NotFoundError              the service has no such thing (HTTP 404, Deezer code 800)
    ├── RateLimitedError           over quota (HTTP 429, Deezer code 4, MusicBrainz 503); .retry_after
    ├── ServiceUnavailableError    5xx, Deezer code 700 "busy", connection refused/reset, timeout
    ├── BadResponseError           the answer is not JSON or not the documented shape
    ├── AuthenticationError        Spotify rejected the client credentials or the token
    │   └── MissingCredentialsError    no Spotify client id/secret is configured
    └── RequestError               any other 4xx / service error code (a bug or a bad argument)

Retry decision (``is_retryable``): only RateLimitedError and ServiceUnavailableError are retried: they
describe a state of the service that passes (a quota window, a restart, a network blip). Everything
else is answered the same way on every try, so retrying would only burn quota: NotFoundError,
BadResponseError (a malformed answer is a bug on one side, not a blip), AuthenticationError (Spotify's
expired token is renewed once by the Spotify client itself, outside the retry policy) and RequestError.
When the retries run out, the last error is raised again with the attempts and time in its message:
"Deezer quota exceeded, retried 4 times over 31 s".
"""

from __future__ import annotations

import copy
from typing import Any


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


class ServiceUnavailableError(ServiceError):
    """The service is down, busy, unreachable or too slow; retried with backoff."""


class BadResponseError(ServiceError):
    """The answer is not JSON or lacks documented fields; not retried."""


class AuthenticationError(ServiceError):
    """The service rejected our credentials; not retried (the user must fix the settings)."""


class MissingCredentialsError(AuthenticationError):
    """No credentials are configured at all; raised before any request is made."""


class RequestError(ServiceError):
    """Any other client error (bad argument, unsupported query); not retried."""


def is_retryable(error: BaseException) -> bool:
    """The written retry decision above, as the predicate the retry policy uses."""
    return isinstance(error, RateLimitedError | ServiceUnavailableError)


__all__ = [
    "AuthenticationError",
    "BadResponseError",
    "MissingCredentialsError",
    "NotFoundError",
    "RateLimitedError",
    "RequestError",
    "ServiceError",
    "ServiceUnavailableError",
    "is_retryable",
]
