"""Optional sources that are down or ask for a day's pause cost warnings, never the batch.

The app's own clients (breakers on MusicBrainz and Deezer, one gate and breaker per image host, shared
through the session's Redis) against the API double, a real SQLite file and the progress bus.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pipeline_helpers import import_and_follow

from artist_desktop.devtools._catalog import CatalogArtist
from artist_desktop.devtools.api_double import IMAGES, MUSICBRAINZ, ApiDouble, Fault
from artist_desktop.domain import ImportRequest, ProgressUpdate
from artist_desktop.runtime import Runtime
from artist_desktop.services import Breaker, RetryPolicy, build_clients
from artist_desktop.services.breaker import PROBE_INTERVAL, BreakerState

FAST_RETRY = RetryPolicy(max_attempts=3, max_total=2.0, base_delay=0.05, max_delay=0.2)


class Clock:
    """Monotonic time the test can move forward: the breaker's 30 s between probes pass at once."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.ahead


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def app(
    api_double: ApiDouble, redis_url: str, redis_prefix: str, double_settings: Callable[..., Any], clock: Clock
) -> AsyncIterator[Runtime]:
    """The runtime with the clients ``build_clients`` gives the app (MusicBrainz relaxed to 20/s: the double
    does not enforce 1/s here), MusicBrainz's breaker on the test's :class:`Clock`."""
    settings = double_settings(api_double, redis_url, redis_prefix, musicbrainz_rate=20)
    clients = build_clients(settings, retry=FAST_RETRY)
    clients.musicbrainz.breaker = Breaker("MusicBrainz", clock=clock)
    runtime = Runtime(settings, clients=clients)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


async def _import(app: Runtime, artists: list[CatalogArtist]) -> dict[str, ProgressUpdate]:
    """Import ``artists``; every one must complete. Returns each artist's last progress update."""
    seen = await import_and_follow(app, [ImportRequest(a.spotify_id, a.name) for a in artists])
    return {a.spotify_id: seen[a.spotify_id][-1] for a in artists}


async def test_musicbrainz_down_opens_the_breaker_later_artists_skip_it_at_once_and_it_closes_by_itself(
    app: Runtime, api_double: ApiDouble, catalog_artists: list[CatalogArtist], clock: Clock
) -> None:
    breaker = app.clients.musicbrainz.breaker
    assert breaker is not None
    api_double.inject(MUSICBRAINZ, "*", Fault.http(503), times=None)
    for artist in catalog_artists[:3]:  # three lookups fail after their retries, one artist at a time
        details = (await _import(app, [artist]))[artist.spotify_id].details
        assert "MusicBrainz is refusing requests" in details
    assert breaker.state is BreakerState.OPEN

    sent = api_double.request_count(MUSICBRAINZ)
    later = catalog_artists[3:8]
    finals = await _import(app, later)
    assert all("MusicBrainz: MusicBrainz unavailable, skipped" in finals[a.spotify_id].details for a in later)
    assert api_double.request_count(MUSICBRAINZ) == sent  # skipped at once, without a request

    api_double.clear_faults()  # MusicBrainz answers again
    assert PROBE_INTERVAL - 5 < breaker.next_probe_in <= PROBE_INTERVAL
    clock.ahead += breaker.next_probe_in - 10  # 20 s later: still skipped
    lone = catalog_artists[8]
    assert "unavailable, skipped" in (await _import(app, [lone]))[lone.spotify_id].details
    clock.ahead += 10  # 30 s after it opened: the next lookup is the probe
    back = catalog_artists[9]
    assert (await _import(app, [back]))[back.spotify_id].details == ""  # the probe answered: no warning
    assert breaker.state is BreakerState.CLOSED
    again = catalog_artists[10:13]
    assert all(final.details == "" for final in (await _import(app, again)).values())


async def test_an_image_host_asking_for_a_days_pause_costs_that_image_never_the_batch(
    app: Runtime, api_double: ApiDouble, catalog_artists: list[CatalogArtist]
) -> None:
    artists = catalog_artists[:6]
    paused = artists[2]
    api_double.set_image_fault(paused.spotify_id, "rate_limited")  # 429, Retry-After: 86400
    started = time.monotonic()
    finals = await _import(app, artists)
    assert time.monotonic() - started < 30  # nobody slept through the day
    assert "asked to wait 86400 s): available again at" in finals[paused.spotify_id].details
    assert f"Image {paused.spotify_id}" in finals[paused.spotify_id].details
    assert api_double.rejections(IMAGES) == 1  # the host was asked once: its pause holds every later image


async def test_musicbrainz_answering_an_html_503_page_costs_a_warning_not_a_retry_budget_per_artist(
    app: Runtime, api_double: ApiDouble, catalog_artists: list[CatalogArtist]
) -> None:
    """The reported shape: MusicBrainz down behind its proxy answers 503 with an HTML page. Four artists used to
    spend the whole retry budget each (44.8 s for 4); now they share one coalesced lookup and its retries, and
    each gets a readable warning (no HTML in it). The wall-time figure is bench/batch_import.py's."""
    page = "<html><head><title>503 Service Temporarily Unavailable</title></head><body><h1>503</h1></body></html>"
    api_double.inject(MUSICBRAINZ, "*", Fault(status=503, body=page, content_type="text/html"), times=None)
    artists = catalog_artists[:4]
    finals = await _import(app, artists)
    assert api_double.request_count(MUSICBRAINZ) <= FAST_RETRY.max_attempts  # one batch, not one per artist
    for artist in artists:
        details = finals[artist.spotify_id].details
        assert "MusicBrainz" in details and "<html" not in details.lower(), details
