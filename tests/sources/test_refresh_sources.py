"""The refresh of all sources: skipped sources, per-artist storage, resolved ids, source-wide failures, locks.

The sources here are small scripted implementations of the source contract (what a source reports is the input
under test); the real sources against the API double are in test_refresh_all_sources.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from artist_desktop.domain import MetricType, Platform
from artist_desktop.sources.base import ArtistFigures, Figure, Report, SourceArtist, SourceFailed
from artist_desktop.sources.refresh import (
    LockHeld,
    NothingToRefresh,
    RefreshStatus,
    lock_name,
    refresh_sources,
)
from artist_desktop.store import Database, library, repository
from artist_desktop.store.locks import run_lock

RUN = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
TODAY = RUN.date()


class Scripted:
    """A source reporting what its script says for each artist name (missing names: never reported)."""

    name = Platform.LASTFM
    label = "Last.fm listeners"
    metrics = (MetricType.LISTENERS, MetricType.PLAYCOUNT)
    headline = MetricType.LISTENERS

    def __init__(self, script: dict[str, Any], *, skip: str | None = None, fail_after: int | None = None) -> None:
        self.script = script
        self.skip = skip
        self.fail_after = fail_after
        self.asked: list[SourceArtist] = []

    def skip_reason(self) -> str | None:
        return self.skip

    def serves(self, artist: SourceArtist) -> bool:
        return artist.mbid is not None or artist.platform_id is not None

    async def collect(self, artists: Sequence[SourceArtist], today: date, report: Report) -> None:
        self.asked = list(artists)
        for count, artist in enumerate(artists):
            if self.fail_after is not None and count >= self.fail_after:
                raise SourceFailed("Last.fm rejects the API key: check it in Settings")
            entry = self.script.get(artist.name)
            if entry is None:
                continue
            if isinstance(entry, str) and entry.startswith("not found:"):
                await report(ArtistFigures.not_found(artist.artist_id, entry.removeprefix("not found: ")))
            elif isinstance(entry, str):
                await report(ArtistFigures.failed(artist.artist_id, entry))
            else:
                figures, ids = entry
                await report(ArtistFigures.updated(artist.artist_id, figures, ids))


class Daily(Scripted):
    """A daily series (like Wikipedia's): the days after ``last_day`` up to yesterday, 10 views a day."""

    name = Platform.WIKIPEDIA
    label = "Wikipedia pageviews"
    metrics = (MetricType.PAGEVIEWS,)
    headline = MetricType.PAGEVIEWS

    async def collect(self, artists: Sequence[SourceArtist], today: date, report: Report) -> None:
        for artist in artists:
            first = max(artist.last_day + timedelta(days=1), today - timedelta(days=90)) if artist.last_day else None
            first = first or today - timedelta(days=90)
            days = [first + timedelta(days=n) for n in range((today - first).days)]
            figures = [Figure(MetricType.PAGEVIEWS, day, 10 + n) for n, day in enumerate(days)]
            await report(ArtistFigures.updated(artist.artist_id, figures))


async def _artist(database: Database, name: str, **ids: str) -> int:
    from artist_desktop.domain import ArtistRecord, slugify

    async with database.session() as session, session.begin():
        artist_id = await repository.upsert_artist(session, ArtistRecord(name=name, slug=slugify(name)))
        for platform, platform_id in ids.items():
            await repository.upsert_platform_id(session, artist_id, platform, platform_id)
    return artist_id


def _listeners(n: int) -> list[Figure]:
    return [Figure(MetricType.LISTENERS, TODAY, n), Figure(MetricType.PLAYCOUNT, TODAY, n * 10)]


async def test_figures_ids_and_failures_are_stored_per_artist_with_one_run_row(database: Database) -> None:
    air = await _artist(database, "Air", musicbrainz="mb-air")
    muse = await _artist(database, "Muse", musicbrainz="mb-muse", lastfm="Muse (hand set)")
    await _artist(database, "No Ids")  # not served: not part of the run
    source = Scripted(
        {"Air": (_listeners(500), {Platform.LASTFM: "AIR"}), "Muse": "Last.fm is busy (error 16)"},
    )

    summary = await refresh_sources(database, [source], run_date=RUN)

    [run] = summary.runs
    assert [artist.name for artist in source.asked] == ["Air", "Muse"]
    assert source.asked[1].platform_id == "Muse (hand set)"
    assert (run.status, run.total, run.updated, run.failed) == (RefreshStatus.COMPLETE, 2, 1, 1)
    assert [(r.name, r.success, r.value, r.error) for r in run.results] == [
        ("Air", True, 500, None),
        ("Muse", False, None, "Last.fm is busy (error 16)"),
    ]
    async with database.session() as session:
        series = await library.metric_series(session, [air, muse], "lastfm", "playcount")
        ids = await repository.platform_ids_of(session, [air, muse], "lastfm")
        [stored] = await repository.list_refresh_runs(session, "lastfm")
    assert {artist: [point.value for point in points] for artist, points in series.items()} == {air: [5000], muse: []}
    assert ids == {air: "AIR", muse: "Muse (hand set)"}  # resolved ids are stored, hand-set ones kept
    assert (stored.status, stored.updated, stored.failed) == (RefreshStatus.COMPLETE, 1, 1)
    assert summary.to_json()["sources"][0]["results"][0] == {
        "artist_id": air,
        "name": "Air",
        "success": True,
        "listeners": 500,
    }


async def test_an_artist_the_service_does_not_know_is_not_found_apart_from_failures(database: Database) -> None:
    for name in ("Air", "Bjork", "Cher"):
        await _artist(database, name, musicbrainz=f"mb-{name}")
    source = Scripted(
        {"Air": (_listeners(1), {}), "Bjork": "not found: No such artist on Last.fm", "Cher": "Last.fm is busy"}
    )

    [run] = (await refresh_sources(database, [source], run_date=RUN)).runs

    assert (run.updated, run.failed, run.not_found) == (1, 2, 1)
    assert [(r.name, r.not_found, r.error) for r in run.results] == [
        ("Air", False, None),
        ("Bjork", True, "No such artist on Last.fm"),
        ("Cher", False, "Last.fm is busy"),
    ]
    assert run.to_json()["not_found"] == 1
    async with database.session() as session:
        stored = await repository.refresh_results(session, run.run_id or 0)
    assert [(row.name, row.not_found) for row in stored] == [("Air", False), ("Bjork", True), ("Cher", False)]


async def test_a_source_without_its_key_is_skipped_with_the_reason_and_a_run_row(database: Database) -> None:
    await _artist(database, "Air", musicbrainz="mb-air")
    skipped = Scripted({}, skip="no API key")
    daily = Daily({})

    summary = await refresh_sources(database, [daily, skipped], run_date=RUN)

    assert [(run.source, run.status, run.reason) for run in summary.runs] == [
        (Platform.WIKIPEDIA, RefreshStatus.COMPLETE, None),
        (Platform.LASTFM, RefreshStatus.SKIPPED, "no API key"),
    ]
    assert summary.success and skipped.asked == []
    async with database.session() as session:
        [row] = await repository.list_refresh_runs(session, "lastfm")
    assert (row.status, row.reason, row.total) == (RefreshStatus.SKIPPED, "no API key", 0)


async def test_a_daily_series_backfills_90_days_then_adds_one_the_next_day(database: Database) -> None:
    air = await _artist(database, "Air", musicbrainz="mb-air")

    first = await refresh_sources(database, [Daily({})], run_date=RUN)
    second = await refresh_sources(database, [Daily({})], run_date=RUN + timedelta(days=1))

    async with database.session() as session:
        series = (await library.metric_series(session, [air], "wikipedia", "pageviews"))[air]
    assert len(series) == 91
    assert series[0].day == TODAY - timedelta(days=90) and series[-1].day == TODAY
    # The headline is the latest day's figure, its change against the day before (in the backfill, the first time).
    assert [(r.value, r.previous_value) for r in first.runs[0].results] == [(99, 98)]
    assert [(r.value, r.previous_value) for r in second.runs[0].results] == [(10, 99)]


async def test_a_source_wide_failure_fails_the_artists_not_yet_reported(database: Database) -> None:
    for name in ("Air", "Bjork", "Cher"):
        await _artist(database, name, musicbrainz=f"mb-{name}")
    source = Scripted({"Air": (_listeners(1), {})}, fail_after=1)

    summary = await refresh_sources(database, [source], run_date=RUN)

    [run] = summary.runs
    reason = "Last.fm rejects the API key: check it in Settings"
    assert (run.status, run.reason, run.updated, run.failed) == (RefreshStatus.FAILED, reason, 1, 2)
    assert [(r.name, r.error) for r in run.results] == [("Air", None), ("Bjork", reason), ("Cher", reason)]
    assert not summary.success


async def test_no_source_with_an_artist_is_nothing_to_refresh(database: Database) -> None:
    await _artist(database, "No Ids")
    with pytest.raises(NothingToRefresh):
        await refresh_sources(database, [Scripted({}), Daily({})], run_date=RUN)


async def test_a_source_another_process_refreshes_fails_alone_or_raises_when_asked_for_alone(
    database: Database,
) -> None:
    await _artist(database, "Air", musicbrainz="mb-air")
    async with run_lock(database, lock_name(Platform.LASTFM), "worker-2 pid 7"):
        summary = await refresh_sources(database, [Daily({}), Scripted({})], run_date=RUN)
        with pytest.raises(LockHeld, match="worker-2 pid 7"):
            await refresh_sources(database, [Scripted({})], run_date=RUN)
    assert [(run.source, run.status) for run in summary.runs] == [
        (Platform.WIKIPEDIA, RefreshStatus.COMPLETE),
        (Platform.LASTFM, RefreshStatus.FAILED),
    ]
    assert "worker-2 pid 7" in (summary.runs[1].reason or "")


async def test_cancelling_marks_every_running_source_cancelled(database: Database) -> None:
    await _artist(database, "Air", musicbrainz="mb-air")
    started = asyncio.Event()

    class Slow(Scripted):
        async def collect(self, artists: Sequence[SourceArtist], today: date, report: Report) -> None:
            started.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(refresh_sources(database, [Slow({})], run_date=RUN))
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with database.session() as session:
        [run] = await repository.list_refresh_runs(session, "lastfm")
    assert run.status is RefreshStatus.CANCELLED and run.finished_at is not None
