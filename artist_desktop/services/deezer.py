"""Deezer public API client: an artist's fan and album counts, artist search by name, and top tracks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from artist_desktop.services.errors import (
    NotFoundError,
    RateLimitedError,
    RequestError,
    ServiceError,
    ServiceUnavailableError,
)
from artist_desktop.services.http import RateGate, RetryPolicy, ServiceClient, parse_model, shared_gate
from artist_desktop.services.quotas import DEEZER_QUOTA  # 50 requests per 5 s per IP (quotas.py has them all)

#: Deezer's error code for "no data" (DataException): nothing under that id.
DEEZER_NO_DATA = 800
#: The one reason given for an artist whose ``nb_fan`` is not a usable count (results dialog, CLI, history).
FANS_NOT_AVAILABLE = "Fan count not available"


@dataclass(frozen=True, slots=True)
class DeezerArtist:
    """A Deezer artist. ``nb_fan`` is kept exactly as Deezer sent it (None when absent); use :attr:`fans`."""

    id: int
    name: str
    nb_fan: object = None
    nb_album: int | None = None
    link: str | None = None
    picture: str | None = None
    picture_small: str | None = None
    picture_medium: str | None = None
    picture_big: str | None = None
    picture_xl: str | None = None

    @property
    def fans(self) -> int | None:
        """The fan count, or None when ``nb_fan`` is not usable (say :data:`FANS_NOT_AVAILABLE` then).

        The one rule for every caller (import, Deezer-id matcher, refresh): a JSON integer >= 0. Source:
        Deezer documents ``nb_fan`` as an ``int`` (https://developers.deezer.com/api/artist). Anything
        else (a bool, a float, a string of digits from a rewriting proxy) is reported, not converted.
        """
        value = self.nb_fan
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return None
        return value


@dataclass(frozen=True, slots=True)
class DeezerTrack:
    """One of an artist's top tracks (``GET /artist/{id}/top``); ``rank`` is 1..1,000,000, higher = more popular.

    ``duration_s`` is in seconds; ``album_cover_url`` is the largest cover Deezer offers; ``preview`` is a 30 s
    MP3 URL. ``rank``, ``album_cover_url``, ``link`` and ``preview`` are None when Deezer sent none.
    """

    id: int
    title: str
    rank: int | None
    duration_s: int
    album_title: str
    album_cover_url: str | None
    link: str | None
    preview: str | None


class _Artist(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int
    name: str
    nb_album: int | None = None
    link: str | None = None
    picture: str | None = None
    picture_small: str | None = None
    picture_medium: str | None = None
    picture_big: str | None = None
    picture_xl: str | None = None


class _SearchAnswer(BaseModel):
    data: list[dict[str, Any] | None] | None


class _Album(BaseModel):
    model_config = ConfigDict(extra="ignore")
    title: str = ""
    cover: str | None = None
    cover_small: str | None = None
    cover_medium: str | None = None
    cover_big: str | None = None
    cover_xl: str | None = None

    @property
    def largest_cover(self) -> str | None:
        return self.cover_xl or self.cover_big or self.cover_medium or self.cover or self.cover_small or None


class _Track(BaseModel):
    """A track object; ids, ranks and durations arrive as numbers or digit strings (both accepted)."""

    model_config = ConfigDict(extra="ignore")
    id: int
    title: str
    rank: int | None = None
    duration: int = 0
    link: str | None = None
    preview: str | None = None
    album: _Album = Field(default_factory=_Album)

    def to_track(self) -> DeezerTrack:
        return DeezerTrack(
            id=self.id,
            title=self.title,
            rank=self.rank,
            duration_s=self.duration,
            album_title=self.album.title,
            album_cover_url=self.album.largest_cover,
            link=self.link or None,
            preview=self.preview or None,
        )


class _TopAnswer(BaseModel):
    data: list[_Track | None] | None = None


def _to_artist(service: str, raw: Any) -> DeezerArtist:
    wire = parse_model(service, _Artist, raw, "an artist")
    return DeezerArtist(
        id=wire.id,
        name=wire.name,
        nb_fan=raw.get("nb_fan"),
        nb_album=wire.nb_album,
        link=wire.link,
        picture=wire.picture,
        picture_small=wire.picture_small,
        picture_medium=wire.picture_medium,
        picture_big=wire.picture_big,
        picture_xl=wire.picture_xl,
    )


class DeezerClient(ServiceClient):
    """The Deezer subset the app uses, sharing one 50-per-5-s gate per Deezer host by default."""

    service = "Deezer"

    def __init__(
        self,
        api_url: str = "https://api.deezer.com",
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
            gate=gate if gate is not None else shared_gate(self.service, api_url, *DEEZER_QUOTA),
            retry=retry,
        )

    def _error_in_payload(self, payload: dict[str, Any], not_found: str | None) -> ServiceError | None:
        """Deezer answers errors with HTTP 200 and ``{"error": {"type", "message", "code"}}``."""
        error = payload.get("error")
        if not error:
            return None
        if not isinstance(error, dict):
            return RequestError(self.service, f"Deezer refused the request ({error})")
        code = error.get("code")
        message = str(error.get("message") or error.get("type") or "no details")
        status = code if isinstance(code, int) else None
        if code == 4:
            return RateLimitedError(self.service, "Deezer quota exceeded", status=status)
        if code == 700:
            return ServiceUnavailableError(self.service, f"Deezer is busy ({message})", status=status)
        if code == DEEZER_NO_DATA:
            return NotFoundError(self.service, not_found or f"Deezer has no data ({message})", status=status)
        return RequestError(self.service, f"Deezer refused the request: {message} (code {code})", status=status)

    async def get_artist(self, artist_id: int | str) -> DeezerArtist:
        """One artist with its fan and album counts; :class:`NotFoundError` for an unknown id."""
        payload = await self._get_json(f"/artist/{artist_id}", not_found=f"Deezer has no artist with id {artist_id}")
        return _to_artist(self.service, payload)

    async def search_artists(self, name: str, limit: int = 25) -> list[DeezerArtist]:
        """Artists whose name matches, in Deezer's order (most relevant first)."""
        if not name.strip():
            raise ValueError("the artist name to search for is empty")
        payload = await self._get_json("/search/artist", {"q": name, "index": 0, "limit": limit})
        answer = parse_model(self.service, _SearchAnswer, payload, "search results")
        return [_to_artist(self.service, raw) for raw in self._present(answer.data, "search results")]

    async def get_top_tracks(self, artist_id: int | str, limit: int = 10) -> list[DeezerTrack]:
        """The artist's most popular tracks, most popular first, at most ``limit`` (1-100; Deezer keeps ~100).

        ``GET /artist/{id}/top?limit=N``; this stands in for Spotify's top tracks, which Development Mode
        apps no longer get (api-facts.md). Deezer's code 800 "no data" gives ``[]``: Deezer answers it both
        for an artist without tracks and for an unknown id, so it cannot tell them apart (use
        :meth:`get_artist`, which raises :class:`NotFoundError`, to check an id). Null entries are skipped.
        """
        if not 1 <= limit <= 100:
            raise ValueError(f"limit must be 1-100 (got {limit})")
        try:
            payload = await self._get_json(f"/artist/{artist_id}/top", {"limit": limit})
        except NotFoundError as exc:
            if exc.status == DEEZER_NO_DATA:
                return []
            raise
        answer = parse_model(self.service, _TopAnswer, payload, "top tracks")
        return [track.to_track() for track in self._present(answer.data, "top tracks")][:limit]


__all__ = ["DEEZER_QUOTA", "FANS_NOT_AVAILABLE", "DeezerArtist", "DeezerClient", "DeezerTrack"]
