"""The Deezer fan-count refresh: artists with a Deezer id -> ``nb_fan`` -> ``artist_metrics``, one run row.

Flow (issue 7): read the artists with a Deezer id (none: :class:`NothingToRefresh`); one UTC timestamp
for the whole run; fetch each artist through the shared, rate-limited Deezer client (bounded
concurrency); validate ``nb_fan``; store the figure as the artist's figure of the run's UTC day (a refresh
or an import earlier that day is replaced, an unchanged count is stored too) in the artist's own short
transaction together with the artist's result row; finish the run row with its counts. One artist's
failure (Deezer or the database) is that artist's entry, never the run's end.

Errors the caller sees: :class:`NothingToRefresh` (nothing to do: CLI exit 3),
:class:`DatabaseUnavailableError` (the database cannot be read at the start: CLI exit 1),
``asyncio.CancelledError`` (the run row is marked cancelled first; what was written stays), and any
unexpected error (a bug: the run row is marked failed, the error propagates unwrapped).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from artist_desktop.domain import MetricType, Platform, utcnow
from artist_desktop.services.deezer import FANS_NOT_AVAILABLE
from artist_desktop.services.errors import NotFoundError, ServiceError
from artist_desktop.store import repository
from artist_desktop.store.locks import LockHeld, describe_holder, run_lock
from artist_desktop.store.models import RefreshRunStatus

if TYPE_CHECKING:
    from artist_desktop.services.deezer import DeezerClient
    from artist_desktop.store.database import Database
    from artist_desktop.store.repository import PlatformArtist

log = logging.getLogger(__name__)

#: A refresh run's state: running -> complete | cancelled | failed (all three final). ``complete``
#: means every artist was tried (per-artist failures included); ``cancelled``: the user stopped it;
#: ``failed``: an unexpected error ended it. The store keeps the same enum, so there is one definition.
RefreshStatus = RefreshRunStatus

NOT_FOUND = "Not found on Deezer"
DEFAULT_CONCURRENCY = 10


class NothingToRefresh(Exception):
    """No artist has a Deezer id (or none of those asked for): nothing was fetched or written."""

    def __init__(self, message: str = "No artists with a Deezer id — use Find Deezer ids first") -> None:
        super().__init__(message)


class DatabaseUnavailableError(Exception):
    """The database could not be read when the refresh started; nothing was fetched."""


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """One artist's outcome; ``previous_fans`` is the figure stored before this run wrote (an earlier run of the
    same day included: that is the one this run replaces), for the dialog's "change"."""

    artist_id: int
    name: str
    success: bool
    fans: int | None = None
    error: str | None = None
    previous_fans: int | None = None

    @property
    def change(self) -> int | None:
        """Fans gained (or lost) since the last figure of an earlier day; None when either value is unknown."""
        if self.fans is None or self.previous_fans is None:
            return None
        return self.fans - self.previous_fans

    def to_json(self) -> dict[str, Any]:
        """DESIGN.md: ``{artist_id, name, success: true, fans}`` or ``{..., success: false, error}``."""
        if self.success:
            return {"artist_id": self.artist_id, "name": self.name, "success": True, "fans": self.fans}
        return {"artist_id": self.artist_id, "name": self.name, "success": False, "error": self.error}


@dataclass(frozen=True, slots=True)
class RefreshSummary:
    """A whole run: its counts and results in the artists' order."""

    run_id: int
    run_date: datetime
    status: RefreshRunStatus
    total: int
    updated: int
    failed: int
    results: list[RefreshResult] = field(default_factory=list)

    @property
    def success(self) -> bool:
        """The run completed (every artist tried), whatever the per-artist failures."""
        return self.status is RefreshRunStatus.COMPLETE

    @property
    def failed_artist_ids(self) -> set[int]:
        """What "Retry failed" passes back as ``only_artist_ids``."""
        return {result.artist_id for result in self.results if not result.success}

    def to_json(self) -> dict[str, Any]:
        """DESIGN.md's ``refresh-deezer --json`` shape."""
        return {
            "success": self.success,
            "total": self.total,
            "updated": self.updated,
            "failed": self.failed,
            "results": [result.to_json() for result in self.results],
        }


def _as_int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _db_message(exc: SQLAlchemyError) -> str:
    """A one-line reason for a person, without SQLAlchemy's statement dump and link."""
    origin = getattr(exc, "orig", None) or exc
    text = str(origin).strip().splitlines()[0] if str(origin).strip() else type(origin).__name__
    return f"Database error: {text}"


async def _load_artists(database: Database, only_artist_ids: set[int] | None) -> list[PlatformArtist]:
    try:
        async with database.session() as session:
            artists = await repository.artists_with_platform_id(session, Platform.DEEZER)
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseUnavailableError(f"Cannot read the database {database.url}: {exc}") from exc
    if only_artist_ids is not None:
        artists = [artist for artist in artists if artist.artist_id in only_artist_ids]
    return artists


async def _fetch_fans(deezer: DeezerClient, deezer_id: str) -> tuple[int | None, str | None]:
    """``(fans, None)`` or ``(None, reason)``; only cancellation escapes."""
    try:
        artist = await deezer.get_artist(deezer_id)
    except NotFoundError:
        return None, NOT_FOUND
    except ServiceError as exc:
        return None, str(exc)
    fans = artist.fans
    if fans is None:
        return None, FANS_NOT_AVAILABLE
    return fans, None


