"""Imports at MusicBrainz's real pace (1 request/s, 503 past it: the double's default) with the app's own
MusicBrainz client: a whole batch shares its MusicBrainz requests, every artist still gets its country,
gender and life-span, the waiting artists say so, and Deezer costs one search (plus top tracks) per artist.

Deezer's quota is relaxed here (its pace is not what these tests are about); artists are picked from search
results (no Spotify request) and the catalog has no top tracks (no images to download), to keep them quick.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from pipeline_helpers import import_and_follow
from sqlalchemy import select

from artist_desktop.devtools._catalog import Catalog, CatalogArtist, load_catalog
from artist_desktop.devtools.api_double import DEEZER, MUSICBRAINZ, ApiDouble, DoubleConfig
from artist_desktop.devtools.generated_catalog import generated_catalog_data
from artist_desktop.domain import ImportRequest, MetricType, Platform, ProgressUpdate
from artist_desktop.runtime import Runtime
from artist_desktop.services import DeezerClient, RateGate, RetryPolicy, SpotifyArtist, build_clients
from artist_desktop.store import models

#: Measures pace or throughput against a real quota: run alone (see packaging/dev.py).
pytestmark = pytest.mark.serial

FAST_RETRY = RetryPolicy(max_attempts=3, max_total=2.0, base_delay=0.05, max_delay=0.2)


def quick_catalog(count: int, directory: Path) -> Catalog:
    """``count`` generated artists, every one known to MusicBrainz and Deezer, without top tracks."""
    data = generated_catalog_data(count)
    for artist in data["artists"]:
        artist["top_tracks"] = []
    path = directory / f"catalog-{count}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return load_catalog(path)


def picked(artists: list[CatalogArtist]) -> list[ImportRequest]:
    """What the window queues for artists picked in search results: Spotify's object comes along."""
    return [
        ImportRequest(a.spotify_id, a.name, SpotifyArtist(a.spotify_id, a.name, a.spotify_url).to_dict())
        for a in artists
    ]


@pytest.fixture
async def real_pace(
    tmp_path: Path, redis_url: str, redis_prefix: str, double_settings: Callable[..., Any]
) -> AsyncIterator[tuple[ApiDouble, Runtime]]:
    """The double at MusicBrainz's real pace over 100 artists, and the app with its own MusicBrainz client."""
    double = ApiDouble(DoubleConfig(deezer_quota=None), catalog=quick_catalog(100, tmp_path))
    assert double.config.musicbrainz_rate == (1, 1.0)
    await double.start()
    settings = double_settings(double, redis_url, redis_prefix)
    clients = build_clients(settings, retry=FAST_RETRY)
    clients.deezer = DeezerClient(settings.deezer_api_url, gate=RateGate("Deezer", 1000, 1.0), retry=FAST_RETRY)
    app = Runtime(settings, clients=clients)
    await app.start()
    try:
        yield double, app
    finally:
        await app.stop()
        await double.stop()


async def _import(app: Runtime, artists: list[CatalogArtist]) -> dict[str, list[ProgressUpdate]]:
    """Import the artists picked in search; returns every progress update each artist published."""
    return await import_and_follow(app, picked(artists), 90)


async def _stored_facts(app: Runtime) -> dict[str, tuple[str | None, str | None, str | None, str | None]]:
    """Spotify id -> (country, gender, birth date, MusicBrainz id) as the library stored them."""
    async with app.database.session() as session:
        rows = await session.execute(
            select(models.ArtistPlatformId.platform_id, models.Artist)
            .join(models.Artist, models.Artist.id == models.ArtistPlatformId.artist_id)
            .where(models.ArtistPlatformId.platform == Platform.SPOTIFY.value)
        )
        mbids = dict(
            (
                await session.execute(
                    select(models.ArtistPlatformId.artist_id, models.ArtistPlatformId.platform_id).where(
                        models.ArtistPlatformId.platform == Platform.MUSICBRAINZ.value
                    )
                )
            )
            .tuples()
            .all()
        )
        return {
            spotify_id: (artist.country, artist.gender, artist.birth_date, mbids.get(artist.id))
            for spotify_id, artist in rows.tuples().all()
        }


def _expected(artist: CatalogArtist) -> tuple[str | None, str | None, str | None, str | None]:
    mb = artist.musicbrainz
    assert mb is not None
    return (mb["country"], mb["gender"], mb["life_span"]["begin"], mb["mbid"])


async def test_100_artists_cost_at_most_4_musicbrainz_requests_and_all_get_their_facts(
    real_pace: tuple[ApiDouble, Runtime],
) -> None:
    double, app = real_pace
    artists = double.catalog.artists
    assert len(artists) == 100 and all(a.musicbrainz for a in artists)

    await _import(app, artists)

    assert double.request_count(MUSICBRAINZ) <= 4, app.runner.deps.musicbrainz.sent_sizes
    assert double.rejections(MUSICBRAINZ) == 0
    stored = await _stored_facts(app)
    assert {a.spotify_id: stored.get(a.spotify_id) for a in artists} == {a.spotify_id: _expected(a) for a in artists}
    # Deezer: the search that matched carries fans and albums; /artist/{id} itself is never asked.
    assert double.request_count(DEEZER, prefix="/search/artist") == 100
    assert double.request_count(DEEZER, prefix="/artist/") == 100  # the top-tracks requests
    assert all(double.request_count(DEEZER, f"/artist/{a.deezer['id']}") == 0 for a in artists if a.deezer)
    async with app.database.session() as session:
        albums = await session.scalar(
            select(models.ArtistMetric.id).where(models.ArtistMetric.metric_type == MetricType.ALBUMS.value).limit(1)
        )
    assert albums is not None, "nb_album from the search match is stored"


async def test_a_100_artist_batch_says_it_waits_for_musicbrainz_with_its_batch_size(
    real_pace: tuple[ApiDouble, Runtime],
) -> None:
    double, app = real_pace
    seen = await _import(app, double.catalog.artists)

    sizes: dict[str, list[int]] = {}
    for spotify_id, updates in seen.items():
        sizes[spotify_id] = [
            int(found[1])
            for update in updates
            if (found := re.fullmatch(r"Waiting for MusicBrainz \(batch of (\d+)\)", update.message))
        ]
    assert all(sizes.get(a.spotify_id) for a in double.catalog.artists), "every artist said it waited"
    assert max(max(found) for found in sizes.values()) >= 50, "the artists waited together"
    assert all(size <= 100 for found in sizes.values() for size in found)


@pytest.mark.parametrize("count", [3, 1])
async def test_a_small_batch_completes_at_the_real_pace(count: int, real_pace: tuple[ApiDouble, Runtime]) -> None:
    double, app = real_pace
    artists = double.catalog.artists[:count]
    await _import(app, artists)
    assert double.request_count(MUSICBRAINZ) == 2  # the URL lookup, then the details
    assert double.rejections(MUSICBRAINZ) == 0
    stored = await _stored_facts(app)
    assert {a.spotify_id: stored[a.spotify_id] for a in artists} == {a.spotify_id: _expected(a) for a in artists}
