"""External API clients (Spotify, Deezer, MusicBrainz) sharing one rate-limit and retry policy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

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
    format_resume_at,
    is_retryable,
)
from artist_desktop.services.http import RateGate, RetryPolicy
from artist_desktop.services.musicbrainz import MusicBrainzArtist, MusicBrainzClient
from artist_desktop.services.spotify import (
    CapabilitiesCallback,
    SpotifyArtist,
    SpotifyClient,
    SpotifyImage,
    SpotifySearchPage,
    SpotifyTrack,
)

if TYPE_CHECKING:
    from artist_desktop.config import Settings
    from artist_desktop.domain import SpotifyCapabilities

#: The directory under the data dir that holds the Spotify disk cache (pass it to :func:`build_clients`).
HTTP_CACHE_DIRNAME = "http-cache"

#: In demo mode MusicBrainz is the local double, which does not enforce 1 request/s unless asked:
#: a looser gate keeps demo imports quick.
DEMO_MUSICBRAINZ_QUOTA = (20, 1.0)


@dataclass(slots=True)
class ServiceClients:
    """The three clients the pipeline and the metrics refresh use; close them with :meth:`aclose`."""

    spotify: SpotifyClient
    deezer: DeezerClient
    musicbrainz: MusicBrainzClient

    async def aclose(self) -> None:
        for client in (self.spotify, self.deezer, self.musicbrainz):
            await client.aclose()

    async def __aenter__(self) -> ServiceClients:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _rate_gate(service: str, per_second: float) -> RateGate:
    """A gate admitting `per_second` requests per second (whole requests per the shortest whole period)."""
    if per_second >= 1:
        return RateGate(service, round(per_second), 1.0)
    return RateGate(service, 1, 1 / per_second)


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
) -> ServiceClients:
    """The clients the settings point at (the real services, or the API double in demo mode).

    ``cache_dir`` keeps Spotify's artist and search answers on disk (the app passes
    :func:`http_cache_dir`; None: no cache). ``spotify_capabilities`` is what an earlier run learnt about
    the Spotify app, ``on_spotify_capabilities_changed`` is told of every new discovery (to remember it).
    """
    if settings.demo:
        musicbrainz_gate: RateGate | None = RateGate("MusicBrainz", *DEMO_MUSICBRAINZ_QUOTA)
    elif settings.musicbrainz_rate != 1.0:  # a mirror with its own limit; 1/s is the client's default gate
        musicbrainz_gate = _rate_gate("MusicBrainz", settings.musicbrainz_rate)
    else:
        musicbrainz_gate = None
    return ServiceClients(
        spotify=SpotifyClient(
            settings.spotify_client_id,
            settings.spotify_client_secret.get_secret_value(),
            settings.spotify_api_url,
            settings.spotify_accounts_url,
            retry=retry,
            capabilities=spotify_capabilities,
            on_capabilities_changed=on_spotify_capabilities_changed,
            cache_dir=cache_dir,
        ),
        deezer=DeezerClient(settings.deezer_api_url, retry=retry),
        musicbrainz=MusicBrainzClient(
            settings.musicbrainz_api_url, settings.musicbrainz_contact, gate=musicbrainz_gate, retry=retry
        ),
    )


__all__ = [
    "HTTP_CACHE_DIRNAME",
    "LONG_WAIT",
    "AuthenticationError",
    "BadResponseError",
    "CapabilitiesCallback",
    "DeezerArtist",
    "DeezerClient",
    "DeezerTrack",
    "EndpointUnavailableError",
    "MissingCredentialsError",
    "MusicBrainzArtist",
    "MusicBrainzClient",
    "NotFoundError",
    "PremiumRequiredError",
    "QuotaExceededError",
    "RateGate",
    "RateLimitedError",
    "RequestError",
    "RetryPolicy",
    "ServiceClients",
    "ServiceError",
    "ServiceUnavailableError",
    "SpotifyArtist",
    "SpotifyClient",
    "SpotifyImage",
    "SpotifySearchPage",
    "SpotifyTrack",
    "build_clients",
    "format_resume_at",
    "http_cache_dir",
    "is_retryable",
]
