"""The library's reads and writes: artists, platform ids, metrics, tracks, media and metric refresh runs.

Plain async functions on an AsyncSession. The import-job ledger is :mod:`artist_desktop.store.jobs`.
Callers own the transaction (they commit or roll back); these functions only flush. Upserts use the
dialect's ``INSERT .. ON CONFLICT`` so running an import or a refresh twice changes nothing the
second time.

Exceptions: :class:`PlatformIdConflict` (a platform id already belongs to another artist); everything
else is SQLAlchemy's own (``sqlalchemy.exc.SQLAlchemyError``), never retried here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from artist_desktop.domain import ArtistRecord, Platform, utcnow
from artist_desktop.store._sql import chunks, insert, rowcount
from artist_desktop.store.models import (
    Artist,
    ArtistMetric,
    ArtistPlatformId,
    ArtistTrack,
    MediaAsset,
    MetricRefreshResult,
    MetricRefreshRun,
    RefreshRunStatus,
    Track,
)


class PlatformIdConflict(ValueError):
    """A platform id is already recorded for a different artist (ids are unique per platform)."""

    def __init__(self, platform: str, platform_id: str, owner_id: int, artist_id: int) -> None:
        super().__init__(f"{platform} id {platform_id!r} already belongs to artist {owner_id}, not {artist_id}")
        self.platform = platform
        self.platform_id = platform_id
        self.owner_id = owner_id
        self.artist_id = artist_id


@dataclass(frozen=True, slots=True)
class PlatformArtist:
    """An artist together with its id on one platform (the input of a metric refresh)."""

    artist_id: int
    name: str
    platform_id: str


# --- artists, platform ids, metrics ---------------------------------------------------------------


async def upsert_artist(session: AsyncSession, record: ArtistRecord) -> int:
    """Insert or update the artist with ``record.slug``; returns its id.

    A field that is None (or an empty genre list) in ``record`` keeps the stored value, so a source
    that failed this time never erases what an earlier import found. ``is_complete`` is always the
    latest import's verdict.
    """
    now = utcnow()
    table = Artist.__table__
    stmt = insert(session, Artist).values(
        name=record.name,
        slug=record.slug,
        gender=record.gender,
        country=record.country,
        birth_date=record.birth_date,
        image_url=record.image_url,
        genres=list(record.genres),
        popularity=record.popularity,
        followers=record.followers,
        is_complete=record.is_complete,
        created_at=now,
        updated_at=now,
    )
    keep_known = ("gender", "country", "birth_date", "image_url", "popularity", "followers")
    changes: dict[str, Any] = {name: func.coalesce(stmt.excluded[name], table.c[name]) for name in keep_known}
    changes.update(name=stmt.excluded.name, is_complete=stmt.excluded.is_complete, updated_at=now)
    if record.genres:
        changes["genres"] = stmt.excluded.genres
    upsert = stmt.on_conflict_do_update(index_elements=[Artist.slug], set_=changes).returning(Artist.id)
    return (await session.execute(upsert)).scalar_one()


async def artist_slug(session: AsyncSession, artist_id: int) -> str | None:
    """The artist's slug (a re-import keeps it so a renamed artist updates its row), None if unknown."""
    slug: str | None = await session.scalar(select(Artist.slug).where(Artist.id == artist_id))
    return slug


async def find_artist_id_by_platform(session: AsyncSession, platform: str, platform_id: str) -> int | None:
    """The artist that has ``platform_id`` on ``platform``, if any."""
    artist_id: int | None = await session.scalar(
        select(ArtistPlatformId.artist_id).where(
            ArtistPlatformId.platform == platform, ArtistPlatformId.platform_id == platform_id
        )
    )
    return artist_id


async def upsert_platform_id(session: AsyncSession, artist_id: int, platform: str, platform_id: str) -> None:
    """Record (or change) the artist's id on ``platform``.

    Raises :class:`PlatformIdConflict` when another artist already has that id, so the caller can
    decide (skip the id, merge the artists) instead of breaking its transaction on a constraint: also
    when another transaction recorded it between the check and the write (the write runs in a savepoint,
    rolled back then), so the caller's transaction stays usable either way.
    """
    owner = await find_artist_id_by_platform(session, platform, platform_id)
    if owner == artist_id:
        return
    if owner is not None:
        raise PlatformIdConflict(platform, platform_id, owner, artist_id)
    stmt = insert(session, ArtistPlatformId).values(artist_id=artist_id, platform=platform, platform_id=platform_id)
    try:
        async with session.begin_nested():
            await session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[ArtistPlatformId.artist_id, ArtistPlatformId.platform],
                    set_={"platform_id": stmt.excluded.platform_id},
                )
            )
    except IntegrityError as exc:
        owner = await find_artist_id_by_platform(session, platform, platform_id)
        if owner is None or owner == artist_id:
            raise
        raise PlatformIdConflict(platform, platform_id, owner, artist_id) from exc


