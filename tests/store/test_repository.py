"""Artists, platform ids, metrics, the library view, tracks and media: idempotent writes, correct reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from artist_desktop.domain import ArtistRecord, DailyFigure
from artist_desktop.store import (
    Artist,
    ArtistMetric,
    ArtistPlatformId,
    Database,
    PlatformArtist,
    PlatformIdConflict,
    library,
    repository,
)

DAY1 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
DAY2 = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
DAY3 = datetime(2024, 5, 3, 12, 0, tzinfo=UTC)


def _record(name: str, slug: str, **fields: Any) -> ArtistRecord:
    return ArtistRecord(name=name, slug=slug, **fields)


async def _count(database: Database, model: type) -> int:
    async with database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_upsert_artist_by_slug_is_idempotent_and_keeps_known_fields(database: Database) -> None:
    first = _record(
        "Daft Punk",
        "daft-punk",
        country="FR",
        genres=["french house"],
        followers=9_000_000,
        birth_date="1993",
    )
    async with database.session() as session:
        artist_id = await repository.upsert_artist(session, first)
        again = await repository.upsert_artist(session, first)
        await session.commit()
        assert await repository.artist_slug(session, artist_id) == "daft-punk"
        assert await repository.artist_slug(session, artist_id + 1) is None
    assert again == artist_id

    # A later import where MusicBrainz failed: no country, no genres; followers grew.
    later = _record("Daft Punk", "daft-punk", followers=9_500_000, is_complete=True)
    async with database.session() as session:
        assert await repository.upsert_artist(session, later) == artist_id
        await session.commit()
        rows = await library.library_artists(session)
    assert [(row.artist_id, row.name, row.country) for row in rows] == [(artist_id, "Daft Punk", "FR")]

    async with database.session() as session:
        artist = await session.get(Artist, artist_id)
        assert artist is not None
        assert artist.genres == ["french house"]
        assert artist.followers == 9_500_000
        assert artist.birth_date == "1993"
        assert artist.is_complete is True
        assert artist.updated_at >= artist.created_at
        assert artist.updated_at.tzinfo is not None


async def test_platform_id_upsert_is_idempotent_and_unique(database: Database) -> None:
    async with database.session() as session:
        adele = await repository.upsert_artist(session, _record("Adele", "adele"))
        drake = await repository.upsert_artist(session, _record("Drake", "drake"))
        await repository.upsert_platform_id(session, adele, "deezer", "75798")
        await repository.upsert_platform_id(session, adele, "deezer", "75798")
        await session.commit()
    assert await _count(database, ArtistPlatformId) == 1

    async with database.session() as session:
        with pytest.raises(PlatformIdConflict) as conflict:
            await repository.upsert_platform_id(session, drake, "deezer", "75798")
        assert conflict.value.owner_id == adele
        # A corrected match replaces the artist's id on that platform instead of adding a second one.
        await repository.upsert_platform_id(session, adele, "deezer", "11111")
        await session.commit()
        assert await repository.find_artist_id_by_platform(session, "deezer", "11111") == adele
        assert await repository.find_artist_id_by_platform(session, "deezer", "75798") is None
    assert await _count(database, ArtistPlatformId) == 1

    async with database.session() as session:
        assert await repository.delete_platform_id(session, adele, "deezer") is True
        assert await repository.delete_platform_id(session, adele, "deezer") is False
        await session.commit()
    assert await _count(database, ArtistPlatformId) == 0


async def test_artists_with_and_without_a_platform_id(database: Database) -> None:
    async with database.session() as session:
        adele = await repository.upsert_artist(session, _record("Adele", "adele"))
        bjork = await repository.upsert_artist(session, _record("Björk", "bjork"))
        await repository.upsert_platform_id(session, adele, "deezer", "75798")
        await repository.upsert_platform_id(session, bjork, "spotify", "7w29UYBi0qsHi5RTcv3lmA")
        await session.commit()
        assert await repository.artists_with_platform_id(session, "deezer") == [PlatformArtist(adele, "Adele", "75798")]
        assert await repository.artists_without_platform_id(session, "deezer") == [(bjork, "Björk")]
        assert await repository.spotify_ids_in_library(
            session, ["7w29UYBi0qsHi5RTcv3lmA", "4dpARuHxo51G3z768sgnrY"]
        ) == {"7w29UYBi0qsHi5RTcv3lmA"}


async def test_same_metric_twice_leaves_one_row_with_the_newer_value(database: Database) -> None:
    async with database.session() as session:
        artist = await repository.upsert_artist(session, _record("Adele", "adele"))
        await repository.upsert_metric(session, artist, "deezer", "followers", 100, DAY1)
        await session.commit()
    # The same instant written in another time zone is the same key.
    paris = DAY1.astimezone(timezone(timedelta(hours=2)))
    async with database.session() as session:
        await repository.upsert_metric(session, artist, "deezer", "followers", 150, paris)
        await session.commit()
    assert await _count(database, ArtistMetric) == 1
    async with database.session() as session:
        assert await repository.latest_metric(session, artist, "deezer", "followers") == 150
        series = await library.metric_series(session, [artist], "deezer", "followers")
    assert series == {artist: [DailyFigure(DAY1.date(), 150.0)]}


async def test_naive_dates_are_refused(database: Database) -> None:
    async with database.session() as session:
        artist = await repository.upsert_artist(session, _record("Adele", "adele"))
        with pytest.raises(ValueError, match="naive datetime"):
            await repository.upsert_metric(session, artist, "deezer", "followers", 1, datetime(2024, 1, 1))


async def test_latest_metric_and_series_in_day_order(database: Database) -> None:
    async with database.session() as session:
        artist = await repository.upsert_artist(session, _record("Adele", "adele"))
        for date, value in [(DAY2, 200), (DAY1, 100), (DAY3, 300)]:
            await repository.upsert_metric(session, artist, "deezer", "followers", value, date)
        await repository.upsert_metric(session, artist, "spotify", "popularity", 88, DAY2)
        await session.commit()
        assert await repository.latest_metric(session, artist, "deezer", "followers") == 300
        assert await repository.latest_metric(session, artist, "deezer", "albums") is None
        fans = await library.metric_series(session, [artist], "deezer", "followers")
        popularity = await library.metric_series(session, [artist], "spotify", "popularity")
    assert fans[artist] == [DailyFigure(d.date(), v) for d, v in [(DAY1, 100.0), (DAY2, 200.0), (DAY3, 300.0)]]
    assert popularity[artist] == [DailyFigure(DAY2.date(), 88.0)]


async def test_tracks_are_upserted_and_the_top_list_replaced(database: Database) -> None:
    async with database.session() as session:
        artist = await repository.upsert_artist(session, _record("Adele", "adele"))
        hello = await repository.upsert_track(
            session, "Hello", 295000, "25", None, spotify_id="4sPmO7WMQUAf45kwMOtONw", popularity=80
        )
        skyfall = await repository.upsert_track(
            session, "Skyfall", 286000, None, None, spotify_id="6VObnIkLVruX4UVyxWhlqm", popularity=75
        )
        again = await repository.upsert_track(
            session, "Hello", 295000, "25", "x", spotify_id="4sPmO7WMQUAf45kwMOtONw", popularity=82
        )
        assert again == hello
        await repository.set_artist_tracks(session, artist, [hello, skyfall])
        await repository.set_artist_tracks(session, artist, [skyfall, hello, skyfall])
        await session.commit()
        tracks = await repository.artist_tracks(session, artist)
    assert [(track.name, track.popularity) for track in tracks] == [("Skyfall", 75), ("Hello", 82)]


async def test_media_asset_upsert_replaces_the_file_of_the_same_source(database: Database) -> None:
    async with database.session() as session:
        artist = await repository.upsert_artist(session, _record("Adele", "adele"))
        url = "https://i.scdn.co/image/ab67616d"
        first = await repository.upsert_media_asset(
            session, artist, "artist_image", url, "a" * 64, "media/aa.jpg", "image/jpeg", 1000
        )
        second = await repository.upsert_media_asset(
            session, artist, "artist_image", url, "b" * 64, "media/bb.jpg", "image/jpeg", 2000, 640, 640
        )
        await session.commit()
        assets = await repository.media_assets(session, artist)
    assert first == second
    assert [(a.sha256, a.path, a.size_bytes, a.width) for a in assets] == [("b" * 64, "media/bb.jpg", 2000, 640)]


async def test_deleting_an_artist_removes_its_ids_and_metrics(database: Database) -> None:
    async with database.session() as session:
        artist = await repository.upsert_artist(session, _record("Adele", "adele"))
        await repository.upsert_platform_id(session, artist, "deezer", "75798")
        await repository.upsert_metric(session, artist, "deezer", "followers", 1, DAY1)
        await session.commit()
        await session.delete(await session.get(Artist, artist))
        await session.commit()
    assert await _count(database, ArtistPlatformId) == 0
    assert await _count(database, ArtistMetric) == 0
