"""The refresh of metric sources: library artists -> each source -> daily points, resolved ids, one run row per source.

Flow (issue 19, DESIGN.md "The Deezer refresh"): one UTC timestamp for the whole refresh; per source (all sources
at once: they talk to different hosts) the source's run lock, a skip when it cannot run (no API key: a run row
``skipped`` with the reason, never a failure), the library's artists it serves, a run row, then
:meth:`~artist_desktop.sources.base.MetricSource.collect`; every artist it reports is stored in the artist's own
short transaction (its figures as daily points, ids it resolved, its result row), so one artist's failure, or the
database's, is that artist's entry and never the run's end. A source-wide failure
(:class:`~artist_desktop.sources.base.SourceFailed`) fails the artists not reported yet with its reason.

Errors the caller sees: :class:`NothingToRefresh` (no source had any artist to refresh: CLI exit 3),
:class:`DatabaseUnavailableError` (the database cannot be read at the start: CLI exit 1), ``LockHeld`` (only when
refreshing one source that another process is refreshing), ``asyncio.CancelledError`` (the run rows are marked
cancelled first; what was written stays), and any unexpected error (a bug: the run row is marked failed).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from artist_desktop.domain import MetricType, Platform, utcnow
from artist_desktop.sources.base import ArtistFigures, FigureOutcome, MetricSource, SourceArtist, SourceFailed
from artist_desktop.store import repository
from artist_desktop.store.locks import LockHeld, describe_holder, run_lock
from artist_desktop.store.models import RefreshRunStatus

if TYPE_CHECKING:
    from artist_desktop.store.database import Database

log = logging.getLogger(__name__)

#: A source's run: running -> complete | cancelled | failed, or skipped (the store keeps the same enum).
RefreshStatus = RefreshRunStatus

#: What the JSON of each source calls its headline figure (``refresh-deezer --json`` has always said "fans").
VALUE_KEYS: dict[MetricType, str] = {MetricType.FOLLOWERS: "fans"}
#: The ids a source may need besides its own (MusicBrainz for everyone, Wikidata for Wikipedia).
_SHARED_IDS = (Platform.MUSICBRAINZ, Platform.WIKIDATA)
#: Words of a source run without any artist to refresh.
NOTHING_FOR = {Platform.DEEZER: "No artists with a Deezer id — use Find Deezer ids first"}
NOTHING = "No artist in the library has an id this source can use (a MusicBrainz id)"
#: Which artists a source leaves out, in words (the others need a MusicBrainz id).
UNSERVED_FOR = {Platform.DEEZER: "without a Deezer id"}
#: A source returned without reporting an artist: a bug of the source, said as such.
NOT_REPORTED = "No answer for this artist (the source skipped it)"


class NothingToRefresh(Exception):
    """No source had any artist to refresh (or none of those asked for): nothing was fetched or written."""

    def __init__(self, message: str = NOTHING_FOR[Platform.DEEZER]) -> None:
        super().__init__(message)


class DatabaseUnavailableError(Exception):
    """The database could not be read when the refresh started; nothing was fetched."""


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """One artist's outcome in one source's run. ``value`` is the source's headline figure (Deezer fans, Last.fm
    listeners, the latest day's pageviews); ``previous_value`` the one stored before this run wrote (an earlier
    run of the same day included: that is the one this run replaces), for the dialog's "change"."""

    artist_id: int
    name: str
    success: bool
    value: int | None = None
    error: str | None = None
    previous_value: int | None = None
    #: The service does not know this artist (no article, no such id): not a failure of the service.
    not_found: bool = False

    @property
    def change(self) -> int | None:
        """Gained (or lost) since the figure before this run; None when either value is unknown."""
        if self.value is None or self.previous_value is None:
            return None
        return self.value - self.previous_value

    def to_json(self, value_key: str = "value") -> dict[str, Any]:
        """``{artist_id, name, success: true, <value_key>}``, ``{..., success: false, error}``, or with
        ``"not_found": true`` added when the service does not know the artist."""
        if self.success:
            return {"artist_id": self.artist_id, "name": self.name, "success": True, value_key: self.value}
        failed = {"artist_id": self.artist_id, "name": self.name, "success": False, "error": self.error}
        return failed | {"not_found": True} if self.not_found else failed


