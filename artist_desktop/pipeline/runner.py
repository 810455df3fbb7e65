"""The batch runner: imports queued artists, many at once, through the durable job ledger.

Every artist is an `import_jobs` row: queued -> running -> complete | error | cancelled. The runner claims
queued jobs in selection order, runs the stages, and records the end; cancel and retry act on the ledger
and on the running tasks. Jobs a crashed process left running go back to the queue on start-up.
One artist's failure never stops the others.

Artists in flight are cheap coroutines: they wait on the services' gates and on coalesced lookups (a whole
batch shares one MusicBrainz request), so a runner keeps up to :data:`IN_FLIGHT` of them going. The requests
they send are bounded by the gates: each host's quota, and ``CONCURRENCY`` requests to one host at once. In
team mode (a PostgreSQL ledger) a worker takes only ``CONCURRENCY`` artists at a time, so that the team's
workers, each on its own machine and quotas, share the queue.

Service pauses: when Spotify's daily quota is used up (or the app owner lacks Premium) the artist that hit
it goes back to the queue, the pause is recorded in the database (shared by every process) and on the bus,
and jobs that need a Spotify request stay queued as "Waiting for Spotify (resumes 14:20)" until it ends;
artists picked from search results (they carry Spotify's object) keep importing meanwhile.

Outages (the database or Redis away for a while) pause work, never end it. Errors: :func:`is_outage` says which
errors are an outage (a refused or dropped connection, a timeout: retried) and which are not (anything else: an
artist's error). Redis: progress goes through a :class:`~artist_desktop.bus.progress.DeferredPublisher`, so an
import never fails because Redis is away (the ledger is the truth; the updates are published when it is back).
The database: the claim loop and the heartbeat log the outage once, back off (:data:`OUTAGE_BACKOFF` doubling
to :data:`OUTAGE_BACKOFF_MAX` seconds) and go on; an import the outage interrupted goes back to the queue (its
attempt not counted) and an ending is written once the database answers. A loop that ends by a bug is logged and
restarted. :meth:`BatchRunner.loop_state` tells health what the loop does (:class:`LoopState`). The command
line's batch waits for the database up to ``patience`` seconds, then raises :class:`DatabaseUnavailable`.

Pausing the queue: while the queue is paused (:meth:`BatchRunner.pause_queue`, a row in the database that every
process sees) no job is claimed; running ones finish. A required service's outage pauses it by itself: an
artist whose Spotify request failed because Spotify is down (5xx, refused or dropped connection, timeout; not
the quota, which has its own pause) goes back to the queue instead of failing, and when ``outage_after``
artists in a row met it the queue is paused with the reason; every ``probe_interval`` seconds one Spotify
request probes it, and the first answer resumes the queue. :meth:`BatchRunner.queue_state` says why it is
paused (a person, Spotify, or the database away).

Batches: every enqueue is one batch (``import_batches``); every update the runner publishes carries its
artist's ``payload["batch_id"]`` when known, so a view groups rows by batch without reading the ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import functools
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from artist_desktop.bus import ProgressBus, WorkerRegistry
from artist_desktop.bus.progress import FINAL_TTL_SECONDS, DeferredPublisher
from artist_desktop.domain import (
    CANCELLED_MESSAGE,
    ImportRequest,
    JobStatus,
    ProgressUpdate,
    ServicePause,
    Stage,
    utcnow,
)
from artist_desktop.pipeline.media_cache import MediaCache
from artist_desktop.pipeline.stages import (
    SPOTIFY,
    ArtistImport,
    Reporter,
    ServicePaused,
    StageDeps,
    StageFailed,
    run_stages,
)
from artist_desktop.services import ServiceClients, ServiceError
from artist_desktop.services.errors import (
    NotFoundError,
    RateLimitedError,
    ServiceUnavailableError,
    SourceSkippedError,
)
from artist_desktop.services.images import ImageClient
from artist_desktop.store import Database, jobs, service_state
from artist_desktop.store.models import ImportJob

log = logging.getLogger(__name__)

#: While a pause holds jobs back, a batch re-reads the database this often (seconds): a pause another
#: process recorded, or the end of one, is seen within this time.
PAUSE_POLL = 5.0
#: How often a batch looks at its jobs that another worker runs (seconds).
ELSEWHERE_POLL = 0.5
#: Artists one runner imports at once outside team mode: a full MusicBrainz batch.
IN_FLIGHT = 100
#: What an import interrupted by a database outage says while it waits in the queue again.
INTERRUPTED_MESSAGE = "Queued (interrupted: the database was away)"
#: After an outage error a background loop waits this long (seconds), doubling up to OUTAGE_BACKOFF_MAX.
OUTAGE_BACKOFF = 1.0
OUTAGE_BACKOFF_MAX = 10.0
#: The claim loop passes at least every 5 s; with no pass for this long (seconds) health calls it stalled.
STALLED_AFTER = 30.0
#: How long the command line's batch waits for the database to come back (seconds) before giving up.
DATABASE_PATIENCE = 60.0
#: Artists in a row whose Spotify request met an outage before the queue pauses itself.
OUTAGE_AFTER = 3
#: While an outage pauses the queue, Spotify is probed this often (seconds).
PROBE_INTERVAL = 30.0
#: The id the probe asks Spotify for: well formed and nobody's, so any answer (404 too) means Spotify is back.
PROBE_ID = "0" * 22
#: What an artist put back by a Spotify outage says while it waits.
SPOTIFY_DOWN_MESSAGE = "Waiting for Spotify (not answering)"

T = TypeVar("T")


class LoopState(enum.StrEnum):
    """What a runner's claim loop is doing, for health.

    - stopped: not started (the command line, or team mode leaving imports to `serve`), or stopped;
      it goes to running on :meth:`BatchRunner.start`.
    - running: it passed within :data:`STALLED_AFTER` seconds.
    - retrying: the database or Redis is away; it backs off and tries again (back to running when it answers).
    - stalled: no pass for :data:`STALLED_AFTER` seconds (stuck); health reports it.
    """

    STOPPED = "stopped"
    RUNNING = "running"
    RETRYING = "retrying"
    STALLED = "stalled"


@dataclass(frozen=True, slots=True)
class QueueState:
    """Whether the queue claims jobs, and if not why: ``reason`` is what the window's status bar says after
    "Queue paused"; ``by_user`` when a person paused it (Resume queue lifts it), else an outage holds it and
    it resumes by itself."""

    paused: bool
    reason: str = ""
    by_user: bool = False

    @property
    def text(self) -> str:
        """ "Queue paused", "Queue paused: Spotify is not answering (…)", or "" while it runs."""
        if not self.paused:
            return ""
        return "Queue paused" if self.by_user or not self.reason else f"Queue paused: {self.reason}"


class DatabaseUnavailable(Exception):
    """The database stayed away longer than the batch's patience; the jobs stay in the ledger for the next run."""


