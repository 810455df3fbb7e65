"""One figure per metric per UTC day, whichever writes it: the import's STORE stage and the Deezer refresh."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy import func, select

from artist_desktop.devtools.api_double import ApiDouble
from artist_desktop.domain import DailyFigure, Stage
from artist_desktop.pipeline.stages import ArtistImport, Reporter, StageDeps, stage_store
from artist_desktop.services.deezer import DeezerArtist, DeezerClient
from artist_desktop.services.spotify import SpotifyArtist
from artist_desktop.sources import refresh_deezer_fans
from artist_desktop.store import ArtistMetric, Database, library, repository

DAFT_PUNK = "g9UlPlDpiHCTeOrJ7E8MmZ"
#: Daft Punk's Deezer id in the bundled catalog the API double serves.
DAFT_PUNK_DEEZER = 8724789
MORNING = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
EVENING = MORNING.replace(hour=21, minute=45)
NEXT_MORNING = MORNING + timedelta(days=1)


class _SilentReporter:
    """The STORE stage reports its progress; these tests only look at what it stored."""

    async def report(self, stage: Stage, fraction: float, message: str, payload: Any = None) -> None:
        return None


async def _import(database: Database, at: datetime, *, followers: int, fans: int, albums: int = 21) -> int:
    """What an import of Daft Punk stores at ``at`` (the batch's timestamp): the real STORE stage."""
    job = ArtistImport(DAFT_PUNK, batch_ts=at, name="Daft Punk")
    job.spotify = SpotifyArtist(
        DAFT_PUNK, "Daft Punk", f"https://open.spotify.com/artist/{DAFT_PUNK}", followers=followers
    )
    job.deezer = DeezerArtist(DAFT_PUNK_DEEZER, "Daft Punk", nb_fan=fans, nb_album=albums)
    deps = cast(StageDeps, SimpleNamespace(database=database))
    await stage_store(job, deps, cast(Reporter, _SilentReporter()))
    assert job.artist_id is not None
    return job.artist_id


async def _points(database: Database) -> dict[tuple[str, str], list[tuple[date, float]]]:
    async with database.session() as session:
        rows = await session.execute(
            select(ArtistMetric.platform, ArtistMetric.metric_type, ArtistMetric.day, ArtistMetric.value).order_by(
                ArtistMetric.platform, ArtistMetric.metric_type, ArtistMetric.day
            )
        )
        points: dict[tuple[str, str], list[tuple[date, float]]] = {}
        for platform, metric, day, value in rows:
            points.setdefault((platform, metric), []).append((day, value))
        return points


@pytest.fixture
async def deezer(api_double: ApiDouble) -> AsyncIterator[DeezerClient]:
    async with DeezerClient(api_double.urls.deezer_api_url) as client:
        yield client


async def test_two_imports_on_one_day_give_one_point_per_metric_with_the_later_figure(database: Database) -> None:
    artist_id = await _import(database, MORNING, followers=5_000_000, fans=1_000_000)
    again = await _import(database, EVENING, followers=5_000_100, fans=1_000_000)  # fans unchanged: stored too
    assert again == artist_id
    day = MORNING.date()
    assert await _points(database) == {
        ("deezer", "albums"): [(day, 21)],
        ("deezer", "followers"): [(day, 1_000_000)],
        ("spotify", "followers"): [(day, 5_000_100)],
    }
    async with database.session() as session:
        observed = await session.scalar(select(func.max(ArtistMetric.observed_at)))
    assert observed == EVENING


async def test_imports_on_two_days_give_two_points_even_when_nothing_changed(database: Database) -> None:
    await _import(database, MORNING, followers=5_000_000, fans=1_000_000)
    await _import(database, NEXT_MORNING, followers=5_000_000, fans=1_000_000)
    days = [MORNING.date(), NEXT_MORNING.date()]
    assert await _points(database) == {
        ("deezer", "albums"): [(day, 21) for day in days],
        ("deezer", "followers"): [(day, 1_000_000) for day in days],
        ("spotify", "followers"): [(day, 5_000_000) for day in days],
    }


async def test_the_day_is_the_utc_day_whatever_the_zone_of_the_timestamp(database: Database) -> None:
    tokyo = timezone(timedelta(hours=9))
    # 02:00 in Tokyo on the 4th is 17:00 UTC on the 3rd: the same UTC day as MORNING. The figure written
    # last is the day's (a retried refresh run keeps its run's earlier timestamp and must still replace it).
    await _import(database, datetime(2026, 11, 4, 2, 0, tzinfo=tokyo), followers=1, fans=2)
    await _import(database, MORNING, followers=3, fans=4)
    assert (await _points(database))[("spotify", "followers")] == [(MORNING.date(), 3)]


async def test_a_refresh_and_an_import_on_one_day_give_one_point_per_metric(
    database: Database, deezer: DeezerClient
) -> None:
    catalog_fans = 1_179_259  # what the double answers for Daft Punk
    artist_id = await _import(database, MORNING, followers=5_000_000, fans=1_000_000)
    summary = await refresh_deezer_fans(database, deezer, run_date=EVENING)
    # The refresh's change is since the figure it replaces (the morning's import), one point all the same.
    assert [(r.artist_id, r.value, r.previous_value) for r in summary.results] == [(artist_id, catalog_fans, 1_000_000)]
    day = MORNING.date()
    assert await _points(database) == {
        ("deezer", "albums"): [(day, 21)],
        ("deezer", "followers"): [(day, catalog_fans)],
        ("spotify", "followers"): [(day, 5_000_000)],
    }

    # The next day the other way round: the refresh first, then an import; still one point per metric a day.
    await refresh_deezer_fans(database, deezer, run_date=NEXT_MORNING)
    await _import(database, NEXT_MORNING.replace(hour=20), followers=5_000_500, fans=1_200_000)
    next_day = NEXT_MORNING.date()
    points = await _points(database)
    assert points[("deezer", "followers")] == [(day, catalog_fans), (next_day, 1_200_000)]
    assert points[("spotify", "followers")] == [(day, 5_000_000), (next_day, 5_000_500)]
    assert points[("deezer", "albums")] == [(day, 21), (next_day, 21)]


async def test_a_refresh_compares_with_the_figure_it_replaces_and_keeps_the_earlier_days(
    database: Database, deezer: DeezerClient
) -> None:
    artist_id = await _import(database, MORNING - timedelta(days=2), followers=1, fans=1_100_000)
    await _import(database, MORNING, followers=1, fans=1_150_000)  # earlier the same day as the refresh
    summary = await refresh_deezer_fans(database, deezer, run_date=EVENING)
    (result,) = summary.results
    assert (result.previous_value, result.change) == (1_150_000, 29_259)
    async with database.session() as session:
        series = await library.metric_series(session, [artist_id], "deezer", "followers")
        assert await repository.latest_metric(session, artist_id, "deezer", "followers") == 1_179_259
    assert series == {
        artist_id: [DailyFigure(MORNING.date() - timedelta(days=2), 1_100_000), DailyFigure(MORNING.date(), 1_179_259)]
    }
