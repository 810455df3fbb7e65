"""The import-job ledger: selection order, claiming, finishing, retrying failures, resuming after a crash, and
the status changes it refuses."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from artist_desktop.domain import ArtistRecord, JobStatus, Stage, utcnow
from artist_desktop.store import Database, ImportJob, jobs, repository

ADELE = "4dpARuHxo51G3z768sgnrY"
BJORK = "7w29UYBi0qsHi5RTcv3lmA"
DRAKE = "3TVXtAsR1Inumwj472S9r4"
ENYA = "6uothxMWeLWIhsGeF7cyo4"


def _summary(jobs: list[ImportJob]) -> list[tuple[str, JobStatus]]:
    return [(job.name, job.status) for job in jobs]


async def _jobs(database: Database) -> list[ImportJob]:
    async with database.session() as session:
        return await jobs.list_jobs(session)


async def test_enqueue_keeps_selection_order_and_ignores_duplicates(database: Database) -> None:
    async with database.session() as session:
        queued = await jobs.enqueue_jobs(session, [(DRAKE, "Drake"), (ADELE, "Adele"), (DRAKE, "Drake")])
        await session.commit()
    assert [job.spotify_id for job in queued] == [DRAKE, ADELE]
    async with database.session() as session:
        await jobs.enqueue_jobs(session, [(BJORK, "Björk"), (ADELE, "Adele")])
        await session.commit()
    listed = await _jobs(database)
    assert _summary(listed) == [
        ("Drake", JobStatus.QUEUED),
        ("Adele", JobStatus.QUEUED),
        ("Björk", JobStatus.QUEUED),
    ]
    assert all((job.stage, job.progress, job.attempts) == (Stage.INIT, 0, 0) for job in listed)
    assert all(job.created_at.tzinfo is not None for job in listed)


async def test_job_lifecycle_claim_progress_finish(database: Database) -> None:
    async with database.session() as session:
        await jobs.enqueue_jobs(session, [(ADELE, "Adele"), (BJORK, "Björk")])
        await session.commit()

    async with database.session() as session:
        job = await jobs.claim_next_job(session, "worker-1")
        await session.commit()
    assert job is not None
    assert (job.spotify_id, job.status, job.attempts, job.worker) == (ADELE, JobStatus.RUNNING, 1, "worker-1")
    assert job.started_at is not None

    async with database.session() as session:
        assert await jobs.claim_job(session, job.id, "worker-2") is False, "already running"
        assert await jobs.update_job_progress(session, ADELE, Stage.ANALYTICS, 30, "Deezer fans")
        await session.commit()
        running = await jobs.get_job(session, ADELE)
        assert running is not None
        assert (running.stage, running.progress, running.message) == (Stage.ANALYTICS, 30, "Deezer fans")

    async with database.session() as session:
        artist_id = await repository.upsert_artist(session, ArtistRecord(name="Adele", slug="adele"))
        assert await jobs.finish_job(session, ADELE, JobStatus.COMPLETE, artist_id=artist_id)
        await session.commit()
        done = await jobs.get_job(session, ADELE)
        queued = await jobs.next_queued_jobs(session, 10)
    assert done is not None
    assert (done.status, done.stage, done.progress, done.artist_id) == (
        JobStatus.COMPLETE,
        Stage.COMPLETE,
        100,
        artist_id,
    )
    assert done.finished_at is not None
    assert [job.spotify_id for job in queued] == [BJORK]


async def test_error_keeps_progress_and_retry_requeues_at_the_end(database: Database) -> None:
    async with database.session() as session:
        await jobs.enqueue_jobs(session, [(ADELE, "Adele"), (BJORK, "Björk"), (DRAKE, "Drake")])
        for _ in range(2):
            await jobs.claim_next_job(session, "w")
        await jobs.update_job_progress(session, ADELE, Stage.METADATA, 12, "MusicBrainz")
        await jobs.finish_job(session, ADELE, JobStatus.ERROR, error="Spotify: 404 Resource not found")
        await jobs.finish_job(session, BJORK, JobStatus.COMPLETE)
        await jobs.enqueue_jobs(session, [(ENYA, "Enya")])
        await session.commit()

    failed = (await _jobs(database))[0]
    assert (failed.status, failed.stage, failed.progress) == (JobStatus.ERROR, Stage.ERROR, 12)
    assert failed.last_error == "Spotify: 404 Resource not found"

    async with database.session() as session:
        assert await jobs.requeue_jobs(session, [JobStatus.ERROR]) == 1
        await session.commit()
    assert _summary(await _jobs(database)) == [
        ("Björk", JobStatus.COMPLETE),
        ("Drake", JobStatus.QUEUED),
        ("Enya", JobStatus.QUEUED),
        ("Adele", JobStatus.QUEUED),
    ]
    async with database.session() as session:
        retried = await jobs.get_job(session, ADELE)
        with pytest.raises(ValueError, match="finished"):
            await jobs.requeue_jobs(session, [JobStatus.RUNNING])
    assert retried is not None
    assert (retried.stage, retried.progress, retried.attempts) == (Stage.INIT, 0, 1)


async def test_enqueue_requeues_a_finished_job_but_not_a_running_one(database: Database) -> None:
    async with database.session() as session:
        await jobs.enqueue_jobs(session, [(ADELE, "Adele"), (BJORK, "Björk")])
        await jobs.claim_next_job(session, "w")
        await jobs.claim_next_job(session, "w")
        await jobs.finish_job(session, ADELE, JobStatus.CANCELLED)
        queued = await jobs.enqueue_jobs(session, [(ADELE, "Adele"), (BJORK, "Björk")])
        await session.commit()
    assert _summary(queued) == [("Adele", JobStatus.QUEUED), ("Björk", JobStatus.RUNNING)]
    assert [job.spotify_id for job in await _jobs(database)] == [BJORK, ADELE]


async def test_resume_interrupted_jobs_after_a_crash(database: Database) -> None:
    async with database.session() as session:
        await jobs.enqueue_jobs(session, [(ADELE, "Adele"), (BJORK, "Björk"), (DRAKE, "Drake")])
        await jobs.claim_next_job(session, "crashed")
        await jobs.claim_next_job(session, "alive")
        await jobs.update_job_progress(session, ADELE, Stage.MEDIA, 60, "Artwork")
        await session.commit()

    async with database.session() as session:
        silent_since = utcnow() - timedelta(hours=1)
        assert await jobs.resume_interrupted_jobs(session, heartbeat_before=silent_since) == 0
        assert await jobs.resume_interrupted_jobs(session, worker="crashed") == 1
        assert await jobs.resume_interrupted_jobs(session) == 1
        await session.commit()
    resumed = await _jobs(database)
    assert _summary(resumed) == [
        ("Adele", JobStatus.QUEUED),
        ("Björk", JobStatus.QUEUED),
        ("Drake", JobStatus.QUEUED),
    ]
    assert (resumed[0].stage, resumed[0].progress, resumed[0].worker, resumed[0].attempts) == (Stage.INIT, 0, None, 1)

    async with database.session() as session:
        again = await jobs.claim_next_job(session, "restarted")
        await session.commit()
    assert again is not None
    assert (again.spotify_id, again.attempts) == (ADELE, 2)


async def test_remove_job(database: Database) -> None:
    async with database.session() as session:
        await jobs.enqueue_jobs(session, [(ADELE, "Adele"), (BJORK, "Björk")])
        assert await jobs.remove_job(session, ADELE) is True
        assert await jobs.remove_job(session, ADELE) is False
        await session.commit()
    assert [job.spotify_id for job in await _jobs(database)] == [BJORK]


async def test_concurrent_workers_never_claim_the_same_job(database: Database) -> None:
    ids = [f"{index:022d}" for index in range(12)]
    async with database.session() as session:
        await jobs.enqueue_jobs(session, [(spotify_id, f"Artist {spotify_id}") for spotify_id in ids])
        await session.commit()

    async def worker(name: str) -> list[str]:
        claimed: list[str] = []
        while True:
            async with database.session() as session:
                job = await jobs.claim_next_job(session, name)
                await session.commit()
            if job is None:
                return claimed
            claimed.append(job.spotify_id)

    results = await asyncio.gather(*(worker(f"w{n}") for n in range(4)))
    claimed = [spotify_id for result in results for spotify_id in result]
    assert sorted(claimed) == ids
    assert all(job.attempts == 1 for job in await _jobs(database))


async def test_cancelling_queued_jobs_leaves_running_ones_alone(database: Database) -> None:
    async with database.session() as session:
        await jobs.enqueue_jobs(session, [(ADELE, "Adele"), (BJORK, "Björk"), (DRAKE, "Drake"), (ENYA, "Enya")])
        await jobs.claim_next_job(session, "w")
        assert await jobs.cancel_queued_jobs(session, [DRAKE, ADELE]) == [DRAKE]
        assert await jobs.cancel_queued_jobs(session, []) == []
        assert await jobs.cancel_queued_jobs(session) == [BJORK, ENYA]
        await session.commit()
    assert _summary(await _jobs(database)) == [
        ("Adele", JobStatus.RUNNING),
        ("Björk", JobStatus.CANCELLED),
        ("Drake", JobStatus.CANCELLED),
        ("Enya", JobStatus.CANCELLED),
    ]
    async with database.session() as session:
        assert await jobs.next_queued_jobs(session, 10) == []
        assert await jobs.finish_job(session, ADELE, JobStatus.COMPLETE, name="ADELE")
        await session.commit()
    assert (await _jobs(database))[0].name == "ADELE"


def test_the_status_table() -> None:
    """Every change the ledger may make, and no other (the table is JobStatus's)."""
    allowed = {(old, new) for old in JobStatus for new in JobStatus if old.can_become(new)}
    queued, running, complete, error, cancelled = (
        JobStatus.QUEUED,
        JobStatus.RUNNING,
        JobStatus.COMPLETE,
        JobStatus.ERROR,
        JobStatus.CANCELLED,
    )
    assert allowed == {
        (queued, running),
        (queued, cancelled),
        (running, complete),
        (running, error),
        (running, cancelled),
        (running, queued),
        (complete, queued),
        (error, queued),
        (cancelled, queued),
    }
    assert [status for status in JobStatus if status.can_become(running)] == [queued]
    assert [status for status in JobStatus if status.can_become(queued)] == [running, complete, error, cancelled]
    assert {status for status in JobStatus if status.is_final} == {complete, error, cancelled}


async def test_changes_the_table_forbids_are_refused(database: Database) -> None:
    async with database.session() as session:
        await jobs.enqueue_jobs(session, [(ADELE, "Adele"), (BJORK, "Björk")])
        assert await jobs.finish_job(session, ADELE, JobStatus.COMPLETE) is False, "queued -> complete"
        assert await jobs.finish_job(session, ADELE, JobStatus.CANCELLED) is False, "only a running job is finished"
        assert await jobs.put_back_waiting(session, ADELE, "Waiting for Spotify") is False, "not running"
        assert await jobs.claim_next_job(session, "w") is not None
        assert await jobs.finish_job(session, ADELE, JobStatus.ERROR, error="Deezer: 500")
        assert await jobs.finish_job(session, ADELE, JobStatus.COMPLETE) is False, "error -> complete"
        assert await jobs.cancel_queued_jobs(session, [ADELE]) == [], "error -> cancelled"
        assert await jobs.resume_interrupted_jobs(session) == 0, "nothing runs"
        with pytest.raises(ValueError, match="final status"):
            await jobs.finish_job(session, BJORK, JobStatus.RUNNING)
        await session.commit()
    failed = (await _jobs(database))[0]
    assert (failed.spotify_id, failed.status, failed.last_error) == (ADELE, JobStatus.ERROR, "Deezer: 500")
    assert (await _jobs(database))[1].status is JobStatus.QUEUED


async def test_a_paused_job_goes_back_to_its_place_without_counting_the_attempt(database: Database) -> None:
    async with database.session() as session:
        await jobs.enqueue_jobs(session, [(ADELE, "Adele"), (BJORK, "Björk")])
        claimed = await jobs.claim_next_job(session, "w")
        assert claimed is not None and claimed.spotify_id == ADELE
        await jobs.update_job_progress(session, ADELE, Stage.METADATA, 12, "Spotify artist")
        assert await jobs.put_back_waiting(session, ADELE, "Waiting for Spotify (resumes 14:20)")
        await session.commit()
    waiting = (await _jobs(database))[0]
    assert (waiting.spotify_id, waiting.status, waiting.stage, waiting.progress) == (
        ADELE,
        JobStatus.QUEUED,
        Stage.INIT,
        0,
    )
    assert (waiting.message, waiting.attempts, waiting.worker, waiting.started_at) == (
        "Waiting for Spotify (resumes 14:20)",
        0,
        None,
        None,
    )
    async with database.session() as session:
        assert await jobs.count_waiting_for_spotify(session) == 2
        assert await jobs.queued_needing_spotify(session) == [ADELE, BJORK]
        again = await jobs.claim_next_job(session, "w")
    assert again is not None and (again.spotify_id, again.attempts) == (ADELE, 1)
