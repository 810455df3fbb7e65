"""External API clients (Spotify, Deezer, MusicBrainz, image hosts) sharing one rate-limit and retry policy.

:func:`build_clients` builds them from the settings: one gate per service host with its quota from
:mod:`~artist_desktop.services.quotas`, kept in Redis when the runtime gives its connection (every process on
the machine then shares it); breakers and a bounded wait (:data:`~artist_desktop.services.http.OPTIONAL_WAIT`)
on the optional sources, MusicBrainz, Deezer and the image hosts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from artist_desktop.services.breaker import Breaker
from artist_desktop.services.deezer import DeezerArtist, DeezerClient, DeezerTrack
from artist_desktop.services.errors import (
    LONG_WAIT,
    AuthenticationError,
    BadResponseError,
    EndpointUnavailableError,
    MissingCredentialsError,
    NotFoundError,
    PremiumRequiredError,
    QuotaExceededError,
    RateLimitedError,
    RequestError,
    ServiceError,
    ServiceUnavailableError,
    SourceSkippedError,
    format_resume_at,
    is_retryable,
)
from artist_desktop.services.http import OPTIONAL_WAIT, RateGate, RetryPolicy, SharedGates, shared_gate
from artist_desktop.services.images import ImageClient
from artist_desktop.services.lastfm import LastfmClient
from artist_desktop.services.listenbrainz import ListenBrainzClient
from artist_desktop.services.musicbrainz import MusicBrainzArtist, MusicBrainzClient
from artist_desktop.services.quotas import (
    DEEZER,
    DEMO_MUSICBRAINZ_QUOTA,
    LASTFM,
    LISTENBRAINZ,
    MUSICBRAINZ,
    SPOTIFY,
    WIKIDATA,
    WIKIMEDIA,
    Quota,
    quota_for,
    quota_per_second,
)
from artist_desktop.services.spotify import (
    CapabilitiesCallback,
    SpotifyArtist,
    SpotifyClient,
    SpotifyImage,
    SpotifySearchPage,
    SpotifyTrack,
)
from artist_desktop.services.wikimedia import WikidataClient, WikimediaClient

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from artist_desktop.config import Settings
    from artist_desktop.domain import SpotifyCapabilities

#: The directory under the data dir that holds the Spotify disk cache (pass it to :func:`build_clients`).
HTTP_CACHE_DIRNAME = "http-cache"


@dataclass(slots=True)
class ServiceClients:
    """The clients the pipeline and the metric sources use; close them with :meth:`aclose`.

    The audience sources' clients (Wikidata, Wikimedia, Last.fm, ListenBrainz) are None only where a caller built
    the three import clients by hand (tests): :func:`build_clients` always builds them all.
    """

    spotify: SpotifyClient
    deezer: DeezerClient
    musicbrainz: MusicBrainzClient
    wikidata: WikidataClient | None = None
    wikimedia: WikimediaClient | None = None
    lastfm: LastfmClient | None = None
    listenbrainz: ListenBrainzClient | None = None

    async def aclose(self) -> None:
        for client in (
            self.spotify,
            self.deezer,
            self.musicbrainz,
            self.wikidata,
            self.wikimedia,
            self.lastfm,
            self.listenbrainz,
        ):
            if client is not None:
                await client.aclose()

    async def __aenter__(self) -> ServiceClients:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def musicbrainz_quota(settings: Settings) -> Quota:
    """MusicBrainz's quota for these settings: the demo double's, a mirror's ``musicbrainz_rate``, or 1/s."""
    if settings.demo:
        return DEMO_MUSICBRAINZ_QUOTA
    if settings.musicbrainz_rate != 1.0:  # a mirror with its own limit
        return quota_per_second(settings.musicbrainz_rate)
    quota = quota_for(MUSICBRAINZ)
    assert quota is not None
    return quota


def _gate(service: str, base_url: str, quota: Quota | None, settings: Settings, shared: SharedGates | None) -> RateGate:
    """The gate of ``service`` at ``base_url``: shared through Redis when there is one, else this process's."""
    if shared is not None:
        return shared.gate(service, base_url, quota, concurrency=settings.concurrency)
    limit, period = quota if quota is not None else (None, 1.0)
    return shared_gate(service, base_url, limit, period, concurrency=settings.concurrency)


def http_cache_dir(settings: Settings) -> Path:
    """Where the app keeps its Spotify disk cache: ``<data dir>/http-cache``."""
    return settings.data_dir / HTTP_CACHE_DIRNAME


