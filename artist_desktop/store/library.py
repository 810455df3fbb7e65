"""The library's read side: every artist with its ids, cached image and metric trends, and metric series.

Plain async functions on an AsyncSession, in a few queries whatever the library's size (bounded IN lists
when the caller names artists). Writes are :mod:`artist_desktop.store.repository`'s.

How a trend is read: per (platform, metric) of the domain (`Platform` x `MetricType`), the newest day any
artist has a figure is that metric's anchor; the figures of the ``TREND_DAYS`` days up to the anchor are read,
aggregated per artist in SQL (``group_concat`` on SQLite, ``array_agg`` on PostgreSQL), and each artist's
`MetricTrend` is built from the figures it needs (the sparkline's days and the last figure 28 days before its
latest). A metric whose latest figure is older than the window is left out of that artist's trends (its
history stays in :func:`metric_series`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from artist_desktop.domain import (
    CHANGE_WINDOWS,
    SPARKLINE_DAYS,
    DailyFigure,
    LibraryArtist,
    MetricTrend,
    MetricType,
    Platform,
)
from artist_desktop.store._sql import chunks, dialect
from artist_desktop.store.models import Artist, ArtistMetric, ArtistPlatformId, MediaAsset

__all__ = ["ARTIST_IMAGE", "TREND_DAYS", "library_artists", "metric_series"]

#: The media kind of an artist's picture (the MEDIA stage's name; track art is ``"track_art"``).
ARTIST_IMAGE = "artist_image"
#: Days of figures read per metric for the library's trends: the sparkline plus the longest change window.
TREND_DAYS = SPARKLINE_DAYS + max(CHANGE_WINDOWS)
#: The longest change window: the oldest figure a trend holds is the last one this many days before its latest.
_LONGEST_CHANGE = max(CHANGE_WINDOWS)
_K = TypeVar("_K", str, date)


async def library_artists(session: AsyncSession, artist_ids: Iterable[int] | None = None) -> list[LibraryArtist]:
    """Every artist of the library (or only ``artist_ids``), by name, with ids, cached image and trends.

    Four queries for the whole library (artists, platform ids, artist images, and the figures of the last
    `TREND_DAYS` days per metric aggregated per artist) plus one index seek per metric for its newest day.
    ``artist_ids`` narrows every query (for reloading the artists an import or a refresh just changed); their
    trends are the same as in the full read.
    """
    wanted = None if artist_ids is None else list(dict.fromkeys(artist_ids))
    if wanted is not None and not wanted:
        return []
    artists = await _rows(
        session,
        select(Artist.id, Artist.name, Artist.country, Artist.image_url, Artist.updated_at),
        Artist.id,
        wanted,
    )
    ids: dict[int, dict[str, str]] = defaultdict(dict)
    for artist_id, platform, platform_id in await _rows(
        session,
        select(ArtistPlatformId.artist_id, ArtistPlatformId.platform, ArtistPlatformId.platform_id),
        ArtistPlatformId.artist_id,
        wanted,
    ):
        ids[artist_id][platform] = platform_id
    images = await _artist_images(session, wanted)
    trends = await _trends(session, wanted)
    library = [
        LibraryArtist(
            artist_id=artist_id,
            name=name,
            country=country,
            image_url=image_url,
            image_path=_image_path(images.get(artist_id, ()), image_url),
            updated_at=updated_at,
            trends=trends.get(artist_id, {}),
            ids=dict(ids[artist_id]),
        )
        for artist_id, name, country, image_url, updated_at in artists
    ]
    library.sort(key=lambda artist: (artist.name.lower(), artist.artist_id))
    return library


async def metric_series(
    session: AsyncSession, artist_ids: Iterable[int], platform: str, metric: str
) -> dict[int, list[DailyFigure]]:
    """Every daily figure of one metric for each of ``artist_ids``, oldest first (an empty list for an artist
    without one)."""
    wanted = list(dict.fromkeys(artist_ids))
    series: dict[int, list[DailyFigure]] = {artist_id: [] for artist_id in wanted}
    for chunk in chunks(wanted):
        rows = await session.execute(
            select(ArtistMetric.artist_id, ArtistMetric.day, ArtistMetric.value)
            .where(
                ArtistMetric.artist_id.in_(chunk),
                ArtistMetric.platform == platform,
                ArtistMetric.metric_type == metric,
            )
            .order_by(ArtistMetric.artist_id, ArtistMetric.day)
        )
        for artist_id, day, value in rows:
            series[artist_id].append(DailyFigure(day, value))
    return series


async def _rows(session: AsyncSession, stmt: Select[Any], key: Any, wanted: list[int] | None) -> list[Any]:
    """The statement's rows, for every artist or (in bounded IN lists) only the ``wanted`` ones."""
    if wanted is None:
        return list((await session.execute(stmt)).tuples())
    found: list[Any] = []
    for chunk in chunks(wanted):
        found.extend((await session.execute(stmt.where(key.in_(chunk)))).tuples())
    return found


async def _artist_images(session: AsyncSession, wanted: list[int] | None) -> dict[int, list[tuple[str, str]]]:
    """Each artist's cached pictures as ``(source URL, path)``, oldest first."""
    stmt = (
        select(MediaAsset.artist_id, MediaAsset.source_url, MediaAsset.path)
        .where(MediaAsset.kind == ARTIST_IMAGE)
        .order_by(MediaAsset.id)
    )
    images: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for artist_id, source_url, path in await _rows(session, stmt, MediaAsset.artist_id, wanted):
        images[artist_id].append((source_url, path))
    return images


def _image_path(cached: Sequence[tuple[str, str]], image_url: str | None) -> str | None:
    """The cached copy of the artist's current picture, else the newest cached picture, else None."""
    for source_url, path in cached:
        if source_url == image_url:
            return path
    return cached[-1][1] if cached else None


