"""Run locks: at most one holder of a named job (such as the Deezer refresh) per database at a time.

PostgreSQL: a session-level advisory lock held on a dedicated connection, whose `application_name`
says who holds it (another machine asking is told). SQLite: an exclusive `flock` on a file beside the
database file, with the holder written in it. Both are released when the holder ends, even by a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text

from artist_desktop.store.database import Database

_NAMESPACE = 0x4144  # "AD": the first key of the two-key advisory lock


class LockHeld(RuntimeError):
    """Someone else holds the lock; `holder` says who (as far as the database knows)."""

    def __init__(self, name: str, holder: str) -> None:
        super().__init__(f"{name} is already running ({holder})")
        self.name = name
        self.holder = holder


def describe_holder(what: str) -> str:
    return f"{what} on {socket.gethostname()} pid {os.getpid()}"


def _key(name: str) -> int:
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


@contextlib.asynccontextmanager
async def run_lock(database: Database, name: str, holder: str) -> AsyncIterator[None]:
    """Hold the lock `name` for the block, or raise LockHeld at once."""
    if database.dialect == "postgresql":
        async with _postgres_lock(database, name, holder):
            yield
    else:
        async with _file_lock(database, name, holder):
            yield


@contextlib.asynccontextmanager
async def _postgres_lock(database: Database, name: str, holder: str) -> AsyncIterator[None]:
    key = _key(name)
    async with database.engine.connect() as connection:
        await connection.execute(text("SELECT set_config('application_name', :holder, false)"), {"holder": holder[:63]})
        got = (
            await connection.execute(text("SELECT pg_try_advisory_lock(:ns, :key)"), {"ns": _NAMESPACE, "key": key})
        ).scalar_one()
        await connection.commit()
        if not got:
            row = (
                await connection.execute(
                    text(
                        "SELECT a.application_name, host(a.client_addr) FROM pg_locks l "
                        "JOIN pg_stat_activity a ON a.pid = l.pid "
                        "WHERE l.locktype = 'advisory' AND l.classid = :ns AND l.objid = :key "
                        "AND l.objsubid = 2 AND l.granted"
                    ),
                    {"ns": _NAMESPACE, "key": key},
                )
            ).first()
            who = (row[0] or "another client") + (f" from {row[1]}" if row and row[1] else "") if row else "unknown"
            raise LockHeld(name, who)
        try:
            yield
        finally:
            await connection.execute(text("SELECT pg_advisory_unlock(:ns, :key)"), {"ns": _NAMESPACE, "key": key})
            await connection.commit()


@contextlib.asynccontextmanager
async def _file_lock(database: Database, name: str, holder: str) -> AsyncIterator[None]:
    db_file = database.engine.url.database
    directory = Path(db_file).parent if db_file and db_file != ":memory:" else Path.cwd()
    path = directory / f".{name}.lock"
    try:
        import fcntl
    except ImportError:  # Windows: single-user there; the lock is a team (PostgreSQL) concern
        yield
        return
    handle = await asyncio.to_thread(open, path, "a+")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise LockHeld(name, handle.read().strip() or "another process") from None
        handle.seek(0)
        handle.truncate()
        handle.write(holder)
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()
