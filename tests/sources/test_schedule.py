"""The daily schedule on a fake clock: on time, catch-up after a closed window, one run for two processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from artist_desktop.sources import NothingToRefresh
from artist_desktop.sources.schedule import (
    CATCH_UP_DELAY,
    Collected,
    DailySchedule,
    ScheduledRunStatus,
    last_run,
    next_run,
)
from artist_desktop.store import Database, open_database
from artist_desktop.store.locks import LockHeld

if TYPE_CHECKING:
    from artist_desktop.devtools._catalog import CatalogArtist
    from artist_desktop.runtime import Runtime

DAY = date(2026, 12, 7)
SIX = time(6, 0)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


class FakeClock:
    """Time that moves only when the schedule sleeps; past ``end`` a sleep blocks (the test then cancels)."""

    def __init__(self, start: datetime, end: datetime) -> None:
        self.moment = start
        self.end = end
        self.reached_end = asyncio.Event()

    def now(self) -> datetime:
        return self.moment

    async def sleep(self, seconds: float) -> None:
        target = self.moment + timedelta(seconds=seconds)
        if target >= self.end:
            self.moment = self.end
            self.reached_end.set()
            await asyncio.Event().wait()
        self.moment = target
        await asyncio.sleep(0)


class Collector:
    """The metrics refresh the schedule runs: records the fake time of each call."""

    def __init__(self, clock: FakeClock, *, error: BaseException | None = None, busy_for: float = 0.0) -> None:
        self.clock = clock
        self.calls: list[datetime] = []
        self.error = error
        self.busy_for = busy_for

    async def __call__(self) -> Collected:
        self.calls.append(self.clock.now())
        if self.busy_for:
            await asyncio.sleep(self.busy_for)  # real time: the other process's schedule runs meanwhile
        if self.error is not None:
            raise self.error
        return Collected("Deezer fans: 3 updated, 0 failed", new_alerts=2)


async def run_until_end(*schedules: DailySchedule, clocks: list[FakeClock]) -> None:
    tasks = [asyncio.create_task(schedule.run_forever()) for schedule in schedules]
    try:
        await asyncio.wait_for(asyncio.gather(*(clock.reached_end.wait() for clock in clocks)), 30)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def schedule_on(database: Database, collect: Collector, clock: FakeClock, holder: str = "test") -> DailySchedule:
    return DailySchedule(database, collect, SIX, clock=clock, tz=UTC, holder=holder)


async def test_a_run_scheduled_at_six_runs_at_six(database: Database) -> None:
    clock = FakeClock(at(5), at(23))
    collect = Collector(clock)

    await run_until_end(schedule_on(database, collect, clock), clocks=[clock])

    assert collect.calls == [at(6)]
    last = await last_run(database)
    assert last is not None
    assert (last.day, last.status, last.new_alerts) == (DAY, ScheduledRunStatus.COMPLETE, 2)
    assert last.outcome == "Deezer fans: 3 updated, 0 failed"
    assert last.finished_at == at(6)


async def test_it_runs_each_day_at_six(database: Database) -> None:
    clock = FakeClock(at(5), at(7, day=DAY + timedelta(days=2)))
    collect = Collector(clock)

    await run_until_end(schedule_on(database, collect, clock), clocks=[clock])

    assert collect.calls == [at(6), at(6, day=DAY + timedelta(days=1)), at(6, day=DAY + timedelta(days=2))]


async def test_closed_from_five_to_nine_it_runs_once_soon_after_the_nine_oclock_start(database: Database) -> None:
    earlier = FakeClock(at(4), at(5))  # the window is open 04:00-05:00, then closed
    collect = Collector(earlier)
    await run_until_end(schedule_on(database, collect, earlier), clocks=[earlier])
    assert collect.calls == []

    later = FakeClock(at(9), at(23))  # started again at 09:00
    collect = Collector(later)
    await run_until_end(schedule_on(database, collect, later), clocks=[later])

    assert collect.calls == [at(9) + timedelta(seconds=CATCH_UP_DELAY)]

    again = FakeClock(at(12), at(23))  # a restart the same day: today is done
    collect = Collector(again)
    await run_until_end(schedule_on(database, collect, again), clocks=[again])
    assert collect.calls == []


async def test_a_start_before_six_waits_for_six_rather_than_catching_up(database: Database) -> None:
    clock = FakeClock(at(5, 59), at(8))
    collect = Collector(clock)
    await run_until_end(schedule_on(database, collect, clock), clocks=[clock])
    assert collect.calls == [at(6)]


@pytest.fixture
async def second_process_database(database: Database) -> AsyncIterator[Database]:
    """Another engine on the same SQLite file: what a second process sees."""
    other = await open_database(str(database.engine.url))
    yield other
    await other.dispose()


async def test_two_processes_run_the_day_once(database: Database, second_process_database: Database) -> None:
    window_clock, serve_clock = FakeClock(at(5), at(23)), FakeClock(at(5), at(23))
    in_window = Collector(window_clock, busy_for=0.3)
    in_serve = Collector(serve_clock, busy_for=0.3)

    await run_until_end(
        schedule_on(database, in_window, window_clock, "window"),
        schedule_on(second_process_database, in_serve, serve_clock, "serve"),
        clocks=[window_clock, serve_clock],
    )

    assert len(in_window.calls) + len(in_serve.calls) == 1


async def test_two_processes_started_late_catch_up_once(database: Database, second_process_database: Database) -> None:
    first, second = FakeClock(at(9), at(23)), FakeClock(at(9, 30), at(23))
    in_first, in_second = Collector(first), Collector(second)

    await run_until_end(
        schedule_on(database, in_first, first, "window"),
        schedule_on(second_process_database, in_second, second, "serve"),
        clocks=[first, second],
    )

    assert len(in_first.calls) + len(in_second.calls) == 1


async def test_nothing_to_collect_settles_the_day(database: Database) -> None:
    clock = FakeClock(at(5), at(23))
    collect = Collector(clock, error=NothingToRefresh())
    await run_until_end(schedule_on(database, collect, clock), clocks=[clock])

    assert collect.calls == [at(6)]
    last = await last_run(database)
    assert last is not None and last.status is ScheduledRunStatus.NOTHING
    assert "No artists with a Deezer id" in last.outcome


async def test_a_manual_refresh_holding_the_lock_makes_it_retry(database: Database) -> None:
    clock = FakeClock(at(5), at(23))
    collect = Collector(clock, error=LockHeld("deezer-refresh", "Deezer refresh on host pid 1"))
    schedule = DailySchedule(database, collect, SIX, clock=clock, tz=UTC, retry_delay=600)

    await run_until_end(schedule, clocks=[clock])

    assert collect.calls[:3] == [at(6), at(6, 10), at(6, 20)]
    last = await last_run(database)
    assert last is not None and last.status is ScheduledRunStatus.BUSY


async def test_a_failed_collection_is_recorded_and_not_retried_that_day(database: Database) -> None:
    clock = FakeClock(at(5), at(23))
    collect = Collector(clock, error=RuntimeError("boom"))
    await run_until_end(schedule_on(database, collect, clock), clocks=[clock])

    assert collect.calls == [at(6)]
    last = await last_run(database)
    assert last is not None and (last.status, last.outcome) == (ScheduledRunStatus.FAILED, "boom")


async def test_a_cancelled_collection_runs_again_at_the_next_start(database: Database) -> None:
    clock = FakeClock(at(5), at(23))
    started = asyncio.Event()

    async def slow() -> Collected:
        started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    task = asyncio.create_task(DailySchedule(database, slow, SIX, clock=clock, tz=UTC).run_forever())
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()  # the window closes mid-run
    await asyncio.gather(task, return_exceptions=True)
    last = await last_run(database)
    assert last is not None and last.status is ScheduledRunStatus.CANCELLED

    later = FakeClock(at(8), at(23))
    collect = Collector(later)
    await run_until_end(schedule_on(database, collect, later), clocks=[later])
    assert collect.calls == [at(8) + timedelta(seconds=CATCH_UP_DELAY)]


def test_next_run_is_today_at_six_then_now_while_a_catch_up_waits_then_tomorrow() -> None:
    assert next_run(at(5), SIX, today_settled=False, tz=UTC) == at(6)
    assert next_run(at(9), SIX, today_settled=False, tz=UTC) == at(9)
    assert next_run(at(9), SIX, today_settled=True, tz=UTC) == at(6, day=DAY + timedelta(days=1))


async def test_the_schedule_file_lock_sits_beside_the_database(database: Database, tmp_path: Path) -> None:
    clock = FakeClock(at(5), at(7))
    await run_until_end(schedule_on(database, Collector(clock), clock), clocks=[clock])
    assert (Path(str(database.engine.url.database)).parent / ".scheduled-collection.lock").exists()


async def test_the_applications_collection_is_marked_scheduled_in_the_history(
    runtime: Runtime, catalog_artists: list[CatalogArtist], add_library_artist: Callable[..., Awaitable[int]]
) -> None:
    artist = catalog_artists[0]
    await add_library_artist(runtime.database, artist.name, artist.deezer["id"])  # type: ignore[index]
    application = runtime.application
    manual = await application.refresh_deezer_fans()
    clock = FakeClock(datetime.now(UTC).replace(hour=5), datetime.now(UTC).replace(hour=7))
    schedule = DailySchedule(runtime.database, application.collect_metrics, SIX, clock=clock, tz=UTC)

    await run_until_end(schedule, clocks=[clock])

    history = await application.deezer_refresh_runs()
    assert [(run.run_id == manual.run_id, run.scheduled) for run in history] == [(False, True), (True, False)]
    status = await application.schedule_status()
    assert status.enabled and status.last is not None
    assert status.last.status is ScheduledRunStatus.COMPLETE
    assert status.last.outcome == "Deezer fans: 1 updated, 0 failed (of 1)"
    assert not runtime.schedule_running  # the fixture's runtime is a one-shot command's: no schedule


async def test_a_runtime_with_schedule_runs_it_and_stops_it(runtime: Runtime) -> None:
    from artist_desktop.runtime import Runtime as RuntimeClass

    scheduled = RuntimeClass(runtime.settings, clients=runtime.clients, schedule=True)
    await scheduled.start()
    try:
        assert scheduled.schedule_running
    finally:
        await scheduled.stop()
    assert not scheduled.schedule_running
