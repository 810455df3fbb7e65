"""The Spotify disk cache: a re-import of an artist within the day costs no Spotify request, even in a new
process; search pages are kept an hour; errors are never kept; the token never reaches the disk."""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path

import httpx
import pytest
from svc_helpers import FAST_RETRY, artist_named, fast_gate

from artist_desktop.config import load_settings
from artist_desktop.devtools.api_double import SPOTIFY, SPOTIFY_ACCOUNTS, ApiDouble
from artist_desktop.services import (
    NotFoundError,
    QuotaExceededError,
    SpotifyClient,
    build_clients,
    http_cache_dir,
)
from artist_desktop.services.disk_cache import ARTIST_TTL, SEARCH_TTL, SpotifyDiskCache

UNKNOWN_ID = "0000000000000000000000"


def everything_under(directory: Path) -> bytes:
    """The bytes of every file below ``directory`` (the SQLite file and its write-ahead log)."""
    return b"".join(path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file())


def client(double: ApiDouble, cache_dir: Path | None) -> SpotifyClient:
    client_id, secret = double.demo_credentials
    return SpotifyClient(
        client_id,
        secret,
        double.urls.spotify_api_url,
        double.urls.spotify_accounts_url,
        gate=fast_gate("Spotify"),
        retry=FAST_RETRY,
        cache_dir=cache_dir,
    )


async def test_a_second_get_artist_from_a_fresh_client_costs_no_request(double: ApiDouble, tmp_path: Path) -> None:
    queen = artist_named(double, "Queen")
    async with client(double, tmp_path / "http-cache") as first:
        fetched = await first.get_artist(queen.spotify_id)
    assert double.request_count(SPOTIFY, f"/artists/{queen.spotify_id}") == 1
    double.reset_counters()
    async with client(double, tmp_path / "http-cache") as second:  # a new run of the app, same cache dir
        again = await second.get_artist(queen.spotify_id)
    assert again == fetched
    assert double.request_count() == 0  # not even a token


async def test_without_a_cache_dir_every_get_artist_asks_spotify(double: ApiDouble) -> None:
    queen = artist_named(double, "Queen")
    async with client(double, None) as spotify:
        await spotify.get_artist(queen.spotify_id)
        await spotify.get_artist(queen.spotify_id)
    assert double.request_count(SPOTIFY, f"/artists/{queen.spotify_id}") == 2


async def test_a_cached_artist_is_served_while_the_quota_is_used_up(double: ApiDouble, tmp_path: Path) -> None:
    queen, adele = artist_named(double, "Queen"), artist_named(double, "Adele")
    async with client(double, tmp_path) as spotify:
        await spotify.get_artist(queen.spotify_id)
        double.set_spotify_quota(0, retry_after=8 * 3600)
        with pytest.raises(QuotaExceededError):
            await spotify.get_artist(adele.spotify_id)
        assert (await spotify.get_artist(queen.spotify_id)).name == "Queen"  # from disk, past the closed gate
    assert double.request_count(SPOTIFY, f"/artists/{queen.spotify_id}") == 1


async def test_search_pages_are_cached_too(double: ApiDouble, tmp_path: Path) -> None:
    assert SEARCH_TTL < ARTIST_TTL
    async with client(double, tmp_path) as spotify:
        first = await spotify.search_artists("daft")
        again = await spotify.search_artists("daft")
        other = await spotify.search_artists("queen")
    assert again == first and other != first
    assert double.request_count(SPOTIFY, "/search") == 2


async def test_error_answers_are_never_cached(double: ApiDouble, tmp_path: Path) -> None:
    async with client(double, tmp_path) as spotify:
        for _ in range(2):
            with pytest.raises(NotFoundError):
                await spotify.get_artist(UNKNOWN_ID)
    assert double.request_count(SPOTIFY, f"/artists/{UNKNOWN_ID}") == 2


async def test_the_access_token_is_not_written_to_the_cache(double: ApiDouble, tmp_path: Path) -> None:
    queen = artist_named(double, "Queen")
    async with client(double, tmp_path) as spotify:
        await spotify.get_artist(queen.spotify_id)
        token = spotify._token
    assert token
    stored = everything_under(tmp_path)
    assert queen.spotify_id.encode() in stored  # the answer is there...
    assert token.encode() not in stored and b"Bearer" not in stored  # ...the token is not


async def test_build_clients_puts_the_cache_where_it_is_told(double: ApiDouble) -> None:
    settings = load_settings(**double.urls.as_settings())
    queen = artist_named(double, "Queen")
    for _ in range(2):
        async with build_clients(settings, cache_dir=http_cache_dir(settings)) as clients:
            await clients.spotify.get_artist(queen.spotify_id)
    assert http_cache_dir(settings) == settings.data_dir / "http-cache"
    assert everything_under(http_cache_dir(settings))
    assert double.request_count(SPOTIFY, f"/artists/{queen.spotify_id}") == 1
    assert double.request_count(SPOTIFY_ACCOUNTS) == 1


def test_a_client_takes_either_an_http_client_or_a_cache_dir(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not both"):
        SpotifyClient("id", "secret", http=httpx.AsyncClient(), cache_dir=tmp_path)


async def test_answers_are_kept_whatever_spotifys_cache_headers_and_encoding_say(tmp_path: Path) -> None:
    """Pure unit case (MockTransport): Spotify's real answers are gzipped and say ``no-cache``."""
    sent: list[str] = []

    def spotify(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.path}")
        body = gzip.compress(json.dumps({"id": "x", "name": "Queen"}).encode())
        headers = {"Content-Encoding": "gzip", "Cache-Control": "private, no-cache, no-store, max-age=0"}
        return httpx.Response(200, headers=headers, content=body)

    cache = SpotifyDiskCache(tmp_path)
    url = httpx.URL("https://api.spotify.test/v1/artists/x")
    async with httpx.AsyncClient(transport=cache.transport(httpx.MockTransport(spotify))) as http:
        assert await cache.lookup(url) is None
        answer = await http.get(url, extensions=cache.extensions(ARTIST_TTL), headers={"Authorization": "Bearer t"})
        assert answer.json() == {"id": "x", "name": "Queen"}
        assert await cache.lookup(url) == {"id": "x", "name": "Queen"}
        await http.get("https://api.spotify.test/v1/artists?ids=x")  # not marked: never stored
        assert await cache.lookup(httpx.URL("https://api.spotify.test/v1/artists?ids=x")) is None
    assert sent == ["GET /v1/artists/x", "GET /v1/artists"]


async def test_an_answer_past_its_ttl_is_not_served(tmp_path: Path) -> None:
    def spotify(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "x"})

    cache = SpotifyDiskCache(tmp_path)
    url = httpx.URL("https://api.spotify.test/v1/search?q=queen")
    async with httpx.AsyncClient(transport=cache.transport(httpx.MockTransport(spotify))) as http:
        await http.get(url, extensions=cache.extensions(0.2))
        assert await cache.lookup(url) == {"id": "x"}
        await asyncio.sleep(0.3)
        assert await cache.lookup(url) is None
