"""Last.fm's ``artist.getInfo`` (listeners and playcount), with the API key, errors read from the body.

``GET {api_url}/2.0/?method=artist.getinfo&mbid=<mbid>|artist=<name>&autocorrect=1&api_key=K&format=json``
answers ``{"artist": {"name", "mbid", "url", "stats": {"listeners": "1688480", "playcount": "135692303"}, ...}}``:
the numbers are JSON **strings**, ``mbid`` may be ``""`` or missing, the images are placeholders (never read).
Source: ``../shared/api-facts.md``, "Last.fm".

Errors come in the body ``{"error": <int>, "message"}``, often with HTTP 200, so every answer's body is read,
whatever its status. Each code becomes one of :mod:`artist_desktop.services.errors` (``status`` is then the
Last.fm code, as Deezer's client does with its codes)::

    6           NotFoundError            no such artist (also "missing parameter")
    10          AuthenticationError      invalid API key (sent with HTTP 403)
    26          AuthenticationError      suspended API key
    29          RateLimitedError         rate limit (sent with HTTP 429 and Retry-After): retried, gate closed
    8, 11, 16   ServiceUnavailableError  operation failed / service offline / temporary error: retried
    any other   RequestError             a bad request (a bug here): not retried

No API key at all raises :class:`MissingCredentialsError` before any request. Last.fm publishes no limit: the
client keeps 1 request/s (``quotas.LASTFM_QUOTA``) with backoff, as api-facts.md plans.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt

from artist_desktop import __version__
from artist_desktop.services.errors import (
    AuthenticationError,
    MissingCredentialsError,
    NotFoundError,
    RequestError,
    ServiceError,
    ServiceUnavailableError,
)
from artist_desktop.services.http import (
    RateGate,
    RetryPolicy,
    ServiceClient,
    parse_model,
    parse_retry_after,
    shared_gate,
)
from artist_desktop.services.musicbrainz import user_agent
from artist_desktop.services.quotas import LASTFM, LASTFM_QUOTA

#: Last.fm's error codes the client tells apart (https://www.last.fm/api/errorcodes, api-facts.md).
LASTFM_NOT_FOUND = 6
LASTFM_INVALID_KEY = 10
LASTFM_SUSPENDED_KEY = 26
LASTFM_RATE_LIMITED = 29
#: "Operation failed", "Service offline", "Temporary error": a state that passes, retried with backoff.
LASTFM_TRANSIENT = frozenset({8, 11, 16})
#: The contact sent when none is configured (the settings' default).
DEFAULT_CONTACT = "https://github.com/artist-desktop/artist-desktop"


@dataclass(frozen=True, slots=True)
class LastfmArtist:
    """One ``artist.getInfo`` answer: ``name`` as Last.fm spells it (the id the app stores), ``mbid`` (None
    when Last.fm sent none or ``""``), the artist's page ``url``, and the all-time ``listeners`` and
    ``playcount`` (counts of people and of scrobbles)."""

    name: str
    mbid: str | None
    url: str
    listeners: int
    playcount: int


class _Stats(BaseModel):
    model_config = ConfigDict(extra="ignore")
    listeners: NonNegativeInt  # a digit string on the wire ("1688480"): pydantic's lax mode reads it
    playcount: NonNegativeInt


class _Artist(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1)
    mbid: str | None = None
    url: str = ""
    stats: _Stats


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    artist: _Artist


class LastfmClient(ServiceClient):
    """Last.fm artist figures at 1 request/s (one in-process gate per host by default)."""

    service = LASTFM

    def __init__(
        self,
        api_url: str = "https://ws.audioscrobbler.com",
        api_key: str = "",
        contact: str = "",
        app_version: str = __version__,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        gate: RateGate | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.api_key = api_key.strip()
        super().__init__(
            api_url,
            http=http,
            timeout=timeout,
            user_agent=user_agent(contact.strip() or DEFAULT_CONTACT, app_version),
            gate=gate if gate is not None else shared_gate(self.service, api_url, *LASTFM_QUOTA),
            retry=retry,
        )

    async def artist_info(
        self, *, mbid: str | None = None, name: str | None = None, autocorrect: bool = True
    ) -> LastfmArtist:
        """``artist.getInfo`` by ``mbid`` or by ``name`` (exactly one), with Last.fm's ``autocorrect`` (it fixes
        the case and spacing of a name and follows Last.fm's redirects).

        Raises :class:`MissingCredentialsError` (no key: nothing sent), :class:`NotFoundError` (code 6),
        :class:`AuthenticationError` (codes 10 and 26: ``status`` says which), :class:`RateLimitedError` or
        :class:`ServiceUnavailableError` once the retries ran out, :class:`BadResponseError` for an answer
        without the documented fields, ``ValueError`` for a call without exactly one of ``mbid``/``name``.
        """
        if (mbid is None) == (name is None):
            raise ValueError("artist_info needs exactly one of mbid= or name=")
        wanted = (mbid if mbid is not None else name or "").strip()
        if not wanted:
            raise ValueError("the MBID or name to look up is empty")
        if not self.api_key:
            raise MissingCredentialsError(self.service, "No Last.fm API key is configured: add one in Settings")
        params: dict[str, str | int] = {"method": "artist.getinfo"}
        if mbid is not None:
            params["mbid"] = wanted
            not_found = f"Last.fm has no artist with MBID {wanted}"
        else:
            params["artist"] = wanted
            not_found = f"Last.fm has no artist named {wanted!r}"
        params.update({"autocorrect": 1 if autocorrect else 0, "api_key": self.api_key, "format": "json"})
        payload = await self._get_json("/2.0/", params, not_found=not_found)
        wire = parse_model(self.service, _Answer, payload, "artist info").artist
        return LastfmArtist(
            name=wire.name,
            mbid=(wire.mbid or "").strip() or None,
            url=wire.url,
            listeners=wire.stats.listeners,
            playcount=wire.stats.playcount,
        )

    # -- errors: always from the body ------------------------------------------------------------

    def _lastfm_error(self, code: int, message: str, not_found: str | None, retry_after: float | None) -> ServiceError:
        """The typed error for Last.fm's ``code`` (see the module docstring)."""
        service = self.service
        if code == LASTFM_NOT_FOUND:
            return NotFoundError(service, not_found or f"Last.fm found nothing ({message})", status=code)
        if code == LASTFM_INVALID_KEY:
            return AuthenticationError(service, f"Last.fm rejects the API key ({message})", status=code)
        if code == LASTFM_SUSPENDED_KEY:
            return AuthenticationError(service, f"Last.fm suspended the API key ({message})", status=code)
        if code == LASTFM_RATE_LIMITED:
            return self._rate_limited("Last.fm rate limit reached", code, retry_after)
        if code in LASTFM_TRANSIENT:
            return ServiceUnavailableError(
                service, f"Last.fm is unavailable ({message}, code {code})", status=code, retry_after=retry_after
            )
        return RequestError(service, f"Last.fm refused the request: {message} (code {code})", status=code)

    @staticmethod
    def _body_error(body: Any) -> tuple[int, str] | None:
        """``(code, message)`` of a body ``{"error": <int>, "message"}``, else None."""
        if not isinstance(body, dict):
            return None
        code = body.get("error")
        if isinstance(code, bool) or not isinstance(code, int):
            return None
        return code, str(body.get("message") or "no details")

    def _error_for_status(self, response: httpx.Response, not_found: str | None) -> ServiceError | None:
        """An HTTP error whose body carries Last.fm's code (403 with 10, 429 with 29) is read by the code."""
        if response.status_code < 400:
            return None
        try:
            found = self._body_error(response.json())
        except ValueError:
            found = None
        if found is None:
            return super()._error_for_status(response, not_found)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return self._lastfm_error(*found, not_found, retry_after)

    def _error_in_payload(self, payload: dict[str, Any], not_found: str | None) -> ServiceError | None:
        """Last.fm's errors sent with HTTP 200."""
        found = self._body_error(payload)
        return self._lastfm_error(*found, not_found, None) if found is not None else None


__all__ = [
    "LASTFM_INVALID_KEY",
    "LASTFM_NOT_FOUND",
    "LASTFM_RATE_LIMITED",
    "LASTFM_SUSPENDED_KEY",
    "LASTFM_TRANSIENT",
    "LastfmArtist",
    "LastfmClient",
]
