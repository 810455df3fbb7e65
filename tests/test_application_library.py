"""The application surface's library use-cases on a started runtime: the library with its trends, re-import,
platform ids set by hand (checked with the service), removal with the cached files, and the export rows."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from artist_desktop.devtools._catalog import CatalogArtist, enwiki_title
from artist_desktop.domain import DailyFigure, ImportRequest, JobStatus, utcnow
from artist_desktop.export import SERIES_COLUMNS, table_columns
from artist_desktop.runtime import Runtime
from artist_desktop.services import NotFoundError
from artist_desktop.store import ArtistMetric, ArtistPlatformId, MediaAsset, repository


def _files(paths: Iterable[str]) -> list[bool]:
    """Whether each path is a file (a test's quick look at the disk)."""
    return [Path(path).is_file() for path in paths]


async def _import(runtime: Runtime, artists: list[CatalogArtist]) -> dict[str, int]:
    """Import ``artists`` in this process; returns their library ids by Spotify id."""
    await runtime.application.enqueue([ImportRequest(a.spotify_id, a.name) for a in artists])
    await runtime.runner.run_until_idle()
    rows = await runtime.application.library_artists()
    return {row.spotify_id: row.artist_id for row in rows if row.spotify_id}


async def test_the_library_after_an_import_has_ids_a_cached_picture_and_todays_figures(
    runtime: Runtime, catalog_artists: list[CatalogArtist]
) -> None:
    daft = catalog_artists[0]
    assert daft.deezer is not None and daft.musicbrainz is not None
    ids = await _import(runtime, [daft])
    (row,) = await runtime.application.library_artists([ids[daft.spotify_id]])
    assert (row.name, row.deezer_id, row.musicbrainz_id) == (
        daft.name,
        str(daft.deezer["id"]),
        daft.musicbrainz["mbid"],
    )
    assert row.image_path is not None and _files([row.image_path]) == [True]
    assert Path(row.image_path).is_relative_to(runtime.settings.media_dir)
    fans = row.trends[("deezer", "followers")]
    assert fans.latest == DailyFigure(utcnow().date(), daft.deezer["nb_fan"])
    assert fans.change(1) is None  # one day of history
    series = await runtime.application.metric_series([row.artist_id], "deezer", "followers")
    assert series == {row.artist_id: [fans.latest]}


async def test_reimport_queues_the_artists_spotify_ids_again_and_skips_those_without_one(
    runtime: Runtime, catalog_artists: list[CatalogArtist], add_library_artist: Callable[..., Awaitable[int]]
) -> None:
    picked = catalog_artists[:2]
    ids = await _import(runtime, picked)
    without = await add_library_artist(runtime.database, "Only On Deezer", 555)

    queued = await runtime.application.reimport([ids[picked[1].spotify_id], without, ids[picked[0].spotify_id]])

    assert queued == [picked[1].spotify_id, picked[0].spotify_id]
    unfinished = await runtime.application.unfinished_jobs()
    assert [(job.spotify_id, job.name, job.status) for job in unfinished] == [
        (picked[1].spotify_id, picked[1].name, JobStatus.QUEUED),
        (picked[0].spotify_id, picked[0].name, JobStatus.QUEUED),
    ]
    assert await runtime.application.reimport([without]) == []
    await runtime.runner.run_until_idle()
    assert {o.status for o in await runtime.runner.outcomes(queued)} == {JobStatus.COMPLETE}


async def test_a_deezer_id_set_by_hand_is_checked_with_deezer(
    runtime: Runtime, catalog_artists: list[CatalogArtist], add_library_artist: Callable[..., Awaitable[int]]
) -> None:
    daft, other = catalog_artists[0], catalog_artists[1]
    assert daft.deezer is not None and other.deezer is not None
    ids = await _import(runtime, [daft])
    bare = await add_library_artist(runtime.database, other.name)
    application = runtime.application

    with pytest.raises(ValueError, match="is not a Deezer artist id: it is a number"):
        await application.set_platform_id(bare, "deezer", "twenty-seven")
    with pytest.raises(NotFoundError):
        await application.set_platform_id(bare, "deezer", "999999999")
    with pytest.raises(ValueError, match=f"already belongs to {daft.name} in the library"):
        await application.set_platform_id(bare, "deezer", str(daft.deezer["id"]))
    with pytest.raises(ValueError, match=r"Only Deezer and MusicBrainz ids, Wikipedia titles and Last\.fm names"):
        await application.set_platform_id(bare, "spotify", daft.spotify_id)

    await application.set_platform_id(bare, "deezer", f" https://www.deezer.com/fr/artist/{other.deezer['id']} ")
    (row,) = await application.library_artists([bare])
    assert row.deezer_id == str(other.deezer["id"])

    await application.set_platform_id(ids[daft.spotify_id], "deezer", None)
    (daft_row,) = await application.library_artists([ids[daft.spotify_id]])
    assert daft_row.deezer_id is None
    assert ("deezer", "followers") in daft_row.trends  # the figures stay: they are the artist's history


async def test_a_musicbrainz_id_set_by_hand_is_checked_with_musicbrainz(
    runtime: Runtime, catalog_artists: list[CatalogArtist], add_library_artist: Callable[..., Awaitable[int]]
) -> None:
    known = catalog_artists[2]
    assert known.musicbrainz is not None
    bare = await add_library_artist(runtime.database, known.name)
    application = runtime.application

    with pytest.raises(ValueError, match="is not a MusicBrainz artist id"):
        await application.set_platform_id(bare, "musicbrainz", "not-an-mbid")
    with pytest.raises(NotFoundError):
        await application.set_platform_id(bare, "musicbrainz", str(uuid.uuid4()))
    mbid = known.musicbrainz["mbid"]
    await application.set_platform_id(bare, "musicbrainz", f"https://musicbrainz.org/artist/{mbid.upper()}")
    (row,) = await application.library_artists([bare])
    assert row.musicbrainz_id == mbid
    await application.set_platform_id(bare, "musicbrainz", "  ")
    (row,) = await application.library_artists([bare])
    assert row.musicbrainz_id is None


async def test_a_wikipedia_title_set_by_hand_is_checked_and_replaces_the_old_pages_figures(
    runtime: Runtime, catalog_artists: list[CatalogArtist], add_library_artist: Callable[..., Awaitable[int]]
) -> None:
    """The article title is stored and editable by hand (issue 19): a link or a title, checked with Wikimedia; the
    figures of the page it replaces go (they were another article's), so the next refresh backfills the new one."""
    artist = await add_library_artist(runtime.database, "Nirvana")
    application = runtime.application
    title = next(t for a in catalog_artists if a.followers and (t := enwiki_title(a)))
    async with runtime.database.session() as session, session.begin():
        await repository.upsert_platform_id(session, artist, "wikipedia", "Nirvana (disambiguation)")
        await repository.upsert_metric(session, artist, "wikipedia", "pageviews", 5, utcnow() - timedelta(days=1))

    with pytest.raises(NotFoundError):
        await application.set_platform_id(artist, "wikipedia", "No Such Article Anywhere")
    await application.set_platform_id(artist, "wikipedia", f"https://en.wikipedia.org/wiki/{title.replace(' ', '_')}")

    (row,) = await application.library_artists([artist])
    assert row.ids["wikipedia"] == title
    assert ("wikipedia", "pageviews") not in row.trends


async def test_a_lastfm_name_set_by_hand_is_stored_as_lastfm_spells_it(
    runtime: Runtime, catalog_artists: list[CatalogArtist], add_library_artist: Callable[..., Awaitable[int]]
) -> None:
    known = catalog_artists[2]
    artist = await add_library_artist(runtime.database, known.name)
    application = runtime.application

    with pytest.raises(NotFoundError):
        await application.set_platform_id(artist, "lastfm", "Nobody At All 123")
    await application.set_platform_id(
        artist, "lastfm", f"https://www.last.fm/music/{known.name.upper().replace(' ', '+')}"
    )

    (row,) = await application.library_artists([artist])
    assert row.ids["lastfm"] == known.name


async def test_removing_artists_deletes_their_data_and_the_files_no_one_else_uses(
    runtime: Runtime, catalog_artists: list[CatalogArtist]
) -> None:
    keep, drop = catalog_artists[0], catalog_artists[1]
    ids = await _import(runtime, [keep, drop])
    database = runtime.database
    async with database.session() as session:
        files = {row.path for row in await repository.media_assets(session, ids[drop.spotify_id])}
        kept_files = {row.path for row in await repository.media_assets(session, ids[keep.spotify_id])}
        # A picture both artists use (the cache is content-addressed): it must stay for the one kept.
        shared = next(iter(kept_files))
        await repository.upsert_media_asset(
            session, ids[drop.spotify_id], "artist_image", "https://img/shared.png", "s", shared, "image/png", 1
        )
        await session.commit()
    assert files and all(_files(files))

    assert await runtime.application.remove_artists([ids[drop.spotify_id], 424242]) == 1

    assert [row.artist_id for row in await runtime.application.library_artists()] == [ids[keep.spotify_id]]
    assert not any(_files(files - kept_files))
    assert all(_files(kept_files))
    async with database.session() as session:
        for model in (ArtistMetric, ArtistPlatformId, MediaAsset):
            count = await session.scalar(
                select(func.count()).select_from(model).where(model.artist_id == ids[drop.spotify_id])
            )
            assert count == 0, model
        assert await repository.artist_tracks(session, ids[drop.spotify_id]) == []
    outcomes = {o.spotify_id: o.status for o in await runtime.runner.outcomes()}
    assert outcomes[drop.spotify_id] is JobStatus.COMPLETE  # the ledger keeps the import


async def test_export_rows_are_the_library_table_or_its_daily_series(
    runtime: Runtime, catalog_artists: list[CatalogArtist]
) -> None:
    picked = catalog_artists[:2]
    ids = await _import(runtime, picked)
    first = ids[picked[0].spotify_id]
    yesterday = utcnow() - timedelta(days=1)
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    async with runtime.database.session() as session, session.begin():
        await repository.upsert_metric(session, first, "deezer", "followers", 1000, yesterday)
        await repository.upsert_metric(session, first, "deezer", "followers", 10, long_ago)
    application = runtime.application
    artists = await application.library_artists()

    table = await application.export_library()
    assert [row["name"] for row in table] == [a.name for a in artists]
    # What an import stores: Deezer's fans and albums, ListenBrainz's listeners and listens (collected in ANALYTICS).
    imported = [
        ("deezer", "albums"),
        ("deezer", "followers"),
        ("listenbrainz", "listeners"),
        ("listenbrainz", "listens"),
    ]
    assert set(table[0]) == set(table_columns(imported))
    row = next(r for r in table if r["name"] == picked[0].name)
    fans = next(a for a in artists if a.artist_id == first).trends[("deezer", "followers")]
    assert row["deezer_followers"] == fans.latest.value and row["deezer_followers_day"] == utcnow().date().isoformat()
    assert row["deezer_followers_change_1d"] == fans.latest.value - 1000
    assert row["deezer_followers_change_1d_pct"] == round((fans.latest.value - 1000) / 1000 * 100, 2)
    assert row["deezer_followers_change_28d"] is None

    only = await application.export_library(metrics=[("deezer", "followers")])
    assert list(only[0]) == table_columns([("deezer", "followers")])

    series = await application.export_library(metrics=[("deezer", "followers")], days=2)
    assert all(list(r) == list(SERIES_COLUMNS) for r in series)
    mine = [(r["day"], r["value"]) for r in series if r["name"] == picked[0].name]
    assert mine == [(yesterday.date().isoformat(), 1000), (utcnow().date().isoformat(), fans.latest.value)]
    everything = await application.export_library(metrics=[("deezer", "followers")], days=10_000)
    assert ("2020-01-01", 10) in [(r["day"], r["value"]) for r in everything]
    with pytest.raises(ValueError, match="days must be 1 or more"):
        await application.export_library(days=0)
