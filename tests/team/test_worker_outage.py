"""PostgreSQL away for 5 s under two `serve` workers: the queue moves again by itself, nothing lost or done twice.

The outage is a TCP proxy between the workers and the shared PostgreSQL server, which the test closes (every
connection dropped, new ones refused) and opens again: the honest "server down 5 s" without restarting the
machine's PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from artist_desktop.devtools.api_double import ApiDouble
from artist_desktop.domain import JobStatus
from artist_desktop.store import models

from ._team import count, enqueue, list_jobs, until

pytestmark = pytest.mark.postgres

#: The outage, and the bound the issue sets on getting the queue moving again after it.
OUTAGE_SECONDS = 5.0
RECOVERY_BOUND = 30.0


class TcpProxy:
    """Forwards a loopback port to a target; :meth:`close` drops every connection and refuses new ones."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        if server is not None:
            await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}


async def test_the_queue_moves_again_after_postgresql_was_away(
    workers: Any, team_env: dict[str, str], team_double: ApiDouble
) -> None:
    url = team_env["ARTIST_DESKTOP_DATABASE_URL"]
    target = make_url(url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    await proxy.open()
    try:
        # A heartbeat timeout longer than the outage (the default is 60 s): no worker takes a live one's job.
        workers.env = dict(
            team_env,
            ARTIST_DESKTOP_DATABASE_URL=target.set(port=proxy.port).render_as_string(hide_password=False),
            ARTIST_DESKTOP_JOB_TIMEOUT="20",
        )
        team_double.set_latency(0.1)
        await asyncio.to_thread(workers.start, "alpha", 2)
        await asyncio.to_thread(workers.start, "beta", 2)
        ids = await enqueue(url, team_double, 20)

        async def finished() -> int:
            return sum(job.status.is_final for job in await list_jobs(url))

        await until(lambda: _at_least(finished, 4), 60, "the first imports")
        await proxy.close()
        await asyncio.sleep(OUTAGE_SECONDS)
        before = await finished()
        await proxy.open()
        back_at = time.monotonic()
        await until(lambda: _at_least(finished, before + 1), RECOVERY_BOUND, "the queue to move after the outage")
        recovered = time.monotonic() - back_at
        await until(lambda: _at_least(finished, len(ids)), 120, "every import to end")
        total = time.monotonic() - back_at

        ledger = await list_jobs(url)
        assert [job.status for job in ledger] == [JobStatus.COMPLETE] * len(ids), [
            (job.spotify_id, job.status, job.last_error) for job in ledger if job.status is not JobStatus.COMPLETE
        ]
        assert await count(url, models.Artist) == len(ids)  # none lost, none stored twice
        assert all(process.poll() is None for process in workers.processes.values())  # both still up
        retried = sum(job.attempts > 1 for job in ledger)
        print(
            f"queue moved {recovered:.1f} s after PostgreSQL came back; all done after {total:.1f} s; "
            f"{retried} import(s) run twice after an interruption"
        )
    finally:
        await proxy.close()


async def _at_least(check: Any, wanted: int) -> bool:
    return bool(await check() >= wanted)
