"""Metric refresh runs: the history behind the results dialog."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from artist_desktop.domain import ArtistRecord
from artist_desktop.store import Database, RefreshRunStatus, repository

RUN_DATE = datetime(2024, 6, 1, 8, 30, tzinfo=UTC)


async def test_refresh_run_is_recorded_with_its_results(database: Database) -> None:
    async with database.session() as session:
        adele = await repository.upsert_artist(session, ArtistRecord(name="Adele", slug="adele"))
        bjork = await repository.upsert_artist(session, ArtistRecord(name="Björk", slug="bjork"))
        run_id = await repository.start_refresh_run(session, "deezer", RUN_DATE)
        await session.commit()

    async with database.session() as session:
        [running] = await repository.list_refresh_runs(session)
        assert (running.status, running.finished_at) == (RefreshRunStatus.RUNNING, None)
        await repository.add_refresh_result(
            session, run_id, adele, "Adele", True, value=7_000_000, previous_value=6_900_000
        )
        await repository.add_refresh_result(session, run_id, bjork, "Björk", False, error="Deezer: no data")
        await repository.finish_refresh_run(session, run_id, RefreshRunStatus.COMPLETE, total=2, updated=1, failed=1)
        await session.commit()

    async with database.session() as session:
        [run] = await repository.list_refresh_runs(session, platform="deezer")
        results = await repository.refresh_results(session, run_id)
    assert (run.id, run.platform, run.status, run.total, run.updated, run.failed) == (
        run_id,
        "deezer",
        RefreshRunStatus.COMPLETE,
        2,
        1,
        1,
    )
    assert run.run_date == RUN_DATE
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert [(r.artist_id, r.name, r.success, r.value, r.previous_value, r.error) for r in results] == [
        (adele, "Adele", True, 7_000_000, 6_900_000, None),
        (bjork, "Björk", False, None, None, "Deezer: no data"),
    ]


async def test_runs_are_listed_newest_first_and_a_final_status_is_required(database: Database) -> None:
    async with database.session() as session:
        first = await repository.start_refresh_run(session, "deezer", RUN_DATE)
        second = await repository.start_refresh_run(session, "deezer", RUN_DATE)
        other = await repository.start_refresh_run(session, "spotify", RUN_DATE)
        with pytest.raises(ValueError, match="final status"):
            await repository.finish_refresh_run(session, first, RefreshRunStatus.RUNNING, 0, 0, 0)
        await repository.finish_refresh_run(session, first, RefreshRunStatus.CANCELLED, 5, 2, 0)
        await session.commit()
        runs = await repository.list_refresh_runs(session)
        deezer_latest = await repository.list_refresh_runs(session, platform="deezer", limit=1)
    assert [run.id for run in runs] == [other, second, first]
    assert [run.id for run in deezer_latest] == [second]
    assert runs[2].status is RefreshRunStatus.CANCELLED
