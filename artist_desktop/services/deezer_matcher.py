"""Finds an artist's Deezer id by name only when the match is sure, and otherwise says why there is none.

Used by the import pipeline (METADATA) and by Metrics -> Find Deezer ids (:func:`find_missing_deezer_ids`, which
stores the ids it finds through the store).

The rule (issue 16, "Identity": a name-only match is a guess). Deezer's search is asked for the name; the
*candidates* are the artists it returns whose name has the same key
(:func:`~artist_desktop.domain.normalise_name`: case, accents, punctuation and spacing ignored; a name made of
symbols only, ``!!!``, compared as written). Then (:class:`Confidence`):

- one candidate: UNIQUE, the match;
- several: AMBIGUOUS, no id and the warning "2 Deezer artists named Nirvana: set one by hand", unless the
  tie-breaker singles one out (DOMINANT): the Spotify artist's follower count is known, one candidate has at
  least :data:`DOMINANCE` (100) times the fans of every other, and its fans are within :data:`PLAUSIBLE` (30)
  times those followers either way. A famous artist is the famous one on every platform: 11 M Spotify followers
  and a 9.8 M-fan Deezer "Nirvana" beside a 2 K-fan one settle it. A small artist is never matched this way:
  small namesakes look alike, and the one Deezer lists may not be ours at all (the 9 K-follower "Nirvana"
  stays without an id). Deezer fans and Spotify followers of one artist differ by up to about 10x (Deezer is
  strong in France, weak in the US); 30x leaves room for that and none for 1,000x. Without followers (a
  Development Mode app never gets them) there is no tie-breaker.
- none: NONE, no id and the warning "no Deezer match for !!!", so a refresh's coverage gap is visible.

A corroborating link would settle namesakes for good, e.g. MusicBrainz's Deezer url relation; but the import's
MusicBrainz lookups (the Spotify URL's relation, then an ``arid:`` search) carry no url relations
(:class:`~artist_desktop.services.musicbrainz.MusicBrainzArtist` has none), so the name rule above is all there is.
An id the library already holds (matched before, or set by hand with "Set Deezer id…") is not looked for again:
the import keeps it (``pipeline/stages.py``). An id another artist already holds is never given to a second one.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from artist_desktop.domain import MetricType, Platform, normalise_name
from artist_desktop.services.errors import ServiceError
from artist_desktop.store import repository

if TYPE_CHECKING:
    from artist_desktop.services.deezer import DeezerArtist, DeezerClient
    from artist_desktop.store.database import Database

log = logging.getLogger(__name__)

#: How many Deezer searches run at once; the client's rate gate keeps the quota whatever this is.
MATCH_CONCURRENCY = 10
#: The tie-breaker's candidate must have at least this many times the fans of every other namesake.
DOMINANCE = 100
#: ... and its fans must be within this factor of the Spotify artist's followers, either way.
PLAUSIBLE = 30


class Confidence(enum.StrEnum):
    """How sure a Deezer match is (the rule is in the module docstring). UNIQUE and DOMINANT give an id;
    AMBIGUOUS and NONE give none, and a warning (:attr:`DeezerMatch.warning`)."""

    UNIQUE = "unique"
    DOMINANT = "dominant"
    AMBIGUOUS = "ambiguous"
    NONE = "none"

    @property
    def is_sure(self) -> bool:
        return self in (Confidence.UNIQUE, Confidence.DOMINANT)


@dataclass(frozen=True, slots=True)
class DeezerMatch:
    """What a name search decided: the artist when sure, else None and a :attr:`warning` saying why.

    ``candidates`` are the Deezer artists with the name's key, in Deezer's order."""

    name: str
    confidence: Confidence
    candidates: tuple[DeezerArtist, ...] = ()
    artist: DeezerArtist | None = None

    @property
    def warning(self) -> str | None:
        """ "2 Deezer artists named Nirvana: set one by hand", "no Deezer match for !!!", or None when sure."""
        if self.confidence is Confidence.AMBIGUOUS:
            return f"{len(self.candidates)} Deezer artists named {self.name}: set one by hand"
        if self.confidence is Confidence.NONE:
            return f"no Deezer match for {self.name}"
        return None


def _plausible(fans: int, followers: int) -> bool:
    return fans * PLAUSIBLE >= followers and fans <= followers * PLAUSIBLE


def choose(name: str, candidates: Sequence[DeezerArtist], followers: int | None = None) -> DeezerMatch:
    """The sure match for ``name`` among Deezer's search results, or why there is none (module docstring).

    ``followers`` is the Spotify artist's follower count when known: only the tie-breaker uses it.
    """
    wanted = normalise_name(name)
    exact = tuple(c for c in candidates if wanted and normalise_name(c.name) == wanted)
    if not exact:
        return DeezerMatch(name, Confidence.NONE)
    if len(exact) == 1:
        return DeezerMatch(name, Confidence.UNIQUE, exact, exact[0])
    if followers is not None and followers > 0:
        fans = [c.fans or 0 for c in exact]
        top = max(range(len(exact)), key=fans.__getitem__)
        others = fans[:top] + fans[top + 1 :]
        if all(fans[top] >= DOMINANCE * max(other, 1) for other in others) and _plausible(fans[top], followers):
            return DeezerMatch(name, Confidence.DOMINANT, exact, exact[top])
    return DeezerMatch(name, Confidence.AMBIGUOUS, exact)


async def match_deezer_artist(deezer: DeezerClient, name: str, followers: int | None = None) -> DeezerMatch:
    """Search Deezer for ``name`` and decide (:func:`choose`); a blank name is NONE without a request.

    Service errors propagate: the caller decides whether a missing Deezer id is a warning or a failure.
    """
    if not normalise_name(name):
        return DeezerMatch(name, Confidence.NONE)
    return choose(name, await deezer.search_artists(name), followers)


@dataclass(frozen=True, slots=True)
class Match:
    """One artist given a Deezer id, for the window to show (and undo)."""

    artist_id: int
    name: str
    deezer_id: str
    deezer_name: str
    fans: int | None


@dataclass(frozen=True, slots=True)
class Unmatched:
    """An artist Find Deezer ids left without an id, and the sentence saying why."""

    artist_id: int
    name: str
    reason: str


class MatchReport(list[Match]):
    """What Find Deezer ids did: the matches, in the artists' order (it is their list), and :attr:`unmatched`,
    every artist left without an id with its reason ("2 Deezer artists named Nirvana: set one by hand",
    "no Deezer match for !!!", an id another artist holds, a failed search), in the artists' order too."""

    def __init__(self, matches: Iterable[Match] = (), unmatched: Iterable[Unmatched] = ()) -> None:
        super().__init__(matches)
        self.unmatched: list[Unmatched] = list(unmatched)


