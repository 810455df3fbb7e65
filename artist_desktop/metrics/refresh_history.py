"""The Deezer refresh history as the window shows it: past runs and a run's stored results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from artist_desktop.domain import Platform
from artist_desktop.metrics.deezer_matcher import undo_match
from artist_desktop.metrics.deezer_refresh import RefreshResult, RefreshStatus, RefreshSummary
from artist_desktop.store import Database, repository

HISTORY_LIMIT = 200

__all__ = ["HISTORY_LIMIT", "RefreshRunRow", "deezer_refresh_runs", "stored_summary", "undo_matches"]


@dataclass(frozen=True, slots=True)
class RefreshRunRow:
    """One past Deezer refresh run as the history lists it."""

    run_id: int
    run_date: datetime
    status: RefreshStatus
    total: int
    updated: int
    failed: int


async def deezer_refresh_runs(database: Database, limit: int = HISTORY_LIMIT) -> list[RefreshRunRow]:
    """Past Deezer refresh runs, newest first."""
    async with database.session() as session:
        runs = await repository.list_refresh_runs(session, Platform.DEEZER, limit)
        return [
            RefreshRunRow(run.id, run.run_date, RefreshStatus(run.status), run.total, run.updated, run.failed)
            for run in runs
        ]


async def stored_summary(database: Database, run: RefreshRunRow) -> RefreshSummary:
    """A past run's figures and per-artist results (sorted by name), as the results dialog shows them."""
    async with database.session() as session:
        rows = await repository.refresh_results(session, run.run_id)
        results = [
            RefreshResult(row.artist_id, row.name, row.success, row.fans, row.error, row.previous_fans) for row in rows
        ]
    results.sort(key=lambda result: (result.name.casefold(), result.artist_id))
    return RefreshSummary(run.run_id, run.run_date, run.status, run.total, run.updated, run.failed, results)


async def undo_matches(database: Database, artist_ids: Sequence[int]) -> list[int]:
    """Forget the Deezer id of each artist in turn; returns those that had one."""
    return [artist_id for artist_id in artist_ids if await undo_match(database, artist_id)]