@dataclass(frozen=True, slots=True)
class RefreshSummary:
    """One source's run: its status (and why, when skipped or failed as a whole), counts and results in the
    artists' order. ``run_id`` is None only for a run that never reached the database."""

    run_id: int | None
    run_date: datetime
    status: RefreshRunStatus
    total: int
    updated: int
    failed: int
    results: list[RefreshResult] = field(default_factory=list)
    source: Platform = Platform.DEEZER
    label: str = "Deezer fans"
    reason: str | None = None
    headline: MetricType = MetricType.FOLLOWERS
    #: Library artists this source could not take (no MusicBrainz id, no Deezer id): not part of ``total``.
    unserved: int = 0

    @property
    def left_out_text(self) -> str | None:
        """ "1 artist without a MusicBrainz id left out", or None when every artist was taken."""
        if not self.unserved:
            return None
        what = UNSERVED_FOR.get(self.source, "without a MusicBrainz id")
        return f"{self.unserved:,} artist{'s' * (self.unserved != 1)} {what} left out"

    @property
    def success(self) -> bool:
        """The run completed (every artist tried, per-artist failures included) or had nothing to do."""
        return self.status in (RefreshRunStatus.COMPLETE, RefreshRunStatus.SKIPPED)

    @property
    def not_found(self) -> int:
        """How many of :attr:`failed` the service does not know (the rest are :attr:`failures`)."""
        return sum(1 for result in self.results if result.not_found)

    @property
    def failures(self) -> int:
        """Artists the service failed for (errors, refusals), apart from those it does not know."""
        return self.failed - self.not_found

    def counts_text(self) -> str:
        """The run's outcome in words, one wording for every surface: "40 updated, 2 failed", "10 updated, 4 not
        found", "10 updated, 1 failed, 3 not found" (an artist Wikipedia has no article for is not a failure)."""
        counts = f"{self.updated:,} updated"
        if self.failures or not self.not_found:
            counts += f", {self.failures:,} failed"
        if self.not_found:
            counts += f", {self.not_found:,} not found"
        return counts

    @property
    def failed_artist_ids(self) -> set[int]:
        """What "Retry failed" passes back as ``only_artist_ids``."""
        return {result.artist_id for result in self.results if not result.success}

    @property
    def value_key(self) -> str:
        return VALUE_KEYS.get(self.headline, self.headline.value)

    def to_json(self) -> dict[str, Any]:
        """``{"source", "status", "reason", "success", "total", "updated", "failed", "not_found", "unserved",
        "results": [...]}``: ``updated + failed + not_found == total``; ``not_found`` the artists the service does not
        know (their results say ``"not_found": true``); ``unserved`` library artists left out (no id to ask with).
        For Deezer this is DESIGN.md's ``refresh-deezer --json`` shape (results say ``fans``) plus five keys."""
        return {
            "source": self.source.value,
            "status": self.status.value,
            "reason": self.reason,
            "success": self.success,
            "total": self.total,
            "updated": self.updated,
            "failed": self.failures,
            "not_found": self.not_found,
            "unserved": self.unserved,
            "results": [result.to_json(self.value_key) for result in self.results],
        }


@dataclass(frozen=True, slots=True)
class RefreshAllSummary:
    """Every source's run of one refresh, in the order the sources were given."""

    run_date: datetime
    runs: list[RefreshSummary]

    @property
    def success(self) -> bool:
        """Every source completed or was skipped (per-artist failures do not count: they are in the results)."""
        return all(run.success for run in self.runs)

    def run_of(self, source: Platform) -> RefreshSummary | None:
        return next((run for run in self.runs if run.source is source), None)

    def to_json(self) -> dict[str, Any]:
        """``{"success", "run_date", "sources": [each run's :meth:`RefreshSummary.to_json`]}``."""
        return {
            "success": self.success,
            "run_date": self.run_date.isoformat(),
            "sources": [run.to_json() for run in self.runs],
        }


#: ``progress(source, done, total, artist_name)`` after each artist of each source.
SourceProgress = Callable[[Platform, int, int, str], None]


def _db_message(exc: SQLAlchemyError) -> str:
    """A one-line reason for a person, without SQLAlchemy's statement dump and link."""
    origin = getattr(exc, "orig", None) or exc
    text = str(origin).strip().splitlines()[0] if str(origin).strip() else type(origin).__name__
    return f"Database error: {text}"


def lock_name(source: Platform) -> str:
    """The run lock of one source (``deezer-refresh`` is the name the Deezer refresh always held)."""
    return f"{source.value}-refresh"


