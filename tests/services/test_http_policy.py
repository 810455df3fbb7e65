"""The shared policy on its own: rate gates, the retry decision and budget, Retry-After parsing, messages."""

from __future__ import annotations

import asyncio
import pickle
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from artist_desktop.services import SpotifyClient
from artist_desktop.services.errors import (
    LONG_WAIT,
    EndpointUnavailableError,
    NotFoundError,
    PremiumRequiredError,
    QuotaExceededError,
    RateLimitedError,
    ServiceUnavailableError,
    format_resume_at,
    is_retryable,
)
from artist_desktop.services.http import (
    MARGIN_FRACTION,
    MIN_MARGIN,
    OPTIONAL_ATTEMPTS,
    OPTIONAL_WAIT,
    RateGate,
    RetryPolicy,
    parse_retry_after,
    shared_gate,
)

QUICK = RetryPolicy(max_attempts=3, max_total=5, base_delay=0.01, max_delay=0.02)


async def test_a_quota_gate_never_admits_more_than_the_quota_in_any_window() -> None:
    gate = RateGate("Test", 5, 0.5)
    admitted: list[float] = []

    async def one() -> None:
        await gate.acquire()
        admitted.append(time.monotonic())

    await asyncio.gather(*(one() for _ in range(16)))
    admitted.sort()
    # any 6 consecutive admissions span more than the 0.5 s window
    assert all(later - earlier > 0.5 for earlier, later in zip(admitted, admitted[5:], strict=False))
    assert admitted[-1] - admitted[0] < 2.5  # and it is not needlessly slow


async def test_the_window_is_held_a_margin_longer_than_the_quota() -> None:
    """The service counts from each request's arrival, a few ms after admission: the gate leaves room for them."""
    gate = RateGate("Test", 1, 0.2)
    assert gate.margin == MIN_MARGIN and gate.rate == 1 / (0.2 + MIN_MARGIN)
    started = time.monotonic()
    for _ in range(3):
        await gate.acquire()
    assert time.monotonic() - started >= 2 * (0.2 + MIN_MARGIN) - 0.005  # not 2 * 0.2: the margin is kept
    assert RateGate("Test", 50, 5.0).margin == max(MIN_MARGIN, 5.0 * MARGIN_FRACTION)
    assert RateGate("Test", 50, 50.0).margin == 50.0 * MARGIN_FRACTION  # a long period: the fraction


async def test_requests_in_flight_are_capped_apart_from_the_rate() -> None:
    gate = RateGate("Test", concurrency=2)
    inside = most = 0

    async def request() -> None:
        nonlocal inside, most
        async with gate.slot():
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.02)
            inside -= 1

    await asyncio.gather(*(request() for _ in range(6)))
    assert most == 2


def test_an_optional_sources_policy_waits_at_most_the_bound_and_tries_three_times() -> None:
    bounded = RetryPolicy(max_total=600).bounded()
    assert (bounded.max_total, bounded.max_attempts) == (OPTIONAL_WAIT, OPTIONAL_ATTEMPTS) == (30, 3)
    short = RetryPolicy(max_total=10, max_attempts=2)
    assert short.bounded() == short


async def test_retry_after_closes_the_gate_for_every_caller() -> None:
    gate = RateGate("Test")
    gate.close_for(0.3)
    gate.close_for(0.1)  # never shortens a wait
    started = time.monotonic()
    await asyncio.gather(gate.acquire(), gate.acquire())
    assert time.monotonic() - started >= 0.29


def test_callers_of_one_service_host_share_one_gate() -> None:
    first = shared_gate("Deezer", "https://api.deezer.com", 50, 5)
    assert shared_gate("Deezer", "https://api.deezer.com/other") is first  # the quota from services/quotas.py
    assert shared_gate("Deezer", "http://127.0.0.1:9/deezer") is not first
    assert (first.limit, first.period, first.shared) == (50, 5, None)


async def test_errors_that_would_repeat_are_not_retried() -> None:
    calls = 0

    async def attempt() -> None:
        nonlocal calls
        calls += 1
        raise NotFoundError("Deezer", "Deezer has no artist with id 1")

    with pytest.raises(NotFoundError, match=r"^Deezer has no artist with id 1$"):
        await QUICK.run(attempt)
    assert calls == 1


async def test_passing_errors_are_retried_until_success() -> None:
    calls = 0

    async def attempt() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ServiceUnavailableError("Deezer", "Deezer is busy")
        return "ok"

    assert await QUICK.run(attempt) == "ok"
    assert calls == 3


async def test_the_final_error_says_how_often_and_how_long() -> None:
    async def attempt() -> None:
        raise RateLimitedError("Deezer", "Deezer quota exceeded")

    with pytest.raises(RateLimitedError) as caught:
        await QUICK.run(attempt)
    assert str(caught.value).startswith("Deezer quota exceeded, retried 2 times over 0 s")
    assert caught.value.attempts == 3
    assert isinstance(caught.value.__cause__, RateLimitedError)


async def test_retry_after_is_a_floor_for_the_wait() -> None:
    calls: list[float] = []

    async def attempt() -> str:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RateLimitedError("Spotify", "Spotify rate limit reached", retry_after=0.3)
        return "ok"

    assert await QUICK.run(attempt) == "ok"
    assert calls[1] - calls[0] >= 0.3


