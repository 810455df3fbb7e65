"""What services told us that outlives a process: pauses (Spotify's daily quota) and an account's capabilities.

Both are shared through the database by the window, ``import``, ``serve`` and a restarted app, so a second
process does not spend a request to learn what the first already knows.
"""

from __future__ import annotations

from datetime import datetime
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


__all__ = ["active_pause", "clear_pause", "load_capabilities", "record_pause", "save_capabilities"]
