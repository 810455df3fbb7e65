"""ListenBrainz's artist popularity (``POST /1/popularity/artist``, 1,000 MBIDs per request), token optional.

SKELETON: the ListenBrainz helper fills this module (issue 19). Shapes: ``../shared/api-facts.md``, "ListenBrainz".
"""

from __future__ import annotations

import httpx

from artist_desktop import __version__
from artist_desktop.services.http import RateGate, RetryPolicy, ServiceClient, shared_gate
from artist_desktop.services.musicbrainz import user_agent
from artist_desktop.services.quotas import LISTENBRAINZ, LISTENBRAINZ_QUOTA


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
