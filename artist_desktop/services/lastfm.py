"""Last.fm's ``artist.getInfo`` (listeners and playcount), with the API key, errors read from the body.

SKELETON: the Last.fm helper fills this module (issue 19). Shapes: ``../shared/api-facts.md``, "Last.fm".
"""

from __future__ import annotations

import httpx

from artist_desktop import __version__
from artist_desktop.services.http import RateGate, RetryPolicy, ServiceClient, shared_gate
from artist_desktop.services.musicbrainz import user_agent
from artist_desktop.services.quotas import LASTFM, LASTFM_QUOTA


class LastfmClient(ServiceClient):
    """Last.fm artist figures at 1 request/s."""

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
        self.api_key = api_key
        super().__init__(
            api_url,
            http=http,
            timeout=timeout,
            user_agent=user_agent(contact, app_version),
            gate=gate if gate is not None else shared_gate(self.service, api_url, *LASTFM_QUOTA),
            retry=retry,
        )