async def delete_platform_id(session: AsyncSession, artist_id: int, platform: str) -> bool:
    """Forget the artist's id on ``platform`` (e.g. a wrong match); True if there was one."""
    result = await session.execute(
        delete(ArtistPlatformId).where(ArtistPlatformId.artist_id == artist_id, ArtistPlatformId.platform == platform)
    )
    return rowcount(result) > 0


async def delete_metrics(session: AsyncSession, artist_id: int, platform: str) -> int:
    """Forget every figure of one platform for the artist (its id there changed: they were another page's)."""
    return rowcount(
        await session.execute(
            delete(ArtistMetric).where(ArtistMetric.artist_id == artist_id, ArtistMetric.platform == platform)
        )
    )


async def upsert_metric(
    session: AsyncSession,
    artist_id: int,
    platform: str,
    metric_type: str,
    value: float,
    observed_at: datetime,
    *,
    day: date | None = None,
) -> None:
    """Record the metric's figure for the UTC day of ``observed_at`` (or for ``day``: a figure about a past day,
    such as Wikipedia's views of yesterday): the first of the day adds a point, a later one the same day replaces
    its value (and ``observed_at``). An unchanged figure is recorded all the same (a flat line is information).

    ``observed_at`` must be timezone-aware (it is stored as UTC, and the day is taken in UTC).
    """
    await upsert_metric_days(
        session, artist_id, platform, metric_type, [(day or utc_day(observed_at), value)], observed_at
    )


async def upsert_metric_days(
    session: AsyncSession,
    artist_id: int,
    platform: str,
    metric_type: str,
    figures: Sequence[tuple[date, float]],
    observed_at: datetime,
) -> None:
    """Record many days' figures of one metric in one statement (a backfill), each as :func:`upsert_metric` does."""
    if observed_at.tzinfo is None or observed_at.utcoffset() is None:
        raise ValueError(f"naive datetime {observed_at!r}: the store needs timezone-aware datetimes")
    if not figures:
        return
    stmt = insert(session, ArtistMetric).values(
        [
            {
                "artist_id": artist_id,
                "platform": platform,
                "metric_type": metric_type,
                "value": float(value),
                "day": day,
                "observed_at": observed_at,
            }
            for day, value in figures
        ]
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[
                ArtistMetric.artist_id,
                ArtistMetric.platform,
                ArtistMetric.metric_type,
                ArtistMetric.day,
            ],
            set_={"value": stmt.excluded.value, "observed_at": stmt.excluded.observed_at},
        )
    )


def utc_day(instant: datetime) -> date:
    """The UTC calendar day of a timezone-aware instant: the day a figure observed then belongs to."""
    return instant.astimezone(UTC).date()


async def artists_with_platform_id(session: AsyncSession, platform: str) -> list[PlatformArtist]:
    """Every artist with an id on ``platform``, by name."""
    rows = await session.execute(
        select(Artist.id, Artist.name, ArtistPlatformId.platform_id)
        .join(ArtistPlatformId, ArtistPlatformId.artist_id == Artist.id)
        .where(ArtistPlatformId.platform == platform)
        .order_by(Artist.name, Artist.id)
    )
    return [PlatformArtist(artist_id, name, platform_id) for artist_id, name, platform_id in rows]


@dataclass(frozen=True, slots=True)
class ArtistIds:
    """An artist with its ids on some platforms (platform -> id; a platform without an id is absent)."""

    artist_id: int
    name: str
    ids: dict[str, str]


async def artists_with_ids(session: AsyncSession, platforms: Iterable[str]) -> list[ArtistIds]:
    """Every artist of the library, by name, with its ids on ``platforms`` (the input of the metric sources)."""
    wanted = list(platforms)
    artists = [
        ArtistIds(artist_id, name, {})
        for artist_id, name in await session.execute(select(Artist.id, Artist.name).order_by(Artist.name, Artist.id))
    ]
    by_id = {artist.artist_id: artist for artist in artists}
    rows = await session.execute(
        select(ArtistPlatformId.artist_id, ArtistPlatformId.platform, ArtistPlatformId.platform_id).where(
            ArtistPlatformId.platform.in_(wanted)
        )
    )
    for artist_id, platform, platform_id in rows:
        if artist_id in by_id:
            by_id[artist_id].ids[platform] = platform_id
    return artists