async def test_waiting_is_bounded_by_the_total_budget() -> None:
    calls = 0

    async def attempt() -> None:
        nonlocal calls
        calls += 1
        raise ServiceUnavailableError("Deezer", "Deezer is unavailable")

    policy = RetryPolicy(max_attempts=50, max_total=0.3, base_delay=0.1, max_delay=0.1)
    started = time.monotonic()
    with pytest.raises(ServiceUnavailableError):
        await policy.run(attempt)
    assert time.monotonic() - started < 0.6
    assert 2 <= calls < 50


def test_retry_decision() -> None:
    assert is_retryable(RateLimitedError("Deezer", "x"))
    assert is_retryable(ServiceUnavailableError("Deezer", "x"))
    assert not is_retryable(NotFoundError("Deezer", "x"))
    assert not is_retryable(asyncio.CancelledError())


def test_errors_survive_a_pickle_with_their_details() -> None:
    error = RateLimitedError("Spotify", "Spotify rate limit reached", retry_after=3, status=429)
    clone = pickle.loads(pickle.dumps(error.after_retries(4, 12.4)))
    assert (clone.service, clone.retry_after, clone.status, clone.attempts) == ("Spotify", 3, 429, 4)
    assert str(clone) == "Spotify rate limit reached, retried 3 times over 12 s"


def test_retry_after_header_forms() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (parse_retry_after(later) or 0) <= 31


# -- pauses too long to wait in place ---------------------------------------------------------------


async def test_a_gate_shut_for_longer_than_a_minute_turns_callers_away_with_the_resume_time() -> None:
    gate = RateGate("Spotify")
    gate.close_for(2 * 3600, "Spotify's daily quota is used up")
    started = time.monotonic()
    with pytest.raises(QuotaExceededError, match=r"^Spotify's daily quota is used up: available again at ") as caught:
        await gate.acquire()  # no max_wait at all: still never a two-hour sleep
    assert time.monotonic() - started < 0.1
    assert abs((caught.value.resume_at - datetime.now(UTC)).total_seconds() - 2 * 3600) < 5
    assert gate.resume_at is not None and abs((gate.resume_at - caught.value.resume_at).total_seconds()) < 5


async def test_a_gate_shut_past_the_budget_but_under_a_minute_is_a_plain_rate_limit() -> None:
    gate = RateGate("Deezer")
    gate.close_for(LONG_WAIT / 2)
    with pytest.raises(RateLimitedError) as caught:
        await gate.acquire(max_wait=1)
    assert not isinstance(caught.value, QuotaExceededError)
    assert str(caught.value).startswith("Deezer rate limit reached (asked to wait")


async def test_a_quota_answer_without_retry_after_and_one_with_an_http_date_are_quota_errors() -> None:
    """Pure unit case (MockTransport): answers the double does not give (no Retry-After, an HTTP date)."""
    later = format_datetime(datetime.now(UTC) + timedelta(hours=3), usegmt=True)
    answers = iter(
        [
            httpx.Response(429, json={"error": {"status": 429, "message": "Too many", "reason": "QUOTA_EXCEEDED"}}),
            httpx.Response(429, json={"error": {"status": 429, "message": "Slow"}}, headers={"Retry-After": later}),
        ]
    )

    def spotify(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/token":
            return httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 3600})
        return next(answers)

    async with httpx.AsyncClient(transport=httpx.MockTransport(spotify)) as http:
        for expected_wait, pattern in ((LONG_WAIT, "daily quota is used up"), (3 * 3600, "rate limit reached")):
            client = SpotifyClient(
                "id", "secret", "https://api.test/v1", "https://accounts.test", http=http, gate=RateGate("Spotify")
            )
            with pytest.raises(QuotaExceededError, match=pattern) as caught:
                await client.get_artist("4Z8W4fKeB5YxbusRsdQVPb")
            wait = (caught.value.resume_at - datetime.now(UTC)).total_seconds()
            assert expected_wait - 5 < wait <= expected_wait + 1


def test_resume_times_name_the_day_only_when_it_is_not_today() -> None:
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC).astimezone()
    assert format_resume_at(now + timedelta(minutes=5), now=now) == f"{now + timedelta(minutes=5):%H:%M}"
    tomorrow = now + timedelta(days=1)
    assert format_resume_at(tomorrow, now=now) == f"{tomorrow:%Y-%m-%d %H:%M}"


def test_the_new_errors_keep_their_details_through_a_pickle_and_are_not_retried() -> None:
    quota = QuotaExceededError.after("Spotify", "Spotify's daily quota is used up", 7200, status=429)
    endpoint = EndpointUnavailableError("Spotify", "gone", endpoint="top-tracks", status=403)
    quota_copy, endpoint_copy = pickle.loads(pickle.dumps(quota)), pickle.loads(pickle.dumps(endpoint))
    assert (quota_copy.resume_at, quota_copy.retry_after, str(quota_copy)) == (quota.resume_at, 7200, str(quota))
    assert endpoint_copy.endpoint == "top-tracks"
    assert not is_retryable(quota) and not is_retryable(endpoint)
    assert not is_retryable(PremiumRequiredError("Spotify", "needs Premium"))