async def refresh_sources(
    database: Database,
    sources: Sequence[MetricSource],
    *,
    progress: SourceProgress | None = None,
    run_date: datetime | None = None,
    only_artist_ids: set[int] | None = None,
    holder: str | None = None,
) -> RefreshAllSummary:
    """Refresh every source in ``sources`` at once (or only ``only_artist_ids``) and return each one's run.

    ``run_date`` (default: now, UTC) stamps every figure; its UTC day is the day a total is stored under (one
    point per artist, metric and day: a second run the same day replaces the first one's figures). A source
    another process is refreshing is that source's ``failed`` run naming the holder, unless it is the only
    source asked for: then :class:`LockHeld` is raised. Raises :class:`NothingToRefresh` when no source had an
    artist to refresh.
    """
    run_date = (run_date or utcnow()).astimezone(UTC)
    artists = await _load_artists(database, sources)
    holder = holder or describe_holder("Metrics refresh")
    runs = await asyncio.gather(
        *(
            _refresh_one(database, source, artists, run_date, only_artist_ids, progress, holder, len(sources) == 1)
            for source in sources
        )
    )
    if all(run.status is RefreshRunStatus.SKIPPED and run.run_id is None for run in runs):
        reasons = {run.reason for run in runs if run.reason}
        raise NothingToRefresh(reasons.pop() if len(reasons) == 1 else NOTHING)
    return RefreshAllSummary(run_date, list(runs))


async def _load_artists(database: Database, sources: Sequence[MetricSource]) -> dict[Platform, list[SourceArtist]]:
    """Each source's view of every library artist (served or not: the source decides below)."""
    platforms = {*_SHARED_IDS, *(source.name for source in sources)}
    try:
        async with database.read_session() as session:
            library = await repository.artists_with_ids(session, [platform.value for platform in platforms])
            last_days = {
                source.name: await repository.latest_metric_days(session, source.name.value, source.headline.value)
                for source in sources
            }
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseUnavailableError(f"Cannot read the database {database.url}: {exc}") from exc
    return {
        source.name: [
            SourceArtist(
                artist_id=artist.artist_id,
                name=artist.name,
                mbid=artist.ids.get(Platform.MUSICBRAINZ.value),
                platform_id=artist.ids.get(source.name.value),
                wikidata_id=artist.ids.get(Platform.WIKIDATA.value),
                last_day=last_days[source.name].get(artist.artist_id),
            )
            for artist in library
        ]
        for source in sources
    }


def _skipped(
    source: MetricSource,
    run_date: datetime,
    reason: str,
    run_id: int | None = None,
    status: RefreshRunStatus = RefreshRunStatus.SKIPPED,
) -> RefreshSummary:
    """A run that fetched nothing: skipped (``reason`` says why), or failed before it began."""
    return RefreshSummary(run_id, run_date, status, 0, 0, 0, [], source.name, source.label, reason, source.headline)


async def _record_skip(database: Database, source: MetricSource, run_date: datetime, reason: str) -> RefreshSummary:
    """A skipped source keeps a run row too, so its history says why nothing came ("skipped: no API key")."""
    try:
        async with database.session() as session:
            run_id = await repository.start_refresh_run(session, source.name.value, run_date)
            await repository.finish_refresh_run(session, run_id, RefreshRunStatus.SKIPPED, 0, 0, 0, reason)
            await session.commit()
    except (SQLAlchemyError, OSError) as exc:
        log.warning("Could not record the skipped %s run: %s", source.label, exc)
        run_id = None
    return _skipped(source, run_date, reason, run_id)


async def _refresh_one(
    database: Database,
    source: MetricSource,
    artists: dict[Platform, list[SourceArtist]],
    run_date: datetime,
    only_artist_ids: set[int] | None,
    progress: SourceProgress | None,
    holder: str,
    alone: bool,
) -> RefreshSummary:
    reason = source.skip_reason()
    if reason is not None:
        return await _record_skip(database, source, run_date, reason)
    asked = [
        artist for artist in artists[source.name] if only_artist_ids is None or artist.artist_id in only_artist_ids
    ]
    served = [artist for artist in asked if source.serves(artist)]
    if not served:
        return _skipped(source, run_date, NOTHING_FOR.get(source.name, NOTHING))
    try:
        async with run_lock(database, lock_name(source.name), holder):
            summary = await _run(database, source, served, run_date, progress)
            return dataclasses.replace(summary, unserved=len(asked) - len(served))
    except LockHeld as held:
        if alone:
            raise
        return _skipped(source, run_date, str(held), status=RefreshRunStatus.FAILED)
    except (SQLAlchemyError, OSError, DatabaseUnavailableError) as exc:
        if alone:
            if isinstance(exc, DatabaseUnavailableError):
                raise
            raise DatabaseUnavailableError(f"Cannot read the database {database.url}: {exc}") from exc
        return _skipped(source, run_date, f"Cannot use the database: {exc}", status=RefreshRunStatus.FAILED)


