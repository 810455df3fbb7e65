"""Last.fm's ``artist.getInfo`` as the API double speaks it (HTTP-200 errors, string numbers).

Route (below ``/lastfm``; ``shared/api-facts.md``, "Last.fm", and last.fm/api/show/artist.getInfo)::

    GET /2.0/?method=artist.getinfo&mbid=<mbid>|artist=<name>&autocorrect=0|1&api_key=K&format=json
        {"artist": {"name", "mbid", "url", "image": [placeholders], "streamable": "0", "ontour": "0",
                    "stats": {"listeners": "<digits>", "playcount": "<digits>"}, "similar": {"artist": []},
                    "tags": {"tag": [{"name", "url"}]}, "bio": {"links", "published", "summary", "content"}}}

The numbers are JSON strings, ``mbid`` is ``""`` for an artist without one, and every image is Last.fm's
placeholder star. The figures are the catalog's: ``listeners`` a share (25-85 %) of the artist's Spotify
followers, ``playcount`` 12-82 plays per listener, both moving day by day with
:func:`~artist_desktop.devtools._catalog.daily_count` of the UTC day ``today()`` gives (:func:`lastfm_figures`),
so two requests on one day agree and a refresh tomorrow shows a change.

Quirks (the real service's, as api-facts.md describes them):

- Errors in the body ``{"error": <int>, "message", "links": []}``, mostly with HTTP 200: 6 not found (and a
  missing ``artist``/``mbid``), 10 invalid or missing API key (HTTP 403), 26 suspended key
  (:meth:`LastfmDouble.suspend_key`), 3 unknown method (HTTP 400), 29 rate limit with HTTP 429 and Retry-After
  past the core's window (5 requests/s by default, Last.fm's old terms). The key is checked before the lookup.
  :func:`lastfm_fault` makes the transient ones (8, 11, 16) injectable through ``ApiDouble.inject``.
- Lookup by MBID is unreliable: a fixed fifth of the catalog's artists (:attr:`LastfmDouble.mbid_unknown`,
  chosen from a hash of the MBID, plus :meth:`LastfmDouble.set_mbid_unknown`) answer 6 by MBID but are found by
  name. ``mbid`` wins over ``artist`` when both are sent, as on Last.fm.
- Namesakes: Last.fm keeps one page per name. For the catalog's "Air" and "Justice" (and any name given to
  :meth:`LastfmDouble.set_namesake`) the name belongs to *another* artist with its own MBID and figures, and the
  catalog artist's MBID is unknown: a client must check the MBID and reject that answer.
- ``autocorrect=1`` fixes case, spacing, punctuation and accents ("daft  punk", "Bjork"); without it only the
  case is forgiven. The answer carries Last.fm's spelling of the name.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from artist_desktop.devtools._catalog import Catalog, CatalogArtist, daily_count
from artist_desktop.devtools.double_core import LASTFM, PREFIXES, DoubleCore, Fault
from artist_desktop.domain import normalise_name

#: The key the double accepts by default: the value of ``api_double.DEMO_LASTFM_API_KEY`` (kept here too, as
#: api_double imports this module).
LASTFM_DEMO_KEY = "demo-lastfm-key"
#: Catalog names that belong to another artist on Last.fm (both are common band names in real life).
NAMESAKE_NAMES = ("Air", "Justice")
#: The share of catalog artists Last.fm does not know by MBID (chosen by a hash of the MBID).
MBID_UNKNOWN_SHARE = 0.2

#: Last.fm's messages for its error codes (https://www.last.fm/api/errorcodes).
LASTFM_ERRORS = {
    3: "Invalid Method - No method with that name in this package",
    6: "The artist you supplied could not be found",
    8: "Operation failed - Most likely the backend service failed. Please try again.",
    10: "Invalid API key - You must be granted a valid key by last.fm",
    11: "Service Offline - This service is temporarily offline. Try again later.",
    16: "There was a temporary error processing your request. Please try again",
    26: "Suspended API key - Access for your account has been suspended, please contact Last.fm",
    29: "Rate Limit Exceeded - Your IP has made too many requests in a short period",
}
_MISSING_PARAMETER = "Invalid parameters - Your request is missing a required parameter"
_PLACEHOLDER = "https://lastfm.freetls.fastly.net/i/u/{size}/2a96cbd8b46e442fc41c2b86b821562f.png"
_IMAGE_SIZES = (
    ("small", "34s"),
    ("medium", "64s"),
    ("large", "174s"),
    ("extralarge", "300x300"),
    ("mega", "300x300"),
    ("", "300x300"),
)


def _fraction(*parts: object) -> float:
    """A number in [0, 1) fixed by ``parts``."""
    digest = hashlib.sha256("\x1f".join(map(str, ("lastfm-double", *parts))).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def lastfm_error(code: int, status: int = 200, message: str | None = None) -> Response:
    """Last.fm's error body ``{"error", "message", "links": []}`` with ``status`` (HTTP 200 unless given)."""
    body = {"error": code, "message": message or LASTFM_ERRORS.get(code, "Unknown error"), "links": []}
    return JSONResponse(body, status)