async def latest_metric_days(session: AsyncSession, platform: str, metric_type: str) -> dict[int, date]:
    """artist id -> the latest UTC day one metric has a figure for (artists without one are absent)."""
    rows = await session.execute(
        select(ArtistMetric.artist_id, func.max(ArtistMetric.day))
        .where(ArtistMetric.platform == platform, ArtistMetric.metric_type == metric_type)
        .group_by(ArtistMetric.artist_id)
    )
    return {artist_id: day for artist_id, day in rows}


async def latest_metrics(
    session: AsyncSession, platform: str, metric_type: str, artist_ids: Iterable[int]
) -> dict[int, float]:
    """artist id -> the most recent figure of one metric (as :func:`latest_metric`, for many artists at once)."""
    found: dict[int, float] = {}
    for chunk in chunks(list(artist_ids)):
        newest = (
            select(ArtistMetric.artist_id, func.max(ArtistMetric.day).label("day"))
            .where(
                ArtistMetric.platform == platform,
                ArtistMetric.metric_type == metric_type,
                ArtistMetric.artist_id.in_(chunk),
            )
            .group_by(ArtistMetric.artist_id)
            .subquery()
        )
        rows = await session.execute(
            select(ArtistMetric.artist_id, ArtistMetric.value)
            .join(newest, (ArtistMetric.artist_id == newest.c.artist_id) & (ArtistMetric.day == newest.c.day))
            .where(ArtistMetric.platform == platform, ArtistMetric.metric_type == metric_type)
        )
        found.update({artist_id: value for artist_id, value in rows})
    return found


async def artists_without_platform_id(session: AsyncSession, platform: str) -> list[tuple[int, str]]:
    """(id, name) of every artist with no id on ``platform`` yet, by name."""
    has_id = (
        select(ArtistPlatformId.id)
        .where(ArtistPlatformId.artist_id == Artist.id, ArtistPlatformId.platform == platform)
        .exists()
    )
    rows = await session.execute(select(Artist.id, Artist.name).where(~has_id).order_by(Artist.name, Artist.id))
    return [(artist_id, name) for artist_id, name in rows]


async def latest_metric(session: AsyncSession, artist_id: int, platform: str, metric_type: str) -> float | None:
    """The most recent figure of one metric (the one a new figure of the same day replaces), or None."""
    stmt = select(ArtistMetric.value).where(
        ArtistMetric.artist_id == artist_id,
        ArtistMetric.platform == platform,
        ArtistMetric.metric_type == metric_type,
    )
    value: float | None = await session.scalar(stmt.order_by(ArtistMetric.day.desc()).limit(1))
    return value


async def latest_metric_values(
    session: AsyncSession, artist_id: int, platform: str, metric_type: str, count: int
) -> list[float]:
    """The ``count`` most recent figures of one metric, newest first (fewer when fewer are stored)."""
    stmt = select(ArtistMetric.value).where(
        ArtistMetric.artist_id == artist_id,
        ArtistMetric.platform == platform,
        ArtistMetric.metric_type == metric_type,
    )
    return list(await session.scalars(stmt.order_by(ArtistMetric.day.desc()).limit(count)))


async def artist_names(session: AsyncSession, artist_ids: Iterable[int]) -> dict[int, str]:
    """The names of these artists (unknown ids are left out)."""
    wanted = list(dict.fromkeys(artist_ids))
    names: dict[int, str] = {}
    for chunk in chunks(wanted):
        rows = await session.execute(select(Artist.id, Artist.name).where(Artist.id.in_(chunk)))
        names.update(rows.tuples().all())
    return names


async def platform_ids_of(session: AsyncSession, artist_ids: Iterable[int], platform: str) -> dict[int, str]:
    """artist id -> its id on ``platform``, for those of ``artist_ids`` that have one."""
    wanted = list(dict.fromkeys(artist_ids))
    found: dict[int, str] = {}
    for chunk in chunks(wanted):
        rows = await session.execute(
            select(ArtistPlatformId.artist_id, ArtistPlatformId.platform_id).where(
                ArtistPlatformId.platform == platform, ArtistPlatformId.artist_id.in_(chunk)
            )
        )
        found.update(rows.tuples().all())
    return found


