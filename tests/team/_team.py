"""Helpers shared by the team-mode tests (each test module gets its own PostgreSQL database)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select

from artist_desktop.devtools.api_double import ApiDouble
from artist_desktop.store import jobs, open_database


async def enqueue(url: str, double: ApiDouble, count: int) -> list[str]:
    database = await open_database(url)
    try:
        artists = double.catalog.artists[:count]
        async with database.session() as session, session.begin():
            await jobs.enqueue_jobs(session, [(a.spotify_id, a.name) for a in artists])
        return [a.spotify_id for a in artists]
    finally:
        await database.dispose()


async def list_jobs(url: str) -> list[Any]:
    database = await open_database(url)
    try:
        async with database.session() as session:
            return list(await jobs.list_jobs(session))
    finally:
        await database.dispose()


async def count(url: str, table: Any) -> int:
    database = await open_database(url)
    try:
        async with database.session() as session:
            return int((await session.execute(select(func.count()).select_from(table))).scalar_one())
    finally:
        await database.dispose()


async def until(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)