async def _run(
    database: Database,
    source: MetricSource,
    artists: list[SourceArtist],
    run_date: datetime,
    progress: SourceProgress | None,
) -> RefreshSummary:
    total = len(artists)
    # Shielded: a cancel landing while the run row is being written still finds the row, and closes it.
    starting = asyncio.ensure_future(_start(database, source, run_date))
    try:
        run_id = await asyncio.shield(starting)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await _finish(database, await starting, RefreshRunStatus.CANCELLED, total, 0, 0, None)
        raise

    by_id = {artist.artist_id: artist for artist in artists}
    results: dict[int, RefreshResult] = {}
    writes: set[asyncio.Task[None]] = set()

    async def write(outcome: ArtistFigures) -> None:
        results[outcome.artist_id] = await _store(database, source, run_id, run_date, by_id[outcome.artist_id], outcome)
        if progress is not None:
            progress(source.name, len(results), total, by_id[outcome.artist_id].name)

    async def report(outcome: ArtistFigures) -> None:
        if outcome.artist_id not in by_id or outcome.artist_id in results:
            log.warning("%s reported artist %s twice or unasked: ignored", source.label, outcome.artist_id)
            return
        # A write in progress is never cut by a cancel (its figures and result row stay together).
        task = asyncio.create_task(write(outcome))
        writes.add(task)
        await asyncio.shield(task)

    status, reason = RefreshRunStatus.COMPLETE, None
    try:
        await source.collect(artists, run_date.date(), report)
    except SourceFailed as exc:
        status, reason = RefreshRunStatus.FAILED, str(exc)
    except asyncio.CancelledError:
        status = RefreshRunStatus.CANCELLED
        raise
    except BaseExceptionGroup as group_error:
        status, reason = RefreshRunStatus.FAILED, f"Unexpected error: {group_error.exceptions[0]!r}"
        log.error("%s refresh run %s ended by an unexpected error", source.label, run_id, exc_info=group_error)
        raise group_error.exceptions[0] from group_error
    except BaseException as exc:
        status, reason = RefreshRunStatus.FAILED, f"Unexpected error: {exc!r}"
        log.exception("%s refresh run %s ended by an unexpected error", source.label, run_id)
        raise
    finally:
        # Shielded: the writes under way land first, then the run is marked, whatever is ending it.
        await asyncio.shield(asyncio.gather(*writes, return_exceptions=True))
        if status is not RefreshRunStatus.CANCELLED:
            missing = reason or NOT_REPORTED
            for artist in artists:
                if artist.artist_id not in results:
                    await asyncio.shield(write(ArtistFigures.failed(artist.artist_id, missing)))
        updated = sum(1 for result in results.values() if result.success)
        await asyncio.shield(_finish(database, run_id, status, total, updated, len(results) - updated, reason))

    ordered = [results[artist.artist_id] for artist in artists if artist.artist_id in results]
    return RefreshSummary(
        run_id,
        run_date,
        status,
        total,
        updated,
        len(ordered) - updated,
        ordered,
        source.name,
        source.label,
        reason,
        source.headline,
    )


async def _start(database: Database, source: MetricSource, run_date: datetime) -> int:
    try:
        async with database.session() as session:
            run_id = await repository.start_refresh_run(session, source.name.value, run_date)
            await session.commit()
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseUnavailableError(f"Cannot record the run in the database {database.url}: {exc}") from exc
    return run_id


#: Attempts at closing a run row while the database is busy (several sources finish at once on SQLite).
FINISH_ATTEMPTS = 5


async def _finish(
    database: Database, run_id: int, status: RefreshRunStatus, total: int, updated: int, failed: int, reason: str | None
) -> None:
    """Close the run row; a busy database is waited for a few times, so no row stays "running" after its run."""
    for attempt in range(1, FINISH_ATTEMPTS + 1):
        try:
            async with database.session() as session:
                await repository.finish_refresh_run(session, run_id, status, total, updated, failed, reason)
                await session.commit()
            return
        except SQLAlchemyError as exc:
            if attempt == FINISH_ATTEMPTS:
                log.warning("Could not close refresh run %s: %s", run_id, exc)
                return
            await asyncio.sleep(0.2 * attempt)


def _headline(source: MetricSource, outcome: ArtistFigures) -> int | None:
    """The latest day's figure of the source's headline metric in this report."""
    figures = [figure for figure in outcome.figures if figure.metric is source.headline]
    return max(figures, key=lambda figure: figure.day).value if figures else None


