"""Which metric sources exist, in the order people see them, built from the runtime's service clients."""

from __future__ import annotations

from typing import TYPE_CHECKING

from artist_desktop.domain import Platform
from artist_desktop.sources.deezer import DeezerSource
from artist_desktop.sources.lastfm import LastfmSource
from artist_desktop.sources.listenbrainz import ListenBrainzSource
from artist_desktop.sources.wikipedia import WikipediaSource

if TYPE_CHECKING:
    from artist_desktop.services import ServiceClients
    from artist_desktop.sources.base import MetricSource

#: The sources in the order of the Metrics menu, the progress dialog and ``refresh --json``.
SOURCE_ORDER = (Platform.DEEZER, Platform.WIKIPEDIA, Platform.LASTFM, Platform.LISTENBRAINZ)


def build_sources(clients: ServiceClients, contact: str) -> list[MetricSource]:
    """Every source the clients allow, in :data:`SOURCE_ORDER` (a source whose client was not built is left out:
    only hand-built test clients lack one). ``contact`` is the operator's, for the sources that need it."""
    sources: list[MetricSource] = [DeezerSource(clients.deezer)]
    if clients.wikidata is not None and clients.wikimedia is not None:
        sources.append(WikipediaSource(clients.musicbrainz, clients.wikidata, clients.wikimedia, contact))
    if clients.lastfm is not None:
        sources.append(LastfmSource(clients.lastfm))
    if clients.listenbrainz is not None:
        sources.append(ListenBrainzSource(clients.listenbrainz))
    return sources


def source_named(sources: list[MetricSource], name: str) -> MetricSource:
    """The source whose name (the CLI's ``--source`` value) is ``name``; ValueError naming the choices."""
    for source in sources:
        if source.name.value == name:
            return source
    raise ValueError(f"no metric source {name!r} (choose from {', '.join(s.name.value for s in sources)})")


__all__ = ["SOURCE_ORDER", "build_sources", "source_named"]
