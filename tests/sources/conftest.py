"""Metrics fixtures: a migrated SQLite file per test, and helpers to seed artists with Deezer ids."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from artist_desktop.store import Database

AddArtist = Callable[..., Awaitable[int]]


@pytest.fixture
def add_artist(database: Database, add_library_artist: Callable[..., Awaitable[int]]) -> AddArtist:
    """``await add_artist(name, deezer_id=None)``: an artist in the library; returns its id."""

    async def add(name: str, deezer_id: str | int | None = None) -> int:
        return await add_library_artist(database, name, deezer_id)

    return add
