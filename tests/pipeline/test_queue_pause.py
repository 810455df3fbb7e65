"""Batches kept apart and the queue paused: by a person, and by itself while Spotify is down (API double)."""

from __future__ import annotations

import asyncio
import time

from pipeline_helpers import Recorder

from artist_desktop.devtools._catalog import CatalogArtist
from artist_desktop.devtools.api_double import ApiDouble, Fault
from artist_desktop.domain import JobStatus
from artist_desktop.runtime import Runtime
from artist_desktop.store import Database, jobs, service_state


async def _statuses(services: Runtime) -> dict[str, JobStatus]:
    async with services.database.session() as session:
        return {job.spotify_id: job.status for job in await jobs.list_jobs(session)}


async def test_each_enqueue_is_a_batch_and_its_updates_say_so(
    services: Runtime, api_double: ApiDouble, catalog_artists: list[CatalogArtist]
) -> None:
    first, second = catalog_artists[:3], catalog_artists[3:5]
    runner = services.runner
    api_double.inject("spotify", first[1].spotify_id, Fault.http(404), times=None)
    async with Recorder(services.bus) as recorder:
        await runner.enqueue([(a.spotify_id, a.name) for a in first], source="window")
        first_batch = runner.last_batch_id
        await asyncio.wait_for(runner.run_until_idle(), 60)
        await runner.enqueue([(a.spotify_id, a.name) for a in second])
        second_batch = runner.last_batch_id
        await asyncio.wait_for(runner.run_until_idle(), 60)
    assert first_batch is not None and second_batch is not None and second_batch > first_batch
    for artists, batch_id in ((first, first_batch), (second, second_batch)):
        for artist in artists:
            seen = recorder.seen[artist.spotify_id]
            assert seen and all((update.payload or {}).get("batch_id") == batch_id for update in seen)
    async with services.database.session() as session:
        batches = await jobs.list_batches(session)
        assert [job.spotify_id for job in await jobs.batch_jobs(session, first_batch)] == [a.spotify_id for a in first]
    newest, oldest = batches[0], batches[1]
    assert (newest.id, newest.source, newest.total, newest.outcome) == (
        second_batch,
        "cli",
        2,
        "2 complete, 0 failed, 0 cancelled",
    )
    assert (oldest.source, oldest.total, oldest.finished) == ("window", 3, True)
    assert oldest.outcome == "2 complete, 1 failed, 0 cancelled"


async def test_a_paused_queue_claims_nothing_until_resumed(
    services: Runtime, catalog_artists: list[CatalogArtist]
) -> None:
    runner = services.runner
    await runner.pause_queue()
    assert (await runner.queue_state()).text == "Queue paused"
    await runner.enqueue([(a.spotify_id, a.name) for a in catalog_artists[:2]])
    await asyncio.wait_for(runner.run_until_idle(wait_for_pauses=False), 30)
    assert set((await _statuses(services)).values()) == {JobStatus.QUEUED}
    async with services.database.session() as session:  # another process reads the same pause
        assert await service_state.queue_pause(session) is not None
    await runner.resume_queue()
    assert not (await runner.queue_state()).paused
    await asyncio.wait_for(runner.run_until_idle(), 60)
    assert set((await _statuses(services)).values()) == {JobStatus.COMPLETE}


async def test_a_spotify_outage_pauses_the_queue_and_a_probe_resumes_it(
    services: Runtime, api_double: ApiDouble, catalog_artists: list[CatalogArtist]
) -> None:
    runner = services.runner
    runner.probe_interval = 0.3
    runner.outage_after = 2
    artists = catalog_artists[:6]
    api_double.inject("spotify", "*", Fault.http(503), times=None)
    await runner.enqueue([(a.spotify_id, a.name) for a in artists])  # bare ids: METADATA asks Spotify
    batch = asyncio.create_task(runner.run_until_idle())
    try:
        deadline = time.monotonic() + 30
        while not (state := await runner.queue_state()).paused:
            assert time.monotonic() < deadline, "the outage did not pause the queue"
            assert JobStatus.ERROR not in (await _statuses(services)).values()
            await asyncio.sleep(0.1)
        assert state.text == "Queue paused: Spotify is not answering (HTTP 503)"
        assert not state.by_user
        await asyncio.sleep(1.5)  # several probes fail: still paused, nothing failed
        assert (await runner.queue_state()).paused
        statuses = await _statuses(services)
        assert JobStatus.ERROR not in statuses.values()
        assert set(statuses.values()) <= {JobStatus.QUEUED, JobStatus.RUNNING}
        api_double.clear_faults()
        await asyncio.wait_for(batch, 60)  # the next probe resumes the queue and the batch completes
    finally:
        batch.cancel()
        await asyncio.gather(batch, return_exceptions=True)
    assert not (await runner.queue_state()).paused
    assert set((await _statuses(services)).values()) == {JobStatus.COMPLETE}


async def test_the_queue_says_paused_while_the_database_is_away(services: Runtime) -> None:
    runner = services.runner
    kept = runner.database
    away = Database.from_url("postgresql://postgres@127.0.0.1:9/gone", connect_timeout=1)
    runner.database = away  # nothing answers on port 9: a refused connection
    try:
        state = await runner.queue_state()
    finally:
        runner.database = kept
        await away.engine.dispose()
    assert state.paused and state.text == "Queue paused: the database is away" and not state.by_user
    assert not (await runner.queue_state()).paused
