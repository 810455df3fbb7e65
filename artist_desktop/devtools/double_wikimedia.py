"""Wikidata's wbgetentities and Wikimedia's per-article daily pageviews as the API double speaks them.

Routes (``../shared/api-facts.md``, "Wikimedia pageviews and Wikidata"; the Wikidata action API and the
Wikimedia REST API's own documentation):

- ``GET /wikidata/w/api.php?action=wbgetentities&ids=Q1|Q2|...&props=sitelinks&sitefilter=enwiki&format=json``
  -> ``{"entities": {"Q2831": {"type": "item", "id", "sitelinks": {"enwiki": {"site", "title", "badges"}}}},
  "success": 1}``; an item without an English article has ``"sitelinks": {}``, an unknown item is
  ``{"id", "missing": ""}``. Errors come with HTTP 200 as ``{"error": {"code", "info"}}``: ``toomanyvalues``
  past 50 ids, ``no-such-entity`` for an id that is no item id, ``param-missing`` without ``ids``,
  ``badvalue`` for another ``action``. ``format`` other than ``json``: 400.
- ``GET /wikimedia/api/rest_v1/metrics/pageviews/per-article/en.wikipedia/all-access/user/{title}/daily/
  {YYYYMMDD}/{YYYYMMDD}`` -> ``{"items": [{"project": "en.wikipedia", "article": "Title_with_underscores",
  "granularity": "daily", "timestamp": "YYYYMMDD00", "access": "all-access", "agent": "user", "views"}]}``,
  one item per day **with views** (days with none are left out), from 2015-07-01 and up to the day before
  :meth:`WikimediaDouble.today` (day D is complete on D+1). A range with no item at all (an unknown title, an
  article nobody read, days not yet complete): 404 ``{"type", "title": "Not found.", "method", "detail",
  "uri"}``. A start after the end, or a date that is no ``YYYYMMDD[HH]``: 400 in the same shape. The title
  may use spaces or underscores and is percent-decoded (``AC%2FDC``).

Which artists have an item and an English article, and the views of each day, come from
:mod:`artist_desktop.devtools._catalog` (:func:`~artist_desktop.devtools._catalog.wikidata_id`,
:func:`~artist_desktop.devtools._catalog.enwiki_title`, :func:`~artist_desktop.devtools._catalog.daily_pageviews`),
the rule the MusicBrainz double's ``url-rels`` follow too.

Both hosts answer 403 (plain text, as Wikimedia's edge does) to a missing or generic User-Agent (``python-...``,
``curl/...``, no ``/``, or an empty contact ``( )``), the MusicBrainz double's rule. Their rates are the core's
windows (``DoubleConfig.wikidata_rate`` / ``wikimedia_rate``, 200 per minute): past them 429 with Retry-After.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from artist_desktop.devtools._catalog import (
    PAGEVIEWS_FIRST_DAY,
    Catalog,
    CatalogArtist,
    daily_pageviews,
    enwiki_title,
    wikidata_id,
)
from artist_desktop.devtools.double_core import PREFIXES, WIKIDATA, WIKIMEDIA, Answer, DoubleCore

#: The most ids one ``wbgetentities`` request takes (``toomanyvalues`` past it).
MAX_IDS = 50
#: Where the per-article daily route lives below ``/wikimedia``.
PER_ARTICLE = "/api/rest_v1/metrics/pageviews/per-article/en.wikipedia/all-access/user"

_ITEM_ID = re.compile(r"^Q[1-9][0-9]*$")
_TIMESTAMP = re.compile(r"^(\d{8})(\d{2})?$")
_EMPTY_CONTACT = re.compile(r"\(\s*\)")
_BLOCKED = (
    "Please set a user-agent and respect our robot policy https://w.wiki/4wJS. "
    "See also https://phabricator.wikimedia.org/T400119."
)


def _generic_agent(agent: str) -> bool:
    """A User-Agent Wikimedia blocks: none, a library's default, no product/version, or an empty contact."""
    return (
        not agent
        or agent.lower().startswith(("python-", "curl/"))
        or "/" not in agent
        or _EMPTY_CONTACT.search(agent) is not None
    )


def _rest_error(request: Request, status: int, title: str, detail: str) -> Response:
    """The Wikimedia REST API's error body (``{"type", "title", "method", "detail", "uri"}``)."""
    kind = "not_found" if status == 404 else "invalid_request"
    return JSONResponse(
        {
            "type": f"https://mediawiki.org/wiki/HyperSwitch/errors/{kind}",
            "title": title,
            "method": "get",
            "detail": detail,
            "uri": request.url.path,
        },
        status,
    )


def _api_error(code: str, info: str) -> Response:
    """The action API's error: HTTP 200 with ``{"error": {"code", "info"}}``."""
    return JSONResponse({"error": {"code": code, "info": info, "*": "See https://www.wikidata.org/w/api.php"}})


def _parse_day(value: str) -> date | None:
    match = _TIMESTAMP.match(value)
    if match is None:
        return None
    try:
        return datetime.strptime(match[1], "%Y%m%d").date()
    except ValueError:
        return None


def _utc_today() -> date:
    return datetime.now(UTC).date()


