"""MusicBrainz's web service (``/ws/2``) as the API double speaks it: URL lookups, artist details and search.

Routes (below ``/musicbrainz/ws/2``), JSON only (``fmt=json``, else 400); ``shared/api-facts.md`` and the
MusicBrainz server's own ``WS/2/URL.pm`` and ``Data/URL.pm``:

- ``GET /url?resource=<Spotify artist URL>&inc=artist-rels`` -> ``{"id", "resource", "relations": [{"type",
  "target-type": "artist", "direction", "artist": {"id", "name", "sort-name", "type", "country",
  "disambiguation"}}]}``; unknown URL: 404 ``{"error": "Not Found"}``. The related artist carries no gender
  and no life-span: those come from the artist itself.
- ``GET /url?resource=<url1>&resource=<url2>...`` (two or more): ``{"url-count", "url-offset": 0, "urls": [url
  objects as above]}`` for the known URLs only (unknown ones are left out, none known: an empty list), ordered
  by the stored URL string, not by request order, each URL once; past 100 ``resource`` parameters the extras
  are silently dropped, as MusicBrainz does.
- ``GET /artist/{mbid}`` -> the artist summary plus ``gender``, ``country``, ``area``, ``begin-area`` and
  ``life-span {begin, end, ended}``; malformed MBID 400, unknown 404. With ``inc=url-rels`` also
  ``"relations": [{"type": "wikidata" | "last.fm" | ..., "target-type": "url", "direction": "forward",
  "url": {"id", "resource"}}]``: Last.fm's page always, the Wikidata item when
  :func:`~artist_desktop.devtools._catalog.wikidata_id` gives one (the rule the Wikidata double follows).
- ``GET /artist?query=arid:<mbid1> OR arid:<mbid2> ...`` (or ``arid:(<mbid1> OR <mbid2> ...)``)
  ``&limit=&offset=`` -> ``{"created", "count", "offset", "artists": [{"id", "type", "score", "name",
  "sort-name", "gender", "country", "area", "begin-area", "life-span", "disambiguation"}]}``: the artists with
  those MBIDs (unknown ones left out), in query order. As on MusicBrainz's search, ``life-span`` leaves out
  what is unknown and says ``"ended": null`` for an artist still active, ``limit`` defaults to 25 and is at most
  100, and a ``limit`` or ``offset`` that is not a whole number is 400. Only ``arid:`` searches are answered
  (any other query: 400).

A missing or generic User-Agent (``python-...``, ``curl/...``, no ``/``) answers 403, as MetaBrainz asks for
``AppName/version ( contact )``. MusicBrainz's 1 request/s is enforced by default (503 with Retry-After past
it, the core's sliding window); ``DoubleConfig(musicbrainz_rate=None)`` turns it off for tests that need speed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from artist_desktop.devtools._catalog import Catalog, CatalogArtist, wikidata_id
from artist_desktop.devtools.double_core import MUSICBRAINZ, PREFIXES, Answer, DoubleCore

MBID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
#: A Spotify artist URL; scheme and host in any case (MusicBrainz compares canonical URLs), the id as it is.
SPOTIFY_ARTIST_URL = re.compile(r"^(?i:https?://open\.spotify\.com)/artist/(?P<id>[0-9A-Za-z]{22})/?$")
#: ``resource`` parameters MusicBrainz reads from one URL lookup; it drops the rest without a word.
MAX_RESOURCES = 100
#: Search page size: MusicBrainz's default and its largest.
SEARCH_PAGE = 25
LARGEST_PAGE = 100

_ARID_TERM = re.compile(r"arid:\s*(?:\((?P<group>[^)]*)\)|\"?(?P<one>[0-9A-Fa-f-]{36})\"?)")
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


def sort_name(name: str, kind: str | None) -> str:
    """MusicBrainz's sort name, roughly: "Beatles, The", "Simone, Nina" for a two-word Person."""
    if name.startswith("The "):
        return f"{name[4:]}, The"
    parts = name.split()
    if kind == "Person" and len(parts) == 2:
        return f"{parts[1]}, {parts[0]}"
    return name


def arid_terms(query: str) -> list[str]:
    """The MBIDs an ``arid:`` search asks for, in query order, each once (lower-cased)."""
    found: list[str] = []
    for term in _ARID_TERM.finditer(query):
        found.extend(_UUID.findall(term["group"]) if term["group"] is not None else [term["one"]])
    return list(dict.fromkeys(mbid.lower() for mbid in found))


def _whole_number(value: str | None, default: int) -> int | None:
    """A ``limit``/``offset`` parameter: ``default`` when absent or empty, None when not a whole number >= 0."""
    if value is None or value == "":
        return default
    return int(value) if value.isdigit() else None


