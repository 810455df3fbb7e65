"""Spotify's accounts service and Web API as the API double speaks them, in Development or Extended Quota Mode.

Routes::

    POST /spotify-accounts/api/token          Client Credentials (Basic auth) -> {"access_token", "token_type",
                                              "expires_in"}; bad credentials 400 "invalid_client"
    GET  /spotify/v1/search?q=&type=artist    {"artists": {"href", "items": [Artist | null], "limit", "next",
                                              "offset", "previous", "total"}}
    GET  /spotify/v1/artists/{id}             Artist; malformed id 400 "Invalid base62 id", unknown 404
    GET  /spotify/v1/artists?ids=a,b          {"artists": [Artist | null]} (extended only)
    GET  /spotify/v1/artists/{id}/top-tracks  {"tracks": [Track]} (extended only)

Profiles (``shared/api-facts.md``, Spotify's "February 2026" changelog and migration guide):

- ``"development"`` (default; every app created since 2026-02-11): search ``limit`` 1..10, default 5, above
  10 answers 400 ``"Invalid limit"``; artists come without ``followers`` and ``popularity`` (``genres`` stay,
  even when an override sets them); ``/artists?ids=`` and ``/artists/{id}/top-tracks`` answer 403
  ``"Forbidden"``; search results carry a ``null`` entry at absolute position 3 (0-based, the fourth
  result) whenever the query matches at least 4 artists. The null is part of the results: counted in
  ``total`` and in the page's ``limit`` like an artist, so paging through shows every artist.
- ``"extended"`` (Extended Quota Mode and grandfathered apps): the 2024 API: ``limit`` 1..50, default 20,
  ``followers`` and ``popularity``, both batch endpoints, no null entries.

Every Web API call (not the token endpoint) is checked in this order before its answer:
token (401 "No token provided" / "Invalid access token" / "The access token expired"), then the owner's
Premium (:meth:`SpotifyDouble.set_premium`, 403), then the Development Mode quota
(:meth:`SpotifyDouble.set_quota`, 429 ``"reason": "QUOTA_EXCEEDED"``). Calls refused there are not admitted:
they do not use the quota. The core's sliding window (429 "API rate limit exceeded") and injected faults
come before all of these (:meth:`DoubleCore.serve`).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from collections.abc import Iterable
from typing import Any, Literal, get_args
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from artist_desktop.devtools._catalog import Catalog, CatalogArtist
from artist_desktop.devtools.double_core import (
    PREFIXES,
    REMOVE,
    SPOTIFY,
    SPOTIFY_ACCOUNTS,
    Answer,
    DoubleCore,
    apply_overrides,
    base_url,
    int_param,
    retry_after_header,
    spotify_error,
)
from artist_desktop.devtools.double_images import image_url
from artist_desktop.domain import is_spotify_id

SpotifyProfile = Literal["development", "extended"]
SPOTIFY_PROFILES: tuple[SpotifyProfile, ...] = get_args(SpotifyProfile)

#: Search ``limit`` per profile: (largest accepted, default when absent).
SEARCH_LIMITS: dict[SpotifyProfile, tuple[int, int]] = {"development": (10, 5), "extended": (50, 20)}
#: Where development-mode search puts its null entries (absolute 0-based result positions).
DEVELOPMENT_NULL_POSITIONS = (3,)
#: Artist fields Development Mode leaves out.
DEVELOPMENT_HIDDEN_FIELDS = ("followers", "popularity")

#: The 403 every Web API call answers when the app owner has no Premium (api-facts: "text begins that way").
PREMIUM_REQUIRED = (
    "Active premium subscription required for the owner of the app. The owner of this app needs an active "
    "Spotify Premium subscription to use the Web API in Development Mode; after subscribing it can take a few "
    "hours to take effect."
)


class SpotifyQuota:
    """Development Mode's quota: ``requests`` admitted calls, then every call is refused until ``retry_after``
    seconds have passed since the first refusal (when it tripped); then a fresh allowance of ``requests``.
    Real sizes are unpublished (~100-200 requests) and the wait is hours (6-24 h reported)."""

    def __init__(self, requests: int, retry_after: float) -> None:
        if requests < 0 or retry_after <= 0:
            raise ValueError(f"quota must be >= 0 requests per > 0 seconds (got {requests}/{retry_after})")
        self.requests = requests
        self.retry_after = retry_after
        self._used = 0
        self._tripped_at: float | None = None

    def admit(self) -> float | None:
        """None when admitted (and counted), else the seconds left until a fresh allowance starts."""
        now = time.monotonic()
        if self._tripped_at is not None:
            left = self.retry_after - (now - self._tripped_at)
            if left > 0:
                return left
            self._tripped_at, self._used = None, 0
        if self._used >= self.requests:
            self._tripped_at = now
            return self.retry_after
        self._used += 1
        return None


def check_profile(profile: str) -> SpotifyProfile:
    """``profile`` when it is one of :data:`SPOTIFY_PROFILES`, else ValueError."""
    for known in SPOTIFY_PROFILES:
        if profile == known:
            return known
    raise ValueError(f"unknown Spotify profile {profile!r}; one of {', '.join(SPOTIFY_PROFILES)}")


class SpotifyDouble:
    """The Spotify routes over the sample catalog, with their run-time knobs (guarded by the core's lock)."""

    def __init__(
        self,
        core: DoubleCore,
        catalog: Catalog,
        *,
        credentials: tuple[str, str] | None = None,
        token_ttl: int = 3600,
        profile: SpotifyProfile = "development",
        quota: tuple[int, float] | None = None,
    ) -> None:
        self._core = core
        self._catalog = catalog
        self._credentials = credentials
        self._token_ttl = token_ttl
        self._profile = check_profile(profile)
        self._premium = True
        self._quota = SpotifyQuota(*quota) if quota is not None else None
        self._null_positions: tuple[int, ...] | None = None
        self._items_null = False
        self._tokens: dict[str, float] = {}
        self._overrides: dict[str, dict[str, Any]] = {}
        self._unknown_ids: set[str] = set()

    def routes(self) -> list[Route]:
        api = PREFIXES[SPOTIFY]
        return [
            Route(f"{PREFIXES[SPOTIFY_ACCOUNTS]}/api/token", self._token, methods=["POST"]),
            Route(f"{api}/search", self._search),
            Route(f"{api}/artists", self._several_artists),
            Route(f"{api}/artists/{{id}}", self._artist),
            Route(f"{api}/artists/{{id}}/top-tracks", self._top_tracks),
        ]

    # -- knobs -----------------------------------------------------------------------------------

    @property
    def profile(self) -> SpotifyProfile:
        with self._core.lock:
            return self._profile

    def set_profile(self, profile: SpotifyProfile) -> None:
        """Answer as an app in ``"development"`` or ``"extended"`` mode from the next request on."""
        checked = check_profile(profile)
        with self._core.lock:
            self._profile = checked

    def set_premium(self, premium: bool) -> None:
        """False: the app owner has no Premium; every Web API call answers 403 :data:`PREMIUM_REQUIRED`."""
        with self._core.lock:
            self._premium = premium

    def set_quota(self, requests: int | None, retry_after: float = 86_400.0) -> None:
        """After ``requests`` admitted Web API calls, 429 QUOTA_EXCEEDED for ``retry_after`` s (None: no quota).
        Counting starts afresh."""
        quota = SpotifyQuota(requests, retry_after) if requests is not None else None
        with self._core.lock:
            self._quota = quota

    def set_search_nulls(self, positions: Iterable[int] | None = None, *, items_null: bool = False) -> None:
        """Where search puts ``null`` entries: at these absolute 0-based result positions, each only when a
        real artist follows it (so ``(0,)`` puts one first for any match); None: the profile's default
        (development ``(3,)``, extended none); ``()``: none. ``items_null`` makes ``items`` itself null."""
        chosen = tuple(sorted(positions)) if positions is not None else None
        if chosen and chosen[0] < 0:
            raise ValueError("null positions are 0-based result positions")
        with self._core.lock:
            self._null_positions = chosen
            self._items_null = items_null

    def override_artist(self, spotify_id: str, **fields: Any) -> None:
        """Replace fields of an artist answer; ``REMOVE`` leaves one out. The profile still decides which
        fields exist: Development Mode drops ``followers``/``popularity`` even when overridden."""
        with self._core.lock:
            self._overrides.setdefault(spotify_id, {}).update(fields)

    def forget_artist(self, spotify_id: str) -> None:
        """Spotify no longer knows this id (404, null in batches, left out of search)."""
        with self._core.lock:
            self._unknown_ids.add(spotify_id)

    def expire_tokens(self) -> None:
        """Every token handed out so far now answers 401 "The access token expired"."""
        with self._core.lock:
            for token in self._tokens:
                self._tokens[token] = 0.0

    # -- accounts --------------------------------------------------------------------------------

    async def _token(self, request: Request) -> Response:
        async def answer() -> Response:
            # A urlencoded form, parsed by hand: Starlette's form parser needs python-multipart.
            form = parse_qs((await request.body()).decode("utf-8", "replace"))
            if form.get("grant_type") != ["client_credentials"]:
                return JSONResponse(
                    {
                        "error": "unsupported_grant_type",
                        "error_description": "grant_type parameter is missing",
                    },
                    status_code=400,
                )
            if not self._credentials_ok(request.headers.get("authorization", "")):
                return JSONResponse({"error": "invalid_client", "error_description": "Invalid client"}, 400)
            token = secrets.token_urlsafe(24)
            with self._core.lock:
                self._tokens[token] = time.monotonic() + self._token_ttl
            return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": self._token_ttl})

        return await self._core.serve(SPOTIFY_ACCOUNTS, request, (), answer)

    def _credentials_ok(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            client_id, sep, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        if not sep or not client_id or not secret:
            return False
        return self._credentials is None or (client_id, secret) == self._credentials

    # -- Web API checks --------------------------------------------------------------------------

    def _token_error(self, request: Request) -> Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return spotify_error(401, "No token provided")
        with self._core.lock:
            expires = self._tokens.get(token)
        if expires is None:
            return spotify_error(401, "Invalid access token")
        if expires <= time.monotonic():
            return spotify_error(401, "The access token expired")
        return None

    def _account_error(self) -> Response | None:
        """Premium first, then the quota (which counts only the calls it admits)."""
        with self._core.lock:
            if not self._premium:
                return spotify_error(403, PREMIUM_REQUIRED)
            left = self._quota.admit() if self._quota is not None else None
        if left is None:
            return None
        self._core.count_rejection(SPOTIFY)
        return JSONResponse(
            {"error": {"status": 429, "message": "Too many requests", "reason": "QUOTA_EXCEEDED"}},
            429,
            headers=retry_after_header(left),
        )

    async def _web_api(self, request: Request, keys: Iterable[str], answer: Answer) -> Response:
        async def checked() -> Response:
            return self._token_error(request) or self._account_error() or await answer()

        return await self._core.serve(SPOTIFY, request, keys, checked)

    def _known(self, spotify_id: str) -> CatalogArtist | None:
        with self._core.lock:
            if spotify_id in self._unknown_ids:
                return None
        return self._catalog.by_spotify_id.get(spotify_id)

    def _artist_json(self, request: Request, artist: CatalogArtist, profile: SpotifyProfile) -> dict[str, Any]:
        sid = artist.spotify_id
        data: dict[str, Any] = {
            "external_urls": {"spotify": artist.spotify_url},
            "followers": {"href": None, "total": artist.followers} if artist.followers is not None else REMOVE,
            "genres": list(artist.genres) if artist.genres is not None else REMOVE,
            "href": f"{base_url(request)}{PREFIXES[SPOTIFY]}/artists/{sid}",
            "id": sid,
            "images": [
                {"url": image_url(request, sid, size), "height": size, "width": size} for size in (640, 320, 160)
            ],
            "name": artist.name,
            "popularity": artist.popularity if artist.popularity is not None else REMOVE,
            "type": "artist",
            "uri": f"spotify:artist:{sid}",
        }
        with self._core.lock:
            overrides = dict(self._overrides.get(sid, {}))
        if profile == "development":
            overrides.update(dict.fromkeys(DEVELOPMENT_HIDDEN_FIELDS, REMOVE))
        return apply_overrides(data, overrides)

    # -- routes ----------------------------------------------------------------------------------

    def _search_results(self, query: str, profile: SpotifyProfile) -> list[CatalogArtist | None]:
        """Every match, most popular first, with the null entries this profile (or the knob) puts in."""
        results: list[CatalogArtist | None] = [
            a for a in self._catalog.search_spotify(query) if self._known(a.spotify_id)
        ]
        with self._core.lock:
            positions = self._null_positions
        if positions is None:
            positions = DEVELOPMENT_NULL_POSITIONS if profile == "development" else ()
        for position in positions:  # ascending: each insert only shifts entries after it
            if position < len(results):
                results.insert(position, None)
        return results

    async def _search(self, request: Request) -> Response:
        async def answer() -> Response:
            params = request.query_params
            query = params.get("q", "")
            if not query.strip():
                return spotify_error(400, "No search query")
            if "artist" not in params.get("type", "").split(","):
                return spotify_error(
                    400, "Missing parameter type" if not params.get("type") else "Bad search type field"
                )
            profile = self.profile
            largest, default = SEARCH_LIMITS[profile]
            limit = int_param(params.get("limit"), default)
            offset = int_param(params.get("offset"), 0)
            if limit is None or not 1 <= limit <= largest:
                return spotify_error(400, "Invalid limit")
            if offset is None or not 0 <= offset <= 1000:
                return spotify_error(400, "Invalid offset")
            results = self._search_results(query, profile)
            page = results[offset : offset + limit]
            with self._core.lock:
                items_null = self._items_null
            href = f"{base_url(request)}{PREFIXES[SPOTIFY]}/search?q={query}&type=artist"
            more = offset + limit < len(results)
            items = None if items_null else [self._artist_json(request, a, profile) if a else None for a in page]
            return JSONResponse(
                {
                    "artists": {
                        "href": f"{href}&offset={offset}&limit={limit}",
                        "items": items,
                        "limit": limit,
                        "next": f"{href}&offset={offset + limit}&limit={limit}" if more else None,
                        "offset": offset,
                        "previous": f"{href}&offset={max(0, offset - limit)}&limit={limit}" if offset else None,
                        "total": len(results),
                    }
                }
            )

        return await self._web_api(request, (), answer)

    async def _several_artists(self, request: Request) -> Response:
        ids = [i for i in request.query_params.get("ids", "").split(",") if i]

        async def answer() -> Response:
            profile = self.profile
            if profile == "development":
                return spotify_error(403, "Forbidden")
            if not ids:
                return spotify_error(400, "invalid request")
            if len(ids) > 50:
                return spotify_error(400, "Too many ids requested")
            if not all(is_spotify_id(i) for i in ids):
                return spotify_error(400, "Invalid base62 id")
            artists = [self._known(i) for i in ids]
            return JSONResponse({"artists": [self._artist_json(request, a, profile) if a else None for a in artists]})

        return await self._web_api(request, ids, answer)

    async def _artist(self, request: Request) -> Response:
        spotify_id = request.path_params["id"]

        async def answer() -> Response:
            if not is_spotify_id(spotify_id):
                return spotify_error(400, "Invalid base62 id")
            artist = self._known(spotify_id)
            if artist is None:
                return spotify_error(404, "Resource not found")
            return JSONResponse(self._artist_json(request, artist, self.profile))

        return await self._web_api(request, (spotify_id,), answer)

    async def _top_tracks(self, request: Request) -> Response:
        spotify_id = request.path_params["id"]

        async def answer() -> Response:
            if self.profile == "development":
                return spotify_error(403, "Forbidden")
            if not is_spotify_id(spotify_id):
                return spotify_error(400, "Invalid base62 id")
            artist = self._known(spotify_id)
            if artist is None:
                return spotify_error(404, "Resource not found")
            summary = {
                "id": artist.spotify_id,
                "name": artist.name,
                "type": "artist",
                "uri": f"spotify:artist:{artist.spotify_id}",
            }
            tracks = [
                {
                    "id": t.id,
                    "name": t.name,
                    "popularity": t.popularity,
                    "duration_ms": t.duration_ms,
                    "album": {
                        "id": t.album_id,
                        "name": t.album,
                        "images": [
                            {"url": image_url(request, t.album_id, size), "height": size, "width": size}
                            for size in (640, 300, 64)
                        ],
                    },
                    "artists": [summary],
                    "external_urls": {"spotify": f"https://open.spotify.com/track/{t.id}"},
                    "type": "track",
                    "uri": f"spotify:track:{t.id}",
                }
                for t in artist.top_tracks[:10]
            ]
            return JSONResponse({"tracks": tracks})

        return await self._web_api(request, (spotify_id,), answer)


__all__ = [
    "DEVELOPMENT_HIDDEN_FIELDS",
    "DEVELOPMENT_NULL_POSITIONS",
    "PREMIUM_REQUIRED",
    "SEARCH_LIMITS",
    "SPOTIFY_PROFILES",
    "SpotifyDouble",
    "SpotifyProfile",
    "SpotifyQuota",
    "check_profile",
]
