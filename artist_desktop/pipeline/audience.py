"""The audience figures an import collects for its new artist, batched across the artists in flight.

Import's ANALYTICS stage asks each import-time source (:func:`~artist_desktop.sources.registry.import_sources`)
for the artist's figures. A source that answers many artists in one request (ListenBrainz: 1,000 MBIDs per
``POST /1/popularity/artist``) is asked once for every artist that joined the batch while its gate was closed
(:class:`~artist_desktop.pipeline.coalesce.Batcher`), so a batch of 200 imports costs ListenBrainz one request.
Each artist waits at most :data:`IMPORT_WAIT` for a source: past it, or when the source fails, the import goes
on with a note in its details ("ListenBrainz: at the next refresh") and the next metrics refresh fills the
figure in. Sources that cost one request per artist at 1 request/s (Last.fm; Wikipedia, whose article is found
through MusicBrainz's url-rels) are left to the refresh: at import they would hold the batch to their pace.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from artist_desktop.domain import utcnow
from artist_desktop.pipeline.coalesce import Batcher, Loader, Pace, WaitCallback
from artist_desktop.services import ServiceClients
from artist_desktop.services.errors import ServiceError
from artist_desktop.services.http import RateGate
from artist_desktop.services.listenbrainz import MAX_MBIDS
from artist_desktop.sources.base import ArtistFigures, MetricSource, SourceArtist, SourceFailed
from artist_desktop.sources.listenbrainz import ListenBrainzSource

#: Seconds an artist's import waits for one source's figures before leaving them to the next refresh.
IMPORT_WAIT = 15.0


@dataclass(frozen=True, slots=True)
class ImportSource:
    """A source an import collects: the source, its client's gate (the batch's pace) and its batch size."""

    source: MetricSource
    gate: RateGate
    max_batch: int


@dataclass(frozen=True, slots=True)
class Collected:
    """One source's answer for one new artist: its figures (and ids), or the note to show instead."""

    source: MetricSource
    figures: ArtistFigures | None
    note: str | None


class AudienceLookups:
    """One batcher per import-time source; :meth:`collect` gives a new artist's figures from each."""

    def __init__(self, sources: Sequence[ImportSource], *, max_wait: float = IMPORT_WAIT) -> None:
        self._sources = [spec.source for spec in sources]
        self._max_wait = max_wait
        self._keys = itertools.count(-1, -1)  # artists have no id before STORE: a private key per lookup
        self._batchers = {
            spec.source.name: Batcher[SourceArtist, ArtistFigures](
                f"{spec.source.label} at import",
                self._loader(spec.source),
                Pace(spec.gate, max_wait),
                max_batch=spec.max_batch,
            )
            for spec in sources
        }

    @property
    def sources(self) -> list[MetricSource]:
        return list(self._sources)

    @staticmethod
    def _loader(source: MetricSource) -> Loader[SourceArtist, ArtistFigures]:
        async def load(artists: list[SourceArtist]) -> dict[SourceArtist, ArtistFigures | None]:
            by_key = {artist.artist_id: artist for artist in artists}
            found: dict[SourceArtist, ArtistFigures | None] = {}

            async def report(outcome: ArtistFigures) -> None:
                if outcome.artist_id in by_key:
                    found[by_key[outcome.artist_id]] = outcome

            await source.collect(artists, utcnow().date(), report)  # the UTC day, as every stored figure
            return found

        return load

    async def collect(
        self, name: str, mbid: str | None, today: date, on_wait: WaitCallback | None = None
    ) -> list[Collected]:
        """The new artist's figures from every source that serves it, each within the wait; a source's
        failure is a note, never an error."""
        del today  # the batch's day is the day it goes out (the loader's)
        outcomes = await asyncio.gather(
            *(self._one(source, name, mbid, on_wait) for source in self._sources if source.skip_reason() is None)
        )
        return [outcome for outcome in outcomes if outcome is not None]

    async def _one(
        self, source: MetricSource, name: str, mbid: str | None, on_wait: WaitCallback | None
    ) -> Collected | None:
        artist = SourceArtist(artist_id=next(self._keys), name=name, mbid=mbid)
        if not source.serves(artist):
            return None
        later = f"{source.name.label}: at the next refresh"
        try:
            async with asyncio.timeout(self._max_wait):
                figures = await self._batchers[source.name].get(artist, on_wait)
        except TimeoutError:
            return Collected(source, None, f"{later} (busy)")
        except (ServiceError, SourceFailed) as exc:
            return Collected(source, None, f"{later} ({exc})")
        if figures is None:
            return Collected(source, None, later)
        return Collected(source, figures, None)

    async def aclose(self) -> None:
        for batcher in self._batchers.values():
            await batcher.aclose()


def import_sources(clients: ServiceClients) -> list[ImportSource]:
    """The sources an import collects itself: those answering many artists per request (see the module)."""
    if clients.listenbrainz is None:
        return []
    client = clients.listenbrainz
    return [ImportSource(ListenBrainzSource(client), client.gate, MAX_MBIDS)]


__all__ = ["IMPORT_WAIT", "AudienceLookups", "Collected", "ImportSource", "import_sources"]
