"""Alerts: the robust z-score rule on synthetic series, its thresholds, idempotent storage, the demo's spikes."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

from artist_desktop.devtools._catalog import _SPIKE_RAMP, DEMO_EPOCH, _blocks, _spike, load_catalog
from artist_desktop.devtools.demo_history import seed_demo_history
from artist_desktop.domain import DailyFigure
from artist_desktop.sources.alerts import AlertRule, detect_alerts, unusual_days
from artist_desktop.store import Database, alerts, repository

START = date(2026, 9, 1)
RULE = AlertRule()


def series(values: list[float], start: date = START) -> list[DailyFigure]:
    return [DailyFigure(start + timedelta(days=n), value) for n, value in enumerate(values)]


def steady_with_a_jump(jump_day: int = 40, days: int = 60) -> list[float]:
    """100,000 growing by about 100 a day with a little noise; on ``jump_day`` it rises 60 % and grows on."""
    noise = random.Random(7)
    values: list[float] = []
    level = 100_000.0
    for n in range(days):
        level += 100 + noise.uniform(-20, 20)
        if n == jump_day:
            level *= 1.6
        values.append(round(level))
    return values


def test_a_steady_series_with_one_sixty_percent_day_alerts_exactly_that_day() -> None:
    found = unusual_days(series(steady_with_a_jump()), RULE)

    assert [u.day for u in found] == [START + timedelta(days=40)]
    assert 59 < found[0].change_percent < 61
    assert found[0].score > 100


def test_a_drop_alerts_too() -> None:
    values = steady_with_a_jump()
    values[40:] = [v * 0.5 for v in values[40:]]
    found = unusual_days(series(values), RULE)
    assert [u.day for u in found] == [START + timedelta(days=40)]
    assert found[0].change < 0 and found[0].score < -4


def test_noisy_small_series_under_the_minimum_change_do_not_alert() -> None:
    noise = random.Random(3)
    for _ in range(50):
        base = noise.uniform(200, 2000)
        values = [round(base * (1 + noise.gauss(0, 0.001))) for _ in range(90)]  # days differ by well under 2 %
        values[60:] = [v + round(base * 0.012) for v in values[60:]]  # unusual for its noise, under 2 %
        assert unusual_days(series(values), RULE) == []


def test_the_minimum_change_is_the_only_thing_that_held_the_small_series_back() -> None:
    values = [1000.0 + (n % 3) for n in range(60)]
    values[45:] = [v + 15 for v in values[45:]]  # +1.5 %: far outside its ±2 wobble
    assert unusual_days(series(values), RULE) == []
    assert [u.day for u in unusual_days(series(values), AlertRule(min_change_percent=1.0))] == [
        START + timedelta(days=45)
    ]


def test_too_little_history_or_a_gap_judges_nothing() -> None:
    values = steady_with_a_jump(jump_day=10, days=30)
    assert unusual_days(series(values), RULE) == []  # 10 earlier changes: fewer than 14
    figures = series(steady_with_a_jump())
    del figures[40]  # the jump day is missing: the day after has no day before it
    assert unusual_days(figures, RULE) == []


def test_a_threshold_setting_changes_what_alerts() -> None:
    values = steady_with_a_jump()
    values[50:] = [v + 3_000 for v in values[50:]]  # +1.8 %, some hundred sigma on a series at ~166,000
    assert [u.day.day for u in unusual_days(series(values), AlertRule(min_change_percent=1.0))] == [11, 21]
    stricter = AlertRule(threshold=1000, min_change_percent=1.0)
    assert [u.day.day for u in unusual_days(series(values), stricter)] == [11]  # only the +60 % day


async def _store_series(database: Database, artist_id: int, platform: str, values: list[float]) -> None:
    async with database.session() as session, session.begin():
        for figure in series(values):
            observed = datetime.combine(figure.day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
            await repository.upsert_metric(session, artist_id, platform, "followers", figure.value, observed)


async def test_detection_stores_alerts_once_and_keeps_a_dismissal(
    database: Database, add_library_artist: Callable[..., Awaitable[int]]
) -> None:
    artist_id = await add_library_artist(database, "Jumpers")
    await _store_series(database, artist_id, "deezer", steady_with_a_jump())

    first = await detect_alerts(database, RULE)
    again = await detect_alerts(database, RULE)

    assert [(a.artist_name, a.platform, a.metric, a.day) for a in first.new] == [
        ("Jumpers", "deezer", "followers", START + timedelta(days=40))
    ]
    assert (again.found, again.new) == (1, [])
    async with database.session() as session, session.begin():
        assert await alerts.dismiss(session, [first.new[0].alert_id]) == 1
    await detect_alerts(database, RULE)
    async with database.session() as session:
        assert await alerts.list_alerts(session, None, include_dismissed=False) == []
        kept = await alerts.list_alerts(session, None, include_dismissed=True)
    assert [(row.id, row.dismissed) for row, _ in kept] == [(first.new[0].alert_id, True)]


async def test_an_alert_whose_figure_was_replaced_goes(
    database: Database, add_library_artist: Callable[..., Awaitable[int]]
) -> None:
    artist_id = await add_library_artist(database, "Corrected")
    values = steady_with_a_jump()
    await _store_series(database, artist_id, "deezer", values)
    assert len((await detect_alerts(database, RULE)).new) == 1

    values[40:] = [v / 1.6 for v in values[40:]]  # the jump was a mistake, corrected the same days
    await _store_series(database, artist_id, "deezer", values)
    assert (await detect_alerts(database, RULE)).found == 0
    async with database.session() as session:
        assert await alerts.list_alerts(session, None, include_dismissed=True) == []


def _spike_days(key: str, first: date, last: date) -> set[date]:
    """The days the demo's count spikes land on for ``key`` (devtools._catalog's own rule)."""
    days: set[date] = set()
    for block in _blocks((first - DEMO_EPOCH).days, (last - DEMO_EPOCH).days):
        spike = _spike(key, block)
        if spike is not None:
            days.update(DEMO_EPOCH + timedelta(days=spike[0] + n) for n in range(_SPIKE_RAMP))
    return days


async def test_the_demo_historys_spikes_alert_and_nothing_else_in_the_counts(database: Database) -> None:
    today = date(2026, 12, 7)
    catalog = load_catalog()
    await seed_demo_history(database, catalog, today=today)

    detection = await detect_alerts(database, RULE)

    counts = [a for a in detection.new if a.metric == "followers"]
    assert len(counts) >= 3
    by_name = {artist.name: artist for artist in catalog.artists}
    for alert in counts:
        artist = by_name[alert.artist_name]
        key = artist.spotify_id if alert.platform == "spotify" else f"dz{artist.deezer['id']}"  # type: ignore[index]
        assert alert.day in _spike_days(key, today - timedelta(days=90), today), alert
        assert alert.change_percent >= RULE.min_change_percent
