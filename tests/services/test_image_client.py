"""ImageClient against the API double's image host: one gate and breaker per host, bounded waits."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from artist_desktop.bus import connect_redis
from artist_desktop.devtools._png import png_size
from artist_desktop.devtools.api_double import IMAGES, ApiDouble, DoubleConfig, Fault
from artist_desktop.services import ImageClient, QuotaExceededError, RateLimitedError, RetryPolicy, SharedGates
from artist_desktop.services.breaker import FAILURES_TO_OPEN
from artist_desktop.services.errors import ServiceUnavailableError, SourceSkippedError
from artist_desktop.services.http import OPTIONAL_WAIT

QUICK = RetryPolicy(max_attempts=2, max_total=5, base_delay=0.01, max_delay=0.02)


@pytest.fixture
async def other_host() -> AsyncIterator[ApiDouble]:
    """A second image host (another double on another port)."""
    double = ApiDouble(DoubleConfig())
    await double.start()
    try:
        yield double
    finally:
        await double.stop()


def image(double: ApiDouble, n: int = 0) -> str:
    return f"{double.urls.images_url}/{double.catalog.artists[n].spotify_id}-640.png"


async def test_a_host_asking_for_a_days_pause_costs_its_images_at_once_and_no_other_hosts(
    double: ApiDouble, other_host: ApiDouble
) -> None:
    double.set_image_fault(double.catalog.artists[0].spotify_id, "rate_limited")
    async with ImageClient(retry=QUICK) as images:
        started = time.monotonic()
        with pytest.raises(QuotaExceededError, match=r"asked to wait 86400 s\): available again at ") as caught:
            await images.fetch(image(double, 0))
        assert caught.value.status == 429
        with pytest.raises(QuotaExceededError):  # the same host's next image: no request, no wait
            await images.fetch(image(double, 1))
        assert time.monotonic() - started < 1.0
        assert double.request_count(IMAGES) == 1
        assert png_size(await images.fetch(image(other_host, 1))) == (640, 640)


async def test_an_optional_wait_longer_than_the_bound_fails_at_once(double: ApiDouble) -> None:
    """A Retry-After under a minute (not a quota error) but over OPTIONAL_WAIT is not slept through either."""
    wait = OPTIONAL_WAIT + 15
    double.inject(IMAGES, "*", Fault.rate_limited(retry_after=wait), times=1)
    async with ImageClient(retry=RetryPolicy(max_attempts=5, max_total=600)) as images:
        assert images.retry.max_total == OPTIONAL_WAIT
        started = time.monotonic()
        with pytest.raises(RateLimitedError, match=rf"asked to wait {wait:g} s") as caught:
            await images.fetch(image(double))
        assert not isinstance(caught.value, QuotaExceededError)
        with pytest.raises(RateLimitedError, match=r"asked to wait \d+ s"):
            await images.fetch(image(double, 1))  # the door stays closed for this host, still no sleep
    assert time.monotonic() - started < 1.0
    assert double.request_count(IMAGES) == 1


async def test_a_host_that_is_down_is_skipped_after_three_failed_images(
    double: ApiDouble, other_host: ApiDouble
) -> None:
    double.inject(IMAGES, "*", Fault.http(500), times=None)
    async with ImageClient(retry=QUICK) as images:
        for n in range(FAILURES_TO_OPEN):
            with pytest.raises(ServiceUnavailableError, match="Image host is unavailable"):
                await images.fetch(image(double, n))
        sent = double.request_count(IMAGES)
        host = double.urls.images_url.split("/")[2]
        with pytest.raises(SourceSkippedError, match=rf"^Image host {host} unavailable, skipped$"):
            await images.fetch(image(double, 5))
        assert double.request_count(IMAGES) == sent
        assert png_size(await images.fetch(image(other_host))) == (640, 640)


async def test_a_pause_one_process_was_asked_for_holds_every_process(
    double: ApiDouble, redis_url: str, redis_prefix: str
) -> None:
    double.set_image_fault(double.catalog.artists[0].spotify_id, "rate_limited")
    first, second = connect_redis(redis_url), connect_redis(redis_url)
    try:
        async with (
            ImageClient(retry=QUICK, shared=SharedGates(first, redis_prefix)) as one,
            ImageClient(retry=QUICK, shared=SharedGates(second, redis_prefix)) as other,
        ):
            with pytest.raises(QuotaExceededError):
                await one.fetch(image(double, 0))
            with pytest.raises(QuotaExceededError, match="available again at"):
                await other.fetch(image(double, 1))
        assert double.request_count(IMAGES) == 1
    finally:
        await first.aclose()
        await second.aclose()
