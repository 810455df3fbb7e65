"""MusicBrainz's web service (``/ws/2``) as the API double speaks it: Spotify URL lookups and artist details.

Routes (below ``/musicbrainz/ws/2``), JSON only (``fmt=json``, else 400):

- ``GET /url?resource=<Spotify artist URL>&inc=artist-rels`` -> ``{"id", "resource", "relations": [{"type",
  "target-type": "artist", "direction", "artist": {"id", "name", "sort-name", "type", "disambiguation"}}]}``;
  unknown URL: 404 ``{"error": "Not Found"}``.
- ``GET /artist/{mbid}`` -> the artist summary plus ``gender``, ``country``, ``area``, ``begin-area`` and
  ``life-span {begin, end, ended}``; malformed MBID 400, unknown 404.

A missing or generic User-Agent (``python-...``, ``curl/...``, no ``/``) answers 403, as MetaBrainz asks for
``AppName/version ( contact )``. The 1 request/s rate (503 past it) is the core's sliding window, off unless
``DoubleConfig.musicbrainz_rate`` sets it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from artist_desktop.devtools._catalog import Catalog, CatalogArtist
from artist_desktop.devtools.double_core import MUSICBRAINZ, PREFIXES, Answer, DoubleCore

MBID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SPOTIFY_ARTIST_URL = re.compile(r"^https?://open\.spotify\.com/artist/(?P<id>[0-9A-Za-z]{22})/?$")


def sort_name(name: str, kind: str | None) -> str:
    """MusicBrainz's sort name, roughly: "Beatles, The", "Simone, Nina" for a two-word Person."""
    if name.startswith("The "):
        return f"{name[4:]}, The"
    parts = name.split()
    if kind == "Person" and len(parts) == 2:
        return f"{parts[1]}, {parts[0]}"
    return name


class MusicBrainzDouble:
    """The MusicBrainz routes over the sample catalog."""

    def __init__(self, core: DoubleCore, catalog: Catalog) -> None:
        self._core = core
        self._catalog = catalog

    def routes(self) -> list[Route]:
        prefix = PREFIXES[MUSICBRAINZ]
        return [Route(f"{prefix}/url", self._url), Route(f"{prefix}/artist/{{mbid}}", self._artist)]

    async def _serve(self, request: Request, keys: Iterable[str], answer: Answer) -> Response:
        async def checked() -> Response:
            agent = request.headers.get("user-agent", "")
            if not agent or agent.lower().startswith(("python-", "curl/")) or "/" not in agent:
                return JSONResponse(
                    {"error": "Please provide a meaningful User-Agent: AppName/version ( contact )"}, 403
                )
            if request.query_params.get("fmt") != "json":
                return JSONResponse({"error": "this double only answers fmt=json"}, 400)
            return await answer()

        return await self._core.serve(MUSICBRAINZ, request, keys, checked)

    @staticmethod
    def _artist_summary(artist: CatalogArtist) -> dict[str, Any]:
        mb = artist.musicbrainz or {}
        return {
            "id": mb["mbid"],
            "name": artist.name,
            "sort-name": sort_name(artist.name, mb.get("type")),
            "type": mb.get("type"),
            "disambiguation": "",
        }

    async def _url(self, request: Request) -> Response:
        resource = request.query_params.get("resource", "")

        async def answer() -> Response:
            if not resource:
                return JSONResponse({"error": "Invalid resource: ."}, 400)
            match = SPOTIFY_ARTIST_URL.match(resource)
            artist = self._catalog.by_spotify_id.get(match["id"]) if match else None
            if artist is None or not artist.musicbrainz:
                return JSONResponse({"error": "Not Found"}, 404)
            body: dict[str, Any] = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, resource)), "resource": resource}
            if "artist-rels" in request.query_params.get("inc", "").split("+"):
                body["relations"] = [
                    {
                        "type": "free streaming",
                        "target-type": "artist",
                        "direction": "backward",
                        "artist": self._artist_summary(artist),
                    }
                ]
            return JSONResponse(body)

        return await self._serve(request, (resource,), answer)

    async def _artist(self, request: Request) -> Response:
        mbid = request.path_params["mbid"]

        async def answer() -> Response:
            if not MBID.match(mbid):
                return JSONResponse({"error": "Invalid mbid."}, 400)
            artist = self._catalog.by_mbid.get(mbid)
            if artist is None or not artist.musicbrainz:
                return JSONResponse({"error": "Not Found"}, 404)
            mb = artist.musicbrainz
            span = mb.get("life_span") or {}
            area = mb.get("area")
            country = mb.get("country")
            body = {
                **self._artist_summary(artist),
                "gender": mb.get("gender"),
                "country": country,
                "area": {"name": area, "iso-3166-1-codes": [country] if country else []} if area else None,
                "begin-area": None,
                "life-span": {
                    "begin": span.get("begin"),
                    "end": span.get("end"),
                    "ended": bool(span.get("ended")),
                },
            }
            return JSONResponse(body)

        return await self._serve(request, (mbid,), answer)


__all__ = ["MBID", "SPOTIFY_ARTIST_URL", "MusicBrainzDouble", "sort_name"]
