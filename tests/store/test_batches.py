"""Import batches in the ledger (one per enqueue, a job moves to the batch that queues it again) and the queue's
own pauses (by a person, by an outage), as every process reads them."""

from __future__ import annotations

import pytest

from artist_desktop.domain import JobStatus
from artist_desktop.store import Database, jobs, service_state

ADELE = "4dpARuHxo51G3z768sgnrY"
BJORK = "7w29UYBi0qsHi5RTcv3lmA"
DRAKE = "3TVXtAsR1Inumwj472S9r4"


async def test_each_enqueue_is_one_batch_and_a_job_queued_again_moves_to_the_new_one(database: Database) -> None:
    async with database.session() as session, session.begin():
        first = await jobs.enqueue_jobs(session, [(ADELE, "Adele"), (BJORK, "Björk")], source="window")
    first_batch = first[0].batch_id
    assert first_batch is not None and first[1].batch_id == first_batch
    async with database.session() as session, session.begin():
        again = await jobs.enqueue_jobs(session, [(ADELE, "Adele")], source="cli")  # still queued: stays put
        assert again[0].batch_id == first_batch
        assert len(await jobs.list_batches(session)) == 1  # nothing new queued: no empty batch
        claimed = await jobs.claim_next_job(session, "w")
        assert claimed is not None and claimed.spotify_id == ADELE
        await jobs.finish_job(session, ADELE, JobStatus.ERROR, error="boom")
        second = await jobs.enqueue_jobs(session, [(ADELE, "Adele"), (DRAKE, "Drake")], source="cli")
    second_batch = second[0].batch_id
    assert second_batch is not None and second_batch > first_batch and second[1].batch_id == second_batch
    async with database.session() as session:
        newest, oldest = await jobs.list_batches(session)
        assert [job.spotify_id for job in await jobs.batch_jobs(session, first_batch)] == [BJORK]
    assert (newest.id, newest.source, newest.total, newest.count(JobStatus.QUEUED)) == (second_batch, "cli", 2, 2)
    assert newest.outcome == "0 complete, 0 failed, 0 cancelled, 2 queued" and not newest.finished
    assert (oldest.source, oldest.total, oldest.count(JobStatus.QUEUED)) == ("window", 2, 1)


async def test_an_unknown_source_is_refused(database: Database) -> None:
    async with database.session() as session:
        with pytest.raises(ValueError, match="not 'robot'"):
            await jobs.enqueue_jobs(session, [(ADELE, "Adele")], source="robot")


async def test_the_queue_pause_holds_until_lifted_and_a_person_s_comes_first(database: Database) -> None:
    async with database.session() as session, session.begin():
        assert await service_state.queue_pause(session) is None
        await service_state.pause_queue(session, "Spotify is unavailable (HTTP 503)", outage=True)
    async with database.session() as session, session.begin():
        pause = await service_state.queue_pause(session)
        assert pause is not None and pause.service == service_state.QUEUE_OUTAGE
        assert pause.resume_at == service_state.UNTIL_RESUMED and pause.reason.startswith("Spotify")
        await service_state.pause_queue(session, "paused by you")
        held = await service_state.queue_pause(session)
        assert held is not None and held.service == service_state.QUEUE
        await service_state.resume_queue(session)
        held = await service_state.queue_pause(session)
        assert held is not None and held.service == service_state.QUEUE_OUTAGE
        await service_state.resume_queue(session, outage=True)
        assert await service_state.queue_pause(session) is None
