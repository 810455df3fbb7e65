"""The embedded SSE endpoint: live import progress for browsers, scripts and dashboards."""

from artist_desktop.sse.app import (
    DEFAULT_CLIENT_QUEUE_SIZE,
    DEFAULT_PING_INTERVAL,
    HealthCheck,
    ProgressHub,
    create_app,
    is_loopback_host,
)
from artist_desktop.sse.server import DEFAULT_SSE_PORT, SseServer, SseServerError

__all__ = [
    "DEFAULT_CLIENT_QUEUE_SIZE",
    "DEFAULT_PING_INTERVAL",
    "DEFAULT_SSE_PORT",
    "HealthCheck",
    "ProgressHub",
    "SseServer",
    "SseServerError",
    "create_app",
    "is_loopback_host",
]
