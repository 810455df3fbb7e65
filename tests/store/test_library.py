"""The library's read side: artists with ids, cached pictures and trends in a few queries, and metric series."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import event

from artist_desktop.domain import (
    CHANGE_WINDOWS,
    SPARKLINE_DAYS,
    ArtistRecord,
    DailyFigure,
    MetricTrend,
    MetricType,
    Platform,
)
from artist_desktop.store import Database, library, repository
from artist_desktop.store.library import TREND_DAYS, trend_of

TODAY = date(2026, 11, 30)


def _at(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


async def _artist(database: Database, name: str, **ids: str) -> int:
    async with database.session() as session, session.begin():
        artist_id = await repository.upsert_artist(
            session, ArtistRecord(name=name, slug=name.lower(), image_url=f"https://img/{name}.jpg")
        )
        for platform, platform_id in ids.items():
            await repository.upsert_platform_id(session, artist_id, platform, platform_id)
    return artist_id


async def _figures(database: Database, artist_id: int, platform: str, metric: str, series: dict[date, float]) -> None:
    async with database.session() as session, session.begin():
        for day, value in series.items():
            await repository.upsert_metric(session, artist_id, platform, metric, value, _at(day))


def _daily(last: date, values: list[float]) -> dict[date, float]:
    """``values`` on consecutive days ending on ``last``."""
    return {last - timedelta(days=len(values) - 1 - n): value for n, value in enumerate(values)}


async def test_an_artist_with_ids_picture_and_the_changes_people_compute_by_hand(database: Database) -> None:
    adele = await _artist(database, "Adele", spotify="4dpARuHxo51G3z768sgnrY", deezer="75798")
    await _figures(database, adele, "deezer", "followers", _daily(TODAY, [float(1000 + 10 * n) for n in range(40)]))
    async with database.session() as session, session.begin():
        await repository.upsert_media_asset(
            session, adele, "track_art", "https://img/cover.jpg", "c", "m/c.jpg", None, 1
        )
        await repository.upsert_media_asset(
            session, adele, "artist_image", "https://img/Adele.jpg", "a", "m/a.jpg", None, 1
        )
        await repository.upsert_media_asset(
            session, adele, "artist_image", "https://img/old.jpg", "o", "m/o.jpg", None, 1
        )

    async with database.session() as session:
        (row,) = await library.library_artists(session)
    assert (row.artist_id, row.name, row.spotify_id, row.deezer_id, row.musicbrainz_id) == (
        adele,
        "Adele",
        "4dpARuHxo51G3z768sgnrY",
        "75798",
        None,
    )
    assert (row.image_url, row.image_path) == ("https://img/Adele.jpg", "m/a.jpg")  # the current picture's copy
    trend = row.trends[("deezer", "followers")]
    assert trend.latest == DailyFigure(TODAY, 1390)
    # 1 day: 1390 - 1380; 7 days: 1390 - 1320 (= 5.30 %); 28 days: 1390 - 1110.
    assert [trend.change(days) for days in CHANGE_WINDOWS] == [10, 70, 280]
    assert trend.change_percent(7) == pytest.approx(70 / 1320 * 100)
    assert trend.change_percent(28) == pytest.approx(280 / 1110 * 100)
    assert [f.day for f in trend.recent] == [TODAY - timedelta(days=n) for n in range(SPARKLINE_DAYS - 1, -1, -1)]


async def test_a_gap_compares_with_the_last_figure_before_it_and_no_old_figure_is_no_change(database: Database) -> None:
    weekly = await _artist(database, "Weekly")
    new = await _artist(database, "New")
    await _figures(
        database, weekly, "spotify", "followers", {TODAY - timedelta(days=d): 500 - d for d in (0, 9, 30, 50)}
    )
    await _figures(database, new, "spotify", "followers", _daily(TODAY, [7, 9]))
    async with database.session() as session:
        rows = {row.name: row for row in await library.library_artists(session)}
    gappy = rows["Weekly"].trends[("spotify", "followers")]
    assert [gappy.change(days) for days in CHANGE_WINDOWS] == [9, 9, 30]  # vs day -9, day -9, day -30
    assert [f.value for f in gappy.recent] == [491, 500]
    fresh = rows["New"].trends[("spotify", "followers")]
    assert [fresh.change(days) for days in CHANGE_WINDOWS] == [2, None, None]
    assert fresh.change_percent(28) is None


async def test_each_metric_is_anchored_on_its_own_newest_day_and_stale_ones_are_left_out(database: Database) -> None:
    artist = await _artist(database, "Anchored")
    other = await _artist(database, "Other")
    # Spotify was last imported 20 days ago: its trend still has its 28-day change, not cut by Deezer's today.
    spotify_last = TODAY - timedelta(days=20)
    await _figures(database, artist, "spotify", "followers", _daily(spotify_last, [float(n) for n in range(60)]))
    await _figures(database, artist, "deezer", "followers", _daily(TODAY, [1.0, 2.0]))
    # A Deezer figure older than the Deezer window: no trend (the history stays in metric_series).
    stale_day = TODAY - timedelta(days=TREND_DAYS)
    await _figures(database, other, "deezer", "followers", {stale_day: 42})
    async with database.session() as session:
        rows = {row.name: row for row in await library.library_artists(session)}
        series = await library.metric_series(session, [other, artist, 999], "deezer", "followers")
    spotify = rows["Anchored"].trends[("spotify", "followers")]
    assert spotify.latest == DailyFigure(spotify_last, 59)
    assert spotify.change(28) == 28
    assert len(spotify.recent) == SPARKLINE_DAYS
    assert rows["Other"].trends == {}
    assert series == {
        other: [DailyFigure(stale_day, 42)],
        artist: [DailyFigure(TODAY - timedelta(days=1), 1), DailyFigure(TODAY, 2)],
        999: [],
    }


async def test_reading_named_artists_gives_the_same_rows_as_the_whole_library(database: Database) -> None:
    ids = [await _artist(database, f"Artist {n}", deezer=str(100 + n)) for n in range(5)]
    for n, artist_id in enumerate(ids):
        await _figures(database, artist_id, "deezer", "followers", _daily(TODAY - timedelta(days=n), [n, n + 1.0]))
    async with database.session() as session:
        everyone = {row.artist_id: row for row in await library.library_artists(session)}
        some = await library.library_artists(session, [ids[3], ids[1], ids[3]])
        assert await library.library_artists(session, []) == []
    assert [row.artist_id for row in some] == [ids[1], ids[3]]
    assert some == [everyone[ids[1]], everyone[ids[3]]]


async def test_the_whole_library_in_a_few_queries(database: Database) -> None:
    async with database.session() as session, session.begin():
        for n in range(300):
            artist = await repository.upsert_artist(session, ArtistRecord(name=f"Artist {n:04d}", slug=f"a-{n}"))
            await repository.upsert_platform_id(session, artist, "spotify", f"{n:022d}")
            for day, value in _daily(TODAY, [n, n + 1.0, n + 3.0]).items():
                await repository.upsert_metric(session, artist, "deezer", "followers", value, _at(day))
                await repository.upsert_metric(session, artist, "spotify", "popularity", 50, _at(day))
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with database.session() as session:
            rows = await library.library_artists(session)
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", count)
    assert len(rows) == 300
    assert rows[7].trends[("deezer", "followers")].change(1) == 2
    assert rows[7].trends[("spotify", "popularity")].change(1) == 0  # a flat line is a trend too
    selects = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    seeks = [sql for sql in selects if "max(" in sql.lower()]
    assert len(selects) - len(seeks) == 4
    assert len(seeks) <= len(Platform) * len(MetricType)  # one per platform and metric the domain names


@pytest.mark.parametrize("seed", range(40))
def test_trend_of_is_metric_trend_of_on_any_series(seed: int) -> None:
    """The bisecting builder the library uses gives exactly `MetricTrend.of`'s trend, gaps and all."""
    rng = random.Random(seed)
    days = sorted(rng.sample(range(120), rng.randint(1, 70)))
    figures = [DailyFigure(TODAY - timedelta(days=119 - d), float(rng.randint(0, 10**6))) for d in days]
    expected = MetricTrend.of("deezer", "followers", figures)
    as_text = trend_of(
        "deezer",
        "followers",
        [f.day.isoformat() for f in figures],
        [repr(f.value) for f in figures],
        date.isoformat,
        date.fromisoformat,
    )
    assert as_text == expected
    assert trend_of("deezer", "followers", [f.day for f in figures], [f.value for f in figures], _same, _same) == (
        expected
    )


def test_sqlite_text_out_of_day_order_is_put_back_in_order() -> None:
    days = [TODAY - timedelta(days=d) for d in (3, 0, 2, 40, 1)]
    values = [3.0, 0.0, 2.0, 40.0, 1.0]
    trend = library._trend_of_text(
        "deezer", "followers", ",".join(map(date.isoformat, days)), ",".join(map(str, values))
    )
    ordered = sorted(zip(days, values, strict=True))
    assert trend == MetricTrend.of("deezer", "followers", [DailyFigure(day, value) for day, value in ordered])


def _same(day: date) -> date:
    return day
