"""The batch import end to end: API double, real Redis, a real SQLite file."""

from __future__ import annotations

import asyncio
import socket
import sys
from datetime import timedelta

from pipeline_helpers import Recorder
from sqlalchemy import func, select, update

from artist_desktop.devtools._catalog import CatalogArtist
from artist_desktop.devtools.api_double import ApiDouble, Fault
from artist_desktop.domain import CANCELLED_MESSAGE, JobStatus, Stage, utcnow
from artist_desktop.runtime import Runtime
from artist_desktop.store import models

ROW_TABLES = (
    models.Artist,
    models.ArtistPlatformId,
    models.ArtistMetric,
    models.Track,
    models.ArtistTrack,
    models.MediaAsset,
)


async def _counts(services: Runtime) -> dict[str, int]:
    async with services.database.session() as session:
        return {
            table.__tablename__: (await session.execute(select(func.count()).select_from(table))).scalar_one()
            for table in ROW_TABLES
        }


async def _import(services: Runtime, artists: list[CatalogArtist]) -> None:
    await services.runner.enqueue([(a.spotify_id, a.name) for a in artists])
    await asyncio.wait_for(services.runner.run_until_idle(), 120)


async def test_batch_of_20_with_injected_failures(
    services: Runtime, api_double: ApiDouble, catalog_artists: list[CatalogArtist]
) -> None:
    artists = catalog_artists[:20]
    unknown, deezer_down, broken_image = artists[3], artists[7], artists[11]
    api_double.forget_spotify_artist(unknown.spotify_id)
    assert deezer_down.deezer is not None
    api_double.inject("deezer", deezer_down.deezer["id"], Fault.http(500), times=None)
    api_double.set_image_fault(broken_image.spotify_id, "missing")

    async with Recorder(services.bus) as recorder:
        await _import(services, artists)

    outcomes = {o.spotify_id: o for o in await services.runner.outcomes()}
    assert len(outcomes) == 20
    failed = [o for o in outcomes.values() if o.status is not JobStatus.COMPLETE]
    assert [o.spotify_id for o in failed] == [unknown.spotify_id]
    assert failed[0].stage is Stage.METADATA
    assert "Spotify" in (failed[0].error or "")

    finals = {sid: updates[-1] for sid, updates in recorder.seen.items()}
    assert finals[unknown.spotify_id].stage is Stage.ERROR and not finals[unknown.spotify_id].cancelled
    batch_id = services.runner.last_batch_id
    assert finals[unknown.spotify_id].payload == {"stage": "METADATA", "reason": failed[0].error, "batch_id": batch_id}
    assert "Deezer" in finals[deezer_down.spotify_id].details
    assert finals[deezer_down.spotify_id].stage is Stage.COMPLETE
    assert "Image" in finals[broken_image.spotify_id].details
    assert finals[broken_image.spotify_id].stage is Stage.COMPLETE
    clean = [a for a in artists if a not in (unknown, deezer_down, broken_image)]
    assert all(finals[a.spotify_id].stage is Stage.COMPLETE for a in clean)
    assert all(finals[a.spotify_id].details == "" for a in clean), {
        a.name: finals[a.spotify_id].details for a in clean if finals[a.spotify_id].details
    }

    # Every artist's stages arrive in order and its progress never goes back.
    for spotify_id, updates in recorder.seen.items():
        orders = [list(Stage).index(u.stage) for u in updates]  # Stage is declared in run order
        assert orders == sorted(orders), (spotify_id, [u.stage for u in updates])
        progress = [u.progress for u in updates]
        assert progress == sorted(progress), (spotify_id, progress)
        seqs = [u.seq for u in updates]
        assert seqs == sorted(set(seqs))
    assert {u.stage for u in recorder.seen[clean[0].spotify_id]} >= {
        Stage.INIT,
        Stage.METADATA,
        Stage.ANALYTICS,
        Stage.MEDIA,
        Stage.STORE,
        Stage.COMPLETE,
    }

    counts = await _counts(services)
    assert counts["artists"] == 19
    # spotify + deezer + musicbrainz ids for 18 artists; the one with Deezer down still matched by search
    assert counts["artist_platform_ids"] == 19 * 3


async def test_importing_twice_gives_the_same_rows(
    services: Runtime, api_double: ApiDouble, catalog_artists: list[CatalogArtist]
) -> None:
    artists = catalog_artists[:20]
    await _import(services, artists)
    first = await _counts(services)
    await _import(services, artists)
    assert await _counts(services) == first
    assert first["artists"] == 20
    outcomes = await services.runner.outcomes()
    assert {o.status for o in outcomes} == {JobStatus.COMPLETE}

    # One figure per metric per UTC day: a changed figure re-imported the same day replaces that day's.
    assert artists[0].deezer is not None
    api_double.override_deezer_artist(artists[0].deezer["id"], nb_fan=123)
    await _import(services, artists[:1])
    assert await _counts(services) == first
    async with services.database.session() as session:
        fans = await session.scalars(
            select(models.ArtistMetric.value).where(
                models.ArtistMetric.platform == "deezer", models.ArtistMetric.metric_type == "followers"
            )
        )
        assert sorted(fans).count(123) == 1


