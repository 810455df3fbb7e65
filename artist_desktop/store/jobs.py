"""The import-job ledger: one ``import_jobs`` row per artist import, queued, claimed, ended and queued again.

Status changes. The table of allowed changes is :class:`~artist_desktop.domain.JobStatus`; every change
below is checked against it, inside the UPDATE's WHERE, so two processes never both make the same one and a
change the table forbids never happens (a function asked for one raises ValueError):

- queued -> running: :func:`claim_job`, :func:`claim_next_job` (one more attempt).
- queued -> cancelled: :func:`cancel_queued_jobs`.
- running -> complete | error | cancelled: :func:`finish_job`.
- running -> queued, at its old place: :func:`resume_interrupted_jobs` (its worker died or stopped; every
  running job on start-up) and :func:`put_back_waiting` (a service pause stopped it; the attempt is not
  counted).
- complete | error | cancelled -> queued, at the end: :func:`requeue_jobs` (retry) and :func:`enqueue_jobs`
  (the artist queued again).

Without a status change: :func:`update_job_progress` and :func:`heartbeat_jobs` (a running job's stage and
heartbeat), :func:`remove_job` (the row goes), and the reads (:func:`get_jobs` and :func:`jobs_to_show` let a
view or the bus catch up with the ledger after missed updates). While a service is paused, the queued jobs
that need it stay queued ("Waiting for Spotify"): :func:`claim_next_job` passes them over and
:func:`count_waiting_for_spotify` / :func:`queued_needing_spotify` find them.

Batches: every :func:`enqueue_jobs` is one ``import_batches`` row (when, from where, how many) and its jobs
point at it (``batch_id``; a job queued again moves to the new batch); :func:`list_batches` counts each
batch's outcome and :func:`batch_jobs` lists one, so a view keeps a new batch apart from the old rows.

Callers own the transaction (they commit or roll back); these functions only flush. Exceptions: ValueError
for a change the status table forbids (a caller's bug, not the data's); everything else is SQLAlchemy's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from artist_desktop.domain import CANCELLED_MESSAGE, ImportRequest, JobStatus, Stage, utcnow
from artist_desktop.store._sql import chunks, dialect, rowcount
from artist_desktop.store.models import ImportBatch, ImportJob

__all__ = [
    "BATCH_SOURCES",
    "BatchSummary",
    "batch_jobs",
    "cancel_queued_jobs",
    "claim_job",
    "claim_next_job",
    "count_waiting_for_spotify",
    "enqueue_jobs",
    "finish_job",
    "get_job",
    "get_jobs",
    "heartbeat_jobs",
    "job_names",
    "jobs_to_show",
    "list_batches",
    "list_jobs",
    "next_queued_jobs",
    "put_back_waiting",
    "queued_needing_spotify",
    "remove_job",
    "requeue_jobs",
    "resume_interrupted_jobs",
    "running_workers",
    "update_job_progress",
]


def _changing(target: JobStatus, sources: Iterable[JobStatus]) -> ColumnElement[bool]:
    """The WHERE clause letting jobs in ``sources`` change to ``target``.

    Raises ValueError when :class:`JobStatus` forbids one of these changes.
    """
    chosen = list(dict.fromkeys(sources))
    refused = [status.value for status in chosen if not status.can_become(target)]
    if refused or not chosen:
        raise ValueError(f"a job cannot go from {', '.join(refused) or 'nothing'} to {target.value}")
    return ImportJob.status == chosen[0] if len(chosen) == 1 else ImportJob.status.in_(chosen)


def _back_in_queue(message: str = "") -> dict[str, Any]:
    """The columns of a job going back to the queue: stage INIT, no progress, no worker, neither started nor
    finished, saying ``message`` (put back, resumed after a crash, or queued again)."""
    return {
        "status": JobStatus.QUEUED,
        "stage": Stage.INIT,
        "progress": 0,
        "message": message,
        "worker": None,
        "started_at": None,
        "finished_at": None,
        "updated_at": utcnow(),
    }


def _queue_again(job: ImportJob, position: int) -> None:
    """A finished job (complete, error, cancelled) goes back to the queue at ``position``."""
    if not job.status.can_become(JobStatus.QUEUED):
        raise ValueError(f"a {job.status.value} job cannot be queued again")
    for name, value in _back_in_queue().items():
        setattr(job, name, value)
    job.position = position


async def _next_position(session: AsyncSession) -> int:
    last = await session.scalar(select(func.max(ImportJob.position)))
    return (last or 0) + 1


#: Where a batch came from: the window (Process all, Import ids, Retry), the ``import`` command, or ``serve``.
BATCH_SOURCES = ("window", "cli", "serve")


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """One batch and its outcome: its jobs per status now (a job queued again later belongs to the later batch)."""

    id: int
    created_at: datetime
    source: str
    total: int
    statuses: dict[JobStatus, int] = field(default_factory=dict)

    def count(self, status: JobStatus) -> int:
        return self.statuses.get(status, 0)

    @property
    def finished(self) -> bool:
        """No job of it is queued or running."""
        return not (self.count(JobStatus.QUEUED) or self.count(JobStatus.RUNNING))

    @property
    def outcome(self) -> str:
        """ "12 complete, 2 failed, 1 cancelled" (and "3 queued, 1 running" while it runs)."""
        parts = [
            f"{self.count(status)} {label}"
            for status, label in (
                (JobStatus.COMPLETE, "complete"),
                (JobStatus.ERROR, "failed"),
                (JobStatus.CANCELLED, "cancelled"),
                (JobStatus.RUNNING, "running"),
                (JobStatus.QUEUED, "queued"),
            )
            if self.count(status) or status in (JobStatus.COMPLETE, JobStatus.ERROR, JobStatus.CANCELLED)
        ]
        return ", ".join(parts)


async def enqueue_jobs(
    session: AsyncSession, items: Iterable[ImportRequest | tuple[str, str]], *, source: str = "window"
) -> list[ImportJob]:
    """Add artists to the end of the queue, in the order given, as one new batch (``source``: one of
    :data:`BATCH_SOURCES`); returns their jobs.

    An :class:`ImportRequest` may carry Spotify's artist object (picked from search results): it is kept
    with the job so METADATA needs no Spotify request. A job already queued or running is left as it is
    (it gains the artist object if it had none); a finished one (complete, error, cancelled) is queued
    again at the end, keeping its attempts count and last error.
    """
    wanted: dict[str, ImportRequest] = {}  # first occurrence fixes the order, the last name wins
    for item in items:
        request = item if isinstance(item, ImportRequest) else ImportRequest(item[0], item[1])
        earlier = wanted.get(request.spotify_id)
        if earlier is not None and request.spotify_artist is None:
            request = ImportRequest(request.spotify_id, request.name, earlier.spotify_artist)
        wanted[request.spotify_id] = request
    existing: dict[str, ImportJob] = {}
    for chunk in chunks(list(wanted)):
        for job in await session.scalars(select(ImportJob).where(ImportJob.spotify_id.in_(chunk))):
            existing[job.spotify_id] = job
    if source not in BATCH_SOURCES:
        raise ValueError(f"a batch comes from one of {', '.join(BATCH_SOURCES)}, not {source!r}")
    batch = ImportBatch(source=source, total=0, created_at=utcnow())
    session.add(batch)
    await session.flush()
    position = await _next_position(session)
    jobs: list[ImportJob] = []
    for spotify_id, request in wanted.items():
        name = request.name or spotify_id
        found = existing.get(spotify_id)
        if found is None:
            job = ImportJob(
                spotify_id=spotify_id,
                name=name,
                position=position,
                status=JobStatus.QUEUED,
                stage=Stage.INIT,
                progress=0,
                message="",
                attempts=0,
                spotify_artist=request.spotify_artist,
                batch_id=batch.id,
            )
            session.add(job)
            position += 1
            batch.total += 1
        else:
            job = found
            if request.spotify_artist is not None:
                job.spotify_artist = request.spotify_artist
            if job.status.is_final:
                if request.name or not job.name:
                    job.name = name
                _queue_again(job, position)
                job.batch_id = batch.id
                position += 1
                batch.total += 1
        jobs.append(job)
    if not batch.total:  # every artist was queued or running already: they stay in their batches
        await session.delete(batch)
    await session.flush()
    return jobs


async def list_batches(session: AsyncSession, limit: int = 200) -> list[BatchSummary]:
    """The newest ``limit`` batches, newest first, each with its jobs counted per status (one grouped read)."""
    batches = list(await session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(limit)))
    if not batches:
        return []
    counted: dict[int, dict[JobStatus, int]] = {batch.id: {} for batch in batches}
    rows = await session.execute(
        select(ImportJob.batch_id, ImportJob.status, func.count())
        .where(ImportJob.batch_id.in_(list(counted)))
        .group_by(ImportJob.batch_id, ImportJob.status)
    )
    for batch_id, status, count in rows.tuples():
        if batch_id is not None:
            counted[batch_id][JobStatus(status)] = int(count)
    return [BatchSummary(batch.id, batch.created_at, batch.source, batch.total, counted[batch.id]) for batch in batches]


async def batch_jobs(session: AsyncSession, batch_id: int) -> list[ImportJob]:
    """The jobs of one batch in selection order."""
    stmt = select(ImportJob).where(ImportJob.batch_id == batch_id).order_by(ImportJob.position, ImportJob.id)
    return list(await session.scalars(stmt.execution_options(populate_existing=True)))


async def get_job(session: AsyncSession, spotify_id: str) -> ImportJob | None:
    job: ImportJob | None = await session.scalar(
        select(ImportJob).where(ImportJob.spotify_id == spotify_id).execution_options(populate_existing=True)
    )
    return job


async def get_jobs(session: AsyncSession, spotify_ids: Iterable[str]) -> dict[str, ImportJob]:
    """These ids' jobs as the ledger holds them now, by Spotify id (ids with no job are left out)."""
    found: dict[str, ImportJob] = {}
    for chunk in chunks(list(dict.fromkeys(spotify_ids))):
        stmt = select(ImportJob).where(ImportJob.spotify_id.in_(chunk)).execution_options(populate_existing=True)
        found.update({job.spotify_id: job for job in await session.scalars(stmt)})
    return found


