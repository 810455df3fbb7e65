"""build_clients: the settings (here pointing at the API double) decide where every client goes."""

from __future__ import annotations

import time

import pytest

from artist_desktop import __version__
from artist_desktop.config import load_settings
from artist_desktop.devtools.api_double import DEEZER, MUSICBRAINZ, SPOTIFY, ApiDouble, Fault
from artist_desktop.services import (
    DEMO_MUSICBRAINZ_QUOTA,
    OPTIONAL_WAIT,
    MissingCredentialsError,
    Quota,
    RetryPolicy,
    ServiceUnavailableError,
    build_clients,
    musicbrainz_quota,
)
from artist_desktop.services.quotas import quota_per_second


async def test_clients_built_from_the_doubles_settings_reach_the_double(double: ApiDouble) -> None:
    settings = load_settings(**double.urls.as_settings(), demo=True)
    async with build_clients(settings) as clients:
        page = await clients.spotify.search_artists("daft")
        daft = page.items[0]
        fans = await clients.deezer.search_artists(daft.name)
        facts = await clients.musicbrainz.artist_for_spotify_url(daft.url)
    assert daft.name == "Daft Punk"
    assert fans[0].name == "Daft Punk"
    assert facts is not None and facts.country == "FR"
    assert {s: double.request_count(s) > 0 for s in (SPOTIFY, DEEZER, MUSICBRAINZ)} == {
        SPOTIFY: True,
        DEEZER: True,
        MUSICBRAINZ: True,
    }
    assert double.last_user_agent(MUSICBRAINZ) == f"ArtistDesktop/{__version__} ( {settings.contact} )"


async def test_without_spotify_credentials_only_spotify_complains(double: ApiDouble) -> None:
    settings = load_settings(**double.urls.as_settings(include_credentials=False))
    clients = build_clients(settings)
    try:
        try:
            await clients.spotify.search_artists("daft")
        except MissingCredentialsError as exc:
            assert "Settings" in str(exc)
        else:
            raise AssertionError("searching without credentials must fail")
        assert (await clients.deezer.search_artists("Queen"))[0].name == "Queen"
    finally:
        await clients.aclose()


async def test_musicbrainz_and_deezer_are_optional_sources_and_spotify_is_not(double: ApiDouble) -> None:
    settings = load_settings(**double.urls.as_settings())
    async with build_clients(settings, retry=RetryPolicy(max_attempts=5, max_total=600)) as clients:
        assert clients.spotify.breaker is None and clients.spotify.retry.max_total == 600
        for optional in (clients.deezer, clients.musicbrainz):
            assert optional.breaker is not None and optional.retry.max_total == OPTIONAL_WAIT
        assert (clients.deezer.gate.limit, clients.deezer.gate.period) == (50, 5.0)
        assert (clients.musicbrainz.gate.limit, clients.musicbrainz.gate.period) == (1, 1.0)
        assert clients.spotify.gate.limit is None
        assert clients.deezer.gate.concurrency == settings.concurrency

        double.inject(DEEZER, "*", Fault.http(503, retry_after=OPTIONAL_WAIT + 15), times=1)
        started = time.monotonic()
        with pytest.raises(ServiceUnavailableError, match="Deezer is unavailable"):
            await clients.deezer.search_artists("Queen")  # asked for 45 s: more than an optional source waits
        assert time.monotonic() - started < 1.0


def test_the_musicbrainz_quota_follows_demo_mode_and_a_mirrors_rate() -> None:
    assert musicbrainz_quota(load_settings()) == Quota(1, 1.0)
    assert musicbrainz_quota(load_settings(demo=True)) == DEMO_MUSICBRAINZ_QUOTA == Quota(20, 1.0)
    assert musicbrainz_quota(load_settings(musicbrainz_rate=50)) == Quota(50, 1.0)
    assert musicbrainz_quota(load_settings(musicbrainz_rate=1.6)) == Quota(8, 5.0)
    assert musicbrainz_quota(load_settings(musicbrainz_rate=0.3)) == Quota(3, 10.0)


def test_whole_requests_per_whole_seconds_never_above_the_rate() -> None:
    assert [quota_per_second(rate) for rate in (1.0, 2.5, 0.5, 0.05)] == [
        Quota(1, 1.0),
        Quota(5, 2.0),
        Quota(1, 2.0),
        Quota(1, 20.0),
    ]
    for rate in (0.07, 0.3, 0.99, 1.6, 3.3, 7.25, 999.5):
        assert quota_per_second(rate).per_second <= rate