def lastfm_fault(code: int, status: int = 200) -> Fault:
    """A :class:`Fault` answering Last.fm's error ``code`` (8, 11, 16: transient) for ``ApiDouble.inject``."""
    body = {"error": code, "message": LASTFM_ERRORS.get(code, "Unknown error"), "links": []}
    return Fault(status=status, body=json.dumps(body))


def lastfm_figures(key: str, followers: int | None, day: date) -> tuple[int, int]:
    """``(listeners, playcount)`` on ``day`` of the artist keyed ``key`` (its Spotify id) with ``followers``.

    Listeners are 25-85 % of the followers (a hash of the key picks the share; an artist without a follower
    count gets 5,000-205,000), the playcount 12-82 plays per listener, each moving day by day as
    :func:`~artist_desktop.devtools._catalog.daily_count` does; never fewer plays than listeners.
    """
    base = followers if followers is not None else 5_000 + int(200_000 * _fraction("base", key))
    listeners = max(1, round(base * (0.25 + 0.6 * _fraction("listeners", key))))
    plays = round(listeners * (12 + 70 * _fraction("plays", key)))
    today_listeners = daily_count(listeners, f"lfm-listeners:{key}", day)
    return today_listeners, max(today_listeners, daily_count(plays, f"lfm-plays:{key}", day))


def _utc_today() -> date:
    return datetime.now(UTC).date()


