"""The Deezer fan-count refresh end to end: a real SQLite file and the API double over real sockets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from artist_desktop.devtools import REMOVE, ApiDouble, DoubleConfig, Fault
from artist_desktop.services.deezer import FANS_NOT_AVAILABLE, DeezerArtist, DeezerClient
from artist_desktop.services.http import RetryPolicy
from artist_desktop.sources import (
    NOT_FOUND,
    RefreshResult,
    RefreshStatus,
    refresh_deezer_fans,
)
from artist_desktop.store import ArtistMetric, Database, repository

RUN_1 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
RUN_2 = RUN_1 + timedelta(days=7)
#: Fast retries: the injected 500s cost milliseconds instead of the production backoff.
FAST_RETRY = RetryPolicy(max_attempts=5, max_total=10.0, base_delay=0.01, max_delay=0.05)


def write_catalog(path: Path, count: int) -> Path:
    """A catalog of ``count`` Deezer artists: id 1000+i, fans 100 x (i + 1)."""
    entries = [{"id": 1000 + i, "name": f"Artist {i:03d}", "nb_fan": 100 * (i + 1)} for i in range(count)]
    path.write_text(json.dumps({"artists": [], "deezer_only": entries}), encoding="utf-8")
    return path


@pytest.fixture
async def double(tmp_path: Path) -> AsyncIterator[ApiDouble]:
    config = DoubleConfig(catalog_path=write_catalog(tmp_path / "catalog.json", 300))
    async with ApiDouble(config) as running:
        yield running


@pytest.fixture
async def deezer(double: ApiDouble) -> AsyncIterator[DeezerClient]:
    async with DeezerClient(double.urls.deezer_api_url, retry=FAST_RETRY) as client:
        yield client


async def seed(add_artist: Any, count: int) -> list[int]:
    """``count`` library artists whose Deezer ids the double knows; returns their ids in name order."""
    return [await add_artist(f"Artist {i:03d}", 1000 + i) for i in range(count)]


async def metric_rows(database: Database) -> list[tuple[int, float, datetime]]:
    async with database.session() as session:
        rows = await session.execute(
            select(ArtistMetric.artist_id, ArtistMetric.value, ArtistMetric.observed_at)
            .where(ArtistMetric.platform == "deezer", ArtistMetric.metric_type == "followers")
            .order_by(ArtistMetric.artist_id, ArtistMetric.day)
        )
        return [(artist_id, value, date) for artist_id, value, date in rows]


async def test_every_injected_case_gives_the_right_entry(
    database: Database, double: ApiDouble, deezer: DeezerClient, add_artist: Any
) -> None:
    ids = await seed(add_artist, 7)
    unknown = await add_artist("Zz Unknown", 999_999)  # Deezer answers code 800
    double.override_deezer_artist(1001, nb_fan=REMOVE)
    double.override_deezer_artist(1002, nb_fan="12")
    double.override_deezer_artist(1003, nb_fan=-5)
    double.inject("deezer", 1004, Fault.http(500), times=2)
    double.inject("deezer", 1005, Fault.malformed(), times=None)

    summary = await refresh_deezer_fans(database, deezer, run_date=RUN_1)

    by_id = {result.artist_id: result for result in summary.results}
    assert by_id[ids[0]] == RefreshResult(ids[0], "Artist 000", True, value=100), summary.results
    for index in (1, 2, 3):
        assert by_id[ids[index]].to_json() == {
            "artist_id": ids[index],
            "name": f"Artist {index:03d}",
            "success": False,
            "error": FANS_NOT_AVAILABLE,
        }
    assert by_id[ids[4]].success and by_id[ids[4]].value == 500  # 500 twice, then the answer
    assert double.request_count("deezer", "/artist/1004") == 3
    malformed = by_id[ids[5]]
    assert not malformed.success and malformed.error is not None and "not JSON" in malformed.error
    assert by_id[ids[6]].value == 700
    assert by_id[unknown].error == NOT_FOUND
    assert (summary.status, summary.total, summary.updated, summary.failed) == (
        RefreshStatus.COMPLETE,
        8,
        3,
        5,
    )
    assert summary.to_json()["success"] is True
    # Results keep the artists' (name) order; only the successes were written, all with the run's date.
    assert [result.artist_id for result in summary.results] == [*ids, unknown]
    assert await metric_rows(database) == [(ids[0], 100, RUN_1), (ids[4], 500, RUN_1), (ids[6], 700, RUN_1)]
    # The run and its per-artist results are the history the results dialog reopens.
    async with database.session() as session:
        (run,) = await repository.list_refresh_runs(session)
        stored = await repository.refresh_results(session, run.id)
    assert (run.id, run.status, run.total, run.updated, run.failed, run.run_date) == (
        summary.run_id,
        RefreshStatus.COMPLETE,
        8,
        3,
        5,
        RUN_1,
    )
    assert sorted((r.artist_id, r.success, r.value, r.error) for r in stored) == sorted(
        (r.artist_id, r.success, r.value, r.error) for r in summary.results
    )


@pytest.mark.parametrize("raw", [0, 7, "12", " 7 ", -5, True, 12.0, "lots", REMOVE])
async def test_the_refresh_stores_exactly_the_fan_counts_the_deezer_type_accepts(
    database: Database, double: ApiDouble, deezer: DeezerClient, add_artist: Any, raw: object
) -> None:
    """One rule: the refresh stores ``DeezerArtist.fans`` and otherwise says the type's one wording."""
    (artist_id,) = await seed(add_artist, 1)
    double.override_deezer_artist(1000, nb_fan=raw)
    expected = DeezerArtist(id=1000, name="Artist 000", nb_fan=None if raw is REMOVE else raw).fans

    (result,) = (await refresh_deezer_fans(database, deezer, run_date=RUN_1)).results

    assert (result.success, result.value) == (expected is not None, expected)
    assert result.error == (None if expected is not None else FANS_NOT_AVAILABLE)
    assert await metric_rows(database) == ([] if expected is None else [(artist_id, expected, RUN_1)])


