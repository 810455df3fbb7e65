"""The progress bus over Redis and the private redis-server the app runs when none is configured."""

from artist_desktop.bus.connection import connect_redis
from artist_desktop.bus.embedded import (
    EmbeddedRedis,
    EmbeddedRedisError,
    RedisServerNotFoundError,
    SharedEmbeddedRedis,
    find_redis_server,
)
from artist_desktop.bus.progress import (
    DEFAULT_PREFIX,
    FINAL_TTL_SECONDS,
    SEQ_TTL_SECONDS,
    ProgressBus,
    ProgressSubscription,
)
from artist_desktop.bus.workers import WorkerRegistry

__all__ = [
    "DEFAULT_PREFIX",
    "FINAL_TTL_SECONDS",
    "SEQ_TTL_SECONDS",
    "EmbeddedRedis",
    "EmbeddedRedisError",
    "ProgressBus",
    "ProgressSubscription",
    "RedisServerNotFoundError",
    "SharedEmbeddedRedis",
    "WorkerRegistry",
    "connect_redis",
    "find_redis_server",
]
