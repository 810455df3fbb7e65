"""The schedule's queries: claim a day's collection, finish it, read the last one, mark scheduled refresh runs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from artist_desktop.store._sql import chunks, insert
from artist_desktop.store.models import MetricRefreshRun, ScheduledRun, ScheduledRunStatus

__all__ = ["claim", "finish", "last_run", "run_of_day", "scheduled_refresh_runs"]


async def run_of_day(session: AsyncSession, day: date) -> ScheduledRun | None:
    """The scheduled collection of this local day, if one was started."""
    stmt = select(ScheduledRun).where(ScheduledRun.day == day).execution_options(populate_existing=True)
    return (await session.scalars(stmt)).first()


async def claim(session: AsyncSession, day: date, due_at: datetime, started_at: datetime, holder: str) -> int:
    """Record that ``holder`` runs ``day``'s collection now (a retried day's row starts over); returns its id."""
    stmt = insert(session, ScheduledRun).values(
        day=day,
        due_at=due_at,
        started_at=started_at,
        status=ScheduledRunStatus.RUNNING,
        outcome="",
        holder=holder,
        new_alerts=0,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[ScheduledRun.day],
            set_={
                "due_at": stmt.excluded.due_at,
                "started_at": stmt.excluded.started_at,
                "finished_at": None,
                "status": stmt.excluded.status,
                "outcome": "",
                "holder": stmt.excluded.holder,
                "refresh_run_id": None,
                "new_alerts": 0,
            },
        )
    )
    run_id = await session.scalar(select(ScheduledRun.id).where(ScheduledRun.day == day))
    assert run_id is not None
    return run_id


async def finish(
    session: AsyncSession,
    run_id: int,
    status: ScheduledRunStatus,
    outcome: str,
    finished_at: datetime,
    *,
    refresh_run_ids: Sequence[int] = (),
    new_alerts: int = 0,
) -> None:
    """Record how the collection ended, and mark the refresh runs it started (one per source) as scheduled."""
    refresh_run_id = refresh_run_ids[0] if refresh_run_ids else None
    if refresh_run_ids:
        await session.execute(
            update(MetricRefreshRun).where(MetricRefreshRun.id.in_(list(refresh_run_ids))).values(scheduled=True)
        )
    await session.execute(
        update(ScheduledRun)
        .where(ScheduledRun.id == run_id)
        .values(
            status=status,
            outcome=outcome,
            finished_at=finished_at,
            refresh_run_id=refresh_run_id,
            new_alerts=new_alerts,
        )
    )


async def last_run(session: AsyncSession) -> ScheduledRun | None:
    """The most recent scheduled collection (by day)."""
    stmt = select(ScheduledRun).order_by(ScheduledRun.day.desc()).limit(1).execution_options(populate_existing=True)
    return (await session.scalars(stmt)).first()


async def scheduled_refresh_runs(session: AsyncSession, refresh_run_ids: Iterable[int]) -> set[int]:
    """Which of these refresh runs the schedule started (the history's "Scheduled" marker)."""
    found: set[int] = set()
    for chunk in chunks(list(refresh_run_ids)):
        found.update(
            run_id
            for run_id in await session.scalars(
                select(ScheduledRun.refresh_run_id).where(ScheduledRun.refresh_run_id.in_(chunk))
            )
            if run_id is not None
        )
        found.update(
            await session.scalars(
                select(MetricRefreshRun.id).where(MetricRefreshRun.id.in_(chunk), MetricRefreshRun.scheduled)
            )
        )
    return found