class LastfmDouble:
    """Last.fm (``/lastfm/2.0/``) over the sample catalog, with its run-time knobs (guarded by the core's lock).

    ``api_key`` is the one key it accepts (default :data:`LASTFM_DEMO_KEY`); ``today`` the UTC day the figures
    are for."""

    def __init__(
        self,
        core: DoubleCore,
        catalog: Catalog,
        *,
        api_key: str = LASTFM_DEMO_KEY,
        today: Callable[[], date] = _utc_today,
    ) -> None:
        self._core = core
        self._catalog = catalog
        self._today = today
        self._api_key = api_key
        self._suspended = False
        self._by_name: dict[str, CatalogArtist] = {}
        for artist in catalog.artists:
            self._by_name.setdefault(normalise_name(artist.name), artist)
        self._mbid_unknown: set[str] = {
            mbid for mbid in catalog.by_mbid if _fraction("mbid-unknown", mbid) < MBID_UNKNOWN_SHARE
        }
        self._namesakes: set[str] = set()
        for name in NAMESAKE_NAMES:
            if normalise_name(name) in self._by_name:
                self.set_namesake(name)

    def routes(self) -> list[Route]:
        return [Route(f"{PREFIXES[LASTFM]}/2.0/", self._getinfo)]

    # -- knobs -----------------------------------------------------------------------------------

    @property
    def api_key(self) -> str:
        """The key the double accepts."""
        return self._api_key

    def set_api_key(self, key: str) -> None:
        """Accept ``key`` (only) from now on."""
        with self._core.lock:
            self._api_key = key

    def suspend_key(self, suspended: bool = True) -> None:
        """Answer error 26 "Suspended API key" to the accepted key (False: accept it again)."""
        with self._core.lock:
            self._suspended = suspended

    @property
    def mbid_unknown(self) -> frozenset[str]:
        """The catalog MBIDs Last.fm answers 6 for (found by name only, or not at all for a namesake)."""
        with self._core.lock:
            return frozenset(self._mbid_unknown)

    def set_mbid_unknown(self, mbid: str, unknown: bool = True) -> None:
        """Make a lookup by ``mbid`` answer 6 (False: find the artist by it again)."""
        with self._core.lock:
            if unknown:
                self._mbid_unknown.add(mbid.lower())
            else:
                self._mbid_unknown.discard(mbid.lower())

    @property
    def namesakes(self) -> tuple[str, ...]:
        """The catalog names that belong to another artist on Last.fm, sorted."""
        with self._core.lock:
            return tuple(sorted(self._by_name[key].name for key in self._namesakes))

    def set_namesake(self, name: str, namesake: bool = True) -> None:
        """Give the catalog artist ``name`` a namesake: a lookup by that name answers another artist with its own
        MBID, and the catalog artist's MBID is unknown (False: the name is the catalog artist's again, and its
        MBID known unless the hash or :meth:`set_mbid_unknown` says otherwise)."""
        key = normalise_name(name)
        artist = self._by_name.get(key)
        if artist is None:
            raise ValueError(f"no catalog artist named {name!r}")
        mbid = artist.musicbrainz["mbid"] if artist.musicbrainz else None
        with self._core.lock:
            if namesake:
                self._namesakes.add(key)
                if mbid:
                    self._mbid_unknown.add(mbid)
            else:
                self._namesakes.discard(key)
                if mbid and _fraction("mbid-unknown", mbid) >= MBID_UNKNOWN_SHARE:
                    self._mbid_unknown.discard(mbid)

    def namesake_mbid(self, name: str) -> str:
        """The MBID of the other artist a namesake's name answers with."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"lastfm-namesake:{normalise_name(name)}"))

    def figures(self, artist: CatalogArtist, day: date | None = None) -> tuple[int, int]:
        """``(listeners, playcount)`` the double answers for the catalog ``artist`` on ``day`` (default today)."""
        return lastfm_figures(artist.spotify_id, artist.followers, day or self._today())

    # -- answers ---------------------------------------------------------------------------------

    def _artist_json(self, name: str, mbid: str, key: str, followers: int | None, genres: Iterable[str]) -> Any:
        listeners, playcount = lastfm_figures(key, followers, self._today())
        url = f"https://www.last.fm/music/{quote_plus(name)}"
        return {
            "artist": {
                "name": name,
                "mbid": mbid,
                "url": url,
                "image": [{"#text": _PLACEHOLDER.format(size=px), "size": size} for size, px in _IMAGE_SIZES],
                "streamable": "0",
                "ontour": "0",
                "stats": {"listeners": str(listeners), "playcount": str(playcount)},
                "similar": {"artist": []},
                "tags": {
                    "tag": [{"name": g, "url": f"https://www.last.fm/tag/{quote_plus(g)}"} for g in list(genres)[:5]]
                },
                "bio": {
                    "links": {"link": {"#text": "", "rel": "original", "href": f"{url}/+wiki"}},
                    "published": "01 Jan 2026, 00:00",
                    "summary": f'{name}. <a href="{url}">Read more on Last.fm</a>',
                    "content": f"{name}.",
                },
            }
        }

    def _catalog_json(self, artist: CatalogArtist) -> Any:
        mbid = artist.musicbrainz["mbid"] if artist.musicbrainz else ""
        return self._artist_json(artist.name, mbid, artist.spotify_id, artist.followers, artist.genres or ())

    def _namesake_json(self, artist: CatalogArtist) -> Any:
        key = f"namesake:{artist.spotify_id}"
        followers = round((artist.followers or 100_000) * (0.05 + 0.3 * _fraction("namesake", key)))
        return self._artist_json(artist.name, self.namesake_mbid(artist.name), key, followers, ("electronic",))

    def _by_mbid(self, mbid: str) -> Any | None:
        mbid = mbid.strip().lower()
        with self._core.lock:
            unknown = mbid in self._mbid_unknown
            namesakes = set(self._namesakes)
        for key in namesakes:
            if self.namesake_mbid(key) == mbid:
                return self._namesake_json(self._by_name[key])
        artist = self._catalog.by_mbid.get(mbid)
        if artist is None or unknown:
            return None
        return self._catalog_json(artist)

    def _by_artist_name(self, name: str, autocorrect: bool) -> Any | None:
        key = normalise_name(name)
        artist = self._by_name.get(key)
        if artist is None:
            return None
        if not autocorrect and name.casefold() != artist.name.casefold():
            return None
        with self._core.lock:
            namesake = key in self._namesakes
        return self._namesake_json(artist) if namesake else self._catalog_json(artist)

    # -- route -----------------------------------------------------------------------------------

    async def _getinfo(self, request: Request) -> Response:
        params = request.query_params
        mbid = params.get("mbid", "")
        name = params.get("artist", "")

        async def answer() -> Response:
            with self._core.lock:
                accepted, suspended = self._api_key, self._suspended
            if params.get("api_key", "") != accepted or not accepted:
                return lastfm_error(10, 403)
            if suspended:
                return lastfm_error(26)
            if params.get("method", "").lower() != "artist.getinfo":
                return lastfm_error(3, 400)
            if not mbid.strip() and not name.strip():
                return lastfm_error(6, message=_MISSING_PARAMETER)
            if mbid.strip():
                found = self._by_mbid(mbid)
            else:
                found = self._by_artist_name(name, params.get("autocorrect", "0") == "1")
            return JSONResponse(found) if found is not None else lastfm_error(6)

        keys = [key for key in (mbid, name) if key]
        return await self._core.serve(LASTFM, request, keys, answer)


__all__ = [
    "LASTFM_DEMO_KEY",
    "LASTFM_ERRORS",
    "MBID_UNKNOWN_SHARE",
    "NAMESAKE_NAMES",
    "LastfmDouble",
    "lastfm_error",
    "lastfm_fault",
    "lastfm_figures",
]
