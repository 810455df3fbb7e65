"""Breakers of optional sources: open after failed calls in a row, skip at once, one probe, close on an answer."""

from __future__ import annotations

import asyncio
import time

import pytest
from svc_helpers import FAST_RETRY, artist_named, fast_gate

from artist_desktop.devtools.api_double import MUSICBRAINZ, ApiDouble, Fault
from artist_desktop.services import MusicBrainzClient
from artist_desktop.services.breaker import FAILURES_TO_OPEN, PROBE_INTERVAL, Breaker, BreakerState, verdict
from artist_desktop.services.errors import (
    BadResponseError,
    NotFoundError,
    QuotaExceededError,
    RateLimitedError,
    RequestError,
    ServiceUnavailableError,
    SourceSkippedError,
    is_retryable,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def fail() -> None:
    raise ServiceUnavailableError("MusicBrainz", "MusicBrainz is unavailable (HTTP 503)", status=503)


async def answer() -> str:
    return "answer"


async def outcome(breaker: Breaker, attempt: object) -> str:
    try:
        await breaker.call(attempt)  # type: ignore[arg-type]
    except SourceSkippedError as exc:
        return f"skipped: {exc}"
    except ServiceUnavailableError:
        return "failed"
    return "answered"


def test_the_constants_are_three_failures_and_thirty_seconds() -> None:
    assert (FAILURES_TO_OPEN, PROBE_INTERVAL) == (3, 30.0)


async def test_three_failed_calls_open_it_and_later_calls_skip_at_once_with_the_message() -> None:
    breaker = Breaker("MusicBrainz", clock=Clock())
    assert [await outcome(breaker, fail) for _ in range(3)] == ["failed"] * 3
    assert breaker.state is BreakerState.OPEN
    calls = 0

    async def counted() -> str:
        nonlocal calls
        calls += 1
        return "answer"

    assert await outcome(breaker, counted) == "skipped: MusicBrainz unavailable, skipped"
    assert calls == 0
    assert not is_retryable(breaker.skipped())
    assert isinstance(breaker.skipped(), ServiceUnavailableError)  # the pipeline's optional-source warning


async def test_an_answer_in_between_restarts_the_count() -> None:
    breaker = Breaker("Deezer", clock=Clock())
    for attempt in (fail, fail, answer, fail, fail):
        await outcome(breaker, attempt)
    assert (breaker.state, breaker.failures) == (BreakerState.CLOSED, 2)


async def test_one_probe_after_the_interval_closes_it_when_the_source_answers() -> None:
    clock = Clock()
    breaker = Breaker("MusicBrainz", clock=clock)
    for _ in range(3):
        await outcome(breaker, fail)
    clock.now += PROBE_INTERVAL - 1
    assert await outcome(breaker, answer) == "skipped: MusicBrainz unavailable, skipped"
    clock.now += 1
    probe_started = asyncio.Event()
    release = asyncio.Event()

    async def slow_answer() -> str:
        probe_started.set()
        await release.wait()
        return "answer"

    probe = asyncio.create_task(outcome(breaker, slow_answer))
    await probe_started.wait()
    assert breaker.state is BreakerState.PROBING
    assert await outcome(breaker, answer) == "skipped: MusicBrainz unavailable, skipped"  # a single probe
    release.set()
    assert await probe == "answered"
    assert breaker.state is BreakerState.CLOSED and breaker.failures == 0
    assert await outcome(breaker, answer) == "answered"


async def test_a_failed_probe_keeps_it_open_for_another_interval() -> None:
    clock = Clock()
    breaker = Breaker("MusicBrainz", clock=clock)
    for _ in range(3):
        await outcome(breaker, fail)
    clock.now += PROBE_INTERVAL
    assert await outcome(breaker, fail) == "failed"
    assert breaker.state is BreakerState.OPEN and breaker.next_probe_in == PROBE_INTERVAL
    clock.now += PROBE_INTERVAL - 0.5
    assert (await outcome(breaker, answer)).startswith("skipped")


async def test_a_cancelled_probe_lets_the_next_call_probe_at_once() -> None:
    clock = Clock()
    breaker = Breaker("MusicBrainz", clock=clock)
    for _ in range(3):
        await outcome(breaker, fail)
    clock.now += PROBE_INTERVAL
    probe = asyncio.create_task(breaker.call(lambda: asyncio.sleep(10)))
    await asyncio.sleep(0)
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    assert breaker.state is BreakerState.OPEN and breaker.next_probe_in == 0
    assert await outcome(breaker, answer) == "answered"


def test_what_counts_as_a_failure() -> None:
    service = "MusicBrainz"
    assert verdict(ServiceUnavailableError(service, "down")) is False
    assert verdict(RateLimitedError(service, "503 from MusicBrainz", status=503)) is False
    assert verdict(QuotaExceededError.after(service, "blocked", 3600, status=503)) is False
    assert verdict(BadResponseError(service, "garbled")) is False
    assert verdict(NotFoundError(service, "no such artist", status=404)) is True  # the source answered
    assert verdict(RequestError(service, "bad request", status=400)) is True
    assert verdict(RateLimitedError(service, "our gate's door is closed")) is None  # no request was made
    assert verdict(SourceSkippedError(service, "skipped")) is None
    assert verdict(ValueError("a bug here")) is None


def musicbrainz(double: ApiDouble, breaker: Breaker) -> MusicBrainzClient:
    client = MusicBrainzClient(
        double.urls.musicbrainz_api_url, "analyst@example.org", gate=fast_gate("MusicBrainz"), retry=FAST_RETRY
    )
    client.breaker = breaker
    return client


async def test_musicbrainz_down_opens_it_later_lookups_skip_without_a_request_and_it_closes_by_itself(
    double: ApiDouble,
) -> None:
    urls = [artist_named(double, name).spotify_url for name in ("Queen", "ABBA", "Björk", "Radiohead")]
    double.inject(MUSICBRAINZ, "*", Fault.http(503), times=None)
    breaker = Breaker("MusicBrainz", probe_interval=0.5)
    async with musicbrainz(double, breaker) as client:
        for url in urls[:3]:
            with pytest.raises(RateLimitedError, match=r"^MusicBrainz is refusing requests"):
                await client.artist_for_spotify_url(url)
        sent = double.request_count(MUSICBRAINZ)
        started = time.monotonic()
        with pytest.raises(SourceSkippedError, match=r"^MusicBrainz unavailable, skipped$"):
            await client.artist_for_spotify_url(urls[3])
        assert time.monotonic() - started < 0.1
        assert double.request_count(MUSICBRAINZ) == sent  # skipped: no request at all

        double.clear_faults()  # MusicBrainz answers again
        await asyncio.sleep(0.5)
        found = await client.artist_for_spotify_url(urls[3])  # the probe
        assert found is not None and found.name == "Radiohead"
        assert breaker.state is BreakerState.CLOSED
        assert (await client.artist_for_spotify_url(urls[0])) is not None
