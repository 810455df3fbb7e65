"""The Deezer fan-count refresh: the Deezer source alone through the refresh of all sources.

Kept as its own entry point for ``refresh-deezer`` (an alias of ``refresh --source deezer``), the Metrics menu's
"Refresh Deezer fans" and the daily schedule's callers: :func:`refresh_deezer_fans` runs
:func:`~artist_desktop.sources.refresh.refresh_sources` with the :class:`~artist_desktop.sources.deezer.DeezerSource`
and returns its run. Errors are that function's (:class:`NothingToRefresh` when no artist has a Deezer id,
:class:`DatabaseUnavailableError`, :class:`LockHeld` naming the other holder, cancellation).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from artist_desktop.domain import Platform
from artist_desktop.sources.deezer import DEFAULT_CONCURRENCY, NOT_FOUND, DeezerSource
from artist_desktop.sources.refresh import (
    DatabaseUnavailableError,
    LockHeld,
    NothingToRefresh,
    RefreshResult,
    RefreshStatus,
    RefreshSummary,
    refresh_sources,
)
from artist_desktop.store.locks import describe_holder

if TYPE_CHECKING:
    from artist_desktop.services.deezer import DeezerClient
    from artist_desktop.store.database import Database


async def refresh_deezer_fans(
    database: Database,
    deezer: DeezerClient,
    *,
    progress: Callable[[int, int, str], None] | None = None,
    run_date: datetime | None = None,
    only_artist_ids: set[int] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    holder: str | None = None,
) -> RefreshSummary:
    """Refresh the Deezer fan count (and album count) of every artist with a Deezer id (or ``only_artist_ids``).

    ``progress(done, total, artist_name)`` is called after each artist. ``run_date`` (default: now, UTC)
    dates every figure of the run; the store keeps one per artist and UTC day, so a second run the same day
    replaces the first one's figures. Two refreshes of Deezer never run at once on one database: the second
    raises :class:`LockHeld` naming the first's ``holder`` (default: this host and process).
    """

    def each(source: Platform, done: int, total: int, name: str) -> None:
        if progress is not None:
            progress(done, total, name)

    summary = await refresh_sources(
        database,
        [DeezerSource(deezer, concurrency=concurrency)],
        progress=each,
        run_date=run_date,
        only_artist_ids=only_artist_ids,
        holder=holder or describe_holder("Deezer refresh"),
    )
    return summary.runs[0]


__all__ = [
    "NOT_FOUND",
    "DatabaseUnavailableError",
    "LockHeld",
    "NothingToRefresh",
    "RefreshResult",
    "RefreshStatus",
    "RefreshSummary",
    "refresh_deezer_fans",
]
