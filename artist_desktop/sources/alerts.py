"""Alerts: the days whose change of a metric is far outside the artist's own recent variability.

The rule (issue 20, Chartmetric's "insights"): a day's *change* is its figure minus the previous day's (only
consecutive days count: a gap breaks the chain). Against the changes of the previous :data:`WINDOW_DAYS` days
(at least :data:`MIN_HISTORY` of them) its robust z-score is ``(change - median) / (1.4826 * MAD)``, the MAD
floored at :data:`MIN_SCALE` (one unit: counts are whole numbers, and a perfectly steady series would make any
wobble infinitely unusual). A day alerts when ``|score| >= threshold`` *and* ``|change| >= min_change_percent``
of the previous figure, so small artists do not alert on noise. Both thresholds are settings
(``alert_threshold``, ``alert_min_change_percent``).

:func:`unusual_days` is the pure rule on one series; :func:`detect_alerts` runs it over every artist and metric
of the store and upserts the findings (:mod:`artist_desktop.store.alerts`): idempotent, a dismissed alert stays
dismissed, an alert whose day no longer qualifies (its figure was replaced) is dropped.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from artist_desktop.domain import DailyFigure
from artist_desktop.store import alerts as alert_store

if TYPE_CHECKING:
    from artist_desktop.store.database import Database

__all__ = [
    "MAD_SCALE",
    "MIN_HISTORY",
    "WINDOW_DAYS",
    "Alert",
    "AlertRule",
    "Detection",
    "Unusual",
    "alert_of",
    "detect_alerts",
    "unusual_days",
]

#: The days of earlier changes a day's change is measured against.
WINDOW_DAYS = 28
#: Fewer earlier changes than this in the window: too little history to judge, no alert.
MIN_HISTORY = 14
#: MAD x 1.4826 estimates the standard deviation of normally distributed changes.
MAD_SCALE = 1.4826
#: The smallest spread a change is measured against (one unit of the figure).
MIN_SCALE = 1.0


@dataclass(frozen=True, slots=True)
class AlertRule:
    """The thresholds (settings ``alert_threshold`` and ``alert_min_change_percent``)."""

    threshold: float = 4.0
    min_change_percent: float = 2.0


@dataclass(frozen=True, slots=True)
class Unusual:
    """One day of one series that alerts: its figure, change from the day before, change in % and score."""

    day: date
    value: float
    change: float
    change_percent: float
    score: float


def unusual_days(series: Sequence[DailyFigure], rule: AlertRule, *, since: date | None = None) -> list[Unusual]:
    """The days of ``series`` (oldest first, one figure a day) that alert under ``rule``, from ``since`` on."""
    changes = [
        (current.day, current.value - previous.value, previous.value, current.value)
        for previous, current in pairwise(series)
        if (current.day - previous.day).days == 1
    ]
    found: list[Unusual] = []
    for index, (day, change, previous, value) in enumerate(changes):
        if (since is not None and day < since) or previous <= 0:
            continue
        first = day - timedelta(days=WINDOW_DAYS)
        window = [c for d, c, _, _ in changes[max(0, index - WINDOW_DAYS) : index] if d >= first]
        if len(window) < MIN_HISTORY:
            continue
        median = statistics.median(window)
        spread = max(MAD_SCALE * statistics.median(abs(c - median) for c in window), MIN_SCALE)
        score = (change - median) / spread
        percent = 100.0 * change / previous
        if abs(score) >= rule.threshold and abs(percent) >= rule.min_change_percent:
            found.append(Unusual(day, value, change, percent, score))
    return found


@dataclass(frozen=True, slots=True)
class Alert:
    """A stored alert as the panel, the CLI and the notification show it."""

    alert_id: int
    artist_id: int
    artist_name: str
    platform: str
    metric: str
    day: date
    value: float
    change: float
    change_percent: float
    score: float
    dismissed: bool = False

    def to_json(self) -> dict[str, Any]:
        """``alerts --json``'s shape: one object per alert."""
        return {
            "id": self.alert_id,
            "artist_id": self.artist_id,
            "artist": self.artist_name,
            "platform": self.platform,
            "metric": self.metric,
            "day": self.day.isoformat(),
            "value": self.value,
            "change": self.change,
            "change_percent": round(self.change_percent, 2),
            "score": round(self.score, 2),
            "dismissed": self.dismissed,
        }


@dataclass(frozen=True, slots=True)
class Detection:
    """What one pass found: every alerting day it saw, and the alerts that are new (not stored before)."""

    found: int
    new: list[Alert]


async def detect_alerts(database: Database, rule: AlertRule, *, since: date | None = None) -> Detection:
    """Run the rule over every artist and metric of the store (days from ``since`` on; None: all) and store
    what it finds; returns the count and the new alerts (newest day first)."""
    first_needed = None if since is None else since - timedelta(days=WINDOW_DAYS + 1)
    found = 0
    new_ids: list[int] = []
    async with database.session() as session:
        kinds = await alert_store.metric_kinds(session)
    for platform, metric in kinds:
        async with database.session() as session:
            series = await alert_store.series_from(session, platform, metric, first_needed)
        findings = {
            artist_id: unusual_days(figures, rule, since=since) for artist_id, figures in series.items() if figures
        }
        found += sum(len(days) for days in findings.values())
        async with database.session() as session, session.begin():
            new_ids += await alert_store.store_findings(
                session,
                platform,
                metric,
                {
                    (artist_id, u.day): (u.value, u.change, u.change_percent, u.score)
                    for artist_id, days in findings.items()
                    for u in days
                },
                since=since,
            )
    async with database.session() as session:
        new = [alert_of(row) for row in await alert_store.alerts_by_id(session, new_ids)]
    return Detection(found, new)


def alert_of(row: alert_store.StoredAlert) -> Alert:
    """The stored alert row (with its artist's name) as an `Alert`."""
    alert, name = row
    return Alert(
        alert.id,
        alert.artist_id,
        name,
        alert.platform,
        alert.metric_type,
        alert.day,
        alert.value,
        alert.change,
        alert.change_percent,
        alert.score,
        alert.dismissed,
    )
