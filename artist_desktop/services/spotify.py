"""Spotify Web API client: Client Credentials token, artist search, artists, top tracks, in either app regime.

A Spotify app is in Development Mode (every app created since 2026-02-11) or has the full API (Extended
Quota, or an older "grandfathered" app); ``../shared/api-facts.md``, "Spotify Web API — two regimes". The
client never assumes which: it starts from the :class:`~artist_desktop.domain.SpotifyCapabilities` it is
given (remembered from earlier runs) and records what Spotify's answers show, calling
``on_capabilities_changed`` on every change:

- an artist object with ``followers``/``popularity`` means EXTENDED (search pages of up to 50); one without
  them means DEVELOPMENT (pages of up to 10). A search answered 400 "Invalid limit" drops the page size to
  10 and is sent again at once: nobody sees "Invalid limit".
- an endpoint answered 403 "Forbidden" (top tracks, several artists) is recorded in ``removed_endpoints``
  and never requested again: :class:`EndpointUnavailableError` is raised without a request.
- any answer from Spotify sets ``premium_ok``; the 403 "Active premium subscription required" clears it
  and raises :class:`PremiumRequiredError` (not a credentials problem).

The daily quota (429 ``"reason": "QUOTA_EXCEEDED"``) is a :class:`QuotaExceededError` with ``resume_at``,
closing this client's rate gate until then (see :mod:`artist_desktop.services.http`). With a ``cache_dir``
the artist and search answers are served from disk (:mod:`artist_desktop.services.disk_cache`).
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field

from artist_desktop.domain import (
    DEVELOPMENT_SEARCH_LIMIT,
    EXTENDED_SEARCH_LIMIT,
    SpotifyAppMode,
    SpotifyCapabilities,
    is_spotify_id,
)
from artist_desktop.services.disk_cache import ARTIST_TTL, SEARCH_TTL, SpotifyDiskCache
from artist_desktop.services.errors import (
    AuthenticationError,
    EndpointUnavailableError,
    MissingCredentialsError,
    PremiumRequiredError,
    RequestError,
    ServiceError,
)
from artist_desktop.services.http import (
    RateGate,
    RetryPolicy,
    ServiceClient,
    parse_model,
    parse_retry_after,
    shared_gate,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Spotify accepts at most this many ids in one ``GET /artists`` call.
ARTISTS_BATCH = 50
#: Renew the token this long before Spotify says it expires.
TOKEN_RENEW_MARGIN = 60.0
#: Spotify pages a search no further than this offset.
MAX_SEARCH_OFFSET = 1000
#: How Spotify's 403 for an app owner without Premium begins (Development Mode, since 2026-02-11).
PREMIUM_REQUIRED_PREFIX = "Active premium subscription required"
#: What people are told instead (it is not a credentials problem).
PREMIUM_REQUIRED_MESSAGE = (
    "The Spotify account that owns this app needs Premium (Spotify's rule since 2026); "
    "it can take a few hours to clear after subscribing"
)
#: ``removed_endpoints`` names.
TOP_TRACKS = "top-tracks"
SEVERAL_ARTISTS = "several-artists"
_ENDPOINT_LABELS = {TOP_TRACKS: "an artist's top tracks", SEVERAL_ARTISTS: "several artists in one request"}
_TOP_TRACKS_PATH = re.compile(r"^/artists/[^/]+/top-tracks/?$")

CapabilitiesCallback = Callable[[SpotifyCapabilities], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class SpotifyImage:
    url: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class SpotifyArtist:
    """An artist as Spotify describes it; ``followers`` and ``popularity`` are None for Development Mode apps,
    ``genres`` may be empty. ``url`` is the open.spotify.com page."""

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

    def to_dict(self) -> dict[str, Any]:
        """Spotify's own artist-object shape (``id, name, type, uri, external_urls, images, genres``, and
        ``followers: {"total"}`` / ``popularity`` only when known), for storing with a queued import."""
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "type": "artist",
            "uri": self.uri,
            "external_urls": {"spotify": self.url},
            "images": [{"url": i.url, "height": i.height, "width": i.width} for i in self.images],
            "genres": list(self.genres),
        }
        if self.followers is not None:
            data["followers"] = {"href": None, "total": self.followers}
        if self.popularity is not None:
            data["popularity"] = self.popularity
        return data

    @classmethod
    def from_dict(cls, data: Any) -> SpotifyArtist:
        """An artist from Spotify's artist-object shape (:meth:`to_dict`, or an answer stored as is);
        :class:`BadResponseError` when the shape is not an artist object."""
        return parse_model("Spotify", _Artist, data, "a stored artist").to_artist(_drop_nulls)


@dataclass(frozen=True, slots=True)
class SpotifyTrack:
    """A top track; ``popularity`` is None for Development Mode apps, ``artists`` are the credited names."""

    id: str
    name: str
    popularity: int | None
    duration_ms: int
    album_name: str
    album_image_url: str | None
    url: str
    artists: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SpotifySearchPage:
    """One page of an artist search; ask for ``next_offset`` while it is not None.

    ``next_offset`` advances by the page Spotify sent, null entries included, so "Load more" neither repeats
    nor skips an artist; ``skipped`` counts the null entries left out of ``items``.
    """

    items: tuple[SpotifyArtist, ...]
    total: int
    offset: int
    limit: int
    next_offset: int | None
    skipped: int = 0


def _pick_image(images: Sequence[SpotifyImage], min_width: int = 300) -> str | None:
    if not images:
        return None
    sized = sorted(images, key=lambda image: image.width or 0)
    for image in sized:
        if (image.width or 0) >= min_width:
            return image.url
    return sized[-1].url


class _Present(Protocol):
    """Drops the nulls of a list from Spotify (the client's version logs them once)."""

    def __call__(self, items: Iterable[T | None] | None, what: str) -> list[T]: ...


def _drop_nulls(items: Iterable[T | None] | None, what: str) -> list[T]:
    return [item for item in items or () if item is not None]


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
    images: list[_Image | None] | None = None
    genres: list[str | None] | None = None
    followers: _Followers | None = None
    popularity: int | None = None
    external_urls: dict[str, str] | None = None

    @property
    def full(self) -> bool:
        """Carries the fields Development Mode withholds (so the app has the full API)."""
        return self.followers is not None or self.popularity is not None

    def to_artist(self, present: _Present) -> SpotifyArtist:
        urls = self.external_urls or {}
        return SpotifyArtist(
            id=self.id,
            name=self.name,
            url=urls.get("spotify") or f"https://open.spotify.com/artist/{self.id}",
            images=tuple(SpotifyImage(i.url, i.width, i.height) for i in present(self.images or (), "artist images")),
            genres=tuple(present(self.genres or (), "artist genres")),
            followers=self.followers.total if self.followers is not None else None,
            popularity=self.popularity,
        )


class _Paging(BaseModel):
    items: list[_Artist | None] | None = None
    total: int
    offset: int = 0
    limit: int = 0
    next: str | None = None


class _SearchAnswer(BaseModel):
    artists: _Paging


class _ArtistsAnswer(BaseModel):
    artists: list[_Artist | None] | None = None


class _Album(BaseModel):
    name: str = ""
    images: list[_Image | None] | None = None


class _TrackArtist(BaseModel):
    name: str = ""


class _Track(BaseModel):
    id: str
    name: str
    popularity: int | None = None
    duration_ms: int = 0
    album: _Album = Field(default_factory=_Album)
    artists: list[_TrackArtist | None] | None = None
    external_urls: dict[str, str] | None = None

    def to_track(self, present: _Present) -> SpotifyTrack:
        images = tuple(SpotifyImage(i.url, i.width, i.height) for i in present(self.album.images or (), "album images"))
        return SpotifyTrack(
            id=self.id,
            name=self.name,
            popularity=self.popularity,
            duration_ms=self.duration_ms,
            album_name=self.album.name,
            album_image_url=_pick_image(images),
            url=(self.external_urls or {}).get("spotify") or f"https://open.spotify.com/track/{self.id}",
            artists=tuple(a.name for a in present(self.artists or (), "track artists")),
        )


class _TopTracks(BaseModel):
    tracks: list[_Track | None] | None = None


class _Token(BaseModel):
    access_token: str
    expires_in: float = 3600


class _InvalidLimitError(RequestError):
    """Spotify's 400 "Invalid limit": the search page size is over what this app may ask (handled inside)."""


class _CachingAsyncClient(httpx.AsyncClient):
    """An httpx client whose every transport (direct and each proxy from the environment) sits behind the cache."""

    def __init__(self, cache: SpotifyDiskCache, **kwargs: Any) -> None:
        self._disk_cache = cache
        super().__init__(**kwargs)

    def _init_transport(self, *args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
        return self._disk_cache.transport(super()._init_transport(*args, **kwargs))

    def _init_proxy_transport(self, *args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
        return self._disk_cache.transport(super()._init_proxy_transport(*args, **kwargs))


class SpotifyClient(ServiceClient):
    """The Spotify Web API subset the app uses, with a cached Client Credentials token.

    The token is fetched on first use, renewed ``TOKEN_RENEW_MARGIN`` s before it expires, and renewed
    once more if Spotify answers 401 anyway. Missing credentials raise :class:`MissingCredentialsError`
    on the first call (so the other clients work without them). ``capabilities`` are what earlier runs
    learnt about the app (default: nothing yet, search pages of 10); ``on_capabilities_changed`` is called
    (and awaited when it returns an awaitable) with the new value on every change. ``cache_dir`` keeps
    artist and search answers on disk (None: no cache; not together with ``http``).
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
        capabilities: SpotifyCapabilities | None = None,
        on_capabilities_changed: CapabilitiesCallback | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        if cache_dir is not None and http is not None:
            raise ValueError("give SpotifyClient either an http client or a cache_dir, not both")
        self._cache = SpotifyDiskCache(cache_dir) if cache_dir is not None else None
        if self._cache is not None:
            http = _CachingAsyncClient(self._cache, timeout=timeout)
        super().__init__(
            api_url,
            http=http,
            timeout=timeout,
            gate=gate if gate is not None else shared_gate(self.service, api_url),
            retry=retry,
        )
        if self._cache is not None:
            self._owns_http = True
        self.accounts_url = accounts_url.rstrip("/")
        self._api_path = httpx.URL(self.base_url).path.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()
        self._capabilities = capabilities if capabilities is not None else SpotifyCapabilities()
        self._on_capabilities_changed = on_capabilities_changed

    # -- capabilities ----------------------------------------------------------------------------

    @property
    def capabilities(self) -> SpotifyCapabilities:
        """What this app has shown it can do so far."""
        return self._capabilities

    @property
    def page_size(self) -> int:
        """The search page size this app may ask for: 10, or 50 once the full API was seen."""
        return self._capabilities.max_search_limit

    async def _learn(self, **changes: Any) -> None:
        """Record a discovery; tell ``on_capabilities_changed`` when it changes anything."""
        updated = replace(self._capabilities, **changes)
        if updated == self._capabilities:
            return
        self._capabilities = updated
        log.info("Spotify app capabilities now %s", updated.to_dict())
        if self._on_capabilities_changed is not None:
            try:
                result = self._on_capabilities_changed(updated)
                if inspect.isawaitable(result):
                    await result
            except Exception:  # remembering the discovery must never fail the request that made it
                log.exception("on_capabilities_changed failed; the capabilities are kept in memory")

    async def _learn_from(self, artists: Sequence[_Artist]) -> None:
        """An artist with followers/popularity means the full API; one without them Development Mode."""
        if not artists:
            return
        if any(artist.full for artist in artists):
            # A page size lowered by "Invalid limit" stays lowered while the app stays EXTENDED.
            if self._capabilities.mode is not SpotifyAppMode.EXTENDED:
                await self._learn(mode=SpotifyAppMode.EXTENDED, max_search_limit=EXTENDED_SEARCH_LIMIT)
        elif self._capabilities.mode is not SpotifyAppMode.DEVELOPMENT:
            await self._learn(mode=SpotifyAppMode.DEVELOPMENT, max_search_limit=DEVELOPMENT_SEARCH_LIMIT)

    def _removed(self, endpoint: str, status: int | None = None) -> EndpointUnavailableError:
        label = _ENDPOINT_LABELS.get(endpoint, endpoint)
        return EndpointUnavailableError(
            self.service,
            f"Spotify no longer gives this app {label} (removed for Development Mode apps in February 2026)",
            endpoint=endpoint,
            status=status,
        )

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

    # -- errors ----------------------------------------------------------------------------------

    def _endpoint_of(self, path: str) -> str | None:
        """The ``removed_endpoints`` name of an API path, if it is one Development Mode removed."""
        if not path.startswith(self._api_path):
            return None
        rest = path[len(self._api_path) :]
        if _TOP_TRACKS_PATH.match(rest):
            return TOP_TRACKS
        if rest.rstrip("/") == "/artists":
            return SEVERAL_ARTISTS
        return None

    def _error_for_status(self, response: httpx.Response, not_found: str | None) -> ServiceError | None:
        status = response.status_code
        if status < 400:
            return None
        if response.url.path.endswith("/api/token") and status in (400, 401):
            detail = self._error_detail(response)
            return AuthenticationError(
                self.service,
                f"Spotify rejected the client id and secret ({detail}): check them in Settings",
                status=status,
            )
        if status == 429 and _error_reason(response) == "QUOTA_EXCEEDED":
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return self._rate_limited("Spotify's daily quota is used up", status, retry_after, quota=True)
        if status == 403:
            detail = self._error_detail(response)
            if detail.startswith(PREMIUM_REQUIRED_PREFIX):
                return PremiumRequiredError(self.service, PREMIUM_REQUIRED_MESSAGE, status=status)
            endpoint = self._endpoint_of(response.url.path)
            if endpoint is not None and detail.strip().rstrip(".") == "Forbidden":
                return self._removed(endpoint, status)
        if status == 400 and self._error_detail(response).strip() == "Invalid limit":
            return _InvalidLimitError(self.service, "Spotify rejected the search page size (Invalid limit)", status=400)
        return super()._error_for_status(response, not_found)

    # -- requests --------------------------------------------------------------------------------

    async def _api_get(
        self,
        path: str,
        params: dict[str, str | int] | None = None,
        *,
        not_found: str | None = None,
        endpoint: str | None = None,
        cache_ttl: float | None = None,
    ) -> Any:
        """GET an API path with the bearer token (renewed once on 401), recording what the answer shows.

        ``endpoint`` names a path Development Mode may have removed (refused here, without a request, once
        recorded); ``cache_ttl`` keeps a successful answer on disk that long (when the client has a cache).
        """
        if endpoint is not None and endpoint in self._capabilities.removed_endpoints:
            raise self._removed(endpoint)
        extensions: dict[str, Any] | None = None
        if self._cache is not None and cache_ttl is not None:
            hit = await self._cache.lookup(self._http.build_request("GET", self._url(path), params=params).url)
            if hit is not None:
                return hit
            extensions = self._cache.extensions(cache_ttl)

        async def send(token: str) -> Any:
            return await self._request_json(
                "GET",
                path,
                params=params,
                headers={"Authorization": f"Bearer {token}"},
                not_found=not_found,
                extensions=extensions,
            )

        async def attempt() -> Any:
            token = await self._bearer()
            try:
                return await send(token)
            except AuthenticationError as exc:
                if exc.status != 401:
                    raise
                self._forget_token(token)
                return await send(await self._bearer())

        try:
            payload = await self._call(attempt)
        except PremiumRequiredError:
            await self._learn(premium_ok=False)
            raise
        except EndpointUnavailableError as exc:
            await self._learn(removed_endpoints=self._capabilities.removed_endpoints | {exc.endpoint})
            raise
        await self._learn(premium_ok=True)
        return payload

    # -- API -------------------------------------------------------------------------------------

    async def search_artists(self, query: str, limit: int | None = None, offset: int = 0) -> SpotifySearchPage:
        """One page of artists matching ``query``, offset 0-1000.

        ``limit`` None means :attr:`page_size`; a larger limit is cut to it (Development Mode allows 10).
        Null entries Spotify puts in ``items`` are skipped (``skipped`` counts them).
        """
        if not query.strip():
            raise ValueError("the search query is empty")
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be at least 1 (got {limit})")
        if not 0 <= offset <= MAX_SEARCH_OFFSET:
            raise ValueError(f"offset must be 0-{MAX_SEARCH_OFFSET} (got {offset})")
        size = self.page_size if limit is None else min(limit, self.page_size)

        async def fetch(size: int) -> Any:
            return await self._api_get(
                "/search",
                {"q": query, "type": "artist", "limit": size, "offset": offset},
                cache_ttl=SEARCH_TTL,
            )

        try:
            payload = await fetch(size)
        except _InvalidLimitError:
            if size <= DEVELOPMENT_SEARCH_LIMIT:
                raise
            # The app is not allowed pages this large after all (Development Mode): 10, and ask again.
            mode = self._capabilities.mode
            await self._learn(
                max_search_limit=DEVELOPMENT_SEARCH_LIMIT,
                mode=SpotifyAppMode.DEVELOPMENT if mode is SpotifyAppMode.UNKNOWN else mode,
            )
            size = DEVELOPMENT_SEARCH_LIMIT
            payload = await fetch(size)
        page = parse_model(self.service, _SearchAnswer, payload, "search results").artists
        raw = page.items
        wire = self._present(raw, "search results")
        await self._learn_from(wire)
        sent = len(raw) if raw is not None else (page.limit or size)
        next_offset = page.offset + sent if page.next and sent else None
        if next_offset is not None and next_offset > MAX_SEARCH_OFFSET:
            next_offset = None
        return SpotifySearchPage(
            items=tuple(artist.to_artist(self._present) for artist in wire),
            total=page.total,
            offset=page.offset,
            limit=page.limit or size,
            next_offset=next_offset,
            skipped=(len(raw) - len(wire)) if raw is not None else 0,
        )

    async def get_artist(self, artist_id: str) -> SpotifyArtist:
        """One artist (served from the disk cache for 24 h); :class:`NotFoundError` for an unknown id."""
        payload = await self._api_get(
            f"/artists/{artist_id}",
            not_found=f"Spotify has no artist with id {artist_id}",
            cache_ttl=ARTIST_TTL,
        )
        wire = parse_model(self.service, _Artist, payload, "an artist")
        await self._learn_from([wire])
        return wire.to_artist(self._present)

    async def get_artists(self, artist_ids: Sequence[str]) -> list[SpotifyArtist | None]:
        """Artists in the order asked, None for unknown or malformed ids; 50 per request.

        :class:`EndpointUnavailableError` (``endpoint="several-artists"``) when the app lost this endpoint
        (Development Mode): fetch them one by one with :meth:`get_artist` instead, if the quota allows.
        """
        found: dict[str, SpotifyArtist] = {}
        valid = list(dict.fromkeys(i for i in artist_ids if is_spotify_id(i)))
        for start in range(0, len(valid), ARTISTS_BATCH):
            batch = valid[start : start + ARTISTS_BATCH]
            payload = await self._api_get("/artists", {"ids": ",".join(batch)}, endpoint=SEVERAL_ARTISTS)
            answer = parse_model(self.service, _ArtistsAnswer, payload, "artists")
            wire = self._present(answer.artists, "several artists")
            await self._learn_from(wire)
            for artist in wire:
                found[artist.id] = artist.to_artist(self._present)
        return [found.get(artist_id) for artist_id in artist_ids]

    async def get_top_tracks(self, artist_id: str, market: str = "US") -> list[SpotifyTrack]:
        """The artist's top tracks (up to 10) in ``market``.

        :class:`EndpointUnavailableError` (``endpoint="top-tracks"``) when the app lost this endpoint
        (Development Mode): Deezer's top tracks stand in (``DeezerClient.get_top_tracks``).
        """
        payload = await self._api_get(
            f"/artists/{artist_id}/top-tracks",
            {"market": market},
            not_found=f"Spotify has no artist with id {artist_id}",
            endpoint=TOP_TRACKS,
            cache_ttl=ARTIST_TTL,
        )
        answer = parse_model(self.service, _TopTracks, payload, "top tracks")
        return [track.to_track(self._present) for track in self._present(answer.tracks, "top tracks")]


def _error_reason(response: httpx.Response) -> str | None:
    """``error.reason`` of a Spotify error body (``"QUOTA_EXCEEDED"``), if any."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    reason = error.get("reason") if isinstance(error, dict) else None
    return str(reason) if reason is not None else None


__all__ = [
    "PREMIUM_REQUIRED_MESSAGE",
    "SEVERAL_ARTISTS",
    "TOP_TRACKS",
    "SpotifyArtist",
    "SpotifyClient",
    "SpotifyImage",
    "SpotifySearchPage",
    "SpotifyTrack",
]