class MusicBrainzDouble:
    """The MusicBrainz routes over the sample catalog."""

    def __init__(self, core: DoubleCore, catalog: Catalog) -> None:
        self._core = core
        self._catalog = catalog

    def routes(self) -> list[Route]:
        prefix = PREFIXES[MUSICBRAINZ]
        return [
            Route(f"{prefix}/url", self._url),
            Route(f"{prefix}/artist", self._search),
            Route(f"{prefix}/artist/{{mbid}}", self._artist),
        ]

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

    def _known_url(self, resource: str) -> CatalogArtist | None:
        """The catalog artist MusicBrainz links to this Spotify URL (None: no such URL entity)."""
        match = SPOTIFY_ARTIST_URL.match(resource)
        artist = self._catalog.by_spotify_id.get(match["id"]) if match else None
        return artist if artist is not None and artist.musicbrainz else None

    def _url_entity(self, artist: CatalogArtist, relations: bool) -> dict[str, Any]:
        stored = artist.spotify_url  # MusicBrainz keeps the canonical URL and answers with it
        body: dict[str, Any] = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, stored)), "resource": stored}
        if relations:
            mb = artist.musicbrainz or {}
            body["relations"] = [
                {
                    "type": "free streaming",
                    "target-type": "artist",
                    "direction": "backward",
                    "artist": {**self._artist_summary(artist), "country": mb.get("country")},
                }
            ]
        return body

    async def _url(self, request: Request) -> Response:
        resources = request.query_params.getlist("resource")

        async def answer() -> Response:
            if not resources or not all(resources):
                return JSONResponse({"error": "Invalid resource: ."}, 400)
            relations = "artist-rels" in re.split(r"[+ ]", request.query_params.get("inc", ""))
            if len(resources) == 1:
                artist = self._known_url(resources[0])
                if artist is None:
                    return JSONResponse({"error": "Not Found"}, 404)
                return JSONResponse(self._url_entity(artist, relations))
            found = {a.spotify_url: a for r in resources[:MAX_RESOURCES] if (a := self._known_url(r)) is not None}
            urls = [self._url_entity(found[stored], relations) for stored in sorted(found)]
            return JSONResponse({"url-count": len(urls), "url-offset": 0, "urls": urls})

        return await self._serve(request, resources, answer)

    def _details(self, artist: CatalogArtist) -> dict[str, Any]:
        mb = artist.musicbrainz or {}
        area = mb.get("area")
        country = mb.get("country")
        return {
            **self._artist_summary(artist),
            "gender": mb.get("gender"),
            "country": country,
            "area": {"name": area, "iso-3166-1-codes": [country] if country else []} if area else None,
            "begin-area": None,
        }

    async def _artist(self, request: Request) -> Response:
        mbid = request.path_params["mbid"]

        async def answer() -> Response:
            if not MBID.match(mbid):
                return JSONResponse({"error": "Invalid mbid."}, 400)
            artist = self._catalog.by_mbid.get(mbid)
            if artist is None or not artist.musicbrainz:
                return JSONResponse({"error": "Not Found"}, 404)
            span = artist.musicbrainz.get("life_span") or {}
            body = {
                **self._details(artist),
                "life-span": {
                    "begin": span.get("begin"),
                    "end": span.get("end"),
                    "ended": bool(span.get("ended")),
                },
            }
            if "url-rels" in re.split(r"[+ ]", request.query_params.get("inc", "")):
                body["relations"] = self._url_relations(artist)
            return JSONResponse(body)

        return await self._serve(request, (mbid,), answer)

    @staticmethod
    def _url_relations(artist: CatalogArtist) -> list[dict[str, Any]]:
        """The artist's ``url-rels``: its Last.fm page, and its Wikidata item when it has one."""
        resources = [("last.fm", f"https://www.last.fm/music/{quote(artist.name.replace(' ', '+'), safe='+')}")]
        qid = wikidata_id(artist)
        if qid is not None:
            resources.insert(0, ("wikidata", f"https://www.wikidata.org/wiki/{qid}"))
        return [
            {
                "type": kind,
                "type-id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"musicbrainz/link-type/{kind}")),
                "target-type": "url",
                "direction": "forward",
                "ended": False,
                "url": {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, resource)), "resource": resource},
            }
            for kind, resource in resources
        ]

    def _search_hit(self, artist: CatalogArtist) -> dict[str, Any]:
        span = (artist.musicbrainz or {}).get("life_span") or {}
        life_span: dict[str, Any] = {key: span[key] for key in ("begin", "end") if span.get(key)}
        life_span["ended"] = True if span.get("ended") else None  # search says null, not false
        return {**self._details(artist), "score": 100, "life-span": life_span}

    async def _search(self, request: Request) -> Response:
        params = request.query_params
        query = params.get("query", "")
        wanted = arid_terms(query)

        async def answer() -> Response:
            limit = _whole_number(params.get("limit"), SEARCH_PAGE)
            offset = _whole_number(params.get("offset"), 0)
            if limit is None or offset is None:
                return JSONResponse({"error": "The 'limit' and 'offset' parameters must be positive integers"}, 400)
            if not query.strip():
                return JSONResponse({"error": "Missing required parameter: query"}, 400)
            if not wanted:
                return JSONResponse({"error": "this double only answers arid: searches"}, 400)
            hits = [artist for mbid in wanted if (artist := self._catalog.by_mbid.get(mbid)) is not None]
            page = hits[offset : offset + min(limit or SEARCH_PAGE, LARGEST_PAGE)]
            return JSONResponse(
                {
                    "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                    "count": len(hits),
                    "offset": offset,
                    "artists": [self._search_hit(artist) for artist in page],
                }
            )

        return await self._serve(request, wanted, answer)


__all__ = ["MAX_RESOURCES", "MBID", "SPOTIFY_ARTIST_URL", "MusicBrainzDouble", "arid_terms", "sort_name"]