async def remove_artists(session: AsyncSession, artist_ids: Iterable[int]) -> tuple[int, list[str]]:
    """Delete these artists with their figures, platform ids, top-track links, the tracks no other artist lists
    and their media rows. Import jobs stay in the ledger (their artist link is cleared); refresh results keep
    their own copy of the name.

    Returns how many artists were deleted and the cached file paths no remaining media row names (the caller
    deletes the files after committing: the cache is content-addressed, so a file two artists share stays).
    """
    wanted = list(dict.fromkeys(artist_ids))
    removed = 0
    paths: set[str] = set()
    track_ids: set[int] = set()
    for chunk in chunks(wanted):
        paths.update(await session.scalars(select(MediaAsset.path).where(MediaAsset.artist_id.in_(chunk))))
        track_ids.update(await session.scalars(select(ArtistTrack.track_id).where(ArtistTrack.artist_id.in_(chunk))))
        for model in (ArtistMetric, ArtistPlatformId, ArtistTrack, MediaAsset):
            await session.execute(delete(model).where(model.artist_id.in_(chunk)))
        removed += rowcount(await session.execute(delete(Artist).where(Artist.id.in_(chunk))))
    for chunk in chunks(sorted(track_ids)):
        still_listed = select(ArtistTrack.track_id).where(ArtistTrack.track_id == Track.id).exists()
        await session.execute(delete(Track).where(Track.id.in_(chunk), ~still_listed))
    still_cached: set[str] = set()
    for some_paths in chunks(sorted(paths)):
        still_cached.update(await session.scalars(select(MediaAsset.path).where(MediaAsset.path.in_(some_paths))))
    return removed, sorted(paths - still_cached)


async def spotify_ids_in_library(session: AsyncSession, spotify_ids: Iterable[str]) -> set[str]:
    """Which of these Spotify artist ids are already in the library (to mark search results)."""
    wanted = list(dict.fromkeys(spotify_ids))
    found: set[str] = set()
    for chunk in chunks(wanted):
        found.update(
            await session.scalars(
                select(ArtistPlatformId.platform_id).where(
                    ArtistPlatformId.platform == Platform.SPOTIFY.value,
                    ArtistPlatformId.platform_id.in_(chunk),
                )
            )
        )
    return found


# --- tracks and media -----------------------------------------------------------------------------


async def upsert_track(
    session: AsyncSession,
    name: str,
    duration_ms: int | None,
    album_name: str | None,
    image_url: str | None,
    *,
    spotify_id: str | None = None,
    popularity: int | None = None,
    deezer_id: str | None = None,
    deezer_rank: int | None = None,
) -> int:
    """Insert or update a track by its Spotify id, or else by its Deezer id; returns its id.

    A Spotify track carries ``popularity`` (0-100), a Deezer one ``deezer_rank`` (1..1,000,000).
    """
    if spotify_id is None and deezer_id is None:
        raise ValueError("a track needs a Spotify id or a Deezer id")
    stmt = insert(session, Track).values(
        spotify_id=spotify_id,
        deezer_id=deezer_id,
        name=name,
        popularity=popularity,
        deezer_rank=deezer_rank,
        duration_ms=duration_ms,
        album_name=album_name,
        image_url=image_url,
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=[Track.spotify_id if spotify_id is not None else Track.deezer_id],
        set_={
            "name": stmt.excluded.name,
            "popularity": stmt.excluded.popularity,
            "deezer_rank": stmt.excluded.deezer_rank,
            "duration_ms": stmt.excluded.duration_ms,
            "album_name": stmt.excluded.album_name,
            "image_url": stmt.excluded.image_url,
        },
    ).returning(Track.id)
    return (await session.execute(upsert)).scalar_one()


async def set_artist_tracks(session: AsyncSession, artist_id: int, track_ids: Sequence[int]) -> None:
    """Replace the artist's top tracks with ``track_ids`` (rank 1 first; repeats are dropped)."""
    await session.execute(delete(ArtistTrack).where(ArtistTrack.artist_id == artist_id))
    ordered = list(dict.fromkeys(track_ids))
    if ordered:
        await session.execute(
            insert(session, ArtistTrack),
            [
                {"artist_id": artist_id, "track_id": track_id, "rank": rank}
                for rank, track_id in enumerate(ordered, start=1)
            ],
        )


async def artist_tracks(session: AsyncSession, artist_id: int) -> list[Track]:
    """The artist's top tracks in rank order."""
    result = await session.scalars(
        select(Track)
        .join(ArtistTrack, ArtistTrack.track_id == Track.id)
        .where(ArtistTrack.artist_id == artist_id)
        .order_by(ArtistTrack.rank)
    )
    return list(result)