async def jobs_to_show(session: AsyncSession, finished_since: datetime) -> list[ImportJob]:
    """Unfinished jobs and those finished since ``finished_since``, in selection order: what a progress
    view shows, or the bus holds (a finished artist's update is kept for a while)."""
    stmt = (
        select(ImportJob)
        .where(ImportJob.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]) | (ImportJob.finished_at >= finished_since))
        .order_by(ImportJob.position, ImportJob.id)
    )
    return list(await session.scalars(stmt.execution_options(populate_existing=True)))


async def list_jobs(session: AsyncSession, statuses: Iterable[JobStatus] | None = None) -> list[ImportJob]:
    """The ledger in selection order (optionally only some statuses), for the queue view and history."""
    stmt = select(ImportJob).order_by(ImportJob.position, ImportJob.id)
    if statuses is not None:
        stmt = stmt.where(ImportJob.status.in_(list(statuses)))
    return list(await session.scalars(stmt.execution_options(populate_existing=True)))


async def job_names(session: AsyncSession, spotify_ids: Iterable[str]) -> dict[str, str]:
    """The display names the ledger knows for these ids (in chunks: SQL parameter lists are bounded)."""
    names: dict[str, str] = {}
    for chunk in chunks(list(dict.fromkeys(spotify_ids))):
        rows = await session.execute(
            select(ImportJob.spotify_id, ImportJob.name).where(ImportJob.spotify_id.in_(chunk))
        )
        names.update({spotify_id: name for spotify_id, name in rows.tuples()})
    return names


