"""The daily collection schedule: run the metrics refresh once a day at a local time, catching up a missed run.

The rule (issue 20): each local day has one collection, due at ``collect_at``. While a process runs the schedule
it sleeps until the next due time and runs it; a process that starts after today's due time when today has no
collection yet (the app was closed at 06:00) runs it :data:`CATCH_UP_DELAY` seconds after its start. Several
missed days make one run: figures can only be collected for today.

*Which* refresh runs is the caller's ``collect`` function: today the Deezer fan-count refresh plus alert
detection (`Application.collect_metrics`); issue 19's one refresh for all sources replaces it there, and this
module does not change.

Two processes (the window and ``serve``, or machines of a team on PostgreSQL) never run one day twice: the
collection runs under the run lock ``scheduled-collection`` (`artist_desktop.store.locks`, the Deezer refresh's
mechanism), and inside it the day's row in ``scheduled_runs`` is checked first: a day that ended ``complete``,
``nothing`` or ``failed`` is settled, whoever ran it. A process that finds the lock held (another one is
collecting) or the refresh's own lock held (a manual refresh is running: ``busy``) tries again after
:data:`RETRY_DELAY`; a day whose process died mid-run or was stopped (``cancelled``) runs again.

Decision, no scheduler library: APScheduler 3's ``AsyncIOScheduler`` fires a cron job while the process runs,
but catch-up across restarts needs its job store (a synchronous SQLAlchemy engine beside ours), its
``misfire_grace_time`` is not "today's run if not done", it has no injectable clock for tests, and the lock and
the day's row would still be ours. The rule is the loop in :meth:`DailySchedule.run_forever`: it sleeps in
steps of at most :data:`POLL_SECONDS` and reads the wall clock after each, so a suspended laptop or a clock
change is noticed within a minute. Time comes from a :class:`Clock` (tests use a fake one).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Protocol

from artist_desktop.sources.deezer_refresh import NothingToRefresh
from artist_desktop.store import scheduled_runs
from artist_desktop.store.locks import LockHeld, describe_holder, run_lock
from artist_desktop.store.models import ScheduledRunStatus

if TYPE_CHECKING:
    from artist_desktop.store.database import Database

__all__ = [
    "CATCH_UP_DELAY",
    "LOCK_NAME",
    "POLL_SECONDS",
    "RETRY_DELAY",
    "Clock",
    "Collected",
    "DailySchedule",
    "LastRun",
    "ScheduledRunStatus",
    "SystemClock",
    "due_on",
    "last_run",
    "next_run",
]

log = logging.getLogger(__name__)

#: The run lock the schedule holds while it checks and runs a day's collection.
LOCK_NAME = "scheduled-collection"
#: Seconds after a start before a missed collection runs (the window settles first).
CATCH_UP_DELAY = 60.0
#: Seconds before trying again when another process or a manual refresh holds the lock.
RETRY_DELAY = 300.0
#: The longest single sleep: the wall clock is read again at least this often.
POLL_SECONDS = 60.0


class Clock(Protocol):
    """Where the schedule reads the time and waits: `SystemClock`, or a fake one in tests."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The machine's clock in its local time zone."""

    def now(self) -> datetime:
        return datetime.now().astimezone()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def due_on(day: date, at: time, tz: tzinfo | None = None) -> datetime:
    """When ``day``'s collection is due: ``at`` on that day in ``tz`` (None: the machine's local zone, with its
    daylight-saving offset of that day)."""
    if tz is None:
        return datetime.combine(day, at).astimezone()
    return datetime.combine(day, at, tzinfo=tz)


def next_run(now: datetime, at: time, today_settled: bool, tz: tzinfo | None = None) -> datetime:
    """When the schedule runs next, seen at ``now``: today's due time if still ahead, ``now`` when today's is
    past and not settled (a catch-up is pending), else tomorrow's."""
    local = now if tz is None else now.astimezone(tz)
    due = due_on(local.date(), at, tz)
    if local < due:
        return due
    if not today_settled:
        return now
    return due_on(local.date() + timedelta(days=1), at, tz)


@dataclass(frozen=True, slots=True)
class Collected:
    """What one collection reports to the schedule: a line for the status bar, the refresh runs it recorded
    (the history marks them "Scheduled") and how many alerts it raised."""

    outcome: str
    refresh_run_ids: tuple[int, ...] = ()
    new_alerts: int = 0


#: The metrics refresh the schedule runs. Raises `NothingToRefresh` when no source has anything to collect and
#: `LockHeld` when a refresh already runs; any other exception is a failed collection.
Collect = Callable[[], Awaitable[Collected]]


