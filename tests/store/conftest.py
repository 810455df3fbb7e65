"""Store fixtures: a migrated database on a SQLite file, and on the local PostgreSQL when configured.

Set ARTIST_DESKTOP_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1:5432/test) to run every
store test on PostgreSQL too: each test module gets its own freshly created database there (dropped
afterwards) and each test starts from empty tables.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import text

from artist_desktop.store import Base, Database, open_database

POSTGRES_ENV = "ARTIST_DESKTOP_TEST_POSTGRES_URL"
_T = TypeVar("_T")


def _backends() -> list[object]:
    backends: list[object] = ["sqlite"]
    if os.environ.get(POSTGRES_ENV):
        backends.append(pytest.param("postgresql", marks=pytest.mark.postgres))
    return backends


@pytest.fixture(params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database: a SQLite file under tmp_path, or this module's PostgreSQL one."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'db' / 'artist-desktop.sqlite3'}"


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A migrated database with empty tables."""
    db = await open_database(database_url)
    if db.dialect == "postgresql":
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        async with db.engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    try:
        yield db
    finally:
        await db.dispose()
