"""What services told us that outlives a process: pauses (Spotify's daily quota, the paused queue) and an
account's capabilities.

Both are shared through the database by the window, ``import``, ``serve`` and a restarted app, so a second
process does not spend a request to learn what the first already knows.

The import queue's own pauses are ``service_pauses`` rows with no end (``resume_at`` is :data:`UNTIL_RESUMED`):
:data:`QUEUE` when a person paused it (Import → Pause queue), :data:`QUEUE_OUTAGE` when a required service
stopped answering (the runner records it with the reason and clears it when a probe succeeds). While either
is there no worker claims a job; running ones finish.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from artist_desktop.domain import ServicePause, utcnow
from artist_desktop.store.models import ServiceCapabilitiesRow, ServicePauseRow


async def record_pause(session: AsyncSession, pause: ServicePause) -> ServicePause:
    """Store the pause; an earlier end never shortens a later one already stored. Returns the pause in force."""
    row = await session.get(ServicePauseRow, pause.service, populate_existing=True)
    if row is None:
        session.add(ServicePauseRow(service=pause.service, resume_at=pause.resume_at, reason=pause.reason))
        await session.flush()
        return pause
    if row.resume_at < pause.resume_at or row.resume_at <= utcnow():
        row.resume_at = pause.resume_at
        row.reason = pause.reason
        await session.flush()
    return ServicePause(row.service, row.resume_at, row.reason)


async def active_pause(session: AsyncSession, service: str, now: datetime | None = None) -> ServicePause | None:
    """The pause of ``service`` still in force, or None."""
    row = await session.get(ServicePauseRow, service, populate_existing=True)
    if row is None or row.resume_at <= (now or utcnow()):
        return None
    return ServicePause(row.service, row.resume_at, row.reason)


async def clear_pause(session: AsyncSession, service: str) -> None:
    await session.execute(delete(ServicePauseRow).where(ServicePauseRow.service == service))


#: The queue paused by a person; and paused because a required service is down (both until resumed).
QUEUE = "queue"
QUEUE_OUTAGE = "queue-outage"
#: The end of a pause that lasts until it is lifted.
UNTIL_RESUMED = datetime(9999, 12, 31, tzinfo=UTC)


async def pause_queue(session: AsyncSession, reason: str, *, outage: bool = False) -> ServicePause:
    """Stop every worker claiming jobs until :func:`resume_queue` (``outage``: a service is down, else a person
    paused it); ``reason`` is what the window and the CLI say."""
    service = QUEUE_OUTAGE if outage else QUEUE
    row = await session.get(ServicePauseRow, service, populate_existing=True)
    if row is None:
        session.add(ServicePauseRow(service=service, resume_at=UNTIL_RESUMED, reason=reason))
    else:
        row.resume_at, row.reason = UNTIL_RESUMED, reason
    await session.flush()
    return ServicePause(service, UNTIL_RESUMED, reason)


async def resume_queue(session: AsyncSession, *, outage: bool = False) -> None:
    """Lift the person's pause (or, with ``outage``, the outage's)."""
    await clear_pause(session, QUEUE_OUTAGE if outage else QUEUE)


async def queue_pause(session: AsyncSession) -> ServicePause | None:
    """The queue's pause in force: the person's first, else an outage's; None when the queue runs."""
    for service in (QUEUE, QUEUE_OUTAGE):
        if (pause := await active_pause(session, service)) is not None:
            return pause
    return None


async def load_capabilities(session: AsyncSession, account: str) -> dict[str, Any] | None:
    """The capabilities stored for ``account`` (``spotify:<client id>``), as stored, or None."""
    data = await session.scalar(select(ServiceCapabilitiesRow.data).where(ServiceCapabilitiesRow.account == account))
    return dict(data) if isinstance(data, dict) else None


async def save_capabilities(session: AsyncSession, account: str, data: dict[str, Any]) -> None:
    row = await session.get(ServiceCapabilitiesRow, account)
    if row is None:
        session.add(ServiceCapabilitiesRow(account=account, data=data))
    else:
        row.data = data
    await session.flush()


__all__ = [
    "QUEUE",
    "QUEUE_OUTAGE",
    "UNTIL_RESUMED",
    "active_pause",
    "clear_pause",
    "load_capabilities",
    "pause_queue",
    "queue_pause",
    "record_pause",
    "resume_queue",
    "save_capabilities",
]
