"""Outages under a running batch: Redis away mid-batch fails no artist, and the bus catches up with the ledger."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError, OperationalError

from artist_desktop.devtools.api_double import ApiDouble
from artist_desktop.domain import JobStatus, Stage
from artist_desktop.pipeline.runner import is_outage
from artist_desktop.runtime import Runtime
from artist_desktop.services import ServiceError
from artist_desktop.store import jobs


class RedisProcess:
    """A redis-server of the test's own on a unix socket, which the test stops and starts again."""

    def __init__(self, directory: Path) -> None:
        self.socket = directory / "r.sock"
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None, "redis-server is needed (the session's Redis fixture uses it too)"
        self.process = subprocess.Popen(
            [binary, "--port", "0", "--unixsocket", str(self.socket), "--save", "", "--appendonly", "no"],
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self.socket.exists():
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.socket.unlink(missing_ok=True)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_redis_away_mid_batch_fails_no_artist_and_the_bus_catches_up(
    api_double: ApiDouble,
    own_redis: RedisProcess,
    redis_prefix: str,
    fast_clients: Callable[..., Any],
    double_settings: Callable[..., Any],
) -> None:
    api_double.set_latency(0.05)  # a batch of a few seconds, so Redis goes away in the middle of it
    settings = double_settings(api_double, own_redis.url, redis_prefix, concurrency=4)
    artists = api_double.catalog.artists[:40]
    ids = [artist.spotify_id for artist in artists]
    async with Runtime(settings, clients=fast_clients(settings)) as runtime:
        runner = runtime.runner
        runner.in_flight = 8  # a few at a time: some finish before the outage, some during, some after
        await runner.enqueue([(artist.spotify_id, artist.name) for artist in artists])
        batch = asyncio.create_task(runner.run_until_idle())

        async def finished() -> int:
            async with runtime.database.session() as session:
                return len(await jobs.list_jobs(session, [JobStatus.COMPLETE, JobStatus.ERROR]))

        while await finished() < 5:
            assert not batch.done(), "the batch ended before the outage"
            await asyncio.sleep(0.05)
        await asyncio.to_thread(own_redis.stop)
        down_at = time.monotonic()
        await asyncio.sleep(3)
        done_during = await finished()
        await asyncio.to_thread(own_redis.start)
        await asyncio.wait_for(batch, 120)
        back_at = time.monotonic()

        async with runtime.database.session() as session:
            ledger = {job.spotify_id: job for job in await jobs.list_jobs(session)}
        statuses = [ledger[spotify_id].status for spotify_id in ids]
        assert statuses.count(JobStatus.ERROR) == 0, [ledger[i].last_error for i in ids if ledger[i].last_error]
        assert statuses == [JobStatus.COMPLETE] * len(ids)
        assert done_during > 5, "imports went on while Redis was away"
        assert all(ledger[spotify_id].attempts == 1 for spotify_id in ids)  # nothing done twice

        # Once Redis is back, every artist's snapshot on the bus says what the ledger says.
        assert await runner.publisher.drain(15), f"{runner.publisher.waiting} updates still wait"
        snapshots = await runtime.bus.snapshots()
        assert sorted(snapshots) == sorted(ids)
        assert {update.stage for update in snapshots.values()} == {Stage.COMPLETE}
        assert all(update.progress == 100 for update in snapshots.values())
        print(
            f"batch ended {back_at - down_at:.1f} s after Redis went away; "
            f"{done_during} of {len(ids)} done by its restart"
        )


def test_what_counts_as_an_outage() -> None:
    refused = ConnectionRefusedError(111, "Connect call failed")
    dropped = DBAPIError("SELECT 1", {}, Exception("connection was closed"), connection_invalidated=True)
    assert is_outage(refused)
    assert is_outage(dropped)
    assert is_outage(OperationalError("INSERT", {}, Exception("database is locked")))
    assert not is_outage(OperationalError("SELECT", {}, Exception("no such table: artists")))
    assert not is_outage(ValueError("a bug"))
    service = ServiceError("Spotify", "Spotify is down")
    service.__cause__ = refused  # an external service's network error is the artist's, not an outage
    assert not is_outage(service)
    wrapped = RuntimeError("Database: connection refused")
    wrapped.__cause__ = refused
    assert is_outage(wrapped)
