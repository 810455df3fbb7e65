"""The demo's history: 90 days of plausible figures per catalog artist, loaded once on a demo start, continued
day by day by the double's Deezer fan counts."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select

from artist_desktop.config import load_settings
from artist_desktop.devtools._catalog import daily_count, daily_fans, daily_popularity, load_catalog
from artist_desktop.devtools.api_double import ApiDouble, DoubleConfig
from artist_desktop.devtools.demo_history import HISTORY_DAYS, demo_figures, seed_demo_history
from artist_desktop.domain import ArtistRecord
from artist_desktop.pipeline.media_cache import MediaCache
from artist_desktop.runtime import Runtime
from artist_desktop.services.deezer import DeezerClient
from artist_desktop.sources import refresh_deezer_fans
from artist_desktop.store import ArtistMetric, Database, library, repository

CATALOG = load_catalog()


def _utc_today() -> date:
    return datetime.now(UTC).date()


async def _metric_rows(database: Database) -> int:
    async with database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(ArtistMetric)) or 0)


def _files(paths: list[str | None]) -> list[bool]:
    return [path is not None and Path(path).is_file() for path in paths]


async def test_a_demo_start_loads_90_days_for_every_catalog_artist_once(redis_url: str) -> None:
    settings = load_settings(demo=True, redis_url=redis_url, redis_prefix=f"demo-{uuid.uuid4().hex[:8]}:")
    today = _utc_today()
    async with Runtime(settings, demo_history=True) as runtime:
        artists = await runtime.application.library_artists()
        first_rows = await _metric_rows(runtime.database)
        ids = [artist.artist_id for artist in artists]
        fans = await runtime.application.metric_series(ids, "deezer", "followers")
    assert sorted(a.spotify_id or "" for a in artists) == sorted(a.spotify_id for a in CATALOG.artists)
    assert all(_files([artist.image_path for artist in artists]))
    expected_rows = sum(len(demo_figures(artist, today)) for artist in CATALOG.artists)
    assert first_rows == expected_rows > 0
    by_spotify = {artist.spotify_id: artist for artist in artists}
    for catalog_artist in CATALOG.artists:
        row = by_spotify[catalog_artist.spotify_id]
        if catalog_artist.deezer is None:
            assert row.deezer_id is None
            continue
        series = fans[row.artist_id]
        assert [figure.day for figure in series] == [today - timedelta(days=n) for n in range(HISTORY_DAYS - 1, -1, -1)]
        trend = row.trends[("deezer", "followers")]
        assert trend.latest.value == daily_fans(catalog_artist.deezer["nb_fan"], catalog_artist.deezer["id"], today)
        assert all(trend.change(days) is not None for days in (1, 7, 28))
        assert len(trend.recent) == 28

    # A second start (the same day or any later one) adds nothing: every artist has its history.
    async with Runtime(settings, demo_history=True) as runtime:
        assert await _metric_rows(runtime.database) == first_rows
        assert len(await runtime.application.library_artists()) == len(CATALOG.artists)


async def test_a_demo_start_without_the_flag_and_a_real_library_load_nothing(
    database: Database, redis_url: str
) -> None:
    settings = load_settings(demo=True, redis_url=redis_url, redis_prefix=f"demo-{uuid.uuid4().hex[:8]}:")
    async with Runtime(settings) as runtime:  # the commands' demo: the library stays as it was
        assert await runtime.application.library_artists() == []

    async with database.session() as session, session.begin():
        await repository.upsert_artist(session, ArtistRecord(name="Someone Real", slug="someone-real"))
    assert await seed_demo_history(database, CATALOG) == 0
    assert await _metric_rows(database) == 0


async def test_the_history_ends_where_the_doubles_fan_counts_go_on(database: Database, tmp_path: Path) -> None:
    """Seeded up to yesterday (the demo was first started then): today's refresh continues the series."""
    yesterday = _utc_today() - timedelta(days=1)
    seeded = await seed_demo_history(database, CATALOG, MediaCache(tmp_path / "media"), today=yesterday)
    assert seeded == len(CATALOG.artists)
    assert await seed_demo_history(database, CATALOG, today=yesterday + timedelta(days=1)) == 0

    moving = DoubleConfig(deezer_daily_fans=True, deezer_quota=None)
    async with ApiDouble(moving) as double, DeezerClient(double.urls.deezer_api_url) as deezer:
        summary = await refresh_deezer_fans(database, deezer)
    with_deezer = [a for a in CATALOG.artists if a.deezer is not None]
    assert summary.updated == len(with_deezer)
    expected = {
        a.name: (
            daily_fans(a.deezer["nb_fan"], a.deezer["id"], _utc_today()),
            daily_fans(a.deezer["nb_fan"], a.deezer["id"], yesterday),
        )
        for a in with_deezer
        if a.deezer is not None
    }
    assert {r.name: (r.value, r.previous_value) for r in summary.results} == expected
    changed = [r for r in summary.results if r.change]
    assert len(changed) >= 0.9 * len(with_deezer)  # the figures move day by day
    async with database.session() as session:
        rows = await library.library_artists(session)
    assert all(row.trends[("deezer", "followers")].latest.day == _utc_today() for row in rows if row.deezer_id)


async def test_the_double_answers_the_catalogs_fans_unless_asked_to_move_them() -> None:
    daft = CATALOG.by_spotify_id["g9UlPlDpiHCTeOrJ7E8MmZ"]
    assert daft.deezer is not None
    deezer_id, base = daft.deezer["id"], daft.deezer["nb_fan"]
    for moving, expected in ((False, base), (True, daily_fans(base, deezer_id, _utc_today()))):
        async with ApiDouble(DoubleConfig(deezer_daily_fans=moving)) as double, httpx.AsyncClient() as client:
            answer = (await client.get(f"{double.urls.deezer_api_url}/artist/{deezer_id}")).json()
            found = (await client.get(f"{double.urls.deezer_api_url}/search/artist", params={"q": "daft"})).json()
        assert answer["nb_fan"] == expected
        assert next(a["nb_fan"] for a in found["data"] if a["id"] == deezer_id) == expected


def test_the_figures_are_plausible_and_the_same_on_every_run() -> None:
    today = date(2026, 11, 30)
    jumps = 0
    for artist in CATALOG.artists:
        figures = demo_figures(artist, today)
        assert figures == demo_figures(artist, today)
        by_metric: dict[tuple[str, str], list[float]] = {}
        for platform, metric, _day, value in figures:
            by_metric.setdefault((platform, metric), []).append(value)
        for (platform, metric), values in by_metric.items():
            assert len(values) == HISTORY_DAYS
            if metric == "popularity":
                assert all(0 <= v <= 100 for v in values)
                assert max(values) - min(values) <= 15
            elif metric == "followers":
                assert all(v > 0 for v in values)
                assert -0.05 < values[-1] / values[0] - 1 < 0.25, (artist.name, platform)
                jumps += sum(1 for a, b in itertools.pairwise(values) if (b - a) / a > 0.008)
            else:
                assert len(set(values)) == 1  # albums: as the catalog says
        if artist.followers is not None:  # Spotify's series ends on the catalog's figure the double serves
            assert by_metric[("spotify", "followers")][-1] == artist.followers
            assert by_metric[("spotify", "popularity")][-1] == artist.popularity
    assert jumps >= 10  # a few spikes across the catalog
    key = "some-artist"
    assert daily_count(1000, key, today) != daily_count(1000, key, today + timedelta(days=1))
    assert daily_popularity(50, key, today, anchor=today) == 50