#: SQLite's words for a database that is busy or out of room for a while (its OperationalError is also a bug's).
_TRANSIENT_SQLITE = ("database is locked", "disk is full", "disk i/o error", "unable to open database")


def is_outage(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) is the database or Redis being away: a refused or dropped
    connection, a timeout, SQLite busy or out of disk. Those are retried; anything else is a real failure
    (a bug, bad data, an external service's error: a :class:`ServiceError` is never an outage here).
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ServiceError):
            return False
        if isinstance(current, (OSError, TimeoutError, RedisConnectionError, RedisTimeoutError, InterfaceError)):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, OperationalError) and any(words in str(current).lower() for words in _TRANSIENT_SQLITE):
            return True
        current = current.__cause__ or current.__context__
    return False


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """How one artist's import ended, for the batch summary (`import --json` prints these)."""

    spotify_id: str
    name: str
    status: JobStatus
    stage: Stage
    error: str | None
    #: Not imported again: it was imported today already (`import` without ``--refresh``); status "skipped".
    skipped: bool = False

    def to_json(self) -> dict[str, str | None]:
        return {
            "spotify_id": self.spotify_id,
            "name": self.name,
            "status": "skipped" if self.skipped else self.status.value,
            "stage": self.stage.value,
            "error": self.error,
        }