async def _store(
    database: Database,
    run_id: int,
    run_date: datetime,
    artist: PlatformArtist,
    fans: int | None,
    error: str | None,
) -> RefreshResult:
    """Store one artist's outcome: the metric and the result row in one short transaction.

    A database error is this artist's failure (recorded in a second transaction when possible).
    """
    previous: int | None = None
    if fans is not None:
        try:
            async with database.session() as session:
                previous = _as_int(
                    await repository.latest_metric(session, artist.artist_id, Platform.DEEZER, MetricType.FOLLOWERS)
                )
                await repository.upsert_metric(
                    session, artist.artist_id, Platform.DEEZER, MetricType.FOLLOWERS, fans, run_date
                )
                result = RefreshResult(artist.artist_id, artist.name, True, fans, None, previous)
                await _add_result(session, run_id, result)
                await session.commit()
            return result
        except SQLAlchemyError as exc:
            log.warning("Could not store Deezer fans of %r: %s", artist.name, exc)
            error, fans = _db_message(exc), None
    result = RefreshResult(artist.artist_id, artist.name, False, None, error, previous)
    try:
        async with database.session() as session:
            await _add_result(session, run_id, result)
            await session.commit()
    except SQLAlchemyError as exc:  # the summary still reports it; only the history misses the row
        log.warning("Could not record the refresh failure of %r: %s", artist.name, exc)
    return result


async def _add_result(session: Any, run_id: int, result: RefreshResult) -> None:
    await repository.add_refresh_result(
        session,
        run_id,
        artist_id=result.artist_id,
        name=result.name,
        success=result.success,
        value=result.fans,
        error=result.error,
        previous_value=result.previous_fans,
    )


async def _finish(
    database: Database, run_id: int, status: RefreshRunStatus, results: list[RefreshResult | None]
) -> tuple[int, int]:
    done = [result for result in results if result is not None]
    updated = sum(1 for result in done if result.success)
    failed = len(done) - updated
    async with database.session() as session:
        await repository.finish_refresh_run(session, run_id, status, total=len(results), updated=updated, failed=failed)
        await session.commit()
    return updated, failed


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
    """Refresh the Deezer fan count of every artist with a Deezer id (or only ``only_artist_ids``).

    ``progress(done, total, artist_name)`` is called after each artist. ``run_date`` (default: now, UTC)
    dates every figure of the run; the store keeps one per artist and UTC day, so a second run the same day
    replaces the first one's figures.
    Two refreshes never run at once on one database: the second raises :class:`LockHeld` naming the
    first's ``holder`` (default: this host and process).
    """
    try:
        async with run_lock(database, "deezer-refresh", holder or describe_holder("Deezer refresh")):
            return await _refresh(database, deezer, progress, run_date, only_artist_ids, concurrency)
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseUnavailableError(f"Cannot read the database {database.url}: {exc}") from exc


async def _refresh(
    database: Database,
    deezer: DeezerClient,
    progress: Callable[[int, int, str], None] | None,
    run_date: datetime | None,
    only_artist_ids: set[int] | None,
    concurrency: int,
) -> RefreshSummary:
    run_date = (run_date or utcnow()).astimezone(UTC)
    artists = await _load_artists(database, only_artist_ids)
    if not artists:
        raise NothingToRefresh()
    total = len(artists)
    try:
        async with database.session() as session:
            run_id = await repository.start_refresh_run(session, Platform.DEEZER, run_date)
            await session.commit()
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseUnavailableError(f"Cannot record the run in the database {database.url}: {exc}") from exc

    results: list[RefreshResult | None] = [None] * total
    gate = asyncio.Semaphore(max(1, concurrency))
    done = 0

    writes: set[asyncio.Task[None]] = set()

    async def write(index: int, artist: PlatformArtist, fans: int | None, error: str | None) -> None:
        results[index] = await _store(database, run_id, run_date, artist, fans, error)

    async def one(index: int, artist: PlatformArtist) -> None:
        nonlocal done
        async with gate:
            fans, error = await _fetch_fans(deezer, artist.platform_id)
            # A write in progress is never cut by a cancel (its metric and result stay together).
            task = asyncio.create_task(write(index, artist, fans, error))
            writes.add(task)
            await asyncio.shield(task)
        done += 1
        if progress is not None:
            progress(done, total, artist.name)

    status = RefreshRunStatus.COMPLETE
    try:
        async with asyncio.TaskGroup() as group:
            for index, artist in enumerate(artists):
                group.create_task(one(index, artist))
    except asyncio.CancelledError:
        status = RefreshRunStatus.CANCELLED
        raise
    except BaseExceptionGroup as group_error:
        # A bug, not a per-artist failure: the caller sees the first error itself, not a TaskGroup wrapper.
        status = RefreshRunStatus.FAILED
        log.error("Deezer refresh run %s ended by an unexpected error", run_id, exc_info=group_error)
        raise group_error.exceptions[0] from group_error
    except BaseException:
        status = RefreshRunStatus.FAILED
        log.exception("Deezer refresh run %s ended by an unexpected error", run_id)
        raise
    finally:
        # Shielded: the writes under way land first, then the run is marked, whatever is ending it.
        await asyncio.shield(asyncio.gather(*writes, return_exceptions=True))
        updated, failed = await asyncio.shield(_finish(database, run_id, status, results))

    return RefreshSummary(
        run_id=run_id,
        run_date=run_date,
        status=status,
        total=total,
        updated=updated,
        failed=failed,
        results=[result for result in results if result is not None],
    )


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
