"""Fixtures for the bus tests: one private redis-server for the session, a fresh bus per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from artist_desktop.bus import EmbeddedRedis, ProgressBus, connect_redis


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a private redis-server (unix socket) that lives for the whole test session."""
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    try:
        yield server.start_sync()
    finally:
        server.stop_sync()


@pytest.fixture
async def bus(redis_url: str) -> AsyncIterator[ProgressBus]:
    """A bus with a prefix of its own, so tests sharing the server never see each other's keys."""
    client = connect_redis(redis_url)
    try:
        yield ProgressBus(client, prefix=f"test-{uuid.uuid4().hex[:8]}:")
    finally:
        await client.aclose()
