"""Metrics fixtures: a migrated SQLite file per test, and helpers to seed artists with Deezer ids."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from artist_desktop.domain import ArtistRecord, Platform, slugify
from artist_desktop.store import Database, open_database, repository


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'metrics.sqlite3'}")
    try:
        yield db
    finally:
        await db.dispose()


AddArtist = Callable[..., Awaitable[int]]


@pytest.fixture
def add_artist(database: Database) -> AddArtist:
    """``await add_artist(name, deezer_id=None)``: an artist in the library; returns its id."""

    async def add(name: str, deezer_id: str | int | None = None) -> int:
        async with database.session() as session:
            artist_id = await repository.upsert_artist(session, ArtistRecord(name=name, slug=slugify(name)))
            if deezer_id is not None:
                await repository.upsert_platform_id(session, artist_id, Platform.DEEZER, str(deezer_id))
            await session.commit()
        return artist_id

    return add
