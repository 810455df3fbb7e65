"""A reader never holds up a writer: the window's long reads and the import's short writes meet on SQLite."""

from __future__ import annotations

import asyncio
import time

from artist_desktop.domain import ArtistRecord
from artist_desktop.store import Database, repository


async def test_a_long_read_does_not_hold_the_write_lock(database: Database) -> None:
    async with database.session() as session, session.begin():
        await repository.upsert_artist(session, ArtistRecord(name="Queen", slug="queen"))

    async def write() -> float:
        started = time.monotonic()
        async with database.session() as session, session.begin():
            await repository.upsert_artist(session, ArtistRecord(name="ABBA", slug="abba"))
        return time.monotonic() - started

    async with database.read_session() as reader:
        assert await repository.artist_names(reader, [1]) == {1: "Queen"}  # its transaction is open
        waited = await asyncio.wait_for(write(), timeout=5)  # a write lock held here would make this wait 15 s
    assert waited < 2.0