async def _trends(session: AsyncSession, wanted: list[int] | None) -> dict[int, dict[tuple[str, str], MetricTrend]]:
    """artist id -> (platform, metric) -> trend, from the last `TREND_DAYS` days of each metric's figures."""
    starts: dict[tuple[str, str], date] = {}
    for platform in Platform:
        for metric in MetricType:
            newest: date | None = await session.scalar(
                select(func.max(ArtistMetric.day)).where(
                    ArtistMetric.platform == platform.value, ArtistMetric.metric_type == metric.value
                )
            )
            if newest is not None:
                starts[(platform.value, metric.value)] = newest - timedelta(days=TREND_DAYS - 1)
    if not starts:
        return {}
    postgres = dialect(session) == "postgresql"
    if postgres:
        day_agg: Any = func.array_agg(postgresql.aggregate_order_by(ArtistMetric.day, ArtistMetric.day))
        value_agg: Any = func.array_agg(postgresql.aggregate_order_by(ArtistMetric.value, ArtistMetric.day))
    else:  # in the unique index's order (artist, platform, metric, day); _trend_of_text checks it anyway
        day_agg, value_agg = func.group_concat(ArtistMetric.day), func.group_concat(ArtistMetric.value)
    # One range on day alone: SQLite then walks the unique index in order, with no sort for the grouping (a
    # condition per metric would make it merge the (platform, metric, day) index and sort). Each metric's own
    # window is applied below.
    stmt = (
        select(ArtistMetric.artist_id, ArtistMetric.platform, ArtistMetric.metric_type, day_agg, value_agg)
        .where(ArtistMetric.day >= min(starts.values()))
        .group_by(ArtistMetric.artist_id, ArtistMetric.platform, ArtistMetric.metric_type)
    )
    rows = await _rows(session, stmt, ArtistMetric.artist_id, wanted)
    # Pure CPU work on fresh objects: in a worker thread, so a window's event loop keeps painting meanwhile.
    return await asyncio.to_thread(_build_trends, rows, starts, postgres)


def _build_trends(
    rows: list[Any], starts: dict[tuple[str, str], date], postgres: bool
) -> dict[int, dict[tuple[str, str], MetricTrend]]:
    """The trends of the aggregated rows ``(artist id, platform, metric, days, values)``; a metric the domain
    does not name, or one whose latest figure is older than its window, is left out."""
    trends: dict[int, dict[tuple[str, str], MetricTrend]] = defaultdict(dict)
    with _collector_paused():
        for artist_id, platform, metric, day_list, value_list in rows:
            start = starts.get((platform, metric))
            if start is None:
                continue
            if postgres:
                trend = trend_of(platform, metric, day_list, value_list, _same_day, _same_day)
            else:
                trend = _trend_of_text(platform, metric, day_list, value_list)
            if trend.latest.day >= start:
                trends[artist_id][(platform, metric)] = trend
    return trends


def trend_of(
    platform: str,
    metric: str,
    keys: Sequence[_K],
    values: Sequence[str | float],
    key_of: Callable[[date], _K],
    day_of: Callable[[_K], date],
) -> MetricTrend:
    """`MetricTrend.of` for a long, day-ordered series given as sortable day keys (ISO text or dates) and values
    (numbers or their text): the same trend, found by bisection, building only the figures it holds."""
    latest_day = day_of(keys[-1])

    def last_on_or_before(cutoff: date, within: Sequence[_K]) -> int:
        return bisect_right(within, key_of(cutoff)) - 1

    first = _oldest_needed(keys, key_of, day_of)
    keys = keys[first:]
    figures = list(map(DailyFigure, map(day_of, keys), map(float, values[first:])))
    earlier: dict[int, DailyFigure | None] = {}
    for days in CHANGE_WINDOWS:
        index = last_on_or_before(latest_day - timedelta(days=days), keys)
        earlier[days] = figures[index] if index >= 0 else None
    recent = bisect_left(keys, key_of(latest_day - timedelta(days=SPARKLINE_DAYS - 1)))
    return MetricTrend(platform, metric, figures[-1], tuple(figures[recent:]), earlier)


def _oldest_needed(keys: Sequence[_K], key_of: Callable[[date], _K], day_of: Callable[[_K], date]) -> int:
    """The index of the oldest figure a trend holds: the last one on or before its latest day minus the longest
    change window (or the first, when none is that old)."""
    cutoff = key_of(day_of(keys[-1]) - timedelta(days=_LONGEST_CHANGE))
    return max(0, bisect_right(keys, cutoff) - 1)


def _trend_of_text(platform: str, metric: str, day_text: str, value_text: str) -> MetricTrend:
    """The trend of SQLite's comma-separated days (``YYYY-MM-DD``) and values, splitting only the values it
    needs. group_concat has no order guarantee (the plan walks the unique index in day order): sorted if not."""
    days = day_text.split(",")
    if days != sorted(days):
        pairs = sorted(zip(days, value_text.split(","), strict=True))
        return trend_of(platform, metric, [d for d, _ in pairs], [v for _, v in pairs], date.isoformat, _day)
    first = _oldest_needed(days, date.isoformat, _day)
    values = value_text.rsplit(",", len(days) - first)[1:] if first else value_text.split(",")
    return trend_of(platform, metric, days[first:], values, date.isoformat, _day)


def _same_day(day: date) -> date:
    return day


@functools.lru_cache(maxsize=4096)
def _day(text: str) -> date:
    """SQLite's ISO day text as a date (cached: a library read meets the same few dozen days again and again)."""
    return date.fromisoformat(text)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Building every trend makes several hundred thousand small objects that all live on; the cyclic garbage
    collector's passes over them while they are made cost more than making them, so it waits until done."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
