"""Fixtures for the API client tests: a fresh API double per test, on the test's own event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from artist_desktop.devtools.api_double import ApiDouble, DoubleConfig


@pytest.fixture
async def double() -> AsyncIterator[ApiDouble]:
    api = ApiDouble(DoubleConfig())
    await api.start()
    try:
        yield api
    finally:
        await api.stop()
