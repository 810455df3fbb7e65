"""The Deezer source: each artist's ``nb_fan`` (stored as Deezer ``followers``) and ``nb_album`` by its Deezer id.

One ``GET /artist/{id}`` per artist through the shared, rate-limited Deezer client (50 requests per 5 s per IP,
``../shared/api-facts.md``). Ids come from the import's confident name match or from Find Deezer ids; an artist
without one is not this source's. An answer without a usable ``nb_fan`` is that artist's failure
(:data:`~artist_desktop.services.deezer.FANS_NOT_AVAILABLE`), never a zero.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date

from artist_desktop.domain import MetricType, Platform
from artist_desktop.services.deezer import FANS_NOT_AVAILABLE, DeezerClient
from artist_desktop.services.errors import NotFoundError, ServiceError
from artist_desktop.sources.base import ArtistFigures, Figure, Report, SourceArtist

NOT_FOUND = "Not found on Deezer"
#: Artists fetched at once; the client's gate (and its ``concurrency``) is the real limit.
DEFAULT_CONCURRENCY = 10


class DeezerSource:
    """Deezer fans (and albums) of artists with a Deezer id."""

    name = Platform.DEEZER
    label = "Deezer fans"
    metrics = (MetricType.FOLLOWERS, MetricType.ALBUMS)
    headline = MetricType.FOLLOWERS

    def __init__(self, client: DeezerClient, *, concurrency: int = DEFAULT_CONCURRENCY) -> None:
        self._client = client
        self._concurrency = max(1, concurrency)

    def skip_reason(self) -> str | None:
        return None  # keyless

    def serves(self, artist: SourceArtist) -> bool:
        return artist.platform_id is not None

    async def collect(self, artists: Sequence[SourceArtist], today: date, report: Report) -> None:
        """One ``/artist/{id}`` per artist, at most ``concurrency`` at once; reports as answers come."""
        gate = asyncio.Semaphore(self._concurrency)

        async def one(artist: SourceArtist) -> None:
            async with gate:
                outcome = await self._fetch(artist, today)
            await report(outcome)

        async with asyncio.TaskGroup() as group:
            for artist in artists:
                group.create_task(one(artist))

    async def _fetch(self, artist: SourceArtist, today: date) -> ArtistFigures:
        assert artist.platform_id is not None
        try:
            answer = await self._client.get_artist(artist.platform_id)
        except NotFoundError:
            return ArtistFigures.not_found(artist.artist_id, NOT_FOUND)
        except ServiceError as exc:
            return ArtistFigures.failed(artist.artist_id, str(exc))
        fans = answer.fans
        if fans is None:
            return ArtistFigures.failed(artist.artist_id, FANS_NOT_AVAILABLE)
        figures = [Figure(MetricType.FOLLOWERS, today, fans)]
        if answer.nb_album is not None and answer.nb_album >= 0:
            figures.append(Figure(MetricType.ALBUMS, today, answer.nb_album))
        return ArtistFigures.updated(artist.artist_id, figures)


__all__ = ["DEFAULT_CONCURRENCY", "NOT_FOUND", "DeezerSource"]