@dataclass(frozen=True, slots=True)
class LastRun:
    """The most recent scheduled collection, as the status bar shows it."""

    day: date
    status: ScheduledRunStatus
    outcome: str
    started_at: datetime
    finished_at: datetime | None
    new_alerts: int


class DailySchedule:
    """Runs ``collect`` once a local day at ``at`` (see the module docstring for the rule)."""

    def __init__(
        self,
        database: Database,
        collect: Collect,
        at: time,
        *,
        clock: Clock | None = None,
        tz: tzinfo | None = None,
        holder: str | None = None,
        catch_up_delay: float = CATCH_UP_DELAY,
        retry_delay: float = RETRY_DELAY,
    ) -> None:
        self._database = database
        self._collect = collect
        self._at = at
        self._clock = clock or SystemClock()
        self._tz = tz
        self._holder = holder or describe_holder("scheduled collection")
        self._catch_up_delay = catch_up_delay
        self._retry_delay = retry_delay

    def _now(self) -> datetime:
        now = self._clock.now()
        return now if self._tz is None else now.astimezone(self._tz)

    async def _sleep_until(self, moment: datetime) -> None:
        while (remaining := (moment - self._clock.now()).total_seconds()) > 0:
            await self._clock.sleep(min(remaining, POLL_SECONDS))

    async def run_forever(self) -> None:
        """The schedule's loop, until cancelled (a cancel during a collection marks it ``cancelled``)."""
        starting = True
        while True:
            now = self._now()
            today = now.date()
            due = due_on(today, self._at, self._tz)
            if now < due:
                starting = False
                await self._sleep_until(due)
                continue
            if starting:
                starting = False
                if not await self._settled(today):
                    log.info("the scheduled collection of %s was missed: running it shortly", today)
                    await self._clock.sleep(self._catch_up_delay)
                continue
            status = await self.run_day(today)
            if status is None or status.settles_day:
                await self._sleep_until(due_on(today + timedelta(days=1), self._at, self._tz))
            else:
                await self._clock.sleep(self._retry_delay)

    async def _settled(self, day: date) -> bool:
        async with self._database.session() as session:
            row = await scheduled_runs.run_of_day(session, day)
        return row is not None and row.status.settles_day

    async def run_day(self, day: date) -> ScheduledRunStatus | None:
        """Run ``day``'s collection unless it is settled: returns how it ended, ``busy`` when another process
        holds the schedule's lock, None when the day was already settled (nothing was run)."""
        try:
            async with run_lock(self._database, LOCK_NAME, self._holder):
                if await self._settled(day):
                    return None
                return await self._run(day)
        except LockHeld as held:
            log.info("the scheduled collection waits: %s", held)
            return ScheduledRunStatus.BUSY

    async def _run(self, day: date) -> ScheduledRunStatus:
        database = self._database
        async with database.session() as session, session.begin():
            run_id = await scheduled_runs.claim(
                session, day, due_on(day, self._at, self._tz), self._clock.now(), self._holder
            )
        log.info("scheduled collection of %s started", day)
        collected = Collected("")
        try:
            collected = await self._collect()
            status = ScheduledRunStatus.COMPLETE
        except NothingToRefresh as exc:
            status, collected = ScheduledRunStatus.NOTHING, Collected(str(exc))
        except LockHeld as exc:
            status, collected = ScheduledRunStatus.BUSY, Collected(str(exc))
        except asyncio.CancelledError:
            await asyncio.shield(self._finish(run_id, ScheduledRunStatus.CANCELLED, Collected("Stopped")))
            raise
        except Exception as exc:
            log.exception("the scheduled collection of %s failed", day)
            status, collected = ScheduledRunStatus.FAILED, Collected(str(exc) or type(exc).__name__)
        await self._finish(run_id, status, collected)
        log.info("scheduled collection of %s: %s (%s)", day, status.value, collected.outcome)
        return status

    async def _finish(self, run_id: int, status: ScheduledRunStatus, collected: Collected) -> None:
        async with self._database.session() as session, session.begin():
            await scheduled_runs.finish(
                session,
                run_id,
                status,
                collected.outcome,
                self._clock.now(),
                refresh_run_ids=collected.refresh_run_ids,
                new_alerts=collected.new_alerts,
            )


async def last_run(database: Database) -> LastRun | None:
    """The most recent scheduled collection, whichever process ran it."""
    async with database.session() as session:
        row = await scheduled_runs.last_run(session)
    if row is None:
        return None
    return LastRun(row.day, row.status, row.outcome, row.started_at, row.finished_at, row.new_alerts)
