"""Rate gates kept in Redis: two "processes" (own Redis connections, own clients) share one quota and one door.

Real Redis (the session's redis-server on a unix socket), the API double on loopback counting what it refuses.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from svc_helpers import artist_named

from artist_desktop.bus import connect_redis
from artist_desktop.devtools.api_double import DEEZER, SPOTIFY, ApiDouble, Fault
from artist_desktop.services import DeezerClient, Quota, RateGate, RetryPolicy, SharedGates
from artist_desktop.services.http import MIN_MARGIN

#: Measures pace or throughput against a real quota: run alone (see packaging/dev.py).
pytestmark = pytest.mark.serial

#: One attempt only (a refusal by the double shows in its counter, not retried away); the door may be waited for.
NO_RETRY = RetryPolicy(max_attempts=1, max_total=5)


@pytest.fixture
async def connections(redis_url: str) -> AsyncIterator[tuple[Redis, Redis]]:
    """Two Redis connections, as two processes on the machine would have."""
    first, second = connect_redis(redis_url), connect_redis(redis_url)
    try:
        yield first, second
    finally:
        await first.aclose()
        await second.aclose()


def deezer(double: ApiDouble, gate: RateGate) -> DeezerClient:
    return DeezerClient(double.urls.deezer_api_url, gate=gate, retry=NO_RETRY)


async def test_two_processes_sharing_redis_stay_under_the_quota_the_double_enforces(
    double: ApiDouble, connections: tuple[Redis, Redis], redis_prefix: str
) -> None:
    quota = Quota(4, 1.0)  # Deezer's 50 per 5 s, shrunk to keep the test short
    gates = [
        SharedGates(redis, redis_prefix).gate("Deezer", double.urls.deezer_api_url, quota) for redis in connections
    ]
    names = ["Daft Punk", "Queen", "ABBA", "Radiohead"]
    async with deezer(double, gates[0]) as one, deezer(double, gates[1]) as other:
        # Warm up (connections, Redis scripts, lazy imports): on a loaded machine these one-time costs can hold
        # a cold process's first requests back past the gate's margin after their admission.
        await asyncio.gather(*(client.search_artists("Queen") for client in (one, other) for _ in range(2)))
        await asyncio.sleep(1.0 + MIN_MARGIN)
        double.set_rate_limit(DEEZER, (4, 1.0))
        double.reset_counters()
        started = time.monotonic()
        found = await asyncio.gather(*(client.search_artists(name) for client in (one, other) for name in names * 2))
        elapsed = time.monotonic() - started
    assert all(found)
    assert double.request_count(DEEZER) == 16
    assert double.rejections(DEEZER) == 0
    assert elapsed >= 3 * (1.0 + MIN_MARGIN) - 0.05  # 16 requests at 4 per second: three full windows waited


async def test_without_a_shared_redis_the_same_two_processes_go_over_the_quota(
    double: ApiDouble, connections: tuple[Redis, Redis], redis_prefix: str
) -> None:
    """The control case: each process keeping its own count (here: its own prefix) is refused by the service."""
    double.set_rate_limit(DEEZER, (4, 1.0))
    quota = Quota(4, 1.0)
    gates = [
        SharedGates(redis, f"{redis_prefix}{n}:").gate("Deezer", double.urls.deezer_api_url, quota)
        for n, redis in enumerate(connections)
    ]
    async with deezer(double, gates[0]) as one, deezer(double, gates[1]) as other:
        await asyncio.gather(
            *(client.search_artists("Queen") for client in (one, other) for _ in range(4)), return_exceptions=True
        )
    assert double.rejections(DEEZER) == 4


async def test_a_retry_after_seen_by_one_process_holds_the_other(
    double: ApiDouble, connections: tuple[Redis, Redis], redis_prefix: str
) -> None:
    double.inject(DEEZER, "*", Fault.http(503, retry_after=1), times=1)
    gates = [SharedGates(redis, redis_prefix).gate("Deezer", double.urls.deezer_api_url, None) for redis in connections]
    async with deezer(double, gates[0]) as one, deezer(double, gates[1]) as other:
        started = time.monotonic()
        with pytest.raises(Exception, match="Deezer is unavailable"):
            await one.search_artists("Queen")
        assert gates[1].closed_for == 0  # the other process has not asked yet
        assert await other.search_artists("Queen")
    assert time.monotonic() - started >= 0.99  # it waited for the door the first one's answer closed
    assert gates[1].closed_for == 0


async def test_a_door_closed_for_hours_turns_the_other_process_away_with_the_resume_time(
    connections: tuple[Redis, Redis], redis_prefix: str
) -> None:
    first, second = (
        SharedGates(redis, redis_prefix).gate("Spotify", "https://api.spotify.com/v1", None) for redis in connections
    )
    first.close_for(7200, "Spotify's daily quota is used up")
    await first.flush()
    started = time.monotonic()
    with pytest.raises(Exception, match=r"^Spotify's daily quota is used up: available again at "):
        await second.acquire()
    assert time.monotonic() - started < 2  # one Redis round trip, no sleep
    assert second.resume_at is not None and 7190 < second.closed_for <= 7200


async def test_a_shorter_retry_after_never_reopens_a_longer_shared_wait(
    connections: tuple[Redis, Redis], redis_prefix: str
) -> None:
    first, second = (
        SharedGates(redis, redis_prefix).gate("Deezer", "https://api.deezer.com", None) for redis in connections
    )
    first.close_for(600, "long")
    second.close_for(1, "short")
    await first.flush()
    await second.flush()
    third = SharedGates(connections[0], redis_prefix).gate("Deezer", "https://api.deezer.com", None)
    with pytest.raises(Exception, match="long"):
        await third.acquire(max_wait=5)


async def test_the_keys_live_under_the_settings_prefix(connections: tuple[Redis, Redis], redis_prefix: str) -> None:
    redis = connections[0]
    gate = SharedGates(redis, redis_prefix).gate("Deezer", "https://api.deezer.com", Quota(50, 5.0))
    await gate.acquire()
    gate.close_for(30)
    await gate.flush()
    keys = sorted(key.decode() for key in await redis.keys(f"{redis_prefix}*"))
    assert keys == [
        f"{redis_prefix}gate:LIMITER/Deezer@api.deezer.com/50/5/second",
        f"{redis_prefix}gate:door/Deezer@api.deezer.com",
    ]
    assert 0 < await redis.ttl(keys[1]) <= 30


async def test_the_margin_keeps_the_window_a_little_longer_than_the_quota(
    connections: tuple[Redis, Redis], redis_prefix: str
) -> None:
    gates = [
        SharedGates(redis, redis_prefix).gate("MusicBrainz", "https://musicbrainz.org", Quota(1, 1.0))
        for redis in connections
    ]
    started = time.monotonic()
    await asyncio.gather(*(gates[n % 2].acquire() for n in range(3)))
    assert time.monotonic() - started >= 2 * (1.0 + MIN_MARGIN) - 0.005  # not 2 * 1.0: the margin is kept


def test_a_gate_shared_through_redis_counts_whole_seconds(redis_url: str) -> None:
    redis = connect_redis(redis_url)
    with pytest.raises(ValueError, match="whole seconds"):
        SharedGates(redis, "x:").gate("Test", "https://example.org", Quota(1, 0.5))


async def test_when_redis_is_gone_the_gate_counts_in_the_process_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gone = connect_redis(f"unix://{tmp_path / 'nobody-listens.sock'}")
    try:
        gate = SharedGates(gone, "x:").gate("Deezer", "https://api.deezer.com", Quota(2, 1.0))
        with caplog.at_level(logging.WARNING, logger="artist_desktop.services.http"):
            started = time.monotonic()
            for _ in range(3):
                await gate.acquire()
        assert time.monotonic() - started >= 1.0  # still 2 per second, counted here
        assert "counts in this process only" in caplog.text
    finally:
        await gone.aclose()


async def test_build_clients_with_redis_shares_the_gates_of_every_client_set(
    double: ApiDouble, connections: tuple[Redis, Redis], redis_prefix: str
) -> None:
    from artist_desktop.config import load_settings
    from artist_desktop.services import build_clients

    settings = load_settings(**double.urls.as_settings(), redis_prefix=redis_prefix)
    one, other = (build_clients(settings, redis=redis) for redis in connections)
    try:
        for clients in (one, other):
            assert clients.deezer.gate.shared is not None and clients.deezer.gate.limit == 50
            assert clients.musicbrainz.gate.shared is not None and clients.musicbrainz.gate.limit == 1
            assert clients.spotify.gate.shared is not None and clients.spotify.gate.limit is None
        queen = artist_named(double, "Queen")
        started = time.monotonic()
        one.spotify.gate.close_for(1.0)
        await one.spotify.gate.flush()
        assert (await other.spotify.get_artist(queen.spotify_id)).name == "Queen"
        assert time.monotonic() - started >= 0.99
        assert double.rejections(SPOTIFY) == 0
    finally:
        await one.aclose()
        await other.aclose()
