"""Issue 15, item 7: a full disk under a batch. While the disk is full every write SQLite attempts fails with its own
error (``database or disk is full``: the WAL cannot grow); the batch waits for room within its patience and goes on
once there is room, nothing lost or done twice; past its patience it stops with every job resumable."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from artist_desktop.devtools._catalog import CatalogArtist
from artist_desktop.devtools.api_double import ApiDouble
from artist_desktop.domain import JobStatus
from artist_desktop.pipeline.runner import DatabaseUnavailable
from artist_desktop.runtime import Runtime


@contextlib.asynccontextmanager
async def full_disk(runtime: Runtime) -> AsyncIterator[dict[str, bool]]:
    """While ``state["full"]``, every statement that writes fails as SQLite fails it on a full disk (the driver's
    ``sqlite3.OperationalError`` as SQLAlchemy wraps it, raised as the statement goes out); reads go on."""
    state = {"full": True}
    engine = runtime.database.engine.sync_engine

    def before(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        if state["full"] and statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            raise OperationalError(statement, None, sqlite3.OperationalError("database or disk is full"))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield state
    finally:
        event.remove(engine, "before_cursor_execute", before)


async def test_a_full_disk_is_waited_out_and_the_batch_completes_once_there_is_room(
    services: Runtime, api_double: ApiDouble, catalog_artists: list[CatalogArtist]
) -> None:
    artists = catalog_artists[:6]
    await services.runner.enqueue([(a.spotify_id, a.name) for a in artists])
    async with full_disk(services) as disk:
        run = asyncio.create_task(services.runner.run_until_idle())
        await asyncio.sleep(3)
        assert not run.done()
        requests_while_full = api_double.request_count("spotify")
        await asyncio.sleep(2)
        # Waiting for room is not importing again and again: no artist is fetched twice meanwhile.
        assert api_double.request_count("spotify") - requests_while_full <= len(artists)
        disk["full"] = False
        await asyncio.wait_for(run, 60)
    outcomes = await services.runner.outcomes()
    assert {o.status for o in outcomes} == {JobStatus.COMPLETE}
    assert len(outcomes) == len(artists)


async def test_past_its_patience_a_batch_on_a_full_disk_stops_and_every_job_is_resumable(
    services: Runtime, catalog_artists: list[CatalogArtist]
) -> None:
    artists = catalog_artists[:3]
    services.runner.patience = 3.0
    await services.runner.enqueue([(a.spotify_id, a.name) for a in artists])
    async with full_disk(services):
        with pytest.raises(DatabaseUnavailable, match="disk is full"):
            await asyncio.wait_for(services.runner.run_until_idle(), 60)
    outcomes = await services.runner.outcomes()
    assert {o.status for o in outcomes} <= {JobStatus.QUEUED}
    services.runner.patience = 60.0
    await asyncio.wait_for(services.runner.run_until_idle(), 60)
    assert {o.status for o in await services.runner.outcomes()} == {JobStatus.COMPLETE}
