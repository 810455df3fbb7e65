"""SpotifyClient with an app in Development Mode (the double's default): page size, nulls, Premium, the daily
quota, removed endpoints, and the capabilities it discovers and reports."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import pytest
from svc_helpers import FAST_RETRY, artist_named, fast_gate

from artist_desktop.devtools.api_double import SPOTIFY, SPOTIFY_ACCOUNTS, ApiDouble
from artist_desktop.domain import (
    DEVELOPMENT_SEARCH_LIMIT,
    EXTENDED_SEARCH_LIMIT,
    SpotifyAppMode,
    SpotifyCapabilities,
)
from artist_desktop.services import (
    AuthenticationError,
    EndpointUnavailableError,
    PremiumRequiredError,
    QuotaExceededError,
    RetryPolicy,
    SpotifyClient,
)
from artist_desktop.services.spotify import PREMIUM_REQUIRED_MESSAGE


def client(double: ApiDouble, **kwargs: object) -> SpotifyClient:
    client_id, secret = double.demo_credentials
    options: dict[str, object] = {"gate": fast_gate("Spotify"), "retry": FAST_RETRY, **kwargs}
    return SpotifyClient(
        client_id,
        secret,
        double.urls.spotify_api_url,
        double.urls.spotify_accounts_url,
        **options,  # type: ignore[arg-type]
    )


# -- search ---------------------------------------------------------------------------------------


async def test_a_search_without_a_limit_gives_pages_of_ten_and_load_more_continues_after_them(
    double: ApiDouble,
) -> None:
    async with client(double) as spotify:
        assert spotify.page_size == DEVELOPMENT_SEARCH_LIMIT
        first = await spotify.search_artists("a")
        second = await spotify.search_artists("a", offset=first.next_offset or 0)
    # The fourth result is Spotify's null: nine artists on the first page, and the next page starts at 10.
    assert (first.limit, len(first.items), first.skipped, first.next_offset) == (10, 9, 1, 10)
    assert (second.offset, len(second.items), second.next_offset) == (10, 10, 20)
    assert not {a.id for a in first.items} & {a.id for a in second.items}


async def test_asking_for_fifty_on_a_development_app_never_shows_invalid_limit(double: ApiDouble) -> None:
    async with client(double) as spotify:
        page = await spotify.search_artists("a", limit=50)
    assert page.limit == 10 and page.next_offset == 10
    assert double.request_count(SPOTIFY, "/search") == 1  # capped before asking: no 400 at all


async def test_an_app_wrongly_remembered_as_extended_drops_to_ten_and_asks_once_more(double: ApiDouble) -> None:
    seen: list[SpotifyCapabilities] = []
    remembered = SpotifyCapabilities(mode=SpotifyAppMode.EXTENDED, max_search_limit=EXTENDED_SEARCH_LIMIT)
    async with client(double, capabilities=remembered, on_capabilities_changed=seen.append) as spotify:
        assert spotify.page_size == 50
        page = await spotify.search_artists("a")
        assert spotify.page_size == 10
        again = await spotify.search_artists("a", offset=page.next_offset or 0)
    assert page.limit == 10 and len(page.items) == 9 and again.offset == 10
    assert double.request_count(SPOTIFY, "/search") == 3  # 400 "Invalid limit", its retry with 10, page two
    assert seen[0].max_search_limit == 10
    assert seen[-1] == SpotifyCapabilities(
        mode=SpotifyAppMode.DEVELOPMENT, max_search_limit=10, removed_endpoints=frozenset(), premium_ok=True
    )


async def test_null_entries_are_skipped_and_the_other_artists_kept(
    double: ApiDouble, caplog: pytest.LogCaptureFixture
) -> None:
    double.set_spotify_search_nulls((0, 2))
    caplog.set_level(logging.WARNING)
    async with client(double) as spotify:
        first = await spotify.search_artists("a")
        second = await spotify.search_artists("a", offset=first.next_offset or 0)
    assert first.skipped == 2 and len(first.items) == 8 and all(a.name for a in first.items)
    assert first.next_offset == 10 and second.offset == 10
    nulls_logged = [r for r in caplog.records if "null" in r.getMessage() and "search results" in r.getMessage()]
    assert len(nulls_logged) == 1  # once per client, not per page


async def test_a_page_whose_items_are_null_is_empty_not_an_error(double: ApiDouble) -> None:
    double.set_spotify_search_nulls(items_null=True)
    async with client(double) as spotify:
        page = await spotify.search_artists("a")
    assert page.items == () and page.total > 10
    assert page.next_offset == 10  # "Load more" still moves on


# -- capabilities ---------------------------------------------------------------------------------


async def test_capabilities_are_discovered_and_every_change_is_reported(double: ApiDouble) -> None:
    seen: list[SpotifyCapabilities] = []

    async def remember(capabilities: SpotifyCapabilities) -> None:
        seen.append(capabilities)

    queen = artist_named(double, "Queen")
    async with client(double, on_capabilities_changed=remember) as spotify:
        assert spotify.capabilities.mode is SpotifyAppMode.UNKNOWN
        await spotify.search_artists("queen")
        await spotify.get_artist(queen.spotify_id)  # nothing new: no call
        double.set_spotify_profile("extended")
        await spotify.get_artist(queen.spotify_id)
        assert spotify.page_size == EXTENDED_SEARCH_LIMIT
        assert (await spotify.search_artists("a")).limit == EXTENDED_SEARCH_LIMIT
    assert [(c.mode, c.max_search_limit, c.premium_ok) for c in seen] == [
        (SpotifyAppMode.UNKNOWN, 10, True),  # Spotify answered: the owner has Premium
        (SpotifyAppMode.DEVELOPMENT, 10, True),  # artists without followers/popularity
        (SpotifyAppMode.EXTENDED, 50, True),
    ]


async def test_a_failing_callback_does_not_fail_the_request(double: ApiDouble) -> None:
    def broken(capabilities: SpotifyCapabilities) -> None:
        raise RuntimeError("disk full")

    async with client(double, on_capabilities_changed=broken) as spotify:
        page = await spotify.search_artists("daft")
        assert page.items and spotify.capabilities.mode is SpotifyAppMode.DEVELOPMENT


async def test_top_tracks_answered_forbidden_are_recorded_and_never_requested_again(double: ApiDouble) -> None:
    seen: list[SpotifyCapabilities] = []
    queen, adele = artist_named(double, "Queen"), artist_named(double, "Adele")
    async with client(double, on_capabilities_changed=seen.append) as spotify:
        with pytest.raises(EndpointUnavailableError, match="no longer gives this app an artist's top tracks") as caught:
            await spotify.get_top_tracks(queen.spotify_id)
        assert caught.value.endpoint == "top-tracks"
        assert spotify.capabilities.removed_endpoints == {"top-tracks"}
        with pytest.raises(EndpointUnavailableError):
            await spotify.get_top_tracks(adele.spotify_id)
    assert double.request_count(SPOTIFY, prefix="/artists/") == 1  # the first call only, not retried
    assert seen[-1].removed_endpoints == {"top-tracks"}
    # A later run that remembers it asks nothing at all.
    double.reset_counters()
    async with client(double, capabilities=seen[-1]) as later:
        with pytest.raises(EndpointUnavailableError):
            await later.get_top_tracks(queen.spotify_id)
    assert double.request_count() == 0


async def test_the_several_artists_endpoint_is_recorded_as_removed(double: ApiDouble) -> None:
    ids = [a.spotify_id for a in double.catalog.artists[:3]]
    async with client(double) as spotify:
        with pytest.raises(EndpointUnavailableError) as caught:
            await spotify.get_artists(ids)
        with pytest.raises(EndpointUnavailableError):
            await spotify.get_artists(ids)
    assert caught.value.endpoint == "several-artists"
    assert spotify.capabilities.removed_endpoints == {"several-artists"}
    assert double.request_count(SPOTIFY, "/artists") == 1


# -- Premium ----------------------------------------------------------------------------------------


async def test_an_owner_without_premium_is_told_so_not_to_check_the_credentials(double: ApiDouble) -> None:
    double.set_spotify_premium(False)
    async with client(double) as spotify:
        with pytest.raises(PremiumRequiredError) as caught:
            await spotify.search_artists("daft")
        assert spotify.capabilities.premium_ok is False
    assert str(caught.value) == PREMIUM_REQUIRED_MESSAGE
    assert "needs Premium" in str(caught.value) and "credentials" not in str(caught.value)
    assert isinstance(caught.value, AuthenticationError)
    assert double.request_count(SPOTIFY, "/search") == 1  # not retried
    double.set_spotify_premium(True)
    async with client(double, capabilities=spotify.capabilities) as again:
        await again.search_artists("daft")
        assert again.capabilities.premium_ok is True


# -- the daily quota --------------------------------------------------------------------------------


async def test_the_daily_quota_is_a_quota_error_with_the_time_spotify_resumes_and_no_retry(double: ApiDouble) -> None:
    double.set_spotify_quota(2, retry_after=6 * 3600)
    queen = artist_named(double, "Queen")
    async with client(double, retry=RetryPolicy(max_attempts=5, max_total=60)) as spotify:
        await spotify.search_artists("queen")
        await spotify.get_artist(queen.spotify_id)
        started = time.monotonic()
        with pytest.raises(
            QuotaExceededError, match=r"^Spotify's daily quota is used up: available again at "
        ) as caught:
            await spotify.search_artists("daft")
        assert time.monotonic() - started < 1.0
        wait = (caught.value.resume_at - datetime.now(UTC)).total_seconds()
        assert 6 * 3600 - 10 < wait <= 6 * 3600
        assert double.request_count(SPOTIFY, "/search") == 2  # the refused search was not retried
        # The gate stays shut for every caller of this client: no request until Spotify resumes.
        with pytest.raises(QuotaExceededError, match="daily quota is used up") as again:
            await spotify.get_artist(queen.spotify_id)
        assert abs((again.value.resume_at - caught.value.resume_at).total_seconds()) < 5
        assert spotify.gate.resume_at is not None
    assert double.request_count(SPOTIFY) == 3
    assert double.request_count(SPOTIFY_ACCOUNTS) == 1


async def test_a_short_quota_retry_after_is_still_not_retried(double: ApiDouble) -> None:
    double.set_spotify_quota(0, retry_after=2)
    async with client(double) as spotify:
        started = time.monotonic()
        with pytest.raises(QuotaExceededError, match="daily quota is used up"):
            await spotify.search_artists("daft")
    assert time.monotonic() - started < 1.0
    assert double.request_count(SPOTIFY, "/search") == 1
