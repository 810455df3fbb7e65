"""External API clients (Spotify, Deezer, MusicBrainz) sharing one rate-limit and retry policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from artist_desktop.services.deezer import DeezerArtist, DeezerClient
from artist_desktop.services.errors import (
    AuthenticationError,
    BadResponseError,
    MissingCredentialsError,
    NotFoundError,
    RateLimitedError,
    RequestError,
    ServiceError,
    ServiceUnavailableError,
    is_retryable,
)
from artist_desktop.services.http import RateGate, RetryPolicy
from artist_desktop.services.musicbrainz import MusicBrainzArtist, MusicBrainzClient
from artist_desktop.services.spotify import (
    SpotifyArtist,
    SpotifyClient,
    SpotifyImage,
    SpotifySearchPage,
    SpotifyTrack,
)

if TYPE_CHECKING:
    from artist_desktop.config import Settings

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


def build_clients(settings: Settings, *, retry: RetryPolicy | None = None) -> ServiceClients:
    """The clients the settings point at (the real services, or the API double in demo mode)."""
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
        ),
        deezer=DeezerClient(settings.deezer_api_url, retry=retry),
        musicbrainz=MusicBrainzClient(
            settings.musicbrainz_api_url, settings.musicbrainz_contact, gate=musicbrainz_gate, retry=retry
        ),
    )


__all__ = [
    "AuthenticationError",
    "BadResponseError",
    "DeezerArtist",
    "DeezerClient",
    "MissingCredentialsError",
    "MusicBrainzArtist",
    "MusicBrainzClient",
    "NotFoundError",
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
    "is_retryable",
]