async def upsert_media_asset(
    session: AsyncSession,
    artist_id: int,
    kind: str,
    source_url: str,
    sha256: str,
    path: str,
    content_type: str | None,
    size_bytes: int,
    width: int | None = None,
    height: int | None = None,
) -> int:
    """Record a cached file for (artist, source URL); a re-download replaces the row. Returns its id."""
    stmt = insert(session, MediaAsset).values(
        artist_id=artist_id,
        kind=kind,
        source_url=source_url,
        sha256=sha256,
        path=path,
        content_type=content_type,
        size_bytes=size_bytes,
        width=width,
        height=height,
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=[MediaAsset.artist_id, MediaAsset.source_url],
        set_={
            name: stmt.excluded[name]
            for name in ("kind", "sha256", "path", "content_type", "size_bytes", "width", "height")
        },
    ).returning(MediaAsset.id)
    return (await session.execute(upsert)).scalar_one()


async def media_assets(session: AsyncSession, artist_id: int) -> list[MediaAsset]:
    """The artist's cached files, oldest first."""
    return list(
        await session.scalars(select(MediaAsset).where(MediaAsset.artist_id == artist_id).order_by(MediaAsset.id))
    )


# --- metric refresh runs ----------------------------------------------------------------------------


async def start_refresh_run(session: AsyncSession, platform: str, run_date: datetime) -> int:
    """Open a run (status running); ``run_date`` is the one timestamp every value of the run carries."""
    run = MetricRefreshRun(
        platform=platform,
        run_date=run_date,
        started_at=utcnow(),
        status=RefreshRunStatus.RUNNING,
        total=0,
        updated=0,
        failed=0,
    )
    session.add(run)
    await session.flush()
    return run.id


async def add_refresh_result(
    session: AsyncSession,
    run_id: int,
    artist_id: int,
    name: str,
    success: bool,
    value: int | None = None,
    error: str | None = None,
    previous_value: int | None = None,
    not_found: bool = False,
) -> int:
    """Record one artist's outcome in a run (``value``: the source's headline figure; ``not_found``: the service
    does not know the artist, which is no failure of it); returns the result's id."""
    result = MetricRefreshResult(
        run_id=run_id,
        artist_id=artist_id,
        name=name,
        success=success,
        value=value,
        error=error,
        previous_value=previous_value,
        not_found=not_found,
    )
    session.add(result)
    await session.flush()
    return result.id


async def finish_refresh_run(
    session: AsyncSession,
    run_id: int,
    status: RefreshRunStatus,
    total: int,
    updated: int,
    failed: int,
    reason: str | None = None,
) -> None:
    """Close a run with its final status, counts and (skipped or failed as a whole) the reason."""
    if not status.is_final:
        raise ValueError(f"finish_refresh_run needs a final status, not {status.value!r}")
    await session.execute(
        update(MetricRefreshRun)
        .where(MetricRefreshRun.id == run_id)
        .values(status=status, total=total, updated=updated, failed=failed, reason=reason, finished_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )


async def list_refresh_runs(
    session: AsyncSession, platform: str | None = None, limit: int | None = None
) -> list[MetricRefreshRun]:
    """Runs, newest first (optionally of one platform, at most ``limit``)."""
    stmt = select(MetricRefreshRun).order_by(MetricRefreshRun.started_at.desc(), MetricRefreshRun.id.desc())
    if platform is not None:
        stmt = stmt.where(MetricRefreshRun.platform == platform)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(await session.scalars(stmt.execution_options(populate_existing=True)))


async def not_found_counts(session: AsyncSession, run_ids: Iterable[int]) -> dict[int, int]:
    """run id -> how many of its results are "not found" (runs without any are absent)."""
    found: dict[int, int] = {}
    for chunk in chunks(list(run_ids)):
        rows = await session.execute(
            select(MetricRefreshResult.run_id, func.count())
            .where(MetricRefreshResult.run_id.in_(chunk), MetricRefreshResult.not_found)
            .group_by(MetricRefreshResult.run_id)
        )
        found.update({run_id: count for run_id, count in rows})
    return found


async def refresh_results(session: AsyncSession, run_id: int) -> list[MetricRefreshResult]:
    """One run's per-artist results in the order they were recorded."""
    return list(
        await session.scalars(
            select(MetricRefreshResult).where(MetricRefreshResult.run_id == run_id).order_by(MetricRefreshResult.id)
        )
    )