async def test_cancel_all_leaves_nothing_half_written_and_retry_completes(
    services: Runtime, api_double: ApiDouble, catalog_artists: list[CatalogArtist]
) -> None:
    artists = catalog_artists[:12]
    api_double.set_latency(0.1)
    await services.runner.enqueue([(a.spotify_id, a.name) for a in artists])
    run = asyncio.create_task(services.runner.run_until_idle())

    async def some_complete() -> None:
        while True:
            outcomes = await services.runner.outcomes()
            if any(o.status is JobStatus.COMPLETE for o in outcomes):
                return
            await asyncio.sleep(0.02)

    await asyncio.wait_for(some_complete(), 60)
    await services.runner.cancel_all()
    await asyncio.wait_for(run, 30)

    outcomes = await services.runner.outcomes()
    complete = [o for o in outcomes if o.status is JobStatus.COMPLETE]
    cancelled = [o for o in outcomes if o.status is JobStatus.CANCELLED]
    assert len(complete) + len(cancelled) == 12, [o for o in outcomes if o not in complete + cancelled]
    assert cancelled, "cancel_all came after every import had finished"
    assert all(o.error == CANCELLED_MESSAGE for o in cancelled)
    counts = await _counts(services)
    assert counts["artists"] == len(complete)
    snapshots = await services.bus.snapshots()
    # Cancelled is a state on the wire: ERROR (the stages end in COMPLETE or ERROR) marked cancelled.
    assert all(snapshots[o.spotify_id].stage is Stage.ERROR for o in cancelled)
    assert all(snapshots[o.spotify_id].cancelled for o in cancelled)
    assert all(snapshots[o.spotify_id].message == CANCELLED_MESSAGE for o in cancelled)
    assert not any(snapshots[o.spotify_id].cancelled for o in complete)

    api_double.set_latency(0.0)
    assert await services.runner.retry_failed() == len(cancelled)
    await asyncio.wait_for(services.runner.run_until_idle(), 60)
    assert {o.status for o in await services.runner.outcomes()} == {JobStatus.COMPLETE}
    assert (await _counts(services))["artists"] == 12


async def test_cancel_one_running_artist(
    services: Runtime, api_double: ApiDouble, catalog_artists: list[CatalogArtist]
) -> None:
    target = catalog_artists[0]
    api_double.set_latency(0.1)
    await services.runner.enqueue([(target.spotify_id, target.name)])
    run = asyncio.create_task(services.runner.run_until_idle())

    async def running() -> None:
        while not any(o.status is JobStatus.RUNNING for o in await services.runner.outcomes()):
            await asyncio.sleep(0.01)

    await asyncio.wait_for(running(), 10)
    await services.runner.cancel(target.spotify_id)
    await asyncio.wait_for(run, 10)
    [outcome] = await services.runner.outcomes([target.spotify_id])
    assert outcome.status is JobStatus.CANCELLED
    snapshot = await services.bus.snapshot(target.spotify_id)
    assert snapshot is not None and snapshot.stage is Stage.ERROR and snapshot.cancelled
    assert snapshot.message == CANCELLED_MESSAGE
    assert (await _counts(services))["artists"] == 0


async def test_resume_after_a_crash_requeues_running_jobs(
    services: Runtime, catalog_artists: list[CatalogArtist]
) -> None:
    from artist_desktop.store import jobs

    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await gone.wait()
    dead_worker = f"{socket.gethostname()}:{gone.pid}"  # a process of this machine that has ended
    artists = catalog_artists[:3]
    await services.runner.enqueue([(a.spotify_id, a.name) for a in artists])
    async with services.database.session() as session, session.begin():
        assert await jobs.claim_next_job(session, dead_worker) is not None
        assert await jobs.claim_next_job(session, "other-machine:4242") is not None
    # The dead local process's job comes back at once; the other machine's only once its heartbeat is old.
    assert await services.runner.resume_interrupted() == 1
    async with services.database.session() as session, session.begin():
        await session.execute(
            update(models.ImportJob)
            .where(models.ImportJob.worker == "other-machine:4242")
            .values(heartbeat_at=utcnow() - timedelta(seconds=services.runner.job_timeout + 1))
        )
    assert await services.runner.resume_interrupted() == 1
    await asyncio.wait_for(services.runner.run_until_idle(), 60)
    outcomes = await services.runner.outcomes()
    assert {o.status for o in outcomes} == {JobStatus.COMPLETE}
    async with services.database.session() as session:
        attempts = sorted(job.attempts for job in await jobs.list_jobs(session))
    assert attempts == [1, 2, 2]  # a taken-over job counts its new attempt


async def test_same_image_is_cached_once(services: Runtime, catalog_artists: list[CatalogArtist]) -> None:
    await _import(services, catalog_artists[:2])
    files = [p for p in services.settings.media_dir.rglob("*") if p.is_file()]
    assert files, "no media cached"
    async with services.database.session() as session:
        hashes = (await session.execute(select(models.MediaAsset.sha256))).scalars().all()
    assert len({p.name.split(".")[0] for p in files}) == len(files)
    assert set(hashes) == {p.name.split(".")[0] for p in files}