async def _spotify_followers(database: Database, artist_id: int) -> int | None:
    async with database.session() as session:
        value = await repository.latest_metric(session, artist_id, Platform.SPOTIFY, MetricType.FOLLOWERS)
    return int(value) if value is not None else None


async def find_missing_deezer_ids(
    database: Database,
    deezer: DeezerClient,
    progress: Callable[[int, int, str], None] | None = None,
    *,
    concurrency: int = MATCH_CONCURRENCY,
) -> MatchReport:
    """Give every artist without a Deezer id the one it surely matches (the module's rule, with the artist's
    latest Spotify follower count for the tie-breaker); returns the matches and the artists left without one.

    An ambiguous name, no match, a failed search or an id another artist already holds leaves the artist without
    an id, reported in :attr:`MatchReport.unmatched`. ``progress(done, total, name)`` is called after each artist.
    """
    async with database.session() as session:
        artists = await repository.artists_without_platform_id(session, Platform.DEEZER)
    total = len(artists)
    matches: list[Match | None] = [None] * total
    unmatched: list[Unmatched | None] = [None] * total
    gate = asyncio.Semaphore(max(1, concurrency))
    done = 0

    async def store(artist_id: int, name: str, found: DeezerArtist) -> str | None:
        """Record the id; the reason it was not, or None."""
        deezer_id = str(found.id)
        try:
            async with database.session() as session:
                await repository.upsert_platform_id(session, artist_id, Platform.DEEZER, deezer_id)
                await session.commit()
        except repository.PlatformIdConflict as conflict:
            async with database.session() as session:
                owner = (await repository.artist_names(session, [conflict.owner_id])).get(conflict.owner_id)
            return f"Deezer id {deezer_id} already belongs to {owner or 'another artist'} in the library"
        except IntegrityError:
            return f"Deezer id {deezer_id} already belongs to another artist in the library"
        except SQLAlchemyError as exc:
            log.warning("Could not store the Deezer id of %r: %s", name, exc)
            return f"could not store Deezer id {deezer_id}: {exc}"
        return None

    async def match_one(index: int, artist_id: int, name: str) -> None:
        nonlocal done
        reason: str | None = None
        try:
            async with gate:
                candidates = await deezer.search_artists(name) if normalise_name(name) else []
            match = choose(name, candidates)
            if match.confidence is Confidence.AMBIGUOUS:  # the tie-breaker needs the followers: read them now
                match = choose(name, candidates, await _spotify_followers(database, artist_id))
            reason = match.warning
            if match.artist is not None:
                reason = await store(artist_id, name, match.artist)
                if reason is None:
                    matches[index] = Match(artist_id, name, str(match.artist.id), match.artist.name, match.artist.fans)
        except ServiceError as exc:
            log.warning("Deezer search for %r failed: %s", name, exc)
            reason = f"Deezer search failed: {exc}"
        finally:
            done += 1
            if progress is not None:
                progress(done, total, name)
        if reason is not None:
            log.info("No Deezer id for %r: %s", name, reason)
            unmatched[index] = Unmatched(artist_id, name, reason)

    async with asyncio.TaskGroup() as group:
        for index, (artist_id, name) in enumerate(artists):
            group.create_task(match_one(index, artist_id, name))
    return MatchReport(
        (match for match in matches if match is not None), (miss for miss in unmatched if miss is not None)
    )


async def undo_match(database: Database, artist_id: int) -> bool:
    """Forget the artist's Deezer id (an analyst rejected the match); False when it had none."""
    async with database.session() as session:
        deleted = await repository.delete_platform_id(session, artist_id, Platform.DEEZER)
        await session.commit()
    return bool(deleted)


__all__ = [
    "DOMINANCE",
    "PLAUSIBLE",
    "Confidence",
    "DeezerMatch",
    "Match",
    "MatchReport",
    "Unmatched",
    "choose",
    "find_missing_deezer_ids",
    "match_deezer_artist",
    "undo_match",
]