async def test_a_database_error_for_one_artist_is_that_artists_failure(
    database: Database, deezer: DeezerClient, add_artist: Any
) -> None:
    ids = await seed(add_artist, 3)
    async with database.session() as session:  # the database itself refuses this one artist's value
        await session.execute(
            text(
                "CREATE TRIGGER refuse_one BEFORE INSERT ON artist_metrics "
                f"WHEN NEW.artist_id = {ids[1]} BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
            )
        )
        await session.commit()
    summary = await refresh_deezer_fans(database, deezer, run_date=RUN_1)
    assert [(r.success, r.error) for r in summary.results] == [
        (True, None),
        (False, "Database error: disk says no"),
        (True, None),
    ]
    assert (summary.status, summary.updated, summary.failed) == (RefreshStatus.COMPLETE, 2, 1)
    assert [row[0] for row in await metric_rows(database)] == [ids[0], ids[2]]
    async with database.session() as session:
        stored = await repository.refresh_results(session, summary.run_id)
    assert sorted((r.artist_id, r.success) for r in stored) == [
        (ids[0], True),
        (ids[1], False),
        (ids[2], True),
    ]


async def test_an_unexpected_error_marks_the_run_failed_and_propagates(
    database: Database, deezer: DeezerClient, add_artist: Any
) -> None:
    await seed(add_artist, 3)

    def broken_progress(done: int, total: int, name: str) -> None:
        raise RuntimeError("the progress dialog went away")

    with pytest.raises(RuntimeError, match="the progress dialog went away"):
        await refresh_deezer_fans(database, deezer, progress=broken_progress, run_date=RUN_1)
    async with database.session() as session:
        (run,) = await repository.list_refresh_runs(session)
    assert run.status is RefreshStatus.FAILED and run.finished_at is not None


async def test_same_run_date_twice_leaves_one_row_per_artist(
    database: Database, double: ApiDouble, deezer: DeezerClient, add_artist: Any
) -> None:
    ids = await seed(add_artist, 3)
    await refresh_deezer_fans(database, deezer, run_date=RUN_1)
    double.override_deezer_artist(1000, nb_fan=150)
    again = await refresh_deezer_fans(database, deezer, run_date=RUN_1)
    assert again.updated == 3
    assert await metric_rows(database) == [(ids[0], 150, RUN_1), (ids[1], 200, RUN_1), (ids[2], 300, RUN_1)]


