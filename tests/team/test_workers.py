"""Several `serve` workers share one PostgreSQL ledger: every artist imported once, dead workers taken over."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from artist_desktop.devtools.api_double import ApiDouble
from artist_desktop.domain import JobStatus
from artist_desktop.store import models

from ._team import count, enqueue, list_jobs, until

pytestmark = pytest.mark.postgres


async def test_three_workers_import_60_artists_exactly_once(
    workers: Any, team_env: dict[str, str], team_double: ApiDouble
) -> None:
    url = team_env["ARTIST_DESKTOP_DATABASE_URL"]
    for name in ("alpha", "beta", "gamma"):
        await asyncio.to_thread(workers.start, name, 2)
    await enqueue(url, team_double, 60)

    async def all_complete() -> bool:
        return all(job.status is JobStatus.COMPLETE for job in await list_jobs(url))

    await until(all_complete, 120, "60 imports")
    jobs = await list_jobs(url)
    assert len(jobs) == 60
    assert {job.attempts for job in jobs} == {1}
    by_worker: dict[str, int] = {}
    for job in jobs:
        by_worker[job.worker.split(":")[0]] = by_worker.get(job.worker.split(":")[0], 0) + 1
    assert set(by_worker) == {"alpha", "beta", "gamma"}, by_worker
    assert await count(url, models.Artist) == 60
    assert await count(url, models.ArtistPlatformId) == 180
    codes = await asyncio.to_thread(workers.stop_all)
    assert set(codes.values()) == {0}
