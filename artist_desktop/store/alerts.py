"""The alert queries: metric series to judge, idempotent upserts of findings, listing and dismissing alerts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from artist_desktop.domain import DailyFigure
from artist_desktop.store._sql import chunks, insert, rowcount
from artist_desktop.store.models import Artist, ArtistMetric, MetricAlert

__all__ = ["StoredAlert", "alerts_by_id", "dismiss", "list_alerts", "metric_kinds", "series_from", "store_findings"]

#: ``(artist_id, day) -> (value, change, change_percent, score)``: what the rule found for one metric.
Findings = Mapping[tuple[int, date], tuple[float, float, float, float]]
#: An alert row with its artist's name: ``(alert, name)``.
StoredAlert = tuple[MetricAlert, str]


async def metric_kinds(session: AsyncSession) -> list[tuple[str, str]]:
    """Every (platform, metric) the store holds figures of."""
    rows = await session.execute(select(ArtistMetric.platform, ArtistMetric.metric_type).distinct())
    return sorted((platform, metric) for platform, metric in rows)


async def series_from(
    session: AsyncSession, platform: str, metric: str, first_day: date | None
) -> dict[int, list[DailyFigure]]:
    """Every artist's figures of one metric from ``first_day`` on (None: all), oldest first."""
    stmt = (
        select(ArtistMetric.artist_id, ArtistMetric.day, ArtistMetric.value)
        .where(ArtistMetric.platform == platform, ArtistMetric.metric_type == metric)
        .order_by(ArtistMetric.artist_id, ArtistMetric.day)
    )
    if first_day is not None:
        stmt = stmt.where(ArtistMetric.day >= first_day)
    series: dict[int, list[DailyFigure]] = defaultdict(list)
    for artist_id, day, value in await session.execute(stmt):
        series[artist_id].append(DailyFigure(day, value))
    return dict(series)


async def store_findings(
    session: AsyncSession, platform: str, metric: str, findings: Findings, *, since: date | None
) -> list[int]:
    """Upsert one metric's findings (a dismissed alert stays dismissed) and drop the undismissed alerts of the
    judged days (from ``since`` on) that no longer qualify. Returns the ids of the alerts that are new."""
    scope = [MetricAlert.platform == platform, MetricAlert.metric_type == metric]
    if since is not None:
        scope.append(MetricAlert.day >= since)
    existing = {
        (artist_id, day): alert_id
        for alert_id, artist_id, day in await session.execute(
            select(MetricAlert.id, MetricAlert.artist_id, MetricAlert.day).where(*scope)
        )
    }
    stale = [alert_id for key, alert_id in existing.items() if key not in findings]
    for chunk in chunks(stale):
        await session.execute(delete(MetricAlert).where(MetricAlert.id.in_(chunk), MetricAlert.dismissed.is_(False)))
    new_keys = [key for key in findings if key not in existing]
    for (artist_id, day), (value, change, percent, score) in findings.items():
        stmt = insert(session, MetricAlert).values(
            artist_id=artist_id,
            platform=platform,
            metric_type=metric,
            day=day,
            value=value,
            change=change,
            change_percent=percent,
            score=score,
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[MetricAlert.artist_id, MetricAlert.platform, MetricAlert.metric_type, MetricAlert.day],
                set_={
                    "value": stmt.excluded.value,
                    "change": stmt.excluded.change,
                    "change_percent": stmt.excluded.change_percent,
                    "score": stmt.excluded.score,
                },
            )
        )
    new_ids: list[int] = []
    for chunk in chunks(new_keys):
        new_ids += await session.scalars(
            select(MetricAlert.id).where(
                *scope, tuple_(MetricAlert.artist_id, MetricAlert.day).in_([tuple(key) for key in chunk])
            )
        )
    return new_ids


async def list_alerts(session: AsyncSession, since: date | None, include_dismissed: bool) -> list[StoredAlert]:
    """Alerts of days from ``since`` on (None: all), newest day first, then by artist name."""
    stmt = (
        select(MetricAlert, Artist.name)
        .join(Artist, Artist.id == MetricAlert.artist_id)
        .order_by(MetricAlert.day.desc(), Artist.name, MetricAlert.platform, MetricAlert.metric_type)
    )
    if since is not None:
        stmt = stmt.where(MetricAlert.day >= since)
    if not include_dismissed:
        stmt = stmt.where(MetricAlert.dismissed.is_(False))
    return [(alert, name) for alert, name in (await session.execute(stmt)).tuples()]


async def alerts_by_id(session: AsyncSession, alert_ids: Sequence[int]) -> list[StoredAlert]:
    """These alerts (any found), newest day first."""
    found: list[StoredAlert] = []
    for chunk in chunks(list(alert_ids)):
        stmt = (
            select(MetricAlert, Artist.name)
            .join(Artist, Artist.id == MetricAlert.artist_id)
            .where(MetricAlert.id.in_(chunk))
        )
        found += [(alert, name) for alert, name in (await session.execute(stmt)).tuples()]
    found.sort(key=lambda row: (-row[0].day.toordinal(), row[1].casefold(), row[0].id))
    return found


async def dismiss(session: AsyncSession, alert_ids: Iterable[int]) -> int:
    """Mark these alerts dismissed; returns how many changed."""
    changed = 0
    for chunk in chunks(list(dict.fromkeys(alert_ids))):
        result = await session.execute(
            update(MetricAlert)
            .where(MetricAlert.id.in_(chunk), MetricAlert.dismissed.is_(False))
            .values(dismissed=True)
        )
        changed += rowcount(result)
    return changed
