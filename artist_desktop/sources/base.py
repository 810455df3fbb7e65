"""The one contract every metric source keeps: take many artists, resolve their ids, fetch, report each artist.

A source (Deezer, Wikipedia, Last.fm, ListenBrainz) is a small module with a class satisfying
:class:`MetricSource`. The refresh (:mod:`artist_desktop.sources.refresh`) reads the library, hands each source
the artists it can serve as :class:`SourceArtist` rows, stores every :class:`ArtistFigures` the source reports
(the figures as daily points, a newly resolved id, the artist's result row) and keeps one run row per source. A
source never touches the database: it only talks to its services' clients (which carry the quotas, retries and
breakers) and reports.

Outcomes per artist (:class:`FigureOutcome`): ``updated`` (figures came), ``not_found`` (the service does not
know this artist, or no id could be resolved with confidence: the reason says which), ``failed`` (a service
error for this artist: the reason says what). A source-wide problem that makes every request fail (a bad key, a
token now required) raises :class:`SourceFailed`: the refresh marks the artists not yet reported failed with
that reason and shows the reason on the source's row. A source that cannot run at all (no API key, no contact)
says so before anything is fetched through :meth:`MetricSource.skip_reason`: the run is ``skipped``, never
``failed``.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from artist_desktop.domain import MetricType, Platform


class FigureOutcome(enum.StrEnum):
    """One artist's outcome in one source's run (final: an artist is reported once per run)."""

    UPDATED = "updated"
    NOT_FOUND = "not_found"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class SourceArtist:
    """An artist as a source sees it.

    ``platform_id`` is the id this source keeps for the artist (Deezer id, Wikipedia title, Last.fm name), None
    until resolved; ``wikidata_id`` the Wikidata item (``Q2831``) once MusicBrainz's url-rels gave it;
    ``last_day`` the latest UTC day this source's :attr:`MetricSource.headline` figure is stored for (a source
    with a daily history fetches only the days after it).
    """

    artist_id: int
    name: str
    mbid: str | None = None
    platform_id: str | None = None
    wikidata_id: str | None = None
    last_day: date | None = None


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure of one UTC day (a total counted that day, or the views made that day)."""

    metric: MetricType
    day: date
    value: int


@dataclass(frozen=True, slots=True)
class ArtistFigures:
    """What a source reports for one artist.

    ``resolved_ids`` are ids learnt on the way (``{Platform.WIKIDATA: "Q2831", Platform.WIKIPEDIA: "Michael
    Jackson"}``) for the refresh to store; an id the user set by hand is never replaced by a resolved one.
    """

    artist_id: int
    outcome: FigureOutcome
    figures: tuple[Figure, ...] = ()
    reason: str | None = None
    resolved_ids: dict[Platform, str] = field(default_factory=dict)

    @classmethod
    def updated(
        cls, artist_id: int, figures: Sequence[Figure], resolved_ids: dict[Platform, str] | None = None
    ) -> ArtistFigures:
        return cls(artist_id, FigureOutcome.UPDATED, tuple(figures), None, dict(resolved_ids or {}))

    @classmethod
    def not_found(cls, artist_id: int, reason: str, resolved_ids: dict[Platform, str] | None = None) -> ArtistFigures:
        return cls(artist_id, FigureOutcome.NOT_FOUND, (), reason, dict(resolved_ids or {}))

    @classmethod
    def failed(cls, artist_id: int, reason: str) -> ArtistFigures:
        return cls(artist_id, FigureOutcome.FAILED, (), reason)


#: The callback a source reports each artist to; awaited, so storing keeps pace with fetching.
Report = Callable[[ArtistFigures], Awaitable[None]]


class SourceFailed(Exception):
    """Every request of this source would fail the same way (bad key, token required, blocked User-Agent):
    the message says what, in words for a person ("ListenBrainz now asks for a token: add one in Settings")."""


class MetricSource(Protocol):
    """One audience source.

    ``name`` is the platform the figures are stored under and the CLI's ``--source`` value; ``label`` what a
    person reads ("Wikipedia pageviews"); ``metrics`` every metric it stores; ``headline`` the one its results
    dialog shows and whose last stored day :attr:`SourceArtist.last_day` carries.
    """

    @property
    def name(self) -> Platform: ...

    @property
    def label(self) -> str: ...

    @property
    def metrics(self) -> tuple[MetricType, ...]: ...

    @property
    def headline(self) -> MetricType: ...

    def skip_reason(self) -> str | None:
        """Why this source cannot run with the current settings ("no API key"), or None when it can."""
        ...

    def serves(self, artist: SourceArtist) -> bool:
        """Whether this source can say anything about ``artist`` (an MBID, or its own id, is needed): artists
        it does not serve are not part of its run."""
        ...

    async def collect(self, artists: Sequence[SourceArtist], today: date, report: Report) -> None:
        """Fetch the figures of ``artists`` with the service's batching and quota, awaiting ``report`` once per
        artist (in any order) as results come. ``today`` is the run's UTC day (the day a total is stored under;
        a daily series is complete up to the day before).

        Raises :class:`SourceFailed` for a source-wide failure; cancellation propagates (what was reported
        stays stored).
        """
        ...


__all__ = [
    "ArtistFigures",
    "Figure",
    "FigureOutcome",
    "MetricSource",
    "Report",
    "SourceArtist",
    "SourceFailed",
]
