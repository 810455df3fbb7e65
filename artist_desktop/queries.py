"""Read-only queries the window needs, each opening its own short session on the database."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from artist_desktop.domain import JobStatus
from artist_desktop.store import Database, LibraryRow, repository

__all__ = [
    "QueuedArtist",
    "job_names",
    "library",
    "metric_history",
    "spotify_ids_in_library",
    "unfinished_jobs",
]


@dataclass(frozen=True, slots=True)
class QueuedArtist:
    """An artist waiting in the job ledger (queued, or left running by a process that stopped)."""

    spotify_id: str
    name: str
    status: JobStatus


async def unfinished_jobs(database: Database) -> list[QueuedArtist]:
    """Queued and running jobs in selection order: the queue that survives a restart."""
    async with database.session() as session:
        jobs = await repository.list_jobs(session, (JobStatus.QUEUED, JobStatus.RUNNING))
    return [QueuedArtist(job.spotify_id, job.name, job.status) for job in jobs]


async def job_names(database: Database, spotify_ids: Iterable[str]) -> dict[str, str]:
    """The display names the ledger knows for these ids (progress updates carry no name)."""
    async with database.session() as session:
        return await repository.job_names(session, spotify_ids)


async def spotify_ids_in_library(database: Database, spotify_ids: Iterable[str]) -> set[str]:
    """Which of these Spotify ids are already imported (the "In library" badge)."""
    async with database.session() as session:
        return await repository.spotify_ids_in_library(session, spotify_ids)


async def library(database: Database) -> list[LibraryRow]:
    """Every imported artist with its latest followers per platform, by name."""
    async with database.session() as session:
        return await repository.library_rows(session)


async def metric_history(database: Database, artist_id: int) -> dict[tuple[str, str], list[tuple[datetime, float]]]:
    """One artist's metric series: (platform, metric) -> [(date, value)] oldest first."""
    async with database.session() as session:
        return await repository.metric_history(session, artist_id)
