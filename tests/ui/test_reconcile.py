"""The progress view agrees with the ledger after lost updates: finished jobs it shows queued become finished."""

from __future__ import annotations

from typing import Any

from artist_desktop.devtools.api_double import ApiDouble
from artist_desktop.domain import JobStatus
from artist_desktop.runtime import Runtime
from artist_desktop.store import jobs
from artist_desktop.ui.progress import ProgressModel, RowState


async def test_the_view_takes_the_ledgers_state_when_updates_were_lost(
    qapp: Any, runtime: Runtime, api_double: ApiDouble
) -> None:
    artists = api_double.catalog.artists[:6]
    ids = await runtime.runner.enqueue([(artist.spotify_id, artist.name) for artist in artists])
    model = ProgressModel()
    for update in (await runtime.bus.snapshots()).values():
        model.apply(update)
    model.flush()
    assert model.counts().of(RowState.QUEUED) == 6

    # Three imports end in the ledger with no update published (Redis away, a worker elsewhere), one fails;
    # a job another process queued never reached the view at all.
    async with runtime.database.session() as session, session.begin():
        for _ in ids[:4]:
            claimed = await jobs.claim_next_job(session, "elsewhere:1")
            assert claimed is not None
        for spotify_id in ids[:3]:
            await jobs.finish_job(session, spotify_id, JobStatus.COMPLETE)
        await jobs.finish_job(session, ids[3], JobStatus.ERROR, error="Spotify: 500", failed_stage=None)
        extra = api_double.catalog.artists[6]
        await jobs.enqueue_jobs(session, [(extra.spotify_id, extra.name)])

    states = await runtime.application.job_states(model.spotify_ids())
    assert {states[i].status for i in ids[:3]} == {JobStatus.COMPLETE}
    assert model.reconcile({i: state.update for i, state in states.items()}) == 4
    model.flush()
    counts = model.counts()
    assert (counts.of(RowState.COMPLETE), counts.of(RowState.FAILED), counts.of(RowState.QUEUED)) == (3, 1, 2)

    # With a start time, jobs the view never heard of come too; a second pass changes nothing.
    states = await runtime.application.job_states(model.spotify_ids(), finished_since=states[ids[0]].update.ts)
    assert extra.spotify_id in states
    model.reconcile({i: state.update for i, state in states.items()})
    model.flush()
    assert model.all_counts().total == 7
    assert model.counts().total == 1  # the other process's enqueue is a batch of its own, shown apart
    assert model.reconcile({i: state.update for i, state in states.items()}) == 0
