"""Deezer's public API as the API double speaks it: artists, artist search and artist top tracks.

Routes (below ``/deezer``; ``shared/api-facts.md``, developers.deezer.com/api)::

    GET /artist/{id}                     {"id", "name", "link", "share", "picture", "picture_small",
                                         "picture_medium", "picture_big", "picture_xl", "nb_album", "nb_fan",
                                         "radio", "tracklist", "type": "artist"}
    GET /search/artist?q=&index=&limit=  {"data": [artist as above], "total", "next" (only when more)};
                                         default limit 25
    GET /artist/{id}/top?limit=&index=   {"data": [track], "total", "next" (only when more)}; default limit 5

A top track is ``{"id", "readable", "title", "title_short", "link", "duration" (s), "rank", "explicit_lyrics",
"preview", "artist": {"id", "name", "tracklist", "type"}, "album": {"id", "title", "cover", "cover_small",
"cover_medium", "cover_big", "cover_xl", "tracklist", "type"}, "type": "track"}``, derived from the catalog's
Spotify top tracks, most popular first: numeric ids from the Spotify track and album ids
(:func:`deezer_number`), ``rank`` from Spotify's popularity (:func:`deezer_rank`, 1..1,000,000, higher is
more popular), ``title_short`` the title without a trailing "(...)", covers 56/250/500/1000 px served by the
double's ``/images/dzalbum<album id>-<size>.png``. :meth:`DeezerDouble.set_top_strings` makes one artist's
ids and ranks JSON strings, as some real samples show.

With ``daily_fans`` (the demo's double) ``nb_fan`` moves day by day: the catalog's count on
:data:`~artist_desktop.devtools._catalog.DEMO_EPOCH`, then :func:`~artist_desktop.devtools._catalog.daily_fans` of
the UTC day, so a refresh tomorrow shows a change; otherwise the catalog's count as it is.

Errors are Deezer's HTTP-200 error objects: 800 "no data" for an unknown artist (and for an artist without
top tracks), 501 for a search without ``q``, 4 "Quota limit exceeded" past the core's window (50 requests
per 5 s by default, shared by all three routes).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from artist_desktop.devtools._catalog import Catalog, CatalogArtist, CatalogTrack, daily_fans
from artist_desktop.devtools.double_core import (
    DEEZER,
    PREFIXES,
    DoubleCore,
    apply_overrides,
    base_url,
    deezer_error,
    int_param,
)
from artist_desktop.devtools.double_images import image_url

#: Default page sizes of Deezer's lists, and the largest page it gives.
SEARCH_PAGE = 25
TOP_PAGE = 5
LARGEST_PAGE = 100

_TRAILING_VERSION = re.compile(r"\s*\([^()]*\)$")


def deezer_number(kind: str, spotify_id: str) -> int:
    """A stable Deezer-style numeric id (9-10 digits) for the ``kind`` ("track", "album") of a Spotify id."""
    digest = hashlib.sha256(f"deezer-{kind}:{spotify_id}".encode()).digest()
    return 100_000_000 + int.from_bytes(digest[:8], "big") % 3_000_000_000


def deezer_rank(track: CatalogTrack) -> int:
    """Deezer's ``rank`` (1..1,000,000) for a track of Spotify ``popularity`` p (0..100): in p*10,000-9,999 ..
    p*10,000, so a more popular track always ranks higher; the place inside that band is stable per track."""
    jitter = int.from_bytes(hashlib.sha256(f"deezer-rank:{track.id}".encode()).digest()[:4], "big") % 10_000
    return max(1, min(1_000_000, track.popularity * 10_000 - jitter))


def _paging(params: QueryParams, default_limit: int) -> tuple[int, int]:
    """``(index, limit)`` from the query; a missing, zero or garbled limit is the default, at most 100."""
    index = max(0, int_param(params.get("index"), 0) or 0)
    limit = max(1, min(LARGEST_PAGE, int_param(params.get("limit"), default_limit) or default_limit))
    return index, limit


def _page(request: Request, path: str, items: Sequence[Any], index: int, limit: int) -> dict[str, Any]:
    """``{"data", "total", "next"}`` for ``items[index:index+limit]``; ``next`` only when more follow.
    ``path`` is below ``/deezer`` and may carry a query (``/search/artist?q=daft``)."""
    body: dict[str, Any] = {"data": list(items[index : index + limit]), "total": len(items)}
    if index + limit < len(items):
        joiner = "&" if "?" in path else "?"
        body["next"] = f"{base_url(request)}{PREFIXES[DEEZER]}{path}{joiner}index={index + limit}&limit={limit}"
    return body


def _utc_today() -> date:
    return datetime.now(UTC).date()


class DeezerDouble:
    """The Deezer routes over the sample catalog, with their run-time knobs (guarded by the core's lock).

    ``daily_fans``: fan counts move by the UTC day ``today()`` gives (see the module docstring)."""

    def __init__(
        self, core: DoubleCore, catalog: Catalog, *, daily_fans: bool = False, today: Callable[[], date] = _utc_today
    ) -> None:
        self._core = core
        self._catalog = catalog
        self._daily_fans = daily_fans
        self._today = today
        self._overrides: dict[int, dict[str, Any]] = {}
        self._string_tops: set[int] = set()

    def routes(self) -> list[Route]:
        prefix = PREFIXES[DEEZER]
        return [
            Route(f"{prefix}/artist/{{id}}", self._artist),
            Route(f"{prefix}/artist/{{id}}/top", self._top),
            Route(f"{prefix}/search/artist", self._search),
        ]

    # -- knobs -----------------------------------------------------------------------------------

    def override_artist(self, deezer_id: int, **fields: Any) -> None:
        """Replace fields of an artist answer, e.g. ``nb_fan="12"``, ``-5`` or ``REMOVE``."""
        with self._core.lock:
            self._overrides.setdefault(int(deezer_id), {}).update(fields)

    def set_top_strings(self, deezer_id: int, strings: bool = True) -> None:
        """The artist's top tracks give their ids (track, artist, album) and ranks as JSON strings
        (``"rank": "654321"``, ``"id": "123"``); False: numbers again."""
        with self._core.lock:
            if strings:
                self._string_tops.add(int(deezer_id))
            else:
                self._string_tops.discard(int(deezer_id))

    # -- answers ---------------------------------------------------------------------------------

    def _fans(self, deezer_id: int, raw: dict[str, Any]) -> Any:
        fans = raw.get("nb_fan", 0)
        if self._daily_fans and isinstance(fans, int) and not isinstance(fans, bool):
            return daily_fans(fans, deezer_id, self._today())
        return fans

    def _artist_json(self, request: Request, raw: dict[str, Any]) -> dict[str, Any]:
        deezer_id = int(raw["id"])
        key = f"dz{deezer_id}"
        data: dict[str, Any] = {
            "id": deezer_id,
            "name": raw["name"],
            "link": f"https://www.deezer.com/artist/{deezer_id}",
            "share": f"https://www.deezer.com/artist/{deezer_id}?utm_source=deezer&utm_content=artist",
            "picture": image_url(request, key, 250),
            "picture_small": image_url(request, key, 56),
            "picture_medium": image_url(request, key, 250),
            "picture_big": image_url(request, key, 500),
            "picture_xl": image_url(request, key, 1000),
            "nb_album": raw.get("nb_album", 0),
            "nb_fan": self._fans(deezer_id, raw),
            "radio": True,
            "tracklist": self._top_url(request, deezer_id, 50),
            "type": "artist",
        }
        with self._core.lock:
            overrides = dict(self._overrides.get(deezer_id, {}))
        return apply_overrides(data, overrides)

    @staticmethod
    def _top_url(request: Request, deezer_id: int, limit: int) -> str:
        return f"{base_url(request)}{PREFIXES[DEEZER]}/artist/{deezer_id}/top?limit={limit}"

    def _track_json(
        self, request: Request, deezer_id: int, artist: CatalogArtist, track: CatalogTrack
    ) -> dict[str, Any]:
        track_id = deezer_number("track", track.id)
        album_id = deezer_number("album", track.album_id)
        with self._core.lock:
            strings = deezer_id in self._string_tops

        def number(value: int) -> int | str:
            return str(value) if strings else value

        cover = f"dzalbum{album_id}"
        preview = hashlib.md5(str(track_id).encode(), usedforsecurity=False).hexdigest()
        return {
            "id": number(track_id),
            "readable": True,
            "title": track.name,
            "title_short": _TRAILING_VERSION.sub("", track.name) or track.name,
            "link": f"https://www.deezer.com/track/{track_id}",
            "duration": round(track.duration_ms / 1000),
            "rank": number(deezer_rank(track)),
            "explicit_lyrics": False,
            "preview": f"https://cdns-preview-d.dzcdn.net/stream/c-{preview}-8.mp3",
            "artist": {
                "id": number(deezer_id),
                "name": artist.name,
                "tracklist": self._top_url(request, deezer_id, 50),
                "type": "artist",
            },
            "album": {
                "id": number(album_id),
                "title": track.album,
                "cover": image_url(request, cover, 250),
                "cover_small": image_url(request, cover, 56),
                "cover_medium": image_url(request, cover, 250),
                "cover_big": image_url(request, cover, 500),
                "cover_xl": image_url(request, cover, 1000),
                "tracklist": f"{base_url(request)}{PREFIXES[DEEZER]}/album/{album_id}/tracks",
                "type": "album",
            },
            "type": "track",
        }

    # -- routes ----------------------------------------------------------------------------------

    async def _artist(self, request: Request) -> Response:
        raw_id = request.path_params["id"]

        async def answer() -> Response:
            raw = self._catalog.deezer_artists.get(int(raw_id)) if raw_id.isdigit() else None
            if raw is None:
                return deezer_error(800)
            return JSONResponse(self._artist_json(request, raw))

        return await self._core.serve(DEEZER, request, (raw_id,), answer)

    async def _top(self, request: Request) -> Response:
        raw_id = request.path_params["id"]

        async def answer() -> Response:
            artist = self._catalog.by_deezer_id.get(int(raw_id)) if raw_id.isdigit() else None
            if artist is None or not artist.top_tracks:
                return deezer_error(800)
            deezer_id = int(raw_id)
            index, limit = _paging(request.query_params, TOP_PAGE)
            tracks = sorted(artist.top_tracks, key=lambda t: (-deezer_rank(t), t.id))
            page = _page(request, f"/artist/{deezer_id}/top", tracks, index, limit)
            page["data"] = [self._track_json(request, deezer_id, artist, t) for t in page["data"]]
            return JSONResponse(page)

        return await self._core.serve(DEEZER, request, (raw_id,), answer)

    async def _search(self, request: Request) -> Response:
        async def answer() -> Response:
            params = request.query_params
            query = params.get("q", "")
            if not query.strip():
                return JSONResponse(
                    {"error": {"type": "MissingParameterException", "message": "Missing parameters: q", "code": 501}}
                )
            index, limit = _paging(params, SEARCH_PAGE)
            found = self._catalog.search_deezer(query)  # names of symbols only are found by themselves ("+/-")
            page = _page(request, f"/search/artist?q={quote(query, safe='')}", found, index, limit)
            page["data"] = [self._artist_json(request, raw) for raw in page["data"]]
            return JSONResponse(page)

        return await self._core.serve(DEEZER, request, (), answer)


__all__ = ["LARGEST_PAGE", "SEARCH_PAGE", "TOP_PAGE", "DeezerDouble", "deezer_number", "deezer_rank"]
