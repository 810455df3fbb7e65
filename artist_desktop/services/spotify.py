"""Spotify Web API client: Client Credentials token, artist search, artists, top tracks."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from artist_desktop.domain import is_spotify_id
from artist_desktop.services.errors import AuthenticationError, MissingCredentialsError, ServiceError
from artist_desktop.services.http import RateGate, RetryPolicy, ServiceClient, parse_model, shared_gate

#: Spotify accepts at most this many ids in one ``GET /artists`` call.
ARTISTS_BATCH = 50
#: Renew the token this long before Spotify says it expires.
TOKEN_RENEW_MARGIN = 60.0


@dataclass(frozen=True, slots=True)
class SpotifyImage:
    url: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class SpotifyArtist:
    """An artist as Spotify describes it; followers, popularity and genres may be withheld (dev-mode apps)."""

    id: str
    name: str
    url: str
    images: tuple[SpotifyImage, ...] = ()
    genres: tuple[str, ...] = ()
    followers: int | None = None
    popularity: int | None = None

    @property
    def uri(self) -> str:
        return f"spotify:artist:{self.id}"

    @property
    def image_url(self) -> str | None:
        """The smallest image at least 300 px wide (sharp in a list, cheap to fetch), else the largest."""
        return _pick_image(self.images)


@dataclass(frozen=True, slots=True)
class SpotifyTrack:
    id: str
    name: str
    popularity: int | None
    duration_ms: int
    album_name: str
    album_image_url: str | None
    url: str


@dataclass(frozen=True, slots=True)
class SpotifySearchPage:
    """One page of an artist search; ask for ``next_offset`` while ``has_more``."""

    items: tuple[SpotifyArtist, ...]
    total: int
    offset: int
    limit: int
    next_offset: int | None

    @property
    def has_more(self) -> bool:
        return self.next_offset is not None


def _pick_image(images: Sequence[SpotifyImage], min_width: int = 300) -> str | None:
    if not images:
        return None
    sized = sorted(images, key=lambda image: image.width or 0)
    for image in sized:
        if (image.width or 0) >= min_width:
            return image.url
    return sized[-1].url


class _Image(BaseModel):
    url: str
    width: int | None = None
    height: int | None = None


class _Followers(BaseModel):
    total: int | None = None


class _Artist(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    name: str
    images: list[_Image] | None = None
    genres: list[str] | None = None
    followers: _Followers | None = None
    popularity: int | None = None
    external_urls: dict[str, str] | None = None

    def to_artist(self) -> SpotifyArtist:
        urls = self.external_urls or {}
        return SpotifyArtist(
            id=self.id,
            name=self.name,
            url=urls.get("spotify") or f"https://open.spotify.com/artist/{self.id}",
            images=tuple(SpotifyImage(i.url, i.width, i.height) for i in self.images or ()),
            genres=tuple(self.genres or ()),
            followers=self.followers.total if self.followers is not None else None,
            popularity=self.popularity,
        )


class _Paging(BaseModel):
    items: list[_Artist]
    total: int
    offset: int = 0
    limit: int = 0
    next: str | None = None


class _SearchAnswer(BaseModel):
    artists: _Paging


class _ArtistsAnswer(BaseModel):
    artists: list[_Artist | None]


class _Album(BaseModel):
    name: str = ""
    images: list[_Image] | None = None


class _Track(BaseModel):
    id: str
    name: str
    popularity: int | None = None
    duration_ms: int = 0
    album: _Album = Field(default_factory=_Album)
    external_urls: dict[str, str] | None = None

    def to_track(self) -> SpotifyTrack:
        images = tuple(SpotifyImage(i.url, i.width, i.height) for i in self.album.images or ())
        return SpotifyTrack(
            id=self.id,
            name=self.name,
            popularity=self.popularity,
            duration_ms=self.duration_ms,
            album_name=self.album.name,
            album_image_url=_pick_image(images),
            url=(self.external_urls or {}).get("spotify") or f"https://open.spotify.com/track/{self.id}",
        )


class _TopTracks(BaseModel):
    tracks: list[_Track]


class _Token(BaseModel):
    access_token: str
    expires_in: float = 3600


class SpotifyClient(ServiceClient):
    """The Spotify Web API subset the app uses, with a cached Client Credentials token.

    The token is fetched on first use, renewed ``TOKEN_RENEW_MARGIN`` s before it expires, and renewed
    once more if Spotify answers 401 anyway. Missing credentials raise :class:`MissingCredentialsError`
    on the first call (so the other clients work without them).
    """

    service = "Spotify"

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        api_url: str = "https://api.spotify.com/v1",
        accounts_url: str = "https://accounts.spotify.com",
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        gate: RateGate | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(
            api_url,
            http=http,
            timeout=timeout,
            gate=gate if gate is not None else shared_gate(self.service, api_url),
            retry=retry,
        )
        self.accounts_url = accounts_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()

    # -- token -----------------------------------------------------------------------------------

    async def _bearer(self) -> str:
        """A valid access token, fetched (one attempt; the caller's retry covers failures) when needed."""
        if not (self._client_id and self._client_secret):
            raise MissingCredentialsError(
                self.service,
                "No Spotify client id and secret are configured: enter them in Settings "
                "(or set ARTIST_DESKTOP_SPOTIFY_CLIENT_ID and ARTIST_DESKTOP_SPOTIFY_CLIENT_SECRET), "
                "or start with --demo",
            )
        async with self._token_lock:
            if self._token is not None and time.monotonic() < self._token_expires - TOKEN_RENEW_MARGIN:
                return self._token
            basic = base64.b64encode(f"{self._client_id}:{self._client_secret}".encode()).decode()
            payload = await self._request_json(
                "POST",
                f"{self.accounts_url}/api/token",
                data={"grant_type": "client_credentials"},
                headers={"Authorization": f"Basic {basic}"},
            )
            token = parse_model(self.service, _Token, payload, "an access token")
            self._token = token.access_token
            self._token_expires = time.monotonic() + token.expires_in
            return self._token

    def _forget_token(self, token: str) -> None:
        if self._token == token:
            self._token = None

    def _error_for_status(self, response: httpx.Response, not_found: str | None) -> ServiceError | None:
        if response.url.path.endswith("/api/token") and response.status_code in (400, 401):
            detail = self._error_detail(response)
            return AuthenticationError(
                self.service,
                f"Spotify rejected the client id and secret ({detail}): check them in Settings",
                status=response.status_code,
            )
        return super()._error_for_status(response, not_found)

    async def _api_get(
        self, path: str, params: dict[str, str | int] | None = None, *, not_found: str | None = None
    ) -> Any:
        """GET an API path with the bearer token, renewing the token once on 401."""

        async def attempt() -> Any:
            token = await self._bearer()
            try:
                return await self._request_json(
                    "GET",
                    path,
                    params=params,
                    headers={"Authorization": f"Bearer {token}"},
                    not_found=not_found,
                )
            except AuthenticationError as exc:
                if exc.status != 401:
                    raise
                self._forget_token(token)
                token = await self._bearer()
                return await self._request_json(
                    "GET",
                    path,
                    params=params,
                    headers={"Authorization": f"Bearer {token}"},
                    not_found=not_found,
                )

        return await self._call(attempt)

    # -- API -------------------------------------------------------------------------------------

    async def search_artists(self, query: str, limit: int = 20, offset: int = 0) -> SpotifySearchPage:
        """One page of artists matching ``query`` (limit 1-50, offset 0-1000)."""
        if not query.strip():
            raise ValueError("the search query is empty")
        if not 1 <= limit <= 50:
            raise ValueError(f"limit must be 1-50 (got {limit})")
        if not 0 <= offset <= 1000:
            raise ValueError(f"offset must be 0-1000 (got {offset})")
        payload = await self._api_get("/search", {"q": query, "type": "artist", "limit": limit, "offset": offset})
        page = parse_model(self.service, _SearchAnswer, payload, "search results").artists
        items = tuple(artist.to_artist() for artist in page.items)
        next_offset = page.offset + len(items) if page.next and items else None
        if next_offset is not None and next_offset > 1000:  # Spotify pages no further than offset 1000
            next_offset = None
        return SpotifySearchPage(
            items=items,
            total=page.total,
            offset=page.offset,
            limit=page.limit or limit,
            next_offset=next_offset,
        )

    async def get_artist(self, artist_id: str) -> SpotifyArtist:
        """One artist; :class:`NotFoundError` when Spotify has no artist with that id."""
        payload = await self._api_get(f"/artists/{artist_id}", not_found=f"Spotify has no artist with id {artist_id}")
        return parse_model(self.service, _Artist, payload, "an artist").to_artist()

    async def get_artists(self, artist_ids: Sequence[str]) -> list[SpotifyArtist | None]:
        """Artists in the order asked, None for unknown or malformed ids; 50 per request."""
        found: dict[str, SpotifyArtist] = {}
        valid = list(dict.fromkeys(i for i in artist_ids if is_spotify_id(i)))
        for start in range(0, len(valid), ARTISTS_BATCH):
            batch = valid[start : start + ARTISTS_BATCH]
            payload = await self._api_get("/artists", {"ids": ",".join(batch)})
            answer = parse_model(self.service, _ArtistsAnswer, payload, "artists")
            for artist in answer.artists:
                if artist is not None:
                    found[artist.id] = artist.to_artist()
        return [found.get(artist_id) for artist_id in artist_ids]

    async def get_top_tracks(self, artist_id: str, market: str = "US") -> list[SpotifyTrack]:
        """The artist's top tracks (up to 10) in ``market``."""
        payload = await self._api_get(
            f"/artists/{artist_id}/top-tracks",
            {"market": market},
            not_found=f"Spotify has no artist with id {artist_id}",
        )
        return [track.to_track() for track in parse_model(self.service, _TopTracks, payload, "top tracks").tracks]


__all__ = ["SpotifyArtist", "SpotifyClient", "SpotifyImage", "SpotifySearchPage", "SpotifyTrack"]