def spotify_outage(exc: BaseException) -> ServiceUnavailableError | None:
    """The Spotify error behind ``exc`` when it says Spotify is down (5xx, a refused or dropped connection, a
    timeout), else None: a quota or rate limit, a missing artist or a bad answer are not an outage."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if (
            isinstance(current, ServiceUnavailableError)
            and not isinstance(current, (SourceSkippedError, RateLimitedError))
            and current.service == SPOTIFY
            and (current.status is None or current.status >= 500)
        ):
            return current
        current = current.__cause__ or current.__context__
    return None


def ledger_update(job: ImportJob) -> ProgressUpdate:
    """The progress update that says what the ledger holds for ``job`` (to publish when the bus lost it), with
    its batch in ``payload["batch_id"]``."""
    update = _ledger_update(job)
    return update if job.batch_id is None else _with_batch(update, job.batch_id)


def _with_batch(update: ProgressUpdate, batch_id: int) -> ProgressUpdate:
    return dataclasses.replace(update, payload={**(update.payload or {}), "batch_id": batch_id})


def _ledger_update(job: ImportJob) -> ProgressUpdate:
    if job.status is JobStatus.COMPLETE:
        return ProgressUpdate(job.spotify_id, Stage.COMPLETE, 100, "Imported", payload={"artist_id": job.artist_id})
    if job.status is JobStatus.CANCELLED:
        return ProgressUpdate.cancellation(job.spotify_id, job.progress, job.stage if job.started_at else Stage.INIT)
    if job.status is JobStatus.ERROR:
        stage = job.stage if not job.stage.is_final else Stage.INIT
        reason = job.last_error or "Failed"
        return ProgressUpdate(
            job.spotify_id, Stage.ERROR, job.progress, reason, payload={"stage": stage.value, "reason": reason}
        )
    if job.status is JobStatus.RUNNING:
        return ProgressUpdate(job.spotify_id, job.stage, job.progress, job.message or "Running")
    return ProgressUpdate(job.spotify_id, Stage.INIT, 0, job.message or "Queued")


def _as_utc(when: datetime) -> datetime:
    """A ledger time as aware UTC (SQLite gives it back naive)."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _local_process_is_gone(worker: str) -> bool:
    """True when `worker` ("host:pid") names a process of this machine that no longer runs."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class BatchRunner:
    """Runs import jobs from the ledger, at most `in_flight` at once.

    ``concurrency`` is the ``CONCURRENCY`` setting, requests to one host at once (the gates hold it); it is
    also ``in_flight``'s default in team mode, where :data:`IN_FLIGHT` would leave the other workers idle.
    """

    def __init__(
        self,
        database: Database,
        bus: ProgressBus,
        clients: ServiceClients,
        images: ImageClient,
        media: MediaCache,
        *,
        concurrency: int = 4,
        in_flight: int | None = None,
        worker: str | None = None,
        job_timeout: float = 60.0,
        registry: WorkerRegistry | None = None,
        probe_interval: float = PROBE_INTERVAL,
        outage_after: int = OUTAGE_AFTER,
    ) -> None:
        self.database = database
        self.bus = bus
        self.deps = StageDeps(clients=clients, images=images, media=media, database=database, bus=bus)
        self.concurrency = concurrency
        team = database.dialect == "postgresql"
        self.in_flight = in_flight if in_flight is not None else concurrency if team else max(concurrency, IN_FLIGHT)
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}"
        self._running: dict[str, asyncio.Task[None]] = {}
        self._started: set[str] = set()  # imports whose task has begun (and so records its own end)
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._batch_ts: datetime | None = None
        self.job_timeout = job_timeout
        self.registry = registry
        self._stopping = False  # shutting down: running imports go back to the queue, not to "cancelled"
        #: The Spotify pause this runner last saw (from its own imports or from the database).
        self.spotify_pause: ServicePause | None = None
        #: Progress goes out through this: a Redis outage never fails an import (updates wait for Redis).
        self.publisher = DeferredPublisher(bus, on_back=self.republish_ledger)
        #: How long the command line's batch waits for the database (seconds); the serving loop waits forever.
        self.patience = DATABASE_PATIENCE
        self._loop_passed = 0.0  # monotonic time of the claim loop's last pass
        self._outage: str | None = None  # what the claim loop is waiting for, while it retries
        self._outage_started = 0.0
        self._batch_mode = False  # run_until_idle runs: a database outage is waited out for `patience` only
        #: The batch of each artist this runner queued or claimed (tags its updates).
        self._batch_of: dict[str, int] = {}
        #: The batch the last :meth:`enqueue` made.
        self.last_batch_id: int | None = None
        #: Spotify outage: probe every `probe_interval` s once `outage_after` artists in a row met it.
        self.probe_interval = probe_interval
        self.outage_after = outage_after
        self._spotify_failures = 0
        self._last_probe = 0.0
        #: The queue's pause as last read from the database (None: it runs).
        self.queue_pause: ServicePause | None = None
        self._tagger = _BatchTagger(self)

    # -- the ledger ----------------------------------------------------------------------------
    async def _publish(self, update: ProgressUpdate) -> ProgressUpdate:
        """Publish through the deferred publisher, the artist's batch added to the payload when known."""
        batch_id = self._batch_of.get(update.spotify_id)
        if batch_id is not None and (update.payload or {}).get("batch_id") != batch_id:
            update = _with_batch(update, batch_id)
        return await self.publisher.publish(update)

    async def enqueue(self, items: Sequence[ImportRequest | tuple[str, str]], *, source: str = "cli") -> list[str]:
        """Queue artists in selection order as one batch (``source``: window, cli or serve); returns the ids
        queued (:attr:`last_batch_id` is the batch).

        An :class:`ImportRequest` with ``spotify_artist`` (picked from search results) imports with no Spotify
        request; a bare id, or a ``(spotify id, display name)`` pair, fetches the artist in METADATA.
        Raises ValueError naming every malformed id (nothing is queued then).
        """
        requests = ImportRequest.many(items)  # a request's id is valid; pairs are checked here, all at once
        async with self.database.session() as session, session.begin():
            queued = await jobs.enqueue_jobs(session, requests, source=source)
            pause = await service_state.active_pause(session, SPOTIFY)
        for job in queued:
            if job.batch_id is not None:
                self._batch_of[job.spotify_id] = job.batch_id
                self.last_batch_id = job.batch_id
        for job in queued:
            if job.status is JobStatus.QUEUED:
                await self._publish(self._queued_update(job.spotify_id, pause, job.spotify_artist is None))
        self._wake.set()
        return [job.spotify_id for job in queued]

    @staticmethod
    def _queued_update(spotify_id: str, pause: ServicePause | None, needs_spotify: bool) -> ProgressUpdate:
        """ "Queued", or "Waiting for Spotify (resumes 14:20)" when a pause holds the job back."""
        if pause is None or not needs_spotify:
            return ProgressUpdate(spotify_id, Stage.INIT, 0, "Queued")
        return ProgressUpdate(
            spotify_id,
            Stage.INIT,
            0,
            pause.waiting_message(),
            details=pause.reason,
            payload={"waiting_for": pause.service, "resume_at": pause.resume_at.isoformat()},
        )

    async def imported_today(self, spotify_ids: Iterable[str]) -> list[str]:
        """The ids among these whose import completed today (UTC, the day of their stored figures), in order:
        a rerun skips them unless asked to refresh."""
        wanted = list(dict.fromkeys(spotify_ids))
        today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        async with self.database.session() as session:
            found = await jobs.get_jobs(session, wanted)
        return [
            spotify_id
            for spotify_id in wanted
            if (job := found.get(spotify_id)) is not None
            and job.status is JobStatus.COMPLETE
            and job.finished_at is not None
            and _as_utc(job.finished_at) >= today
        ]

    async def current_spotify_pause(self) -> ServicePause | None:
        """The Spotify pause in force (shared through the database), or None."""
        async with self.database.session() as session:
            return await service_state.active_pause(session, SPOTIFY)

    async def waiting_jobs(self) -> list[str]:
        """Queued artists held back by the Spotify pause in force (none when there is no pause)."""
        async with self.database.session() as session:
            if await service_state.active_pause(session, SPOTIFY) is None:
                return []
            return await jobs.queued_needing_spotify(session)

    async def resume_interrupted(self) -> int:
        """Jobs whose worker died go back to the queue: at once when it was a process of this machine that
        is gone, else once its heartbeat is older than `job_timeout` (a worker on another machine)."""
        async with self.database.session() as session, session.begin():
            workers = await jobs.running_workers(session)
            count = 0
            for worker in workers:
                if worker is not None and worker != self.worker and _local_process_is_gone(worker):
                    count += await jobs.resume_interrupted_jobs(session, worker=worker)
            count += await jobs.resume_interrupted_jobs(
                session, heartbeat_before=utcnow() - timedelta(seconds=self.job_timeout)
            )
        if count:
            log.info("resuming %d interrupted import(s)", count)
            self._wake.set()
        return count

    async def republish_ledger(self) -> int:
        """Publish the ledger's state of each job the bus holds no update of (a restarted Redis starts empty):
        queued and finished jobs (within the bus's keep time); running ones publish their next step themselves.
        Returns how many were published."""
        async with self.database.session() as session:
            shown = await jobs.jobs_to_show(session, utcnow() - timedelta(seconds=FINAL_TTL_SECONDS))
        have = await self.bus.snapshots()
        missing = [job for job in shown if job.spotify_id not in have and job.status is not JobStatus.RUNNING]
        for job in missing:
            await self._publish(ledger_update(job))
        if missing:
            log.info("published the ledger's state of %d import(s) the bus had lost", len(missing))
        return len(missing)

    async def _heartbeat(self) -> None:
        """While the runner works: keep our jobs' heartbeats fresh, announce the worker, take over dead ones.

        Each step fails on its own (Redis away does not stop the ledger's heartbeat); a failing step is logged
        when it starts failing and when it works again, never per beat, and the beat goes on.
        """
        interval = max(0.5, self.job_timeout / 4)
        failing: set[str] = set()
        try:
            while True:
                await self._beat_step("the jobs' heartbeat", self._beat_jobs, failing)
                if self.registry is not None:
                    announce = functools.partial(self.registry.announce, self.worker, ttl=self.job_timeout)
                    await self._beat_step("the worker's announcement", announce, failing)
                await self._beat_step("taking over dead workers' jobs", self.resume_interrupted, failing)
                await asyncio.sleep(interval)
        finally:
            if self.registry is not None:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self.registry.withdraw(self.worker))

    async def _beat_jobs(self) -> None:
        async with self.database.session() as session, session.begin():
            await jobs.heartbeat_jobs(session, self.worker, list(self._running))

    @staticmethod
    async def _beat_step(what: str, step: Callable[[], Awaitable[object]], failing: set[str]) -> None:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the heartbeat must outlive every error; a bug is logged with its traceback
            if what not in failing:
                failing.add(what)
                log.warning("%s failed (%s); retrying every beat", what, exc, exc_info=not is_outage(exc))
            return
        if what in failing:
            failing.discard(what)
            log.warning("%s works again", what)

    @contextlib.asynccontextmanager
    async def _beating(self) -> AsyncIterator[None]:
        task = asyncio.get_running_loop().create_task(self._heartbeat(), name="runner-heartbeat")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def retry(self, spotify_id: str, *, source: str = "window") -> None:
        await self._requeue([spotify_id], source=source)

    async def retry_failed(self) -> int:
        async with self.database.session() as session:
            ledger = await jobs.list_jobs(session)
        failed = [job.spotify_id for job in ledger if job.status in (JobStatus.ERROR, JobStatus.CANCELLED)]
        await self._requeue(failed)
        return len(failed)

    async def _requeue(self, spotify_ids: list[str], *, source: str = "window") -> None:
        if not spotify_ids:
            return
        async with self.database.session() as session, session.begin():
            names = {job.spotify_id: job.name for job in await jobs.list_jobs(session)}
        await self.enqueue(
            [(spotify_id, names.get(spotify_id, spotify_id)) for spotify_id in spotify_ids], source=source
        )

    async def cancel(self, spotify_id: str) -> None:
        """Stop one artist: a queued one never starts, a running one stops where it is (nothing half-saved)."""
        if spotify_id in self._running:
            await self._cancel_tasks([spotify_id])
            return
        async with self.database.session() as session, session.begin():
            changed = await jobs.cancel_queued_jobs(session, [spotify_id])
        for cancelled in changed:
            await self._publish_cancelled(cancelled, 0)

    async def cancel_all(self) -> None:
        async with self.database.session() as session, session.begin():
            changed = await jobs.cancel_queued_jobs(session, None)
        for cancelled in changed:
            await self._publish_cancelled(cancelled, 0)
        while self._running:  # a claim in flight while the queue was cancelled adds one more task
            await self._cancel_running()

    async def remove(self, spotify_id: str) -> None:
        """Take an artist off the queue (and out of the progress view)."""
        await self.cancel(spotify_id)
        async with self.database.session() as session, session.begin():
            await jobs.remove_job(session, spotify_id)
        await self.bus.clear(spotify_id)

    async def outcomes(self, spotify_ids: Iterable[str] | None = None) -> list[JobOutcome]:
        async with self.database.session() as session:
            ledger = await jobs.list_jobs(session)
        wanted = None if spotify_ids is None else list(spotify_ids)
        by_id = {job.spotify_id: job for job in ledger}
        chosen = [by_id[i] for i in wanted if i in by_id] if wanted is not None else ledger
        # The ledger labels an artist whose name is not known yet by its id; an outcome says "no name" instead.
        return [
            JobOutcome(
                job.spotify_id, "" if job.name == job.spotify_id else job.name, job.status, job.stage, job.last_error
            )
            for job in chosen
        ]

    # -- running ---------------------------------------------------------------------------------
    async def run_until_idle(self, *, wait_for_pauses: bool = True, wait_for: Iterable[str] = ()) -> None:
        """Import every queued job, then return (the command line's batch).

        Jobs held back by a service pause are waited for until the pause ends (checking every few seconds,
        so a pause another process recorded or lifted is seen too); with ``wait_for_pauses=False`` they are
        left queued and the call returns (see :meth:`waiting_jobs`). Jobs named in ``wait_for`` that another
        worker runs (a window or `serve` on the same database) are waited for until they end.
        """
        awaited = list(dict.fromkeys(wait_for))
        self._batch_ts = utcnow()
        self._batch_mode = True
        try:
            async with self._beating():
                while True:
                    started = await self._retrying(self._fill_slots)
                    if not self._running:
                        if started:
                            continue
                        pause = await self._retrying(self._pause_holding_jobs) if wait_for_pauses else None
                        if self.queue_pause is not None and wait_for_pauses and await self._retrying(self._has_queued):
                            seconds = self._wait_seconds(PAUSE_POLL)  # the queue is paused: wait for the resume
                        elif pause is not None:
                            seconds = max(0.05, min(PAUSE_POLL, (pause.resume_at - utcnow()).total_seconds()))
                        elif await self._retrying(lambda: self._running_elsewhere(awaited)):
                            seconds = ELSEWHERE_POLL
                        else:
                            return
                        self._wake.clear()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._wake.wait(), seconds)
                        continue
                    await asyncio.wait(list(self._running.values()), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            await self._cancel_running()
            raise
        except DatabaseUnavailable:
            self._stopping = True  # nothing can be written: the jobs are resumed by the next start
            try:
                await self._cancel_running()
            finally:
                self._stopping = False
            raise
        finally:
            self._batch_ts = None
            self._batch_mode = False

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        """``call()``, tried again while the database (or Redis) is away: backing off, logging once.

        The serving loop waits for ever; the command line's batch (``run_until_idle``) up to ``patience``
        seconds, then raises :class:`DatabaseUnavailable`. Errors that are not an outage are raised at once.
        """
        delay = OUTAGE_BACKOFF
        deadline = time.monotonic() + self.patience if self._batch_mode else None
        away: float | None = None
        while True:
            try:
                result = await call()
            except Exception as exc:
                if not is_outage(exc):
                    raise
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    raise DatabaseUnavailable(
                        f"the database did not answer for {self.patience:.0f} s ({exc}); the unfinished imports "
                        "resume with the next run"
                    ) from exc
                if away is None:
                    away = now
                    log.warning("the database is away (%s); trying again for a while", exc)
                await asyncio.sleep(delay if deadline is None else max(0.0, min(delay, deadline - now)))
                delay = min(OUTAGE_BACKOFF_MAX, delay * 2)
                continue
            if away is not None:
                log.warning("the database is back after %.1f s", time.monotonic() - away)
            return result

    def start(self) -> None:
        """Keep importing in the background as jobs arrive (the window and `serve`)."""
        if self._loop_task is None:
            self._loop_passed = time.monotonic()
            self._loop_task = asyncio.get_running_loop().create_task(self._serve(), name="batch-runner")

    @property
    def started(self) -> bool:
        """True once :meth:`start` ran (until :meth:`stop`): this process is an import worker."""
        return self._loop_task is not None

    def loop_state(self) -> LoopState:
        """What the background claim loop does (health reports it): see :class:`LoopState`."""
        if self._loop_task is None or self._loop_task.done():
            return LoopState.STOPPED
        if self._outage is not None:
            return LoopState.RETRYING
        if time.monotonic() - self._loop_passed > STALLED_AFTER:
            return LoopState.STALLED
        return LoopState.RUNNING

    @property
    def outage(self) -> str | None:
        """What the claim loop waits for while it retries ("the database: connection refused"), else None."""
        return self._outage

    async def stop(self) -> None:
        """Stop claiming jobs; the running imports stop and go back to the queue for the next start
        (or another worker), so shutting down loses nothing."""
        task, self._loop_task = self._loop_task, None
        self._stopping = True
        try:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            interrupted = list(self._running)
            await self._cancel_running()
            if interrupted:
                async with self.database.session() as session, session.begin():
                    await jobs.resume_interrupted_jobs(session, worker=self.worker)
                for spotify_id in interrupted:
                    await self._publish(ProgressUpdate(spotify_id, Stage.INIT, 0, "Queued (interrupted)"))
        finally:
            self._stopping = False
            await self.close_publisher()

    async def close_publisher(self, seconds: float = 1.0) -> None:
        """Give progress updates still waiting for Redis ``seconds`` to go out, then stop retrying."""
        if self.publisher.waiting and not await self.publisher.drain(seconds):
            log.warning("%d progress update(s) were not published: Redis is away", self.publisher.waiting)
        await self.publisher.aclose()

    async def _serve(self) -> None:
        """The claim loop, restarted when it fails by a bug (logged with the traceback, backing off)."""
        delay = OUTAGE_BACKOFF
        async with self._beating():
            while True:
                try:
                    await self._serve_forever()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.exception("the import loop failed; it restarts in %.0f s", delay)
                    self._outage = f"a failure: {exc}"
                    await asyncio.sleep(delay)
                    delay = min(OUTAGE_BACKOFF_MAX, delay * 2)

    async def _serve_forever(self) -> None:
        delay = OUTAGE_BACKOFF
        while True:
            self._loop_passed = time.monotonic()
            if self._batch_ts is None or not self._running:
                self._batch_ts = utcnow()  # a new batch starts when the runner was idle
            try:
                await self._fill_slots()
            except Exception as exc:
                if not is_outage(exc):
                    raise
                if self._outage is None:
                    self._outage_started = time.monotonic()
                    log.warning("the database is away (%s); imports wait, trying again every few seconds", exc)
                self._outage = f"the database: {exc}"
                await asyncio.sleep(delay)
                delay = min(OUTAGE_BACKOFF_MAX, delay * 2)
                continue
            if self._outage is not None:
                log.warning("the import loop works again after %.1f s", time.monotonic() - self._outage_started)
                self._outage = None
            delay = OUTAGE_BACKOFF
            self._wake.clear()
            woken = asyncio.ensure_future(self._wake.wait())
            waiters: set[asyncio.Future[Any]] = {woken, *self._running.values()}
            try:
                await asyncio.wait(waiters, timeout=self._wait_seconds(5.0), return_when=asyncio.FIRST_COMPLETED)
            finally:
                woken.cancel()

    async def _cancel_running(self) -> None:
        await self._cancel_tasks(list(self._running))

    async def _cancel_tasks(self, spotify_ids: list[str]) -> None:
        """Cancel running imports and wait for them to record the outcome.

        A task cancelled before its first step never runs its own handler, so its job is closed here.
        """
        tasks = {sid: task for sid in spotify_ids if (task := self._running.get(sid)) is not None}
        never_started = [sid for sid in tasks if sid not in self._started]
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        if self._stopping:
            return  # stop() puts them back in the queue
        for spotify_id in tasks:
            # A task cancelled before its first step, or whose own closing write failed, is closed here.
            async with self.database.session() as session, session.begin():
                job = await jobs.get_job(session, spotify_id)
                if job is None or job.status is not JobStatus.RUNNING:
                    continue
                await jobs.finish_job(session, spotify_id, JobStatus.CANCELLED, error=CANCELLED_MESSAGE)
            await self._publish_cancelled(spotify_id, job.progress if spotify_id not in never_started else 0)

    async def _running_elsewhere(self, spotify_ids: list[str]) -> bool:
        """True while one of these jobs runs in another worker (it may still end in this batch's summary)."""
        if not spotify_ids:
            return False
        async with self.database.session() as session:
            running = await jobs.list_jobs(session, [JobStatus.RUNNING])
        wanted = set(spotify_ids)
        return any(job.spotify_id in wanted and job.worker != self.worker for job in running)

    async def _pause_holding_jobs(self) -> ServicePause | None:
        """The Spotify pause in force when it holds queued jobs back, else None."""
        async with self.database.session() as session:
            pause = await service_state.active_pause(session, SPOTIFY)
            if pause is None or not await jobs.count_waiting_for_spotify(session):
                return None
        return pause

    async def _fill_slots(self) -> int:
        if await self._queue_paused():
            return 0
        free = self.in_flight - len(self._running)
        started = 0
        while free > 0:
            async with self.database.session() as session, session.begin():
                if await service_state.queue_pause(session) is not None:
                    break  # paused since the check above: read again in the claim's own transaction
                pause = await service_state.active_pause(session, SPOTIFY)
                job = await jobs.claim_next_job(session, self.worker, spotify_paused=pause is not None)
            await self._saw_pause(pause)
            if job is None:
                break
            if job.batch_id is not None:
                self._batch_of[job.spotify_id] = job.batch_id
            task = asyncio.get_running_loop().create_task(
                self._import(job.spotify_id, job.name, job.spotify_artist), name=f"import-{job.spotify_id}"
            )
            self._running[job.spotify_id] = task
            task.add_done_callback(functools.partial(self._forget, job.spotify_id))
            free -= 1
            started += 1
        return started

    def _forget(self, spotify_id: str, task: asyncio.Task[None]) -> None:
        if self._running.get(spotify_id) is task:  # a job put back and claimed again has a newer task
            del self._running[spotify_id]
            self._started.discard(spotify_id)

    async def _saw_pause(self, pause: ServicePause | None) -> None:
        """Act on the pause in force: hold this process's Spotify client back and tell the waiting jobs once."""
        if pause == self.spotify_pause:
            return
        self.spotify_pause = pause
        if pause is None:
            return
        self.deps.clients.spotify.gate.close_for((pause.resume_at - utcnow()).total_seconds(), pause.reason or None)
        log.warning("%s; imports that need it wait", pause.sentence())
        async with self.database.session() as session:
            waiting = await jobs.queued_needing_spotify(session)
        for spotify_id in waiting:
            await self._publish(self._queued_update(spotify_id, pause, True))

    async def _pause(self, job: ArtistImport, pause: ServicePause) -> None:
        """The artist met a service pause: record it for every process, and put the artist back in the queue."""
        async with self.database.session() as session, session.begin():
            pause = await service_state.record_pause(session, pause)
            await jobs.put_back_waiting(session, job.spotify_id, pause.waiting_message())
        try:
            await self.bus.record_pause(pause)
        except (RedisError, OSError) as exc:  # the database holds the pause; Redis only shares it faster
            log.warning("could not share the %s pause on Redis: %s", pause.service, exc)
        await self._publish(self._queued_update(job.spotify_id, pause, True))
        await self._saw_pause(pause)

    async def _import(self, spotify_id: str, name: str, spotify_artist: dict[str, Any] | None = None) -> None:
        self._started.add(spotify_id)
        job = ArtistImport(
            spotify_id=spotify_id,
            batch_ts=self._batch_ts or utcnow(),
            name=name,
            spotify_artist_data=spotify_artist,
        )
        reporter = Reporter(job, self._tagger, on_published=self._record_progress)
        try:
            await run_stages(job, self.deps, reporter)
        except ServicePaused as paused:
            await self._pause(job, paused.pause)
        except asyncio.CancelledError:
            if self._stopping:
                pass  # the job stays running: the next start takes it over
            elif job.artist_id is not None:  # STORE had committed when the cancel landed: the ledger says so
                await asyncio.shield(self._end(job, reporter, JobStatus.COMPLETE, Stage.COMPLETE, None))
            else:
                await asyncio.shield(self._end(job, reporter, JobStatus.CANCELLED, job.stage, CANCELLED_MESSAGE))
            raise
        except StageFailed as exc:
            if is_outage(exc):
                await self._interrupted(job, exc)
            elif (down := spotify_outage(exc)) is not None:
                await self._spotify_down(job, down)
            else:
                await self._end(job, reporter, JobStatus.ERROR, exc.stage, exc.reason)
        except Exception as exc:  # a bug in one artist's import must not stop the batch
            if is_outage(exc):
                await self._interrupted(job, exc)
            else:
                log.exception("importing %s failed", spotify_id)
                await self._end(job, reporter, JobStatus.ERROR, job.stage, f"Unexpected error: {exc}")
        else:
            self._spotify_failures = 0
            # Shielded: the artist is stored, so a cancel landing now must not leave its job to be closed "cancelled".
            await asyncio.shield(self._end(job, reporter, JobStatus.COMPLETE, Stage.COMPLETE, None))

    # -- pausing the queue -------------------------------------------------------------------------
    async def pause_queue(self, reason: str = "paused by you", *, outage: bool = False) -> None:
        """Stop claiming jobs in every process on this database (running imports finish)."""
        async with self.database.session() as session, session.begin():
            self.queue_pause = await service_state.pause_queue(session, reason, outage=outage)
        log.warning("the import queue is paused: %s", reason)

    async def resume_queue(self, *, outage: bool = False) -> None:
        """Lift the person's pause (``outage``: the outage's); claiming starts again at once here."""
        async with self.database.session() as session, session.begin():
            await service_state.resume_queue(session, outage=outage)
            self.queue_pause = await service_state.queue_pause(session)
        if outage:
            self._spotify_failures = 0
        log.warning("the import queue %s", "resumed" if self.queue_pause is None else "is still paused")
        self._wake.set()

    async def queue_state(self) -> QueueState:
        """Whether the queue runs, and why not: a person, an outage's reason, or the database away."""
        if self._outage is not None and self._outage.startswith("the database"):
            return QueueState(True, "the database is away")
        try:
            async with self.database.session() as session:
                pause = await service_state.queue_pause(session)
        except Exception as exc:
            if not is_outage(exc):
                raise
            return QueueState(True, "the database is away")
        if pause is None:
            return QueueState(False)
        return QueueState(True, pause.reason, by_user=pause.service == service_state.QUEUE)

    async def _queue_paused(self) -> bool:
        """Read the queue's pause; while an outage holds it, probe Spotify every `probe_interval` seconds and
        resume when it answers. True while the queue stays paused."""
        async with self.database.session() as session:
            self.queue_pause = await service_state.queue_pause(session)
        pause = self.queue_pause
        if pause is None or pause.service != service_state.QUEUE_OUTAGE:
            return pause is not None
        if time.monotonic() - self._last_probe < self.probe_interval:
            return True
        self._last_probe = time.monotonic()
        if not await self._spotify_answers():
            return True
        log.warning("Spotify answers again: the import queue resumes")
        await self.resume_queue(outage=True)
        return self.queue_pause is not None

    async def _spotify_answers(self) -> bool:
        """One Spotify request: True when Spotify answered (a 404 for the probe's id counts)."""
        try:
            await self.deps.clients.spotify.get_artist(PROBE_ID)
        except NotFoundError:
            return True
        except ServiceError as exc:
            return spotify_outage(exc) is None
        return True

    async def _has_queued(self) -> bool:
        async with self.database.session() as session:
            return bool(await jobs.next_queued_jobs(session, 1))

    def _wait_seconds(self, longest: float) -> float:
        """How long the loop may sleep: shorter while an outage pause waits for the next probe."""
        if self.queue_pause is not None and self.queue_pause.service == service_state.QUEUE_OUTAGE:
            return max(0.05, min(longest, self.probe_interval))
        return longest

    async def _spotify_down(self, job: ArtistImport, error: ServiceUnavailableError) -> None:
        """Spotify is down under this import: the artist goes back to the queue (attempt not counted), and after
        `outage_after` artists in a row the queue pauses itself with the reason."""
        self._spotify_failures += 1
        # Short enough for the status bar ("Queue paused: Spotify is not answering (HTTP 503)"); the log has it all.
        reason = f"Spotify is not answering ({f'HTTP {error.status}' if error.status else 'no connection'})"
        log.warning("importing %s met a Spotify outage (%s); it goes back to the queue", job.spotify_id, error)

        async def put_back() -> None:
            async with self.database.session() as session, session.begin():
                await jobs.put_back_waiting(session, job.spotify_id, SPOTIFY_DOWN_MESSAGE)

        await self._retrying(put_back)
        await self._publish(
            ProgressUpdate(
                job.spotify_id,
                Stage.INIT,
                0,
                SPOTIFY_DOWN_MESSAGE,
                details=reason,
                payload={"waiting_for": SPOTIFY, "reason": reason},
            )
        )
        if self._spotify_failures >= self.outage_after and (
            self.queue_pause is None or self.queue_pause.service != service_state.QUEUE_OUTAGE
        ):
            self._last_probe = time.monotonic()
            await self._retrying(functools.partial(self.pause_queue, reason, outage=True))
        self._wake.set()

    async def _interrupted(self, job: ArtistImport, exc: BaseException) -> None:
        """The database went away under an import: it goes back to the queue (attempt not counted) once it
        answers, and runs again from the start (STORE is one transaction: nothing of it was saved)."""
        log.warning("importing %s was interrupted (%s); it goes back to the queue", job.spotify_id, exc)

        async def put_back() -> None:
            async with self.database.session() as session, session.begin():
                await jobs.put_back_waiting(session, job.spotify_id, INTERRUPTED_MESSAGE)

        await self._retrying(put_back)
        await self._publish(ProgressUpdate(job.spotify_id, Stage.INIT, 0, INTERRUPTED_MESSAGE))
        self._wake.set()

    async def _record_progress(self, update: ProgressUpdate) -> None:
        if update.stage.is_final:
            return
        try:
            async with self.database.session() as session, session.begin():
                await jobs.update_job_progress(
                    session, update.spotify_id, update.stage, update.progress, update.message
                )
        except (SQLAlchemyError, OSError) as exc:  # the ledger's copy of the progress is a convenience
            log.warning("could not record the progress of %s: %s", update.spotify_id, exc)

    async def _end(
        self, job: ArtistImport, reporter: Reporter, status: JobStatus, stage: Stage, error: str | None
    ) -> None:
        async def finish() -> None:
            async with self.database.session() as session, session.begin():
                await jobs.finish_job(
                    session,
                    job.spotify_id,
                    status,
                    error=error,
                    artist_id=job.artist_id,
                    name=job.name or None,
                    failed_stage=stage if status is JobStatus.ERROR else None,
                )

        await self._retrying(finish)  # the outcome is known: it is written once the database answers
        if status is JobStatus.COMPLETE:
            message = "Imported" + (" with warnings" if job.warnings else "")
            await reporter.publish(Stage.COMPLETE, 100, message, {"artist_id": job.artist_id, "name": job.name})
        elif status is JobStatus.CANCELLED:
            await self._publish_cancelled(job.spotify_id, job.progress, stage, job.details)
        else:
            await reporter.publish(
                Stage.ERROR, job.progress, error or "Failed", {"stage": stage.value, "reason": error}
            )

    async def _publish_cancelled(
        self, spotify_id: str, progress: int, stage: Stage = Stage.INIT, details: str = ""
    ) -> None:
        """The import's last update: cancelled in ``stage`` (INIT: before it started)."""
        await self._publish(ProgressUpdate.cancellation(spotify_id, progress, stage, details))


class _BatchTagger:
    """The publisher an import's :class:`Reporter` uses: the runner's, adding the artist's batch id."""

    def __init__(self, runner: BatchRunner) -> None:
        self._runner = runner

    async def publish(self, update: ProgressUpdate) -> ProgressUpdate:
        return await self._runner._publish(update)
