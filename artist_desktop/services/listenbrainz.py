"""ListenBrainz's artist popularity (``POST /1/popularity/artist``, 1,000 MBIDs per request), token optional.

Shapes, auth and limits: ``../shared/api-facts.md``, "ListenBrainz".

- Request: ``POST {api_url}/1/popularity/artist`` with ``{"artist_mbids": [...]}``, at most :data:`MAX_MBIDS`
  per request (more are sent in several requests, one after another).
- Answer: a JSON array ``[{"artist_mbid", "total_listen_count", "total_user_count"}]``, documented to be in
  request order; the client matches the entries by ``artist_mbid`` anyway (lower-cased), so an answer in
  another order, or with an entry missing, still gives each artist its own counts. Counts are ``null`` for an
  artist ListenBrainz has no listens for: :class:`ListenBrainzPopularity` is then None.
- MBIDs are checked before anything is sent (:func:`parse_mbid`): one malformed MBID makes ListenBrainz answer
  400 for the whole request, so :meth:`ListenBrainzClient.artist_popularity` raises ValueError naming the bad
  ones and sends nothing; callers check each artist's MBID first and report the bad ones per artist.
- Auth: ``Authorization: Token <token>`` when the user set a token. A 401 is an
  :class:`~artist_desktop.services.errors.AuthenticationError`: :data:`TOKEN_REQUIRED` without a token
  (ListenBrainz required tokens 2026-07-02..08-01), :data:`TOKEN_REFUSED` with one.
- Rate: ~30 requests / 10 s per IP (the gate's quota), and every answer's ``X-RateLimit-Remaining`` /
  ``X-RateLimit-Reset-In``: when Remaining reaches 0 the client's gate closes for Reset-In seconds (at least
  1 s), so the next request waits there instead of being refused; a 429 is retried after
  max(Retry-After, Reset-In). Requests of one call are sequential, so the headers of one answer are read before
  the next request leaves; concurrent callers are kept apart by the shared gate's quota.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, RootModel

from artist_desktop import __version__
from artist_desktop.services.errors import AuthenticationError, ServiceError
from artist_desktop.services.http import (
    RateGate,
    RetryPolicy,
    ServiceClient,
    parse_model,
    parse_retry_after,
    shared_gate,
)
from artist_desktop.services.musicbrainz import user_agent
from artist_desktop.services.quotas import LISTENBRAINZ, LISTENBRAINZ_QUOTA

log = logging.getLogger(__name__)

#: The most MBIDs ListenBrainz reads in one popularity request (more: 400).
MAX_MBIDS = 1000
#: What a person reads when ListenBrainz answers 401 and no token is set.
TOKEN_REQUIRED = "ListenBrainz now asks for a token: add one in Settings"
#: What a person reads when ListenBrainz answers 401 to the token the user set.
TOKEN_REFUSED = "ListenBrainz refused the token: check it in Settings"

_MBID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def parse_mbid(text: str) -> str | None:
    """``text`` as a MusicBrainz id in ListenBrainz's form (a hyphenated UUID, lower case, no spaces around),
    or None when it is not one."""
    mbid = text.strip().lower()
    return mbid if _MBID.match(mbid) else None


@dataclass(frozen=True, slots=True)
class ListenBrainzPopularity:
    """An artist's all-time totals on ListenBrainz: ``listeners`` (``total_user_count``, distinct users) and
    ``listens`` (``total_listen_count``)."""

    listeners: int
    listens: int


class _Entry(BaseModel):
    model_config = ConfigDict(extra="ignore")
    artist_mbid: str
    total_listen_count: int | None = None
    total_user_count: int | None = None


class _Answer(RootModel[list[_Entry | None]]):
    pass


def _header_number(response: httpx.Response, name: str) -> float | None:
    value = response.headers.get(name)
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


class ListenBrainzClient(ServiceClient):
    """ListenBrainz listeners and listens of many artists at once."""

    service = LISTENBRAINZ

    def __init__(
        self,
        api_url: str = "https://api.listenbrainz.org",
        token: str = "",
        contact: str = "",
        app_version: str = __version__,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        gate: RateGate | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.token = token
        super().__init__(
            api_url,
            http=http,
            timeout=timeout,
            user_agent=user_agent(contact, app_version),
            gate=gate if gate is not None else shared_gate(self.service, api_url, *LISTENBRAINZ_QUOTA),
            retry=retry,
        )

    async def artist_popularity(self, mbids: Sequence[str]) -> dict[str, ListenBrainzPopularity | None]:
        """Listeners and listens of each MBID, keyed by the MBIDs as given (None: ListenBrainz has no counts
        for that artist, or left it out of its answer); one request per :data:`MAX_MBIDS` distinct MBIDs.

        Raises ValueError (before any request) when an MBID is malformed (:func:`parse_mbid`); a 401 is an
        AuthenticationError saying :data:`TOKEN_REQUIRED` or :data:`TOKEN_REFUSED`; other failures the
        :mod:`~artist_desktop.services.errors` of the shared policy (the figures of earlier chunks are lost then:
        call it per chunk to keep them).
        """
        canonical = {given: parse_mbid(given) for given in mbids}
        bad = [given for given, mbid in canonical.items() if mbid is None]
        if bad:
            raise ValueError("not MusicBrainz ids: " + ", ".join(repr(b) for b in bad))
        wanted = list(dict.fromkeys(mbid for mbid in canonical.values() if mbid is not None))
        found: dict[str, ListenBrainzPopularity | None] = {}
        for start in range(0, len(wanted), MAX_MBIDS):
            found.update(await self._popularity(wanted[start : start + MAX_MBIDS]))
        return {given: found.get(mbid) for given, mbid in canonical.items() if mbid is not None}

    async def _popularity(self, mbids: list[str]) -> dict[str, ListenBrainzPopularity | None]:
        """One request for at most :data:`MAX_MBIDS` canonical MBIDs."""
        headers = {"Authorization": f"Token {self.token}"} if self.token else None
        body = {"artist_mbids": mbids}
        payload = await self._call(
            lambda: self._request_json("POST", "/1/popularity/artist", headers=headers, json_body=body)
        )
        answer = parse_model(self.service, _Answer, payload, "artist popularity")
        found: dict[str, ListenBrainzPopularity | None] = dict.fromkeys(mbids)
        answered: set[str] = set()
        for entry in self._present(answer.root, "artist popularity"):
            mbid = entry.artist_mbid.strip().lower()
            if mbid not in found:
                continue
            answered.add(mbid)
            if entry.total_user_count is not None and entry.total_listen_count is not None:
                found[mbid] = ListenBrainzPopularity(entry.total_user_count, entry.total_listen_count)
        if len(answered) < len(mbids):
            log.warning("ListenBrainz left %d of %d artists out of its answer", len(mbids) - len(answered), len(mbids))
        return found

    def _decode(self, response: httpx.Response) -> Any:
        """ListenBrainz answers a JSON array (the base class expects an object)."""
        try:
            payload = response.json()
        except ValueError:
            return super()._decode(response)  # words the error
        if isinstance(payload, list):
            return payload
        return super()._decode(response)

    def _follow_rate_headers(self, response: httpx.Response) -> float | None:
        """Close the gate for ``X-RateLimit-Reset-In`` seconds (at least 1) when ``X-RateLimit-Remaining`` is 0;
        returns Reset-In (None when absent)."""
        reset_in = _header_number(response, "X-RateLimit-Reset-In")
        remaining = _header_number(response, "X-RateLimit-Remaining")
        if remaining is not None and remaining < 1:
            self._gate_for(response.request.url).close_for(
                max(1.0, reset_in or 0.0), "ListenBrainz rate limit reached (no requests left in its window)"
            )
        return reset_in

    def _error_for_status(self, response: httpx.Response, not_found: str | None) -> ServiceError | None:
        reset_in = self._follow_rate_headers(response)
        status = response.status_code
        if status == 429:
            waits = [w for w in (parse_retry_after(response.headers.get("Retry-After")), reset_in) if w is not None]
            return self._rate_limited("ListenBrainz rate limit reached", status, max(waits) if waits else None)
        if status == 401:
            message = TOKEN_REFUSED if self.token else TOKEN_REQUIRED
            return AuthenticationError(self.service, message, status=status)
        return super()._error_for_status(response, not_found)


__all__ = [
    "LISTENBRAINZ_QUOTA",
    "MAX_MBIDS",
    "TOKEN_REFUSED",
    "TOKEN_REQUIRED",
    "ListenBrainzClient",
    "ListenBrainzPopularity",
    "parse_mbid",
]
