"""MusicBrainz client: the artists behind Spotify artist URLs, with country, gender, type, area, life-span.

Lookups come one at a time or up to 100 per request (``shared/api-facts.md``): :meth:`~MusicBrainzClient.
artists_for_spotify_urls` repeats ``resource`` in one ``/url`` lookup (the answer lists the known URLs ordered
by URL, the unknown ones left out), and :meth:`~MusicBrainzClient.artists_by_mbid` asks the artist search for
``arid:(<mbid> OR ...)``. A URL's relation names its artist with type and country only; gender, area and
life-span come from the artist itself (:meth:`~MusicBrainzClient.get_artist` or the search).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field

from artist_desktop import __version__
from artist_desktop.services.errors import MissingCredentialsError, NotFoundError, ServiceError
from artist_desktop.services.http import (
    RateGate,
    RetryPolicy,
    ServiceClient,
    parse_model,
    parse_retry_after,
    shared_gate,
)
from artist_desktop.services.quotas import MUSICBRAINZ_QUOTA  # 1 request/s per IP (quotas.py has them all)

T = TypeVar("T")

#: The most ``resource`` parameters one URL lookup reads, and the largest search page: 100 artists a request.
MAX_BATCH = 100

_MBID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True, slots=True)
class MusicBrainzArtist:
    """The facts MusicBrainz keeps about an artist; any of them may be unknown (None)."""

    mbid: str
    name: str
    type: str | None = None
    gender: str | None = None
    country: str | None = None
    area: str | None = None
    life_span_begin: str | None = None
    life_span_end: str | None = None
    ended: bool = False
    disambiguation: str = ""
    #: True when only a URL's relation described the artist (id, name, type, country): its gender, area and
    #: life-span are then unknown here, not known to be empty (:meth:`MusicBrainzClient.artists_by_mbid`).
    partial: bool = False


class _RelatedArtist(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    name: str = ""
    type: str | None = None
    country: str | None = None
    disambiguation: str | None = None

    def to_artist(self) -> MusicBrainzArtist:
        return MusicBrainzArtist(
            mbid=self.id,
            name=self.name,
            type=self.type,
            country=self.country,
            disambiguation=self.disambiguation or "",
            partial=True,
        )


class _Relation(BaseModel):
    target_type: str | None = Field(None, alias="target-type")
    artist: _RelatedArtist | None = None


class _UrlAnswer(BaseModel):
    resource: str = ""
    relations: list[_Relation | None] | None = Field(default_factory=list)


class _UrlListAnswer(BaseModel):
    urls: list[_UrlAnswer | None] | None


class _Area(BaseModel):
    name: str | None = None


class _LifeSpan(BaseModel):
    begin: str | None = None
    end: str | None = None
    ended: bool | None = None


class _Artist(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    id: str
    name: str
    type: str | None = None
    gender: str | None = None
    country: str | None = None
    area: _Area | None = None
    life_span: _LifeSpan | None = Field(None, alias="life-span")
    disambiguation: str | None = None

    def to_artist(self) -> MusicBrainzArtist:
        span = self.life_span or _LifeSpan()
        return MusicBrainzArtist(
            mbid=self.id,
            name=self.name,
            type=self.type,
            gender=self.gender,
            country=self.country,
            area=self.area.name if self.area is not None else None,
            life_span_begin=span.begin,
            life_span_end=span.end,
            ended=bool(span.ended),
            disambiguation=self.disambiguation or "",
        )


class _SearchAnswer(BaseModel):
    artists: list[_Artist | None] | None


def _url_key(url: str) -> str:
    """A URL as MusicBrainz compares them: scheme and host in lower case, no trailing slash."""
    parts = urlsplit(url.strip())
    return parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()).geturl().rstrip("/")


def _chunks(items: list[str], size: int = MAX_BATCH) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


#: What a call says while no contact is set (the window asks for one on its first run).
NO_CONTACT = (
    "MusicBrainz asks who is calling: set your e-mail or URL as Contact in Settings (or ARTIST_DESKTOP_CONTACT)"
)


def user_agent(contact: str, app_version: str = __version__) -> str:
    """The User-Agent MusicBrainz asks for: ``AppName/version ( contact )``."""
    return f"ArtistDesktop/{app_version} ( {contact} )"


class MusicBrainzClient(ServiceClient):
    """MusicBrainz lookups at 1 request/s (shared per host), identified by a proper User-Agent."""

    service = "MusicBrainz"

    def __init__(
        self,
        api_url: str = "https://musicbrainz.org/ws/2",
        contact: str = "",
        app_version: str = __version__,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        gate: RateGate | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        #: The operator's e-mail or URL; empty: every call raises MissingCredentialsError before any request
        #: (MetaBrainz blocks anonymous and generic User-Agents, ``../shared/api-facts.md``).
        self.contact = contact.strip()
        super().__init__(
            api_url,
            http=http,
            timeout=timeout,
            user_agent=user_agent(contact, app_version),
            gate=gate if gate is not None else shared_gate(self.service, api_url, *MUSICBRAINZ_QUOTA),
            retry=retry,
        )

    async def _call(self, attempt: Callable[[], Awaitable[T]]) -> T:
        if not self.contact:
            raise MissingCredentialsError(self.service, NO_CONTACT)
        return await super()._call(attempt)

    def _error_for_status(self, response: httpx.Response, not_found: str | None) -> ServiceError | None:
        if response.status_code == 503:
            # MusicBrainz answers 503 when a client goes over 1 request/s; a long Retry-After is a block.
            return self._rate_limited(
                "MusicBrainz is refusing requests (over its 1 request/s limit, or busy)",
                503,
                parse_retry_after(response.headers.get("Retry-After")),
            )
        return super()._error_for_status(response, not_found)

    async def artist_for_spotify_url(self, spotify_url: str) -> MusicBrainzArtist | None:
        """The artist MusicBrainz links to this Spotify artist URL, with its details; None when it knows no
        such link. Two requests for a known URL (the lookup, then the artist), one for an unknown one."""
        found = (await self.artists_for_spotify_urls([spotify_url]))[spotify_url]
        if found is None or not found.partial:
            return found
        return await self.get_artist(found.mbid)

    async def artists_for_spotify_urls(self, spotify_urls: Iterable[str]) -> dict[str, MusicBrainzArtist | None]:
        """For each Spotify artist URL, the artist MusicBrainz links to it (None: no link), one request per 100
        URLs. The artists are :attr:`~MusicBrainzArtist.partial`: a relation gives id, name, type and country;
        :meth:`artists_by_mbid` adds gender, area and life-span."""
        urls = list(dict.fromkeys(spotify_urls))
        found: dict[str, MusicBrainzArtist | None] = dict.fromkeys(urls)
        for chunk in _chunks(urls):
            by_key = await self._lookup_urls(chunk)
            for url in chunk:
                found[url] = by_key.get(_url_key(url))
        return found

    async def _lookup_urls(self, urls: list[str]) -> dict[str, MusicBrainzArtist]:
        """One ``/url`` lookup of at most 100 URLs: the linked artist per URL key (unknown URLs left out)."""
        # httpx.QueryParams keeps the repeated ``resource`` (it is the Mapping the shared request path takes).
        params = httpx.QueryParams([*(("resource", url) for url in urls), ("inc", "artist-rels"), ("fmt", "json")])
        if len(urls) == 1:  # one resource: the single shape, and 404 for an unknown URL
            try:
                payload = await self._get_json("/url", params)
            except NotFoundError:
                return {}
            answers = [parse_model(self.service, _UrlAnswer, payload, "a URL lookup")]
        else:
            payload = await self._get_json("/url", params)
            listed = parse_model(self.service, _UrlListAnswer, payload, "a URL lookup")
            answers = self._present(listed.urls, "URL lookups")
        found: dict[str, MusicBrainzArtist] = {}
        for answer in answers:
            key = _url_key(urls[0] if len(urls) == 1 else answer.resource)
            for relation in self._present(answer.relations, "URL relations"):
                if relation.artist is not None and relation.target_type in (None, "artist"):
                    found.setdefault(key, relation.artist.to_artist())
        return found

    async def artists_by_mbid(self, mbids: Iterable[str]) -> dict[str, MusicBrainzArtist | None]:
        """For each MBID (keyed in lower case, as MusicBrainz writes them), the artist with country, gender, type,
        area and life-span (None: MusicBrainz has no such artist), one ``arid:`` search per 100 MBIDs.
        Raises ValueError for a string that is no MBID."""
        wanted = list(dict.fromkeys(mbid.lower() for mbid in mbids))
        bad = [mbid for mbid in wanted if not _MBID.match(mbid)]
        if bad:
            raise ValueError("not MusicBrainz ids: " + ", ".join(bad))
        found: dict[str, MusicBrainzArtist | None] = dict.fromkeys(wanted)
        for chunk in _chunks(wanted):
            query = "arid:(" + " OR ".join(chunk) + ")"
            payload = await self._get_json("/artist", {"query": query, "limit": MAX_BATCH, "fmt": "json"})
            answer = parse_model(self.service, _SearchAnswer, payload, "artist search results")
            for artist in self._present(answer.artists, "artist search results"):
                if artist.id in found:
                    found[artist.id] = artist.to_artist()
        return found

    async def get_artist(self, mbid: str) -> MusicBrainzArtist:
        """One artist by MBID; :class:`NotFoundError` when MusicBrainz has none."""
        payload = await self._get_json(
            f"/artist/{mbid}", {"fmt": "json"}, not_found=f"MusicBrainz has no artist with id {mbid}"
        )
        return parse_model(self.service, _Artist, payload, "an artist").to_artist()

    async def url_relations(self, mbid: str) -> dict[str, str]:
        """The artist's URL relations, relation type -> URL (``{"wikidata": "https://www.wikidata.org/wiki/Q2831",
        "last.fm": "https://www.last.fm/music/...", ...}``; the first URL of a type when it has several), from
        ``GET /artist/{mbid}?inc=url-rels`` (api-facts.md, "Artist details"). :class:`NotFoundError` when
        MusicBrainz has no such artist."""
        payload = await self._get_json(
            f"/artist/{mbid}", {"inc": "url-rels", "fmt": "json"}, not_found=f"MusicBrainz has no artist with id {mbid}"
        )
        answer = parse_model(self.service, _UrlRelations, payload, "an artist's URL relations")
        found: dict[str, str] = {}
        for relation in self._present(answer.relations, "URL relations"):
            if relation.type and relation.url is not None and relation.url.resource:
                found.setdefault(relation.type, relation.url.resource)
        return found


class _Url(BaseModel):
    resource: str = ""


class _UrlRelation(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str | None = None
    url: _Url | None = None


class _UrlRelations(BaseModel):
    model_config = ConfigDict(extra="ignore")
    relations: list[_UrlRelation | None] | None = Field(default_factory=list)


__all__ = ["MAX_BATCH", "MUSICBRAINZ_QUOTA", "MusicBrainzArtist", "MusicBrainzClient", "user_agent"]