def build_clients(
    settings: Settings,
    *,
    retry: RetryPolicy | None = None,
    cache_dir: Path | None = None,
    spotify_capabilities: SpotifyCapabilities | None = None,
    on_spotify_capabilities_changed: CapabilitiesCallback | None = None,
    redis: Redis | None = None,
) -> ServiceClients:
    """The clients the settings point at (the real services, or the API double in demo mode).

    ``cache_dir`` keeps Spotify's artist and search answers on disk (the app passes
    :func:`http_cache_dir`; None: no cache). ``spotify_capabilities`` is what an earlier run learnt about
    the Spotify app, ``on_spotify_capabilities_changed`` is told of every new discovery (to remember it).
    ``redis`` (the runtime's connection) keeps every gate in Redis under the settings' ``redis_prefix``,
    shared with the other processes using it; without it the gates are this process's.

    MusicBrainz and Deezer are optional sources of an import: each gets a
    :class:`~artist_desktop.services.breaker.Breaker` and waits at most
    :data:`~artist_desktop.services.http.OPTIONAL_WAIT` on a Retry-After or on retries. Spotify, which an
    import cannot do without, keeps the full ``retry`` policy and no breaker.
    """
    shared = SharedGates(redis, settings.redis_prefix) if redis is not None else None
    optional_retry = (retry or RetryPolicy()).bounded(OPTIONAL_WAIT)
    deezer = DeezerClient(
        settings.deezer_api_url,
        gate=_gate(DEEZER, settings.deezer_api_url, quota_for(DEEZER), settings, shared),
        retry=optional_retry,
    )
    deezer.breaker = Breaker(DEEZER)
    musicbrainz = MusicBrainzClient(
        settings.musicbrainz_api_url,
        settings.contact,
        gate=_gate(MUSICBRAINZ, settings.musicbrainz_api_url, musicbrainz_quota(settings), settings, shared),
        retry=optional_retry,
    )
    musicbrainz.breaker = Breaker(MUSICBRAINZ)
    return ServiceClients(
        spotify=SpotifyClient(
            settings.spotify_client_id,
            settings.spotify_client_secret.get_secret_value(),
            settings.spotify_api_url,
            settings.spotify_accounts_url,
            gate=_gate(SPOTIFY, settings.spotify_api_url, quota_for(SPOTIFY), settings, shared),
            retry=retry,
            capabilities=spotify_capabilities,
            on_capabilities_changed=on_spotify_capabilities_changed,
            cache_dir=cache_dir,
        ),
        deezer=deezer,
        musicbrainz=musicbrainz,
        wikidata=WikidataClient(
            settings.wikidata_api_url,
            settings.contact,
            gate=_gate(WIKIDATA, settings.wikidata_api_url, quota_for(WIKIDATA), settings, shared),
            retry=optional_retry,
        ),
        wikimedia=WikimediaClient(
            settings.wikimedia_api_url,
            settings.contact,
            gate=_gate(WIKIMEDIA, settings.wikimedia_api_url, quota_for(WIKIMEDIA), settings, shared),
            retry=optional_retry,
        ),
        lastfm=LastfmClient(
            settings.lastfm_api_url,
            settings.lastfm_api_key.get_secret_value(),
            settings.contact,
            gate=_gate(LASTFM, settings.lastfm_api_url, quota_for(LASTFM), settings, shared),
            retry=optional_retry,
        ),
        listenbrainz=ListenBrainzClient(
            settings.listenbrainz_api_url,
            settings.listenbrainz_token.get_secret_value(),
            settings.contact,
            gate=_gate(LISTENBRAINZ, settings.listenbrainz_api_url, quota_for(LISTENBRAINZ), settings, shared),
            retry=optional_retry,
        ),
    )


def build_image_client(settings: Settings, *, redis: Redis | None = None) -> ImageClient:
    """The image downloader: a gate and a breaker per image host (shared through ``redis`` when given)."""
    shared = SharedGates(redis, settings.redis_prefix) if redis is not None else None
    return ImageClient(shared=shared, concurrency=settings.concurrency)


__all__ = [
    "DEMO_MUSICBRAINZ_QUOTA",
    "HTTP_CACHE_DIRNAME",
    "LONG_WAIT",
    "OPTIONAL_WAIT",
    "AuthenticationError",
    "BadResponseError",
    "Breaker",
    "CapabilitiesCallback",
    "DeezerArtist",
    "DeezerClient",
    "DeezerTrack",
    "EndpointUnavailableError",
    "ImageClient",
    "LastfmClient",
    "ListenBrainzClient",
    "MissingCredentialsError",
    "MusicBrainzArtist",
    "MusicBrainzClient",
    "NotFoundError",
    "PremiumRequiredError",
    "Quota",
    "QuotaExceededError",
    "RateGate",
    "RateLimitedError",
    "RequestError",
    "RetryPolicy",
    "ServiceClients",
    "ServiceError",
    "ServiceUnavailableError",
    "SharedGates",
    "SourceSkippedError",
    "SpotifyArtist",
    "SpotifyClient",
    "SpotifyImage",
    "SpotifySearchPage",
    "SpotifyTrack",
    "WikidataClient",
    "WikimediaClient",
    "build_clients",
    "build_image_client",
    "format_resume_at",
    "http_cache_dir",
    "is_retryable",
    "musicbrainz_quota",
]
