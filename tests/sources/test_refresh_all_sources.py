"""Issue 19's acceptance: the four real sources, one refresh, against the API double over real sockets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from artist_desktop.devtools._catalog import CatalogArtist
from artist_desktop.devtools.api_double import ApiDouble
from artist_desktop.domain import ArtistRecord, Platform, slugify
from artist_desktop.runtime import Runtime
from artist_desktop.sources.refresh import RefreshStatus
from artist_desktop.store import library, repository

SOME = 6


async def _seed(runtime: Runtime, artists: list[CatalogArtist]) -> dict[str, int]:
    """The artists as an import leaves them: Spotify, Deezer and MusicBrainz ids."""
    ids = {}
    async with runtime.database.session() as session, session.begin():
        for artist in artists:
            assert artist.deezer is not None and artist.musicbrainz is not None
            artist_id = await repository.upsert_artist(
                session, ArtistRecord(name=artist.name, slug=slugify(artist.name))
            )
            await repository.upsert_platform_id(session, artist_id, Platform.SPOTIFY, artist.spotify_id)
            await repository.upsert_platform_id(session, artist_id, Platform.DEEZER, str(artist.deezer["id"]))
            await repository.upsert_platform_id(session, artist_id, Platform.MUSICBRAINZ, artist.musicbrainz["mbid"])
            ids[artist.name] = artist_id
    return ids


async def test_refresh_all_without_a_lastfm_key_skips_lastfm_and_fills_the_others(
    runtime: Runtime, api_double: ApiDouble, catalog_artists: list[CatalogArtist]
) -> None:
    await _seed(runtime, catalog_artists[:SOME])
    runtime.clients.lastfm.api_key = ""  # type: ignore[union-attr]  # as a user who never entered one

    summary = await runtime.application.refresh_metrics()

    by_source = {run.source: run for run in summary.runs}
    assert [run.source for run in summary.runs] == [
        Platform.DEEZER,
        Platform.WIKIPEDIA,
        Platform.LASTFM,
        Platform.LISTENBRAINZ,
    ]
    assert (by_source[Platform.LASTFM].status, by_source[Platform.LASTFM].reason) == (
        RefreshStatus.SKIPPED,
        "no API key",
    )
    for source in (Platform.DEEZER, Platform.WIKIPEDIA, Platform.LISTENBRAINZ):
        run = by_source[source]
        assert run.status is RefreshStatus.COMPLETE, (source, run.reason)
        assert run.total == SOME and run.updated >= 1, (source, run.results)
    assert summary.success
    # The library shows the new metrics with no code per source: its trends carry every (platform, metric).
    async with runtime.database.read_session() as session:
        rows = await library.library_artists(session)
    metrics = {key for row in rows for key in row.trends}
    assert {("wikipedia", "pageviews"), ("listenbrainz", "listeners"), ("listenbrainz", "listens")} <= metrics
    assert ("deezer", "followers") in metrics


async def test_a_first_wikipedia_collection_stores_90_days_and_the_next_day_adds_one(
    runtime: Runtime, api_double: ApiDouble, catalog_artists: list[CatalogArtist]
) -> None:
    ids = await _seed(runtime, catalog_artists[:SOME])
    today = api_double.wikimedia.today() - timedelta(days=1)
    api_double.wikimedia.set_today(today)
    first_run = datetime.combine(today, time(6), tzinfo=UTC)

    first = await runtime.application.refresh_metrics([Platform.WIKIPEDIA], run_date=first_run)
    api_double.wikimedia.set_today(today + timedelta(days=1))
    second = await runtime.application.refresh_metrics([Platform.WIKIPEDIA], run_date=first_run + timedelta(days=1))

    [run1], [run2] = first.runs, second.runs
    updated = [result.artist_id for result in run1.results if result.success]
    assert updated and run2.status is RefreshStatus.COMPLETE
    async with runtime.database.read_session() as session:
        series = await library.metric_series(session, updated, "wikipedia", "pageviews")
    for artist_id in updated:
        days = [point.day for point in series[artist_id]]
        assert len(days) == 91, (artist_id, days[:3], days[-3:])
        assert days[0] == today - timedelta(days=90) and days[-1] == today
    # The second run asked Wikimedia for one day per artist, and MusicBrainz for nothing (ids were stored).
    assert set(ids.values()) >= set(updated)


def test_the_refresh_command_without_a_lastfm_key_exits_0_and_says_skipped(
    threaded_double: ApiDouble, isolated_user_env: Path, redis_url: str
) -> None:
    env = {
        **os.environ,
        **threaded_double.urls.as_env(),
        "ARTIST_DESKTOP_DATA_DIR": str(isolated_user_env),
        "ARTIST_DESKTOP_REDIS_URL": redis_url,
        "ARTIST_DESKTOP_REDIS_PREFIX": f"refresh-cmd-{os.getpid()}:",
        "ARTIST_DESKTOP_LASTFM_API_KEY": "",
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "artist_desktop", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)

    imported = cli("import", "g9UlPlDpiHCTeOrJ7E8MmZ", "OcRXY5xxvwGmvy8Adm6e8T")
    assert imported.returncode == 0, imported.stderr
    result = cli("refresh", "--json")

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    states = {run["source"]: (run["status"], run["reason"]) for run in summary["sources"]}
    assert states["lastfm"] == ("skipped", "no API key")
    assert {states[name][0] for name in ("deezer", "wikipedia", "listenbrainz")} == {"complete"}
    for run in summary["sources"]:  # every artist counted once: updated, failed or not found
        assert run["updated"] + run["failed"] + run["not_found"] == run["total"], run
        assert run["not_found"] == sum(1 for row in run["results"] if row.get("not_found")), run
    deezer = next(run for run in summary["sources"] if run["source"] == "deezer")
    assert (deezer["total"], deezer["updated"]) == (2, 2)
    assert {row["name"] for row in deezer["results"]} == {"Daft Punk", "Radiohead"}

    text = cli("refresh", "--source", "lastfm")
    assert text.returncode == 0, text.stderr
    assert "Last.fm listeners: skipped: no API key" in text.stdout
