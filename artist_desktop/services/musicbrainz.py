"""MusicBrainz client: the artist behind a Spotify artist URL, with country, gender, type, area, life-span."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from pydantic import BaseModel, ConfigDict, Field

from artist_desktop import __version__
from artist_desktop.services.errors import NotFoundError, ServiceError
from artist_desktop.services.http import (
    RateGate,
    RetryPolicy,
    ServiceClient,
    parse_model,
    parse_retry_after,
    shared_gate,
)

#: MusicBrainz asks for at most one request per second per client.
MUSICBRAINZ_QUOTA = (1, 1.0)


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


class _RelatedArtist(BaseModel):
    id: str
    name: str = ""


class _Relation(BaseModel):
    target_type: str | None = Field(None, alias="target-type")
    artist: _RelatedArtist | None = None


class _UrlAnswer(BaseModel):
    relations: list[_Relation | None] | None = Field(default_factory=list)


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


def user_agent(contact: str, app_version: str = __version__) -> str:
    """The User-Agent MusicBrainz asks for: ``AppName/version ( contact )``."""
    return f"ArtistDesktop/{app_version} ( {contact} )"


class MusicBrainzClient(ServiceClient):
    """MusicBrainz lookups at 1 request/s (shared per host), identified by a proper User-Agent."""

    service = "MusicBrainz"

    def __init__(
        self,
        api_url: str = "https://musicbrainz.org/ws/2",
        contact: str = "https://github.com/artist-desktop/artist-desktop",
        app_version: str = __version__,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        gate: RateGate | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not contact.strip():
            raise ValueError("MusicBrainz needs a contact (URL or e-mail) in the User-Agent")
        super().__init__(
            api_url,
            http=http,
            timeout=timeout,
            user_agent=user_agent(contact, app_version),
            gate=gate if gate is not None else shared_gate(self.service, api_url, *MUSICBRAINZ_QUOTA),
            retry=retry,
        )

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
        """The artist MusicBrainz links to this Spotify artist URL; None when it knows no such link."""
        try:
            payload = await self._get_json("/url", {"resource": spotify_url, "inc": "artist-rels", "fmt": "json"})
        except NotFoundError:
            return None
        answer = parse_model(self.service, _UrlAnswer, payload, "a URL lookup")
        for relation in self._present(answer.relations, "URL relations"):
            if relation.artist is not None and relation.target_type in (None, "artist"):
                return await self.get_artist(relation.artist.id)
        return None

    async def get_artist(self, mbid: str) -> MusicBrainzArtist:
        """One artist by MBID; :class:`NotFoundError` when MusicBrainz has none."""
        payload = await self._get_json(
            f"/artist/{mbid}", {"fmt": "json"}, not_found=f"MusicBrainz has no artist with id {mbid}"
        )
        return parse_model(self.service, _Artist, payload, "an artist").to_artist()


__all__ = ["MUSICBRAINZ_QUOTA", "MusicBrainzArtist", "MusicBrainzClient", "user_agent"]
