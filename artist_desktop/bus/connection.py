"""One way to open a Redis client for the bus: bounded timeouts, health checks, retry on dropped links."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = ["connect_redis"]

#: A local server answers in microseconds; these bounds only matter when it is gone or hung.
CONNECT_TIMEOUT_SECONDS = 5.0
SOCKET_TIMEOUT_SECONDS = 10.0
#: Idle connections (a quiet subscription) are PINGed this often, so a dead link is noticed.
HEALTH_CHECK_SECONDS = 15


def connect_redis(
    url: str, *, client_name: str = "artist-desktop", connect_timeout: float = CONNECT_TIMEOUT_SECONDS
) -> Redis:
    """A client for ``redis://``, ``rediss://`` or ``unix://`` URLs (connects lazily, on first use).

    Commands are retried three times with a short jittered backoff on connection errors and
    timeouts (a restarted server is reconnected transparently); responses stay ``bytes``
    (``decode_responses=False``) because the bus parses JSON from bytes directly. ``connect_timeout`` bounds
    opening a connection (the ``CONNECT_TIMEOUT`` setting); a server that accepts and never answers is
    bounded by the socket timeout per command, so a start-up check wraps its first command in that bound too.
    The caller closes the client with ``await client.aclose()``.
    """
    return Redis.from_url(
        url,
        decode_responses=False,
        socket_connect_timeout=connect_timeout,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        health_check_interval=HEALTH_CHECK_SECONDS,
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), retries=3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError, ConnectionResetError],
        client_name=client_name,
    )