async def test_two_dates_leave_two_rows_and_the_previous_value(
    database: Database, double: ApiDouble, deezer: DeezerClient, add_artist: Any
) -> None:
    ids = await seed(add_artist, 2)
    first = await refresh_deezer_fans(database, deezer, run_date=RUN_1)
    assert [result.previous_value for result in first.results] == [None, None]
    double.override_deezer_artist(1000, nb_fan=175)
    second = await refresh_deezer_fans(database, deezer, run_date=RUN_2)
    assert [(r.value, r.previous_value, r.change) for r in second.results] == [(175, 100, 75), (200, 200, 0)]
    assert await metric_rows(database) == [
        (ids[0], 100, RUN_1),
        (ids[0], 175, RUN_2),
        (ids[1], 200, RUN_1),
        (ids[1], 200, RUN_2),
    ]
    async with database.session() as session:
        stored = await repository.refresh_results(session, second.run_id)
    assert sorted(r.previous_value for r in stored if r.previous_value is not None) == [100, 200]


async def test_retry_failed_refreshes_only_those_artists(
    database: Database, double: ApiDouble, deezer: DeezerClient, add_artist: Any
) -> None:
    ids = await seed(add_artist, 4)
    double.inject("deezer", 1002, Fault.deezer(800), times=1)
    first = await refresh_deezer_fans(database, deezer, run_date=RUN_1)
    assert first.failed_artist_ids == {ids[2]}
    double.reset_counters()
    retry = await refresh_deezer_fans(database, deezer, run_date=RUN_1, only_artist_ids=first.failed_artist_ids)
    assert [(r.artist_id, r.success, r.value) for r in retry.results] == [(ids[2], True, 300)]
    assert double.request_count("deezer") == 1
    assert len(await metric_rows(database)) == 4


async def test_progress_reports_each_artist_up_to_the_total(
    database: Database, deezer: DeezerClient, add_artist: Any
) -> None:
    await seed(add_artist, 12)
    seen: list[tuple[int, int, str]] = []
    await refresh_deezer_fans(database, deezer, progress=lambda *step: seen.append(step), run_date=RUN_1)
    assert [done for done, _, _ in seen] == list(range(1, 13))
    assert {total for _, total, _ in seen} == {12}
    assert sorted(name for _, _, name in seen) == [f"Artist {i:03d}" for i in range(12)]


async def test_cancel_mid_run_keeps_what_was_written_and_marks_the_run(
    database: Database, double: ApiDouble, deezer: DeezerClient, add_artist: Any
) -> None:
    await seed(add_artist, 40)
    double.set_latency(0.05)
    five_done = asyncio.Event()

    def progress(done: int, total: int, name: str) -> None:
        if done >= 5:
            five_done.set()

    task = asyncio.create_task(refresh_deezer_fans(database, deezer, progress=progress, run_date=RUN_1))
    await asyncio.wait_for(five_done.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    written = await metric_rows(database)
    async with database.session() as session:
        (run,) = await repository.list_refresh_runs(session)
        stored = await repository.refresh_results(session, run.id)
        rows_now = await session.scalar(select(func.count()).select_from(ArtistMetric))
    assert run.status is RefreshStatus.CANCELLED and run.finished_at is not None
    assert 5 <= len(written) < 40
    assert rows_now == 2 * len(written)  # each artist's fans and albums, or neither
    assert run.updated == len(written) == len(stored) and run.failed == 0 and run.total == 40


@pytest.mark.serial  # measures the pace against the real quota: run alone
async def test_120_artists_stay_within_the_quota(database: Database, double: ApiDouble, add_artist: Any) -> None:
    """Deezer allows 50 requests / 5 s, which the double enforces: 120 artists span three windows and none is
    refused. How close the refresh runs to that bound is bench/'s figure (README, "Deezer refresh of 500")."""
    await seed(add_artist, 120)
    async with DeezerClient(double.urls.deezer_api_url) as deezer:  # production retry policy
        summary = await refresh_deezer_fans(database, deezer, run_date=RUN_1)
    assert (summary.updated, summary.failed) == (120, 0)
    assert double.rejections("deezer") == 0