async def next_queued_jobs(session: AsyncSession, limit: int) -> list[ImportJob]:
    """The next ``limit`` queued jobs in selection order (not claimed: see :func:`claim_job`)."""
    stmt = (
        select(ImportJob)
        .where(ImportJob.status == JobStatus.QUEUED)
        .order_by(ImportJob.position, ImportJob.id)
        .limit(limit)
    )
    return list(await session.scalars(stmt.execution_options(populate_existing=True)))


async def claim_job(session: AsyncSession, job_id: int, worker: str) -> bool:
    """Take a queued job for ``worker`` (queued -> running, one more attempt); False if someone else did.

    The check and the change are one conditional UPDATE, so two workers never both win.
    """
    now = utcnow()
    result = await session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, _changing(JobStatus.RUNNING, [JobStatus.QUEUED]))
        .values(
            status=JobStatus.RUNNING,
            stage=Stage.INIT,
            progress=0,
            attempts=ImportJob.attempts + 1,
            worker=worker,
            started_at=now,
            heartbeat_at=now,
            finished_at=None,
            updated_at=now,
        )
        .execution_options(synchronize_session="fetch")
    )
    return rowcount(result) == 1


async def claim_next_job(session: AsyncSession, worker: str, *, spotify_paused: bool = False) -> ImportJob | None:
    """Claim the first queued job in selection order, or None when the queue is empty.

    With ``spotify_paused`` (Spotify's quota is used up) only jobs that carry their Spotify artist object
    are claimed: the others need a Spotify request and wait in the queue.
    On PostgreSQL the candidate is locked with ``FOR UPDATE SKIP LOCKED`` so concurrent workers pick
    different jobs without waiting; on SQLite (one writer at a time) a lost race simply tries the next.
    """
    while True:
        stmt = (
            select(ImportJob.id)
            .where(ImportJob.status == JobStatus.QUEUED)
            .order_by(ImportJob.position, ImportJob.id)
            .limit(1)
        )
        if spotify_paused:
            stmt = stmt.where(ImportJob.spotify_artist.is_not(None))
        if dialect(session) == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        job_id = await session.scalar(stmt)
        if job_id is None:
            return None
        if await claim_job(session, job_id, worker):
            return await session.get(ImportJob, job_id, populate_existing=True)


