"""Fixtures for the pipeline: the app's services pointed at the API double, the session's Redis and a SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from artist_desktop.devtools.api_double import ApiDouble
from artist_desktop.runtime import Runtime


@pytest.fixture
async def services(
    api_double: ApiDouble,
    redis_url: str,
    redis_prefix: str,
    fast_clients: Callable[..., Any],
    double_settings: Callable[..., Any],
) -> AsyncIterator[Runtime]:
    settings = double_settings(api_double, redis_url, redis_prefix, concurrency=4)
    app = Runtime(settings, clients=fast_clients(settings))
    await app.start()
    try:
        yield app
    finally:
        await app.stop()