class WikimediaDouble:
    """Wikidata (``/wikidata/w/api.php``) and Wikimedia pageviews (``/wikimedia/api/rest_v1/...``), with their
    knob :meth:`set_today` (guarded by the core's lock; tests reach it as ``double.wikimedia``)."""

    def __init__(self, core: DoubleCore, catalog: Catalog) -> None:
        self._core = core
        self._catalog = catalog
        self._today: date | None = None
        self._items: dict[str, CatalogArtist] = {}
        self._titles: dict[str, CatalogArtist] = {}
        for artist in catalog.artists:
            qid = wikidata_id(artist)
            if qid is not None:
                self._items[qid] = artist
            title = enwiki_title(artist)
            if title is not None:
                self._titles[title] = artist

    def routes(self) -> list[Route]:
        return [
            Route(f"{PREFIXES[WIKIDATA]}/w/api.php", self._wbgetentities),
            Route(
                f"{PREFIXES[WIKIMEDIA]}{PER_ARTICLE}/{{title:path}}/daily/{{start}}/{{end}}",
                self._per_article,
            ),
        ]

    # -- knobs -------------------------------------------------------------------------------------

    def set_today(self, day: date | None) -> None:
        """Answer as if it were ``day`` (UTC): pageviews up to the day before it. None: the real UTC clock."""
        with self._core.lock:
            self._today = day

    def today(self) -> date:
        """The UTC day the double answers as (:meth:`set_today`, else the real one)."""
        with self._core.lock:
            return self._today if self._today is not None else _utc_today()

    def views(self, title: str, day: date) -> int:
        """The views the double reports for ``title`` (spaces or underscores) on ``day``: 0 for an unknown
        title, before 2015-07-01, and from :meth:`today` on (not yet complete)."""
        artist = self._titles.get(title.replace("_", " "))
        if artist is None or day >= self.today():
            return 0
        return daily_pageviews(artist.followers, title.replace("_", " "), day)

    # -- routes ------------------------------------------------------------------------------------

    async def _serve(self, service: str, request: Request, keys: Iterable[str], answer: Answer) -> Response:
        async def checked() -> Response:
            if _generic_agent(request.headers.get("user-agent", "")):
                return PlainTextResponse(_BLOCKED, 403)
            return await answer()

        return await self._core.serve(service, request, keys, checked)

    def _entity(self, qid: str) -> dict[str, Any]:
        artist = self._items.get(qid)
        if artist is None:
            return {"id": qid, "missing": ""}
        title = enwiki_title(artist)
        sitelinks = {"enwiki": {"site": "enwiki", "title": title, "badges": []}} if title is not None else {}
        return {"type": "item", "id": qid, "sitelinks": sitelinks}

    async def _wbgetentities(self, request: Request) -> Response:
        params = request.query_params
        ids = [part.strip() for part in params.get("ids", "").split("|") if part.strip()]

        async def answer() -> Response:
            if params.get("format") != "json":
                return PlainTextResponse("this double only answers format=json", 400)
            if params.get("action") != "wbgetentities":
                return _api_error("badvalue", f'Unrecognized value for parameter "action": {params.get("action")}.')
            if not ids:
                return _api_error("param-missing", 'Either provide the item "ids" or pairs of "sites" and "titles".')
            if len(ids) > MAX_IDS:
                return _api_error(
                    "toomanyvalues", f'Too many values supplied for parameter "ids". The limit is {MAX_IDS}.'
                )
            wanted = list(dict.fromkeys(part.upper() for part in ids))
            bad = next((qid for qid in wanted if not _ITEM_ID.match(qid)), None)
            if bad is not None:
                return _api_error("no-such-entity", f'Could not find an entity with the ID "{bad}".')
            return JSONResponse({"entities": {qid: self._entity(qid) for qid in wanted}, "success": 1})

        return await self._serve(WIKIDATA, request, ids, answer)

    async def _per_article(self, request: Request) -> Response:
        title = str(request.path_params["title"]).replace("_", " ")
        start, end = request.path_params["start"], request.path_params["end"]

        async def answer() -> Response:
            first, last = _parse_day(start), _parse_day(end)
            if first is None or last is None:
                bad = start if first is None else end
                return _rest_error(
                    request, 400, "Invalid parameters", f"{bad} is no valid date: use the YYYYMMDD or YYYYMMDDHH format"
                )
            if first > last:
                return _rest_error(
                    request, 400, "Invalid parameters", "start timestamp should be before the end timestamp"
                )
            items = self._items_for(title, max(first, PAGEVIEWS_FIRST_DAY), min(last, self.today() - timedelta(days=1)))
            if not items:
                return _rest_error(
                    request,
                    404,
                    "Not found.",
                    "The date(s) you used are valid, but we either do not have data for those date(s), or the "
                    "project you asked for is not loaded yet. Please check documentation for more information.",
                )
            return JSONResponse({"items": items})

        return await self._serve(WIKIMEDIA, request, (title, title.replace(" ", "_")), answer)

    def _items_for(self, title: str, first: date, last: date) -> list[dict[str, Any]]:
        artist = self._titles.get(title)
        if artist is None:
            return []
        article = title.replace(" ", "_")
        items = []
        day = first
        while day <= last:
            views = daily_pageviews(artist.followers, title, day)
            if views > 0:  # Wikimedia leaves out the days nobody read the article
                items.append(
                    {
                        "project": "en.wikipedia",
                        "article": article,
                        "granularity": "daily",
                        "timestamp": f"{day:%Y%m%d}00",
                        "access": "all-access",
                        "agent": "user",
                        "views": views,
                    }
                )
            day += timedelta(days=1)
        return items


__all__ = ["MAX_IDS", "PER_ARTICLE", "WikimediaDouble"]
