"""Workers started at once on an empty database all come up: one migrates, the others wait and find nothing to do."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from artist_desktop.store import open_database
from artist_desktop.store.database import normalise_url

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3

#: Each worker process waits for the same moment, then opens (and migrates) the database.
WORKER = """
    import asyncio, sys, time
    from artist_desktop.store import open_database

    async def main() -> None:
        database = await open_database(sys.argv[1])
        await database.dispose()

    time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
    asyncio.run(main())
    print("up", flush=True)
"""


async def _empty(url: str) -> None:
    """PostgreSQL: the module's database without any table (earlier tests migrated it)."""
    if not url.startswith("postgresql"):
        return
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


@pytest.mark.parametrize("attempt", range(3))
async def test_three_workers_started_at_once_on_an_empty_database_all_come_up(database_url: str, attempt: int) -> None:
    await _empty(database_url)
    if database_url.startswith("postgresql"):
        assert not await _tables(database_url)
    else:
        assert not await asyncio.to_thread(Path(database_url.removeprefix("sqlite:///")).exists)
    start_at = time.time() + 3  # past every interpreter's start-up, so the migrations overlap
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            textwrap.dedent(WORKER),
            database_url,
            str(start_at),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        for _ in range(WORKERS)
    ]
    async with asyncio.timeout(60):
        results = [await worker.communicate() for worker in workers]
    failures = [err.decode() for worker, (_out, err) in zip(workers, results, strict=True) if worker.returncode != 0]
    assert not failures, failures[0]
    assert [out.decode().strip() for out, _err in results] == ["up"] * WORKERS
    assert {"alembic_version", "artists", "import_jobs"} <= await _tables(database_url)
    database = await open_database(database_url)  # and a later start finds nothing to do
    await database.dispose()
