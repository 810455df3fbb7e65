"""SQL helpers the store's modules share: the dialect's upsert INSERT, bounded IN lists, row counts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from artist_desktop.store.models import Base

_T = TypeVar("_T")

#: Bound parameters per IN (...) list; well under SQLite's and asyncpg's limits.
CHUNK = 500


def chunks(values: Sequence[_T], size: int = CHUNK) -> Iterator[Sequence[_T]]:
    """``values`` in slices of at most ``size``, for IN lists SQL bounds."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def dialect(session: AsyncSession) -> str:
    """``"postgresql"`` or ``"sqlite"``: the database the session talks to."""
    return session.get_bind().dialect.name


def insert(session: AsyncSession, model: type[Base]) -> sqlite.Insert | postgresql.Insert:
    """The INSERT that supports ON CONFLICT on the session's database (SQLite or PostgreSQL)."""
    if dialect(session) == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def rowcount(result: Any) -> int:
    """How many rows an UPDATE or DELETE changed."""
    return cast(CursorResult[Any], result).rowcount
