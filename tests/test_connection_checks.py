"""The settings dialog's Spotify "Test connection" against the API double: what it reports about the app."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from artist_desktop.config import Settings, load_settings
from artist_desktop.connection_checks import ConnectionCheckFailed, check_spotify, probe_spotify
from artist_desktop.devtools.api_double import SPOTIFY, SPOTIFY_ACCOUNTS, ApiDouble, DoubleConfig
from artist_desktop.domain import SpotifyAppMode, SpotifyCapabilities


def settings_for(double: ApiDouble) -> Settings:
    return load_settings(**double.urls.as_settings())


async def test_a_development_app_is_reported_with_its_page_size_premium_and_quota(api_double: ApiDouble) -> None:
    report = await probe_spotify(settings_for(api_double))
    assert (report.mode, report.page_size, report.premium_ok, report.quota_resume_at) == (
        SpotifyAppMode.DEVELOPMENT,
        10,
        True,
        None,
    )
    assert report.artist
    assert report.summary().splitlines() == [
        "Spotify accepted the credentials",
        "Development Mode (search pages of 10, no followers/popularity)",
        "Premium: OK",
        "Quota OK",
    ]
    # token, one search, one artist: nothing else spends the quota
    assert api_double.request_count(SPOTIFY_ACCOUNTS) == 1
    assert api_double.request_count(SPOTIFY, "/search") == 1
    assert api_double.request_count(SPOTIFY, prefix="/artists/") == 1
    assert await check_spotify(settings_for(api_double)) == report.summary()


async def test_an_extended_app_is_reported_as_extended_quota(api_double: ApiDouble) -> None:
    api_double.set_spotify_profile("extended")
    text = await check_spotify(settings_for(api_double))
    assert "Extended Quota (search pages of 50, followers and popularity)" in text.splitlines()


async def test_an_owner_without_premium_fails_the_check_naming_premium(api_double: ApiDouble) -> None:
    api_double.set_spotify_premium(False)
    with pytest.raises(ConnectionCheckFailed, match="needs Premium") as caught:
        await check_spotify(settings_for(api_double))
    assert "credentials" not in str(caught.value)


async def test_a_used_up_quota_is_reported_with_the_time_it_comes_back(api_double: ApiDouble) -> None:
    api_double.set_spotify_quota(1, retry_after=5 * 3600)  # the search passes, the artist is refused
    report = await probe_spotify(settings_for(api_double))
    assert report.mode is SpotifyAppMode.DEVELOPMENT
    assert report.quota_resume_at is not None
    assert abs((report.quota_resume_at - datetime.now(UTC)).total_seconds() - 5 * 3600) < 10
    lines = report.summary().splitlines()
    assert re.fullmatch(r"Daily quota used up: available again at (\d{4}-\d\d-\d\d )?\d\d:\d\d", lines[-1])
    assert "Quota OK" not in lines


async def test_a_quota_used_up_before_the_search_leaves_the_mode_unknown() -> None:
    async with ApiDouble(DoubleConfig(spotify_quota=(0, 3600))) as double:
        report = await probe_spotify(settings_for(double))
    assert report.mode is SpotifyAppMode.UNKNOWN and report.quota_resume_at is not None
    assert "App mode not known yet" in report.summary()


async def test_removed_endpoints_the_app_remembers_are_listed(api_double: ApiDouble) -> None:
    known = SpotifyCapabilities(removed_endpoints=frozenset({"top-tracks", "several-artists"}))
    report = await probe_spotify(settings_for(api_double), known)
    assert report.summary().splitlines()[-1] == "Removed for this app: several artists per request, top tracks"


async def test_wrong_credentials_fail_the_check() -> None:
    async with ApiDouble(DoubleConfig(spotify_credentials=("right", "secret"))) as double:
        settings = load_settings(
            **double.urls.as_settings(include_credentials=False),
            spotify_client_id="right",
            spotify_client_secret="wrong",
        )
        with pytest.raises(ConnectionCheckFailed, match="Spotify rejected the client id and secret"):
            await check_spotify(settings)
