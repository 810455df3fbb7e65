"""The demo's history: every catalog artist in the library with 90 days of daily figures, loaded once.

On a demo start (:meth:`artist_desktop.runtime.Runtime.start` with ``demo_history``), each catalog artist that
has no figure older than today gets: its library row and ids (as an import would write them, so a later
import updates the same artist), its picture in the media cache (the double's artwork), and one figure a
day for the last :data:`HISTORY_DAYS` days (today included) of every metric the catalog gives it: Spotify
followers and popularity (ending on the catalog's figures, which the double serves), Deezer fans (what the
demo's double answers on each of those days, :func:`~artist_desktop.devtools._catalog.daily_fans`) and
Deezer albums. A figure already stored for one of those days is kept.

A library holding an artist the catalog does not have is a real one (the demo shares the data dir): it is
left as it is.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from artist_desktop.devtools._catalog import Catalog, CatalogArtist, daily_count, daily_fans, daily_popularity
from artist_desktop.devtools._png import artwork_png
from artist_desktop.devtools.double_core import IMAGES, PREFIXES, SPOTIFY
from artist_desktop.domain import ArtistRecord, MetricType, Platform, slugify, utcnow
from artist_desktop.pipeline.media_cache import MediaCache
from artist_desktop.store import Artist, ArtistMetric, ArtistPlatformId, Database, PlatformIdConflict, repository
from artist_desktop.store._sql import insert
from artist_desktop.store.library import ARTIST_IMAGE

log = logging.getLogger(__name__)

__all__ = ["HISTORY_DAYS", "IMAGE_SIZE", "demo_figures", "seed_demo_history"]

#: Days of history each catalog artist gets, today included.
HISTORY_DAYS = 90
#: The artist picture's size (the one an import caches: Spotify's smallest of at least 300 px).
IMAGE_SIZE = 320


def demo_figures(artist: CatalogArtist, today: date, days: int = HISTORY_DAYS) -> list[tuple[str, str, date, float]]:
    """``(platform, metric, day, value)`` for each metric the catalog gives ``artist`` and each of the ``days``
    days up to ``today``, oldest first."""
    span = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    figures: list[tuple[str, str, date, float]] = []
    spotify, followers = Platform.SPOTIFY.value, MetricType.FOLLOWERS.value
    if artist.followers is not None:
        base = artist.followers
        figures += [(spotify, followers, d, daily_count(base, artist.spotify_id, d, anchor=today)) for d in span]
    if artist.popularity is not None:
        base = artist.popularity
        popularity = MetricType.POPULARITY.value
        figures += [(spotify, popularity, d, daily_popularity(base, artist.spotify_id, d, anchor=today)) for d in span]
    deezer = artist.deezer or {}
    fans, albums = deezer.get("nb_fan"), deezer.get("nb_album")
    if isinstance(fans, int) and not isinstance(fans, bool):
        figures += [(Platform.DEEZER.value, followers, d, daily_fans(fans, int(deezer["id"]), d)) for d in span]
    if isinstance(albums, int) and not isinstance(albums, bool):
        figures += [(Platform.DEEZER.value, MetricType.ALBUMS.value, d, albums) for d in span]
    return figures


async def seed_demo_history(
    database: Database,
    catalog: Catalog,
    media: MediaCache | None = None,
    *,
    spotify_api_url: str = "",
    today: date | None = None,
    days: int = HISTORY_DAYS,
) -> int:
    """Load the demo's history (see the module docstring); returns how many artists got theirs (0 when every
    one has it already, or the library is a real one). ``media`` and ``spotify_api_url`` (the double's
    Spotify address, which names its image host) give the artists their cached pictures."""
    day = today or utcnow().date()
    async with database.session() as session, session.begin():
        in_library = await _library_spotify_ids(session)
        strangers = [spotify_id for spotify_id in in_library if spotify_id not in catalog.by_spotify_id]
        if strangers:
            log.info("demo history not loaded: the library holds %d artists of its own", len(strangers))
            return 0
        with_history = await _with_history(session, day)
        todo = [artist for artist in catalog.artists if artist.spotify_id not in with_history]
        for artist in todo:
            await _seed_artist(session, artist, media, spotify_api_url, day, days)
    if todo:
        log.info("demo history: %d days of figures for %d artists", days, len(todo))
    return len(todo)


async def _library_spotify_ids(session: AsyncSession) -> list[str | None]:
    """The Spotify id of every artist of the library (None for an artist without one)."""
    rows = await session.execute(
        select(ArtistPlatformId.platform_id)
        .select_from(Artist)
        .outerjoin(
            ArtistPlatformId,
            (ArtistPlatformId.artist_id == Artist.id) & (ArtistPlatformId.platform == Platform.SPOTIFY.value),
        )
    )
    return list(rows.scalars())


async def _with_history(session: AsyncSession, today: date) -> set[str]:
    """The Spotify ids of the artists with a figure older than ``today``."""
    rows = await session.execute(
        select(ArtistPlatformId.platform_id)
        .join(ArtistMetric, ArtistMetric.artist_id == ArtistPlatformId.artist_id)
        .where(ArtistPlatformId.platform == Platform.SPOTIFY.value, ArtistMetric.day < today)
        .distinct()
    )
    return set(rows.scalars())


async def _seed_artist(
    session: AsyncSession, artist: CatalogArtist, media: MediaCache | None, spotify_api_url: str, today: date, days: int
) -> None:
    image_url = _image_url(spotify_api_url, artist.spotify_id) if spotify_api_url else None
    mb = artist.musicbrainz or {}
    record = ArtistRecord(
        name=artist.name,
        slug=f"{slugify(artist.name)}-{artist.spotify_id}",  # the import's slug: a later import updates this row
        gender=mb.get("gender"),
        country=mb.get("country"),
        birth_date=(mb.get("life_span") or {}).get("begin"),
        image_url=image_url,
        genres=list(artist.genres or ()),
        popularity=artist.popularity,
        followers=artist.followers,
        is_complete=True,
    )
    artist_id = await repository.upsert_artist(session, record)
    ids = [(Platform.SPOTIFY.value, artist.spotify_id)]
    if artist.deezer:
        ids.append((Platform.DEEZER.value, str(artist.deezer["id"])))
    if mb.get("mbid"):
        ids.append((Platform.MUSICBRAINZ.value, str(mb["mbid"])))
    for platform, platform_id in ids:
        try:
            await repository.upsert_platform_id(session, artist_id, platform, platform_id)
        except PlatformIdConflict:  # someone gave that id to another artist by hand: theirs to keep
            log.info("demo history: %s id %s of %s belongs to another artist", platform, platform_id, artist.name)
    if media is not None and image_url is not None:
        cached = await asyncio.to_thread(media.store, artwork_png(artist.spotify_id, IMAGE_SIZE))
        await repository.upsert_media_asset(
            session,
            artist_id,
            ARTIST_IMAGE,
            image_url,
            cached.sha256,
            str(cached.path),
            cached.content_type,
            cached.size_bytes,
            IMAGE_SIZE,
            IMAGE_SIZE,
        )
    now = utcnow()
    rows = [
        {
            "artist_id": artist_id,
            "platform": platform,
            "metric_type": metric,
            "value": float(value),
            "day": day,
            "observed_at": min(datetime.combine(day, time(12), tzinfo=UTC), now),
        }
        for platform, metric, day, value in demo_figures(artist, today, days)
    ]
    if rows:
        keys = [ArtistMetric.artist_id, ArtistMetric.platform, ArtistMetric.metric_type, ArtistMetric.day]
        await session.execute(insert(session, ArtistMetric).on_conflict_do_nothing(index_elements=keys), rows)


def _image_url(spotify_api_url: str, spotify_id: str) -> str:
    """The double's picture of the artist, as its Spotify answers name it (``<base>/images/<id>-320.png``)."""
    base = spotify_api_url.rstrip("/").removesuffix(PREFIXES[SPOTIFY])
    return f"{base}{PREFIXES[IMAGES]}/{spotify_id}-{IMAGE_SIZE}.png"
