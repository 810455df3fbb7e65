"""A worker that dies mid-import: another worker takes its job over once the heartbeat times out."""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

import pytest

from artist_desktop.devtools.api_double import ApiDouble
from artist_desktop.domain import JobStatus
from artist_desktop.store import models

from ._team import count, enqueue, list_jobs, until

pytestmark = pytest.mark.postgres


async def test_a_killed_workers_job_is_taken_over_after_the_timeout(
    workers: Any, team_env: dict[str, str], team_double: ApiDouble
) -> None:
    url = team_env["ARTIST_DESKTOP_DATABASE_URL"]
    team_double.set_latency(0.4)  # each import takes seconds
    alpha = await asyncio.to_thread(workers.start, "alpha", 1)
    ids = await enqueue(url, team_double, 4)
    alpha_id = workers.worker_id("alpha")

    async def alpha_runs_one() -> bool:
        return any(job.status is JobStatus.RUNNING and job.worker == alpha_id for job in await list_jobs(url))

    await until(alpha_runs_one, 30, "alpha to start an import")
    taken = next(job.spotify_id for job in await list_jobs(url) if job.worker == alpha_id)
    alpha.send_signal(signal.SIGKILL)
    alpha.wait(10)
    killed_at = time.monotonic()
    await asyncio.to_thread(workers.start, "beta", 2)
    team_double.set_latency(0.02)

    async def all_complete() -> bool:
        return all(job.status is JobStatus.COMPLETE for job in await list_jobs(url))

    await until(all_complete, 90, "the imports to finish")
    jobs = {job.spotify_id: job for job in await list_jobs(url)}
    assert jobs[taken].attempts == 2
    assert jobs[taken].worker.startswith("beta:")
    assert time.monotonic() - killed_at >= 3  # not before the heartbeat timeout
    assert await count(url, models.Artist) == len(ids)
    assert await count(url, models.ArtistPlatformId) == 3 * len(ids)
