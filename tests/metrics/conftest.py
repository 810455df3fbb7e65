"""Metrics fixtures: a migrated SQLite file per test, and helpers to seed artists with Deezer ids."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from artist_desktop.store import Database, open_database


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'metrics.sqlite3'}")
    try:
        yield db
    finally:
        await db.dispose()


AddArtist = Callable[..., Awaitable[int]]


@pytest.fixture
def add_artist(database: Database, add_library_artist: Callable[..., Awaitable[int]]) -> AddArtist:
    """``await add_artist(name, deezer_id=None)``: an artist in the library; returns its id."""

    async def add(name: str, deezer_id: str | int | None = None) -> int:
        return await add_library_artist(database, name, deezer_id)

    return add
