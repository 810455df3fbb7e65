"""The ListenBrainz source: every artist with an MBID gets its listeners and listens, 1,000 artists a request.

ListenBrainz keys its figures by the MusicBrainz id (``../shared/api-facts.md``, "ListenBrainz"): nothing to
resolve, no id of its own to store. It needs no key (a token is optional; :meth:`ListenBrainzSource.skip_reason`
is always None). Per artist, in :meth:`ListenBrainzSource.collect`:

- ``updated``: two totals stored under the run's day, ``listeners`` (``total_user_count``) and ``listens``
  (``total_listen_count``);
- ``not_found`` (:data:`NO_LISTENS`): ListenBrainz answered ``null`` counts;
- ``failed``: "Not a MusicBrainz id: <mbid>" for a malformed MBID (never sent: one would make ListenBrainz refuse
  the whole request), or the request's error for every artist of a chunk whose request failed.

A 401 is source-wide: :class:`~artist_desktop.sources.base.SourceFailed` with the client's words
(:data:`~artist_desktop.services.listenbrainz.TOKEN_REQUIRED` when no token is set).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from artist_desktop.domain import MetricType, Platform
from artist_desktop.services.errors import AuthenticationError, ServiceError
from artist_desktop.services.listenbrainz import MAX_MBIDS, ListenBrainzClient, parse_mbid
from artist_desktop.sources.base import ArtistFigures, Figure, MetricSource, Report, SourceArtist, SourceFailed

#: The reason given for an artist ListenBrainz answered ``null`` counts for.
NO_LISTENS = "ListenBrainz has no listens for this artist"


class ListenBrainzSource:
    """ListenBrainz listeners and listens (a :class:`~artist_desktop.sources.base.MetricSource`)."""

    name: Platform = Platform.LISTENBRAINZ
    label: str = "ListenBrainz listeners"
    metrics: tuple[MetricType, ...] = (MetricType.LISTENERS, MetricType.LISTENS)
    headline: MetricType = MetricType.LISTENERS

    def __init__(self, client: ListenBrainzClient) -> None:
        self.client = client

    def skip_reason(self) -> str | None:
        """None: ListenBrainz is keyless (a token is only sent when the user set one)."""
        return None

    def serves(self, artist: SourceArtist) -> bool:
        """Artists with an MBID (a malformed one is served, and reported failed with the reason)."""
        return bool(artist.mbid and artist.mbid.strip())

    async def collect(self, artists: Sequence[SourceArtist], today: date, report: Report) -> None:
        """One request per :data:`~artist_desktop.services.listenbrainz.MAX_MBIDS` distinct MBIDs, one after the
        other; each artist reported once (see the module docstring). Raises :class:`SourceFailed` on a 401."""
        by_mbid: dict[str, list[int]] = {}
        for artist in artists:
            mbid = parse_mbid(artist.mbid or "")
            if mbid is None:
                await report(ArtistFigures.failed(artist.artist_id, f"Not a MusicBrainz id: {artist.mbid or ''}"))
            else:
                by_mbid.setdefault(mbid, []).append(artist.artist_id)
        mbids = list(by_mbid)
        for start in range(0, len(mbids), MAX_MBIDS):
            chunk = mbids[start : start + MAX_MBIDS]
            try:
                found = await self.client.artist_popularity(chunk)
            except AuthenticationError as exc:  # 401 (token required or refused): every request would fail
                raise SourceFailed(exc.message) from exc
            except ServiceError as exc:
                for mbid in chunk:
                    for artist_id in by_mbid[mbid]:
                        await report(ArtistFigures.failed(artist_id, exc.message))
                continue
            for mbid in chunk:
                popularity = found.get(mbid)
                for artist_id in by_mbid[mbid]:
                    if popularity is None:
                        await report(ArtistFigures.not_found(artist_id, NO_LISTENS))
                    else:
                        figures = [
                            Figure(MetricType.LISTENERS, today, popularity.listeners),
                            Figure(MetricType.LISTENS, today, popularity.listens),
                        ]
                        await report(ArtistFigures.updated(artist_id, figures))


__all__ = ["NO_LISTENS", "ListenBrainzSource"]


if TYPE_CHECKING:  # mypy checks the contract is kept

    def _is_a_source(client: ListenBrainzClient) -> MetricSource:
        return ListenBrainzSource(client)
