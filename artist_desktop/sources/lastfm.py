"""The Last.fm source: each artist's all-time listeners and playcount from ``artist.getInfo``.

Resolution, per artist (``../shared/api-facts.md``, "Last.fm": lookup by MBID is unreliable):

1. a stored Last.fm name (resolved earlier, or set by hand): looked up by that name as it is (no autocorrect);
2. else the MBID; when Last.fm does not know it, the MusicBrainz name with ``autocorrect=1``.

A name lookup (1 or 2) is accepted only when the answer's MBID is empty or equals the artist's: Last.fm keeps one
page per name, so "Air" may be another band called Air. A rejected answer is ``not_found`` with a reason naming
the other artist. The name Last.fm answers with is reported as the artist's Last.fm id.

Errors: Last.fm's "not found" (6) is ``not_found``; an invalid (10) or suspended (26) key makes every request
fail, so it raises :class:`~artist_desktop.sources.base.SourceFailed`; anything else (rate limit or outage past
the client's retries, a malformed answer) is that artist's ``failed`` with the client's words. The 1 request/s
pace is the client's gate; a few artists are in flight at once so a slow answer never idles the gate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from datetime import date

from artist_desktop.domain import MetricType, Platform
from artist_desktop.services.errors import AuthenticationError, MissingCredentialsError, NotFoundError, ServiceError
from artist_desktop.services.lastfm import LastfmArtist, LastfmClient
from artist_desktop.sources.base import ArtistFigures, Figure, Report, SourceArtist, SourceFailed

#: What the refresh shows when the key is rejected (invalid or suspended).
KEY_REJECTED = "Last.fm rejects the API key: check it in Settings"
#: Artists looked up at once: the gate keeps the pace, this only keeps it busy.
DEFAULT_CONCURRENCY = 4


class _KeyRejected(Exception):
    """Internal: a worker met a rejected key; the others stop."""


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    found: list[BaseException] = []
    for error in group.exceptions:
        found.extend(_leaves(error) if isinstance(error, BaseExceptionGroup) else [error])
    return found


def _same_mbid(a: str | None, b: str | None) -> bool:
    return (a or "").strip().lower() == (b or "").strip().lower()


class LastfmSource:
    """Last.fm listeners and playcount (:class:`~artist_desktop.sources.base.MetricSource`)."""

    name = Platform.LASTFM
    label = "Last.fm listeners"
    metrics = (MetricType.LISTENERS, MetricType.PLAYCOUNT)
    headline = MetricType.LISTENERS

    def __init__(self, client: LastfmClient, *, concurrency: int = DEFAULT_CONCURRENCY) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1 (got {concurrency})")
        self._client = client
        self._concurrency = concurrency

    def skip_reason(self) -> str | None:
        """The reason to skip: "no API key" while the client has none (Settings, or ``LASTFM_API_KEY``)."""
        return None if self._client.api_key.strip() else "no API key"

    def serves(self, artist: SourceArtist) -> bool:
        """An MBID or a stored Last.fm name is needed (a bare name is too ambiguous to trust)."""
        return bool((artist.mbid or "").strip() or (artist.platform_id or "").strip())

    async def collect(self, artists: Sequence[SourceArtist], today: date, report: Report) -> None:
        """Look every artist up (at most ``concurrency`` at once, at the client's pace) and report each as it
        comes. Raises :class:`SourceFailed` with :data:`KEY_REJECTED` when Last.fm rejects the key (the artists
        in flight then are not reported), or "no API key" when there is none."""
        pending: Iterator[SourceArtist] = iter(artists)
        rejected: list[AuthenticationError] = []

        async def worker() -> None:
            for artist in pending:  # one iterator shared by the workers: each artist is taken once
                try:
                    figures = await self._one(artist, today)
                except AuthenticationError as exc:
                    rejected.append(exc)
                    raise _KeyRejected from exc
                await report(figures)

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self._concurrency, len(artists))):
                    group.create_task(worker())
        except BaseExceptionGroup as caught:
            others = caught.subgroup(lambda e: not isinstance(e, _KeyRejected | BaseExceptionGroup))
            if others is None:
                error = rejected[0]
                if isinstance(error, MissingCredentialsError):
                    raise SourceFailed("Last.fm has no API key: add one in Settings") from error
                raise SourceFailed(KEY_REJECTED) from error
            # A report that raised (the store failing): its error as itself, as a caller expects, not a group
            # (workers meeting the same failure at once raise it several times; the first one stands for all).
            raise _leaves(others)[0] from None

    async def _one(self, artist: SourceArtist, today: date) -> ArtistFigures:
        """One artist's outcome; an :class:`AuthenticationError` propagates (the key is the source's problem)."""
        try:
            found = await self._resolve(artist)
        except AuthenticationError:
            raise
        except NotFoundError:
            return ArtistFigures.not_found(artist.artist_id, self._nothing_found(artist))
        except ServiceError as exc:
            return ArtistFigures.failed(artist.artist_id, str(exc))
        if isinstance(found, str):
            return ArtistFigures.not_found(artist.artist_id, found)
        figures = [
            Figure(MetricType.LISTENERS, today, found.listeners),
            Figure(MetricType.PLAYCOUNT, today, found.playcount),
        ]
        return ArtistFigures.updated(artist.artist_id, figures, {Platform.LASTFM: found.name})

    async def _resolve(self, artist: SourceArtist) -> LastfmArtist | str:
        """Last.fm's artist, or the reason an answer was rejected (raises NotFoundError when nothing matched)."""
        stored = (artist.platform_id or "").strip()
        if stored:  # accepted once (its MBID matched or was empty) or set by hand in the Library: trusted
            return await self._client.artist_info(name=stored, autocorrect=False)
        mbid = (artist.mbid or "").strip()
        if not mbid:
            raise NotFoundError(self._client.service, "no MBID or Last.fm name")
        try:
            return await self._client.artist_info(mbid=mbid)
        except NotFoundError:
            pass
        return self._checked(artist, await self._client.artist_info(name=artist.name, autocorrect=True))

    @staticmethod
    def _checked(artist: SourceArtist, found: LastfmArtist) -> LastfmArtist | str:
        """``found`` when its MBID is empty or the artist's, else why it is someone else."""
        if not artist.mbid or found.mbid is None or _same_mbid(found.mbid, artist.mbid):
            return found
        return (
            f"Last.fm's {found.name!r} is another artist of that name (its MusicBrainz id differs): if Last.fm has "
            "this one under another name, set it by hand (Library: Set Last.fm name)"
        )

    @staticmethod
    def _nothing_found(artist: SourceArtist) -> str:
        if (artist.platform_id or "").strip():
            return f"Last.fm has no artist named {artist.platform_id!r}"
        if not (artist.mbid or "").strip():
            return "no MBID or Last.fm name"
        return f"Last.fm knows neither this MBID nor the name {artist.name!r}"


__all__ = ["DEFAULT_CONCURRENCY", "KEY_REJECTED", "LastfmSource"]
