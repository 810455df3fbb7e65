"""Two `refresh-deezer` runs against one PostgreSQL: one runs, the other says who holds the lock and exits 3."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable, Callable

import pytest

from artist_desktop.devtools.api_double import ApiDouble
from artist_desktop.store import open_database

pytestmark = pytest.mark.postgres


async def test_second_concurrent_refresh_names_the_holder_and_exits_3(
    team_env: dict[str, str], team_double: ApiDouble, add_library_artist: Callable[..., Awaitable[int]]
) -> None:
    database = await open_database(team_env["ARTIST_DESKTOP_DATABASE_URL"])
    try:
        for artist in team_double.catalog.artists[:60]:
            assert artist.deezer is not None
            await add_library_artist(database, artist.name, artist.deezer["id"])
    finally:
        await database.dispose()
    team_double.set_latency(0.5)  # the first run lasts a few seconds
    command = [sys.executable, "-m", "artist_desktop", "refresh-deezer", "--json"]
    first = await asyncio.create_subprocess_exec(*command, env=team_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert first.stderr is not None
    await asyncio.wait_for(first.stderr.readuntil(b"["), 30)  # its first progress line: it holds the lock
    second = await asyncio.create_subprocess_exec(
        *command, env=team_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    second_out, second_err = await asyncio.wait_for(second.communicate(), 60)
    first_out, first_err = await asyncio.wait_for(first.communicate(), 120)
    assert first.returncode == 0, first_err.decode()
    assert second.returncode == 3, second_err.decode()
    message = second_err.decode()
    assert "Another Deezer refresh is running" in message
    assert f"pid {first.pid}" in message, message
    assert second_out == b""
    assert b'"total": 60' in first_out
