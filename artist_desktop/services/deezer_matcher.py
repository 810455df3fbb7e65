"""Finds an artist's Deezer id by name: an exact normalised-name match, ties broken by the most fans.

Used by the import pipeline (METADATA) and by Metrics -> Find Deezer ids; it stores ids through the store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from artist_desktop.domain import Platform, normalise_name
from artist_desktop.services.errors import ServiceError
from artist_desktop.store import repository

if TYPE_CHECKING:
    from artist_desktop.services.deezer import DeezerArtist, DeezerClient
    from artist_desktop.store.database import Database

log = logging.getLogger(__name__)

#: How many Deezer searches run at once; the client's rate gate keeps the quota whatever this is.
MATCH_CONCURRENCY = 10


@dataclass(frozen=True, slots=True)
class Match:
    """One artist given a Deezer id, for the window to show (and undo)."""

    artist_id: int
    name: str
    deezer_id: str
    deezer_name: str
    fans: int | None


def best_match(name: str, candidates: Sequence[DeezerArtist]) -> DeezerArtist | None:
    """The candidate whose normalised name equals ``name``'s; several: the one with the most fans.

    Equal fans keep Deezer's own order (its relevance ranking). No exact match: None, never a guess.
    """
    wanted = normalise_name(name)
    if not wanted:
        return None
    exact = [candidate for candidate in candidates if normalise_name(candidate.name) == wanted]
    if not exact:
        return None
    return max(exact, key=lambda candidate: candidate.fans or -1)


async def find_deezer_id(deezer: DeezerClient, name: str) -> DeezerArtist | None:
    """Search Deezer for ``name`` and return the best exact match (the pipeline's METADATA stage uses this).

    Service errors propagate: the caller decides whether a missing Deezer id is a warning or a failure.
    """
    if not normalise_name(name):
        return None
    candidates = await deezer.search_artists(name)
    return best_match(name, candidates)


async def find_missing_deezer_ids(
    database: Database,
    deezer: DeezerClient,
    progress: Callable[[int, int, str], None] | None = None,
    *,
    concurrency: int = MATCH_CONCURRENCY,
) -> list[Match]:
    """Give every artist without a Deezer id the one its name matches; returns the matches, artists' order.

    An artist with no exact match, a failed search, or a Deezer id another artist already holds is
    left without one (logged). ``progress(done, total, name)`` is called after each artist.
    """
    async with database.session() as session:
        artists = await repository.artists_without_platform_id(session, Platform.DEEZER)
    total = len(artists)
    matches: list[Match | None] = [None] * total
    gate = asyncio.Semaphore(max(1, concurrency))
    done = 0

    async def match_one(index: int, artist_id: int, name: str) -> None:
        nonlocal done
        try:
            async with gate:
                found = await find_deezer_id(deezer, name)
            if found is not None:
                deezer_id = str(found.id)
                try:
                    async with database.session() as session:
                        await repository.upsert_platform_id(session, artist_id, Platform.DEEZER, deezer_id)
                        await session.commit()
                except (repository.PlatformIdConflict, IntegrityError):
                    log.warning("Deezer id %s for %r already belongs to another artist", deezer_id, name)
                except SQLAlchemyError as exc:
                    log.warning("Could not store the Deezer id of %r: %s", name, exc)
                else:
                    matches[index] = Match(artist_id, name, deezer_id, found.name, found.fans)
            else:
                log.info("No exact Deezer match for %r", name)
        except ServiceError as exc:
            log.warning("Deezer search for %r failed: %s", name, exc)
        finally:
            done += 1
            if progress is not None:
                progress(done, total, name)

    async with asyncio.TaskGroup() as group:
        for index, (artist_id, name) in enumerate(artists):
            group.create_task(match_one(index, artist_id, name))
    return [match for match in matches if match is not None]


async def undo_match(database: Database, artist_id: int) -> bool:
    """Forget the artist's Deezer id (an analyst rejected the match); False when it had none."""
    async with database.session() as session:
        deleted = await repository.delete_platform_id(session, artist_id, Platform.DEEZER)
        await session.commit()
    return bool(deleted)


__all__ = ["Match", "best_match", "find_deezer_id", "find_missing_deezer_ids", "undo_match"]