async def update_job_progress(
    session: AsyncSession, spotify_id: str, stage: Stage, progress: int, message: str
) -> bool:
    """Record the job's current stage (also its heartbeat); False if there is no such job."""
    now = utcnow()
    result = await session.execute(
        update(ImportJob)
        .where(ImportJob.spotify_id == spotify_id)
        .values(stage=stage, progress=progress, message=message, heartbeat_at=now, updated_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return rowcount(result) > 0


async def finish_job(
    session: AsyncSession,
    spotify_id: str,
    status: JobStatus,
    error: str | None = None,
    artist_id: int | None = None,
    name: str | None = None,
    failed_stage: Stage | None = None,
) -> bool:
    """Close a running job: complete (stage COMPLETE, 100 %), error (progress kept) or cancelled.

    An error records ``failed_stage`` (the stage that failed) as the job's stage, or ERROR when unknown.

    ``error`` becomes ``last_error`` (cleared on success); ``artist_id`` and ``name`` (the name the
    import found) are recorded when given. False if there is no such running job (a queued one is
    cancelled with :func:`cancel_queued_jobs`; a finished one stays as it ended).
    """
    if not status.is_final:
        raise ValueError(f"finish_job needs a final status, not {status.value!r}")
    now = utcnow()
    values: dict[str, Any] = {
        "status": status,
        "last_error": error,
        "finished_at": now,
        "heartbeat_at": now,
        "updated_at": now,
    }
    if status is JobStatus.COMPLETE:
        values.update(stage=Stage.COMPLETE, progress=100)
    elif status is JobStatus.ERROR:
        values["stage"] = failed_stage or Stage.ERROR
    if artist_id is not None:
        values["artist_id"] = artist_id
    if name:
        values["name"] = name
    result = await session.execute(
        update(ImportJob)
        .where(ImportJob.spotify_id == spotify_id, _changing(status, [JobStatus.RUNNING]))
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    return rowcount(result) > 0


async def cancel_queued_jobs(
    session: AsyncSession, spotify_ids: Iterable[str] | None = None, reason: str = CANCELLED_MESSAGE
) -> list[str]:
    """Cancel queued jobs (these ids, or all when None) so they never start; returns the ids cancelled.

    Running jobs are untouched: their worker stops them and records the outcome with :func:`finish_job`.
    """
    now = utcnow()
    stmt = update(ImportJob).where(_changing(JobStatus.CANCELLED, [JobStatus.QUEUED]))
    if spotify_ids is not None:
        wanted = list(dict.fromkeys(spotify_ids))
        if not wanted:
            return []
        stmt = stmt.where(ImportJob.spotify_id.in_(wanted))
    result = await session.execute(
        stmt.values(status=JobStatus.CANCELLED, last_error=reason, finished_at=now, updated_at=now)
        .returning(ImportJob.spotify_id, ImportJob.position)
        .execution_options(synchronize_session="fetch")
    )
    return [spotify_id for spotify_id, _ in sorted(result.all(), key=lambda row: row[1])]


async def requeue_jobs(session: AsyncSession, statuses: Iterable[JobStatus]) -> int:
    """Queue every job in these final statuses again, at the end in their old order (retry failed).

    Running jobs are not accepted: a live worker owns them (see :func:`resume_interrupted_jobs`).
    """
    wanted = set(statuses)
    if not all(status.is_final for status in wanted):
        raise ValueError("only finished jobs (complete, error, cancelled) can be requeued")
    if not wanted:
        return 0
    jobs = list(
        await session.scalars(
            select(ImportJob).where(ImportJob.status.in_(list(wanted))).order_by(ImportJob.position, ImportJob.id)
        )
    )
    position = await _next_position(session)
    for offset, job in enumerate(jobs):
        _queue_again(job, position + offset)
    await session.flush()
    return len(jobs)


async def count_waiting_for_spotify(session: AsyncSession) -> int:
    """Queued jobs that need a Spotify request (they carry no Spotify artist object)."""
    count = await session.scalar(
        select(func.count())
        .select_from(ImportJob)
        .where(ImportJob.status == JobStatus.QUEUED, ImportJob.spotify_artist.is_(None))
    )
    return int(count or 0)


async def queued_needing_spotify(session: AsyncSession) -> list[str]:
    """The ids of queued jobs that need a Spotify request, in selection order."""
    result = await session.scalars(
        select(ImportJob.spotify_id)
        .where(ImportJob.status == JobStatus.QUEUED, ImportJob.spotify_artist.is_(None))
        .order_by(ImportJob.position, ImportJob.id)
    )
    return list(result)


async def put_back_waiting(session: AsyncSession, spotify_id: str, message: str) -> bool:
    """A running job that a service pause stopped goes back to the queue at its old place (running -> queued),
    its attempt not counted, with ``message`` ("Waiting for Spotify (resumes 14:20)")."""
    result = await session.execute(
        update(ImportJob)
        .where(ImportJob.spotify_id == spotify_id, _changing(JobStatus.QUEUED, [JobStatus.RUNNING]))
        .values(
            **_back_in_queue(message),
            attempts=case((ImportJob.attempts > 0, ImportJob.attempts - 1), else_=0),
        )
        .execution_options(synchronize_session="fetch")
    )
    return rowcount(result) > 0


async def heartbeat_jobs(session: AsyncSession, worker: str, spotify_ids: Iterable[str]) -> int:
    """Say the worker still runs these jobs (so no other worker takes them over); returns how many."""
    wanted = list(spotify_ids)
    if not wanted:
        return 0
    result = await session.execute(
        update(ImportJob)
        .where(ImportJob.status == JobStatus.RUNNING, ImportJob.worker == worker, ImportJob.spotify_id.in_(wanted))
        .values(heartbeat_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return rowcount(result)


async def running_workers(session: AsyncSession) -> set[str | None]:
    """The workers named on running jobs (None: a job from before workers were recorded)."""
    result = await session.execute(select(ImportJob.worker).where(ImportJob.status == JobStatus.RUNNING).distinct())
    return set(result.scalars().all())


async def resume_interrupted_jobs(
    session: AsyncSession, worker: str | None = None, heartbeat_before: datetime | None = None
) -> int:
    """Put jobs left running by a process that died back in the queue (at their old place).

    With no filter every running job is requeued (start-up of the only process); ``worker`` limits it
    to one worker's jobs and ``heartbeat_before`` to jobs silent since then (a shared server).
    """
    stmt = update(ImportJob).where(_changing(JobStatus.QUEUED, [JobStatus.RUNNING]))
    if worker is not None:
        stmt = stmt.where(ImportJob.worker == worker)
    if heartbeat_before is not None:
        stmt = stmt.where(ImportJob.heartbeat_at < heartbeat_before)
    result = await session.execute(stmt.values(**_back_in_queue()).execution_options(synchronize_session="fetch"))
    return rowcount(result)


async def remove_job(session: AsyncSession, spotify_id: str) -> bool:
    """Delete the job from the ledger (the artist, if imported, stays); True if it existed."""
    result = await session.execute(
        delete(ImportJob).where(ImportJob.spotify_id == spotify_id).execution_options(synchronize_session="fetch")
    )
    return rowcount(result) > 0