async def _store(
    database: Database,
    source: MetricSource,
    run_id: int,
    run_date: datetime,
    artist: SourceArtist,
    outcome: ArtistFigures,
) -> RefreshResult:
    """Store one artist's report: figures, resolved ids and the result row in one short transaction.

    A database error is this artist's failure (recorded in a second transaction when possible).
    """
    previous: int | None = None
    error = outcome.reason
    if outcome.outcome is FigureOutcome.NOT_FOUND and error is None:
        error = f"Not found on {source.label.split()[0]}"
    if outcome.outcome is not FigureOutcome.FAILED:
        try:
            async with database.session() as session:
                await _store_ids(session, source.name, artist, outcome)
                value = _headline(source, outcome)
                if outcome.outcome is FigureOutcome.UPDATED:
                    latest = await repository.latest_metric(
                        session, artist.artist_id, source.name.value, source.headline.value
                    )
                    previous = None if latest is None else int(latest)
                    await _store_figures(session, source, artist.artist_id, outcome, run_date)
                    if value is None:  # nothing new (a daily series already up to date): the stored figure
                        value = previous
                        previous = await _previous_day_value(session, source, artist.artist_id)
                    elif previous is None:  # nothing replaced (a first collection): the day before, if any
                        previous = await _previous_day_value(session, source, artist.artist_id)
                result = RefreshResult(
                    artist.artist_id,
                    artist.name,
                    outcome.outcome is FigureOutcome.UPDATED,
                    value if outcome.outcome is FigureOutcome.UPDATED else None,
                    error,
                    previous,
                    outcome.outcome is FigureOutcome.NOT_FOUND,
                )
                await _add_result(session, run_id, result)
                await session.commit()
            return result
        except SQLAlchemyError as exc:
            log.warning("Could not store %s of %r: %s", source.label, artist.name, exc)
            error = _db_message(exc)
    # Here the source failed for the artist, or the database did: a failure either way, never "not found".
    result = RefreshResult(artist.artist_id, artist.name, False, None, error, previous)
    try:
        async with database.session() as session:
            if outcome.outcome is FigureOutcome.FAILED:  # ids found on the way save a lookup next time
                await _store_ids(session, source.name, artist, outcome)
            await _add_result(session, run_id, result)
            await session.commit()
    except SQLAlchemyError as exc:  # the summary still reports it; only the history misses the row
        log.warning("Could not record the refresh failure of %r: %s", artist.name, exc)
    return result


async def _previous_day_value(session: Any, source: MetricSource, artist_id: int) -> int | None:
    """The headline figure of the day before the latest stored one (the "change" of an up-to-date series)."""
    series = await repository.latest_metric_values(session, artist_id, source.name.value, source.headline.value, 2)
    return int(series[1]) if len(series) > 1 else None


async def _store_figures(
    session: Any, source: MetricSource, artist_id: int, outcome: ArtistFigures, run_date: datetime
) -> None:
    by_metric: dict[MetricType, list[tuple[date, float]]] = {}
    for figure in outcome.figures:
        by_metric.setdefault(figure.metric, []).append((figure.day, float(figure.value)))
    for metric, figures in by_metric.items():
        await repository.upsert_metric_days(session, artist_id, source.name.value, metric.value, figures, run_date)


async def _store_ids(session: Any, own: Platform, artist: SourceArtist, outcome: ArtistFigures) -> None:
    """Ids the source resolved; an id already held (set by hand, or resolved before) is never replaced, and an id
    another artist holds is left to that artist (logged)."""
    held = {Platform.WIKIDATA: artist.wikidata_id, Platform.MUSICBRAINZ: artist.mbid, own: artist.platform_id}
    for platform, platform_id in outcome.resolved_ids.items():
        if not platform_id or held.get(platform):
            continue
        try:
            await repository.upsert_platform_id(session, artist.artist_id, platform.value, platform_id)
        except repository.PlatformIdConflict as conflict:
            log.warning("%s id %r of %r belongs to artist %s: not stored", platform, platform_id, artist.name, conflict)


async def _add_result(session: Any, run_id: int, result: RefreshResult) -> None:
    await repository.add_refresh_result(
        session,
        run_id,
        artist_id=result.artist_id,
        name=result.name,
        success=result.success,
        value=result.value,
        error=result.error,
        previous_value=result.previous_value,
        not_found=result.not_found,
    )


__all__ = [
    "NOT_REPORTED",
    "DatabaseUnavailableError",
    "LockHeld",
    "NothingToRefresh",
    "RefreshAllSummary",
    "RefreshResult",
    "RefreshStatus",
    "RefreshSummary",
    "SourceProgress",
    "lock_name",
    "refresh_sources",
]
