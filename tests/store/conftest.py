"""Store fixtures: a migrated database on a SQLite file, and on the local PostgreSQL when configured.

Set ARTIST_DESKTOP_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1:5432/test) to run every
store test on PostgreSQL too: each test module gets its own freshly created database there (dropped
afterwards) and each test starts from empty tables.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from artist_desktop.store import Base, Database, normalise_url, open_database

POSTGRES_ENV = "ARTIST_DESKTOP_TEST_POSTGRES_URL"
_T = TypeVar("_T")


def _backends() -> list[object]:
    backends: list[object] = ["sqlite"]
    if os.environ.get(POSTGRES_ENV):
        backends.append(pytest.param("postgresql", marks=pytest.mark.postgres))
    return backends


def _run_in_thread(make_coro: Callable[[], Awaitable[_T]]) -> _T:
    """Run admin work on its own event loop, away from the loop pytest-asyncio gives the test."""

    async def runner() -> _T:
        return await make_coro()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, runner()).result()


@pytest.fixture(scope="module")
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A new, empty PostgreSQL database for this test module (dropped at the end)."""
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        raise RuntimeError(f"{POSTGRES_ENV} is not set")  # only requested when it is
    module = re.sub(r"[^a-z0-9]+", "_", request.module.__name__.rsplit(".", 1)[-1].lower())
    name = f"ad_{module}_{uuid.uuid4().hex[:8]}"[:63]

    async def admin(sql: str) -> None:
        # CREATE/DROP DATABASE cannot run inside a transaction.
        engine = create_async_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(sql))
        finally:
            await engine.dispose()

    _run_in_thread(lambda: admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _run_in_thread(lambda: admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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
