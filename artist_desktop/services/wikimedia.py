"""Wikidata's ``wbgetentities`` (item -> English Wikipedia title) and Wikimedia's daily pageviews, keyless clients.

SKELETON: the Wikipedia helper fills this module (issue 19). Shapes: ``../shared/api-facts.md``, "Wikimedia".
"""

from __future__ import annotations

import httpx

from artist_desktop import __version__
from artist_desktop.services.http import RateGate, RetryPolicy, ServiceClient, shared_gate
from artist_desktop.services.musicbrainz import user_agent
from artist_desktop.services.quotas import WIKIDATA, WIKIDATA_QUOTA, WIKIMEDIA, WIKIMEDIA_QUOTA


class WikidataClient(ServiceClient):
    """Wikidata items' English Wikipedia titles, 50 items per request."""

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


class WikimediaClient(ServiceClient):
    """Daily pageviews of English Wikipedia articles."""

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
