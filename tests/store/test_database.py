"""The database handle: migrations match the models and rerun harmlessly; SQLite is set up for concurrency."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from artist_desktop.domain import DailyFigure
from artist_desktop.store import Base, Database, alembic_config, jobs, library, normalise_url, open_database, repository
from artist_desktop.store.models import RefreshRunStatus

EXPECTED_TABLES = {
    "artists",
    "artist_platform_ids",
    "artist_metrics",
    "tracks",
    "artist_tracks",
    "media_assets",
    "import_jobs",
    "import_batches",
    "metric_refresh_runs",
    "metric_refresh_results",
    "service_pauses",
    "service_capabilities",
    "scheduled_runs",
    "metric_alerts",
}


def _schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migration_creates_every_table_and_matches_the_models(database: Database) -> None:
    async with database.engine.connect() as connection:
        tables = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        differences = await connection.run_sync(_schema_differences)
        revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    assert tables >= EXPECTED_TABLES
    assert {table.name for table in Base.metadata.sorted_tables} == EXPECTED_TABLES
    assert differences == []
    assert revision == "0007"


async def test_migrating_again_keeps_the_data(database: Database) -> None:
    async with database.session() as session:
        await repository.start_refresh_run(session, "deezer", datetime.now(UTC))
        await session.commit()
    await database.migrate()
    await database.migrate()
    async with database.engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM metric_refresh_runs")) == 1
        assert await connection.scalar(text("SELECT count(*) FROM alembic_version")) == 1


async def test_sqlite_file_uses_wal_foreign_keys_and_waits_for_locks(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "library.sqlite3"
    database = await open_database(f"sqlite:///{path}")
    try:
        assert path.exists(), "the parent directories are created"
        async with database.engine.connect() as connection:
            assert await connection.scalar(text("PRAGMA journal_mode")) == "wal"
            assert await connection.scalar(text("PRAGMA foreign_keys")) == 1
            assert await connection.scalar(text("PRAGMA busy_timeout")) >= 1000
        assert database.dialect == "sqlite"
        assert await database.ping()
    finally:
        await database.dispose()


async def test_url_hides_the_password_and_selects_asyncpg() -> None:
    database = Database.from_url("postgresql://analyst:s3cret@127.0.0.1:5432/music")
    try:
        assert "s3cret" not in database.url
        assert "s3cret" not in repr(database)
        assert database.url.startswith("postgresql+asyncpg://analyst:")
        assert database.dialect == "postgresql"
    finally:
        await database.dispose()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///library.sqlite3", "sqlite+aiosqlite:///library.sqlite3"),
        ("sqlite+pysqlite:///library.sqlite3", "sqlite+aiosqlite:///library.sqlite3"),
        ("postgresql://a:pw@db/music", "postgresql+asyncpg://a:pw@db/music"),
        ("postgresql+psycopg://a:pw@db/music", "postgresql+asyncpg://a:pw@db/music"),
        ("postgresql+asyncpg://a:pw@db/music", "postgresql+asyncpg://a:pw@db/music"),
    ],
)
def test_normalise_url_picks_the_one_async_driver_per_backend(given: str, expected: str) -> None:
    assert normalise_url(given).render_as_string(hide_password=False) == expected


def test_normalise_url_refuses_other_databases() -> None:
    with pytest.raises(ValueError, match="unsupported database 'mysql': use a sqlite or postgresql URL"):
        normalise_url("mysql://x@y/z")


async def test_ping_is_false_when_the_server_is_not_there() -> None:
    database = Database.from_url("postgresql://postgres@127.0.0.1:1/nothing")
    try:
        assert await database.ping() is False
    finally:
        await database.dispose()


async def test_in_memory_sqlite_keeps_its_schema_across_sessions() -> None:
    database = await open_database("sqlite://")
    try:
        async with database.session() as session:
            assert await session.scalar(text("SELECT count(*) FROM import_jobs")) == 0
    finally:
        await database.dispose()


def _alembic(connection: Connection) -> Config:
    config = alembic_config()
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    """An empty schema at ``revision`` (the module's PostgreSQL database may already be at head)."""
    command.downgrade(_alembic(connection), "base")
    command.upgrade(_alembic(connection), revision)


def _downgrade(connection: Connection, revision: str) -> None:
    command.downgrade(_alembic(connection), revision)


def _artist_columns(connection: Connection) -> set[str]:
    return {column["name"] for column in inspect(connection).get_columns("artists")}


async def test_upgrading_a_0001_database_keeps_its_tracks_and_jobs(database_url: str) -> None:
    """Data written before Development Mode support reads the same after the migration: tracks stay Spotify
    tracks, queued jobs have no stored artist object (METADATA fetches it), Deezer tracks can be added."""
    database = Database.from_url(database_url)
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(_upgrade, "0001")
            await connection.execute(
                text(
                    "INSERT INTO tracks (spotify_id, name, popularity, duration_ms) "
                    "VALUES ('4sPmO7WMQUAf45kwMOtONw', 'Hello', 80, 295000)"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO import_jobs (spotify_id, name, position, status, stage, progress, message, attempts, "
                    "created_at, updated_at) VALUES ('4dpARuHxo51G3z768sgnrY', 'Adele', 1, 'queued', 'INIT', 0, '', 0, "
                    "'2026-11-01 10:00:00', '2026-11-01 10:00:00')"
                )
            )
        await database.migrate()
        async with database.session() as session:
            tracks = list((await session.execute(text("SELECT spotify_id, deezer_id, name FROM tracks"))).tuples())
            job = await jobs.get_job(session, "4dpARuHxo51G3z768sgnrY")
            deezer_track = await repository.upsert_track(
                session, "Hello (Deezer)", 295000, "25", None, deezer_id="1109731", deezer_rank=900000
            )
            await session.commit()
        assert tracks == [("4sPmO7WMQUAf45kwMOtONw", None, "Hello")]
        assert job is not None and job.spotify_artist is None and job.name == "Adele"
        assert deezer_track > 0
    finally:
        await database.dispose()


#: Rows in every table that references ``artists`` or ``tracks``, the tables SQLite rebuilds in 0002 and 0003.
_REFERENCING_ROWS = [
    "INSERT INTO artists (id, name, slug, genres, is_complete, created_at, updated_at) "
    "VALUES (7, 'Adele', 'adele-4dp', '[]', TRUE, '2026-11-01 10:00:00', '2026-11-01 10:00:00')",
    "INSERT INTO artist_platform_ids (artist_id, platform, platform_id) VALUES (7, 'deezer', '75798')",
    "INSERT INTO artist_metrics (artist_id, platform, metric_type, value, date) "
    "VALUES (7, 'deezer', 'followers', 1200, '2026-11-01 10:00:00')",
    "INSERT INTO tracks (id, spotify_id, name, popularity, duration_ms) VALUES (3, 'trk', 'Hello', 80, 295000)",
    "INSERT INTO artist_tracks (artist_id, track_id, rank) VALUES (7, 3, 1)",
    "INSERT INTO media_assets (artist_id, kind, source_url, sha256, path, size_bytes) "
    "VALUES (7, 'image', 'https://i.example/a.png', 'ab', 'ab.png', 10)",
    "INSERT INTO import_jobs (spotify_id, name, artist_id, position, status, stage, progress, message, attempts, "
    "created_at, updated_at) VALUES ('4dpARuHxo51G3z768sgnrY', 'Adele', 7, 1, 'complete', 'COMPLETE', 100, '', "
    "1, '2026-11-01 10:00:00', '2026-11-01 10:00:00')",
]
_COUNTED = ("artists", "artist_platform_ids", "artist_metrics", "tracks", "artist_tracks", "media_assets")


async def _counts(connection: Any) -> dict[str, int]:
    counts = {table: await connection.scalar(text(f"SELECT count(*) FROM {table}")) for table in _COUNTED}
    counts["jobs linked"] = await connection.scalar(text("SELECT count(*) FROM import_jobs WHERE artist_id = 7"))
    return counts


async def test_upgrading_drops_the_empty_bio_column_and_keeps_every_referencing_row(database_url: str) -> None:
    """From 0001 to head SQLite rebuilds ``tracks`` (0002) and ``artists`` (0003): with foreign keys on, that
    would delete every metric, id, track link and image of every artist (ON DELETE CASCADE)."""
    database = Database.from_url(database_url)
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(_upgrade, "0001")
            for statement in _REFERENCING_ROWS:
                await connection.execute(text(statement))
            before = await _counts(connection)
            assert "bio" in await connection.run_sync(_artist_columns)
        assert before == dict.fromkeys([*_COUNTED, "jobs linked"], 1)

        await database.migrate()

        async with database.engine.begin() as connection:
            assert await _counts(connection) == before
            assert "bio" not in await connection.run_sync(_artist_columns)
            assert await connection.scalar(text("SELECT version_num FROM alembic_version")) == "0007"
            if database.dialect == "sqlite":  # the pooled connection has its foreign keys back
                assert await connection.scalar(text("PRAGMA foreign_keys")) == 1
        async with database.engine.begin() as connection:
            await connection.run_sync(_downgrade, "0002")
            assert await _counts(connection) == before
            assert "bio" in await connection.run_sync(_artist_columns)
            assert await connection.scalar(text("SELECT bio FROM artists WHERE id = 7")) is None
    finally:
        await database.dispose()


async def test_a_failed_migration_gives_sqlite_its_foreign_keys_back(tmp_path: Path) -> None:
    database = Database.from_url(f"sqlite:///{tmp_path / 'broken.sqlite3'}")
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(_upgrade, "0001")
            # 0002 cannot create a table that is already there: the migration fails half-way.
            await connection.execute(text("CREATE TABLE service_pauses (service TEXT)"))
        with pytest.raises(Exception, match="service_pauses"):
            await database.migrate()
        async with database.engine.connect() as connection:
            assert await connection.scalar(text("PRAGMA foreign_keys")) == 1
            assert await connection.scalar(text("SELECT version_num FROM alembic_version")) == "0001"
    finally:
        await database.dispose()


#: At 0003: several figures of one metric on one UTC day, out of order, then one a second after midnight UTC.
_SAME_DAY_ROWS = [
    "INSERT INTO artists (id, name, slug, genres, is_complete, created_at, updated_at) "
    "VALUES (7, 'Adele', 'adele-4dp', '[]', TRUE, '2026-11-01 10:00:00', '2026-11-01 10:00:00')",
    *(
        "INSERT INTO artist_metrics (id, artist_id, platform, metric_type, value, date) "
        f"VALUES ({row_id}, 7, '{platform}', '{metric}', {value}, '{stamp}')"
        for row_id, platform, metric, value, stamp in [
            (1, "deezer", "followers", 100, "2026-11-01 08:00:00"),
            (2, "deezer", "followers", 130, "2026-11-01 21:30:00"),
            (3, "deezer", "followers", 140, "2026-11-01 23:59:59"),  # the day's latest
            (4, "deezer", "followers", 120, "2026-11-01 12:00:00"),
            (5, "deezer", "followers", 150, "2026-11-02 00:00:01"),
            (6, "spotify", "followers", 910, "2026-11-01 09:00:00"),
            (7, "spotify", "followers", 900, "2026-11-01 08:59:59"),
            (8, "deezer", "albums", 21, "2026-11-01 10:00:00"),
        ]
    ),
]


async def test_upgrading_keeps_the_latest_figure_of_each_day_and_downgrading_keeps_every_row(
    database_url: str,
) -> None:
    database = Database.from_url(database_url)
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(_upgrade, "0003")
            if database.dialect == "postgresql":  # the timestamps above are UTC
                await connection.execute(text("SET TIME ZONE 'UTC'"))
            for statement in _SAME_DAY_ROWS:
                await connection.execute(text(statement))
        await database.migrate()
        async with database.session() as session:
            kept = (await session.execute(text("SELECT id FROM artist_metrics ORDER BY id"))).scalars().all()
            followers = await library.metric_series(session, [7], "deezer", "followers")
            spotify = await library.metric_series(session, [7], "spotify", "followers")
            # The day's figure is the one the unique key holds: writing that day again replaces it.
            await repository.upsert_metric(
                session, 7, "deezer", "followers", 135, datetime(2026, 11, 1, 23, tzinfo=UTC)
            )
            await session.commit()
            again = await library.metric_series(session, [7], "deezer", "followers")
        day1, day2 = date(2026, 11, 1), date(2026, 11, 2)
        assert kept == [3, 5, 6, 8]
        assert followers == {7: [DailyFigure(day1, 140), DailyFigure(day2, 150)]}
        assert spotify == {7: [DailyFigure(day1, 910)]}
        assert again == {7: [DailyFigure(day1, 135), DailyFigure(day2, 150)]}

        async with database.engine.begin() as connection:
            await connection.run_sync(_downgrade, "0003")
            columns = await connection.run_sync(
                lambda sync: {column["name"] for column in inspect(sync).get_columns("artist_metrics")}
            )
            count = await connection.scalar(text("SELECT count(*) FROM artist_metrics"))
        assert {"date", "value"} <= columns and not {"day", "observed_at"} & columns
        assert count == 4
    finally:
        await database.dispose()


async def test_upgrading_to_metric_sources_keeps_every_deezer_result_under_its_new_names(database_url: str) -> None:
    """0007 renames the results' ``fans`` columns to ``value``: an old run's figures read the same afterwards."""
    database = Database.from_url(database_url)
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(_upgrade, "0006")
            await connection.execute(
                text(
                    "INSERT INTO metric_refresh_runs"
                    " (id, platform, started_at, run_date, status, total, updated, failed)"
                    " VALUES (1, 'deezer', '2026-11-01 06:00:00', '2026-11-01 06:00:00', 'complete', 2, 1, 1)"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO metric_refresh_results (run_id, artist_id, name, success, fans, error, previous_fans)"
                    " VALUES (1, 7, 'Adele', true, 7000000, NULL, 6900000), (1, 8, 'Björk', false, NULL, 'gone', 5)"
                )
            )
        await database.migrate()
        async with database.session() as session:
            [run] = await repository.list_refresh_runs(session)
            results = await repository.refresh_results(session, run.id)
        assert (run.status, run.reason) == (RefreshRunStatus.COMPLETE, None)
        assert [(r.name, r.success, r.value, r.previous_value, r.error) for r in results] == [
            ("Adele", True, 7_000_000, 6_900_000, None),
            ("Björk", False, None, 5, "gone"),
        ]

        async with database.engine.begin() as connection:
            await connection.run_sync(_downgrade, "0006")
            fans = await connection.scalar(text("SELECT fans FROM metric_refresh_results WHERE artist_id = 7"))
        assert fans == 7_000_000
    finally:
        await database.dispose()
