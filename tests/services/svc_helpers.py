"""Helpers shared by the API client tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from artist_desktop.devtools._catalog import CatalogArtist
from artist_desktop.devtools.api_double import ApiDouble
from artist_desktop.services.http import RateGate, RetryPolicy

#: Retries that keep tests fast: a few attempts, tiny waits.
FAST_RETRY = RetryPolicy(max_attempts=4, max_total=5.0, base_delay=0.01, max_delay=0.05)


def fast_gate(service: str) -> RateGate:
    """A private gate with no quota worth waiting for (tests of the real quotas build their own)."""
    return RateGate(service, 1000, 1.0)


def artist_named(double: ApiDouble, name: str) -> CatalogArtist:
    return next(a for a in double.catalog.artists if a.name == name)


def deezer_id(double: ApiDouble, name: str) -> int:
    section = artist_named(double, name).deezer
    assert section is not None
    return int(section["id"])


async def wait_until(condition: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)
