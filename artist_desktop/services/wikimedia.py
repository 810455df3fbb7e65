"""Wikidata's ``wbgetentities`` (item -> English Wikipedia title) and Wikimedia's daily pageviews, keyless clients.

Shapes and rules: ``../shared/api-facts.md``, "Wikimedia pageviews and Wikidata".

- :class:`WikidataClient`: ``GET /w/api.php?action=wbgetentities&ids=Q1|Q2|...&props=sitelinks&sitefilter=enwiki
  &format=json``, at most :data:`MAX_IDS` (50) ids a request. Errors come with HTTP 200 as ``{"error": {"code",
  "info"}}`` (``toomanyvalues`` past 50 ids: never sent by this client, which splits the ids).
- :class:`WikimediaClient`: ``GET /api/rest_v1/metrics/pageviews/per-article/en.wikipedia/all-access/user/
  {Title_with_underscores}/daily/{YYYYMMDD}/{YYYYMMDD}``; days nobody read the article are left out of the
  answer (zero views), a range without any data answers 404.

Both want an identified User-Agent, ``ArtistDesktop/<version> ( <contact> )`` from the ``contact`` setting: an
empty contact is refused before any request (:class:`~artist_desktop.services.errors.MissingCredentialsError`),
and the 403 Wikimedia answers a generic one is an
:class:`~artist_desktop.services.errors.AuthenticationError` saying to set the contact. A 429 closes the host's
gate for its Retry-After and is retried (:class:`~artist_desktop.services.http.RetryPolicy`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict

from artist_desktop import __version__
from artist_desktop.services.errors import (
    AuthenticationError,
    MissingCredentialsError,
    RateLimitedError,
    RequestError,
    ServiceError,
    ServiceUnavailableError,
)
from artist_desktop.services.http import RateGate, RetryPolicy, ServiceClient, parse_model, shared_gate
from artist_desktop.services.musicbrainz import user_agent
from artist_desktop.services.quotas import WIKIDATA, WIKIDATA_QUOTA, WIKIMEDIA, WIKIMEDIA_QUOTA

#: The most ids one ``wbgetentities`` request takes (Wikidata answers ``toomanyvalues`` past it).
MAX_IDS = 50
#: The first day the pageviews API has data for.
PAGEVIEWS_START = date(2015, 7, 1)
#: A Wikidata item id: ``Q`` and a number.
ITEM_ID = re.compile(r"^Q[1-9][0-9]*$")

_PER_ARTICLE = "/api/rest_v1/metrics/pageviews/per-article/en.wikipedia/all-access/user"
_NO_CONTACT = "{service} needs a contact (your e-mail or URL) in the User-Agent: set one in Settings: Contact"
_REFUSED = (
    "{service} refused the User-Agent {agent!r} (HTTP {status}): it blocks generic ones; set your e-mail or URL "
    "in Settings: Contact"
)


def _refusal(client: ServiceClient, response: httpx.Response) -> ServiceError | None:
    """The 403 a blocked User-Agent gets, in words for a person (None for any other answer)."""
    if response.status_code != 403:
        return None
    message = _REFUSED.format(service=client.service, agent=client.user_agent, status=403)
    return AuthenticationError(client.service, message, status=403)


def _check_contact(service: str, contact: str) -> None:
    if not contact.strip():
        raise MissingCredentialsError(service, _NO_CONTACT.format(service=service))


def _chunks(items: list[str], size: int = MAX_IDS) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Sitelink(BaseModel):
    model_config = ConfigDict(extra="ignore")
    title: str


class _Entity(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str | None = None
    missing: str | None = None
    sitelinks: dict[str, _Sitelink | None] | None = None


class _Entities(BaseModel):
    model_config = ConfigDict(extra="ignore")
    entities: dict[str, _Entity | None]


class _Item(BaseModel):
    model_config = ConfigDict(extra="ignore")
    timestamp: str
    views: int


class _Items(BaseModel):
    model_config = ConfigDict(extra="ignore")
    items: list[_Item | None] | None


class WikidataClient(ServiceClient):
    """Wikidata items' English Wikipedia titles, 50 items per request (200 requests/min, shared per host)."""

    service = WIKIDATA

    def __init__(
        self,
        api_url: str = "https://www.wikidata.org",
        contact: str = "",
        app_version: str = __version__,
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
            user_agent=user_agent(contact, app_version),
            gate=gate if gate is not None else shared_gate(self.service, api_url, *WIKIDATA_QUOTA),
            retry=retry,
        )
        self.contact = contact

    def _error_for_status(self, response: httpx.Response, not_found: str | None) -> ServiceError | None:
        return _refusal(self, response) or super()._error_for_status(response, not_found)

    def _error_detail(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return super()._error_detail(response)
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("info"):
            return str(error["info"])
        return super()._error_detail(response)

    def _error_in_payload(self, payload: dict[str, Any], not_found: str | None) -> ServiceError | None:
        """The action API's errors come with HTTP 200: ``{"error": {"code", "info"}}``."""
        error = payload.get("error")
        if not error:
            return None
        code = str(error.get("code", "")) if isinstance(error, dict) else str(error)
        info = str(error.get("info") or code) if isinstance(error, dict) else str(error)
        if code == "ratelimited":
            return RateLimitedError(self.service, f"Wikidata rate limit reached ({info})", status=429)
        if code in ("maxlag", "readonly", "internal_api_error_DBQueryError"):
            return ServiceUnavailableError(self.service, f"Wikidata is busy ({info})")
        return RequestError(self.service, f"Wikidata refused the request: {info} ({code})")

    async def enwiki_titles(self, qids: Iterable[str]) -> dict[str, str | None]:
        """For each Wikidata item id (``Q2831``; keyed in upper case, each once), the title of its English
        Wikipedia article (``"Michael Jackson"``, with spaces), or None when the item is missing or has no English
        article. One request per 50 ids. Raises ValueError for a string that is no item id,
        :class:`MissingCredentialsError` without a contact, :class:`AuthenticationError` when Wikidata blocks the
        User-Agent, and the other :class:`ServiceError` of the request."""
        wanted = list(dict.fromkeys(qid.strip().upper() for qid in qids))
        bad = [qid for qid in wanted if not ITEM_ID.match(qid)]
        if bad:
            raise ValueError("not Wikidata item ids: " + ", ".join(bad))
        if not wanted:
            return {}
        _check_contact(self.service, self.contact)
        titles: dict[str, str | None] = dict.fromkeys(wanted)
        for chunk in _chunks(wanted):
            params = {
                "action": "wbgetentities",
                "ids": "|".join(chunk),
                "props": "sitelinks",
                "sitefilter": "enwiki",
                "format": "json",
            }
            payload = await self._get_json("/w/api.php", params)
            answer = parse_model(self.service, _Entities, payload, "items")
            for key, entity in answer.entities.items():
                qid = (entity.id if entity is not None and entity.id else key).upper()
                if qid not in titles or entity is None or entity.missing is not None:
                    continue
                link = (entity.sitelinks or {}).get("enwiki")
                titles[qid] = link.title if link is not None and link.title else None
        return titles


@dataclass(frozen=True, slots=True)
class Pageviews:
    """One article's daily user views over ``first``..``last`` (UTC days, both included).

    ``views`` has every day of the range, in order: a day the answer left out had no views (0).
    ``reported`` is the latest day the answer listed (None: no day had views): a day after it may also be a
    day not yet complete at Wikimedia (day D is complete early on D+1), which the zeros cannot tell apart.
    """

    title: str
    first: date
    last: date
    views: dict[date, int] = field(default_factory=dict)
    reported: date | None = None


class WikimediaClient(ServiceClient):
    """Daily pageviews of English Wikipedia articles (200 requests/min, shared per host)."""

    service = WIKIMEDIA

    def __init__(
        self,
        api_url: str = "https://wikimedia.org",
        contact: str = "",
        app_version: str = __version__,
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
            user_agent=user_agent(contact, app_version),
            gate=gate if gate is not None else shared_gate(self.service, api_url, *WIKIMEDIA_QUOTA),
            retry=retry,
        )
        self.contact = contact

    def _error_for_status(self, response: httpx.Response, not_found: str | None) -> ServiceError | None:
        return _refusal(self, response) or super()._error_for_status(response, not_found)

    def _error_detail(self, response: httpx.Response) -> str:
        """The REST API's errors are ``{"type", "title", "detail", ...}``."""
        try:
            body = response.json()
        except ValueError:
            return super()._error_detail(response)
        if isinstance(body, dict) and (body.get("detail") or body.get("title")):
            return str(body.get("detail") or body.get("title"))
        return super()._error_detail(response)

    @staticmethod
    def article_path(title: str) -> str:
        """``title`` as the pageviews API wants it in the path: underscores for spaces, percent-quoted
        (``AC/DC`` -> ``AC%2FDC``)."""
        return quote(title.strip().replace(" ", "_"), safe="")

    async def pageviews(self, title: str, first: date, last: date) -> Pageviews:
        """The daily user views of the English article ``title`` (spaces or underscores) from ``first`` to
        ``last`` (UTC days, both included), in one request: see :class:`Pageviews`.

        Raises ValueError when ``first`` is after ``last`` or the title is empty, :class:`NotFoundError` when
        Wikimedia has no data at all for the range (an unknown title, an article nobody read, days before
        2015-07-01 or not yet complete), :class:`MissingCredentialsError` without a contact,
        :class:`AuthenticationError` when Wikimedia blocks the User-Agent, and the other :class:`ServiceError`.
        """
        if not title.strip():
            raise ValueError("the article title is empty")
        if first > last:
            raise ValueError(f"the first day {first} is after the last {last}")
        _check_contact(self.service, self.contact)
        path = f"{_PER_ARTICLE}/{self.article_path(title)}/daily/{first:%Y%m%d}/{last:%Y%m%d}"
        payload = await self._get_json(
            path, not_found=f"Wikipedia has no pageviews for {title!r} from {first} to {last}"
        )
        answer = parse_model(self.service, _Items, payload, "pageviews")
        views = {first + timedelta(days=n): 0 for n in range((last - first).days + 1)}
        reported: date | None = None
        for item in self._present(answer.items, "pageviews"):
            try:
                day = datetime.strptime(item.timestamp[:8], "%Y%m%d").date()
            except ValueError:
                continue
            if day in views:
                views[day] = item.views
                reported = day if reported is None or day > reported else reported
        return Pageviews(title, first, last, views, reported)

    async def daily_pageviews(self, title: str, first: date, last: date) -> dict[date, int]:
        """Views per UTC day of the English article ``title``, every day from ``first`` to ``last`` present (0 for
        the days Wikimedia left out); the errors of :meth:`pageviews`."""
        return (await self.pageviews(title, first, last)).views


__all__ = ["ITEM_ID", "MAX_IDS", "PAGEVIEWS_START", "Pageviews", "WikidataClient", "WikimediaClient"]
