"""SpotifyClient over real sockets against the API double: token, search, artists, top tracks, 429.

The double answers as a Development Mode app unless a test asks for the full (Extended Quota) API, which
tests of followers, popularity, top tracks and the batch endpoint do explicitly.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest
from svc_helpers import FAST_RETRY, artist_named, fast_gate, wait_until

from artist_desktop.devtools.api_double import (
    REMOVE,
    SPOTIFY,
    SPOTIFY_ACCOUNTS,
    ApiDouble,
    DoubleConfig,
    Fault,
)
from artist_desktop.domain import SpotifyAppMode
from artist_desktop.services import (
    AuthenticationError,
    BadResponseError,
    MissingCredentialsError,
    NotFoundError,
    QuotaExceededError,
    RateGate,
    RateLimitedError,
    RequestError,
    RetryPolicy,
    SpotifyArtist,
    SpotifyClient,
)

UNKNOWN_ID = "0000000000000000000000"


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


async def test_search_finds_both_daft_artists_with_their_details(double: ApiDouble) -> None:
    async with client(double) as spotify:
        page = await spotify.search_artists("daft")
    names = [a.name for a in page.items]
    assert names[0] == "Daft Punk" and "Daftside Collective" in names
    assert page.total == len(names) and page.next_offset is None
    daft = page.items[0]
    expected = artist_named(double, "Daft Punk")
    assert daft.id == expected.spotify_id
    assert daft.url == f"https://open.spotify.com/artist/{daft.id}"
    assert daft.genres == expected.genres
    assert (daft.followers, daft.popularity) == (None, None)  # Development Mode withholds them
    assert daft.image_url == f"{double.urls.images_url}/{daft.id}-320.png"


async def test_an_extended_app_gets_followers_and_popularity(double: ApiDouble) -> None:
    double.set_spotify_profile("extended")
    async with client(double) as spotify:
        daft = (await spotify.search_artists("daft")).items[0]
        assert spotify.capabilities.mode is SpotifyAppMode.EXTENDED
    expected = artist_named(double, "Daft Punk")
    assert (daft.followers, daft.popularity) == (expected.followers, expected.popularity)


async def test_search_pages_through_every_result_in_pages_of_ten(double: ApiDouble) -> None:
    seen: list[str] = []
    offsets: list[int] = []
    async with client(double) as spotify:
        page = await spotify.search_artists("a")
        total = page.total
        while True:
            offsets.append(page.offset)
            assert page.limit == 10
            seen.extend(a.id for a in page.items)
            if page.next_offset is None:
                break
            page = await spotify.search_artists("a", offset=page.next_offset)
    assert total > 20  # at least three pages
    assert offsets == list(range(0, total, 10))
    # Development Mode puts one null among the results (counted in total): every real artist, once.
    assert len(seen) == len(set(seen)) == total - 1
    assert page.next_offset is None


async def test_search_arguments_are_checked_before_any_request(double: ApiDouble) -> None:
    async with client(double) as spotify:
        with pytest.raises(ValueError, match="limit must be at least 1"):
            await spotify.search_artists("daft", limit=0)
        with pytest.raises(ValueError, match="offset must be 0-1000"):
            await spotify.search_artists("daft", offset=1001)
        with pytest.raises(ValueError, match="empty"):
            await spotify.search_artists("  ")
    assert double.request_count() == 0


async def test_get_artists_batches_by_50_keeps_order_and_gives_none_for_unknown_ids(
    double: ApiDouble,
) -> None:
    double.set_spotify_profile("extended")
    known = [a.spotify_id for a in double.catalog.artists]
    asked = [*known, UNKNOWN_ID, *known[:15], "not-an-id"]
    assert len(asked) > 50
    async with client(double) as spotify:
        artists = await spotify.get_artists(asked)
    assert [a.id if a else None for a in artists] == [*known, None, *known[:15], None]
    assert double.request_count(SPOTIFY, "/artists") == 1  # 46 distinct valid ids: one batch
    many = [f"{i:022d}" for i in range(120)]
    async with client(double) as spotify:
        assert await spotify.get_artists(many) == [None] * 120
    assert double.request_count(SPOTIFY, "/artists") == 1 + 3


async def test_get_artist_unknown_id_is_not_found_without_retry(double: ApiDouble) -> None:
    async with client(double) as spotify:
        with pytest.raises(NotFoundError, match=f"Spotify has no artist with id {UNKNOWN_ID}"):
            await spotify.get_artist(UNKNOWN_ID)
    assert double.request_count(SPOTIFY, f"/artists/{UNKNOWN_ID}") == 1


async def test_malformed_id_is_a_request_error_naming_spotifys_reason(double: ApiDouble) -> None:
    async with client(double) as spotify:
        with pytest.raises(RequestError, match="Invalid base62 id"):
            await spotify.get_artist("nope")


async def test_top_tracks_have_album_art_served_by_the_double(double: ApiDouble) -> None:
    double.set_spotify_profile("extended")
    queen = artist_named(double, "Queen")
    async with client(double) as spotify:
        tracks = await spotify.get_top_tracks(queen.spotify_id)
    assert [t.name for t in tracks] == [t.name for t in queen.top_tracks]
    first = tracks[0]
    assert first.album_name == queen.top_tracks[0].album
    assert first.duration_ms > 0 and first.popularity is not None
    assert first.album_image_url == f"{double.urls.images_url}/{queen.top_tracks[0].album_id}-300.png"
    assert first.url == f"https://open.spotify.com/track/{first.id}"
    assert first.artists == ("Queen",)


async def test_missing_followers_popularity_and_genres_are_none_not_a_crash(double: ApiDouble) -> None:
    double.set_spotify_profile("extended")  # so the batch endpoint answers
    adele = artist_named(double, "Adele")
    double.override_spotify_artist(adele.spotify_id, followers=REMOVE, popularity=REMOVE, genres=REMOVE, images=[])
    async with client(double) as spotify:
        artist = await spotify.get_artist(adele.spotify_id)
        batch = await spotify.get_artists([adele.spotify_id])
    assert (artist.followers, artist.popularity, artist.genres, artist.image_url) == (None, None, (), None)
    assert batch == [artist]


async def test_the_token_is_fetched_once_and_reused(double: ApiDouble) -> None:
    queen = artist_named(double, "Queen")
    async with client(double) as spotify:
        await asyncio.gather(*(spotify.get_artist(queen.spotify_id) for _ in range(5)))
        await spotify.search_artists("queen")
    assert double.request_count(SPOTIFY_ACCOUNTS) == 1


async def test_the_token_is_renewed_before_it_expires() -> None:
    # Spotify says the token lives 60 s: inside the 60 s renewal margin, so every call renews it.
    async with ApiDouble(DoubleConfig(spotify_token_ttl=60)) as double, client(double) as spotify:
        await spotify.search_artists("queen")
        await spotify.search_artists("queen")
        assert double.request_count(SPOTIFY_ACCOUNTS) == 2


async def test_an_expired_token_is_renewed_once_on_401(double: ApiDouble) -> None:
    queen = artist_named(double, "Queen")
    async with client(double) as spotify:
        await spotify.get_artist(queen.spotify_id)
        double.expire_spotify_tokens()
        artist = await spotify.get_artist(queen.spotify_id)
    assert artist.name == "Queen"
    assert double.request_count(SPOTIFY_ACCOUNTS) == 2
    assert double.request_count(SPOTIFY, f"/artists/{queen.spotify_id}") == 3


async def test_missing_credentials_fail_before_any_request(double: ApiDouble) -> None:
    spotify = SpotifyClient("", "", double.urls.spotify_api_url, double.urls.spotify_accounts_url)
    async with spotify:
        with pytest.raises(MissingCredentialsError, match="No Spotify client id and secret"):
            await spotify.search_artists("daft")
    assert double.request_count() == 0


async def test_wrong_credentials_are_an_authentication_error_without_retry() -> None:
    config = DoubleConfig(spotify_credentials=("right-id", "right-secret"))
    async with ApiDouble(config) as double:
        spotify = SpotifyClient(
            "right-id",
            "wrong",
            double.urls.spotify_api_url,
            double.urls.spotify_accounts_url,
            retry=FAST_RETRY,
        )
        async with spotify:
            with pytest.raises(
                AuthenticationError, match=r"Spotify rejected the client id and secret \(invalid_client"
            ):
                await spotify.search_artists("daft")
        assert double.request_count(SPOTIFY_ACCOUNTS) == 1
        assert double.request_count(SPOTIFY) == 0


async def test_429_waits_at_least_retry_after_and_holds_back_every_caller(double: ApiDouble) -> None:
    queen, adele = artist_named(double, "Queen"), artist_named(double, "Adele")
    double.inject(SPOTIFY, queen.spotify_id, Fault.rate_limited(retry_after=1), times=1)
    async with client(double, gate=RateGate("Spotify")) as spotify:
        await spotify.search_artists("warm up the token")
        started = time.monotonic()
        first = asyncio.create_task(spotify.get_artist(queen.spotify_id))
        await wait_until(lambda: double.request_count(SPOTIFY, f"/artists/{queen.spotify_id}") == 1)
        await asyncio.sleep(0.05)
        second_started = time.monotonic()
        other = await spotify.get_artist(adele.spotify_id)
        second_elapsed = time.monotonic() - second_started
        artist = await first
    assert artist.name == "Queen" and other.name == "Adele"
    assert time.monotonic() - started >= 1.0  # never retried sooner than Retry-After
    assert second_elapsed >= 0.8  # the other caller waited for the same door
    assert double.request_count(SPOTIFY, f"/artists/{queen.spotify_id}") == 2


async def test_retry_after_beyond_the_budget_gives_up_at_once(double: ApiDouble) -> None:
    queen = artist_named(double, "Queen")
    double.inject(SPOTIFY, queen.spotify_id, Fault.rate_limited(retry_after=30), times=None)
    async with client(double, retry=RetryPolicy(max_total=5)) as spotify:
        started = time.monotonic()
        with pytest.raises(RateLimitedError, match=r"Spotify rate limit reached \(asked to wait 30 s\)") as caught:
            await spotify.get_artist(queen.spotify_id)
    assert time.monotonic() - started < 1.0
    assert caught.value.retry_after == 30 and not isinstance(caught.value, QuotaExceededError)
    # Spotify asked everyone to wait: the next call fails fast too instead of hanging for half a minute.
    async with client(double, retry=RetryPolicy(max_total=5), gate=spotify.gate) as again:
        started = time.monotonic()
        with pytest.raises(RateLimitedError, match=r"asked to wait (29|30) s"):
            await again.search_artists("queen")
    assert time.monotonic() - started < 1.0
    assert double.request_count(SPOTIFY, "/search") == 0


async def test_a_retry_after_over_a_minute_is_a_quota_error_with_the_time_spotify_resumes(double: ApiDouble) -> None:
    queen = artist_named(double, "Queen")
    double.inject(SPOTIFY, queen.spotify_id, Fault.rate_limited(retry_after=3600), times=None)
    async with client(double, retry=RetryPolicy(max_total=7200)) as spotify:
        started = time.monotonic()
        with pytest.raises(
            QuotaExceededError,
            match=r"Spotify rate limit reached \(asked to wait 3600 s\): "
            r"available again at (\d{4}-\d\d-\d\d )?\d\d:\d\d$",
        ) as caught:
            await spotify.get_artist(queen.spotify_id)
        assert time.monotonic() - started < 1.0  # not slept through, even with a budget of two hours
        assert double.request_count(SPOTIFY, f"/artists/{queen.spotify_id}") == 1  # and not retried
        wait = (caught.value.resume_at - datetime.now(UTC)).total_seconds()
        assert 3590 < wait <= 3600
        with pytest.raises(QuotaExceededError, match="available again at"):
            await spotify.search_artists("queen")
    assert double.request_count(SPOTIFY, "/search") == 0


async def test_the_doubles_own_rate_limit_is_honoured(double: ApiDouble) -> None:
    double.set_rate_limit(SPOTIFY, (3, 1.0))
    queen = artist_named(double, "Queen")
    async with client(double, retry=RetryPolicy(max_attempts=5, base_delay=0.05)) as spotify:
        started = time.monotonic()
        artists = [await spotify.get_artist(queen.spotify_id) for _ in range(5)]
    assert len(artists) == 5
    assert double.rejections(SPOTIFY) >= 1
    assert time.monotonic() - started >= 1.0


async def test_500_then_success(double: ApiDouble) -> None:
    queen = artist_named(double, "Queen")
    double.inject(SPOTIFY, queen.spotify_id, Fault.http(502), times=2)
    async with client(double) as spotify:
        assert (await spotify.get_artist(queen.spotify_id)).name == "Queen"


async def test_an_unexpected_shape_is_a_bad_response(double: ApiDouble) -> None:
    double.set_spotify_profile("extended")  # Development Mode leaves followers out, whatever the override
    queen = artist_named(double, "Queen")
    double.override_spotify_artist(queen.spotify_id, followers={"total": "many"})
    async with client(double) as spotify:
        with pytest.raises(BadResponseError, match=r"Spotify sent an artist in an unexpected shape \(followers.total"):
            await spotify.get_artist(queen.spotify_id)


async def test_an_artist_picked_from_search_round_trips_through_spotifys_shape(double: ApiDouble) -> None:
    async with client(double) as spotify:
        daft = (await spotify.search_artists("daft")).items[0]
    stored = daft.to_dict()
    assert stored["type"] == "artist" and stored["uri"] == f"spotify:artist:{daft.id}"
    assert "followers" not in stored and "popularity" not in stored  # unknown in Development Mode
    assert SpotifyArtist.from_dict(stored) == daft
    double.reset_counters()
    assert SpotifyArtist.from_dict(stored).image_url == daft.image_url
    assert double.request_count(SPOTIFY) == 0


async def test_an_extended_artist_keeps_followers_and_popularity_through_the_round_trip(double: ApiDouble) -> None:
    double.set_spotify_profile("extended")
    queen = artist_named(double, "Queen")
    async with client(double) as spotify:
        artist = await spotify.get_artist(queen.spotify_id)
    stored = artist.to_dict()
    assert stored["followers"]["total"] == queen.followers and stored["popularity"] == queen.popularity
    assert SpotifyArtist.from_dict(stored) == artist


def test_a_stored_artist_in_a_wrong_shape_is_a_bad_response() -> None:
    with pytest.raises(BadResponseError, match=r"Spotify sent a stored artist in an unexpected shape \(name"):
        SpotifyArtist.from_dict({"id": "4Z8W4fKeB5YxbusRsdQVPb"})
    with pytest.raises(BadResponseError):
        SpotifyArtist.from_dict(None)
