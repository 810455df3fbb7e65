"""The request quotas of every remote service, in one table keyed by the service's name.

A quota is ``limit`` requests in any ``period`` seconds, counted per IP address by the service, so every
process on one machine shares it (:class:`~artist_desktop.services.http.RateGate` keeps it in Redis). Sources:
``../shared/api-facts.md``.

============  ====================  ============================================================
Service       Quota                 Why
============  ====================  ============================================================
Deezer        50 per 5 s            documented, per IP (code 4 "Quota limit exceeded" past it)
MusicBrainz   1 per 1 s             documented average per IP (503, then a temporary block)
Spotify       none fixed            rolling 30 s window of unpublished size: Retry-After only
Image host    none                  picture and cover hosts publish none: Retry-After only
Wikimedia     200 per 60 s          pageviews API with a User-Agent naming the operator (2026, medium confidence)
Wikidata      200 per 60 s          the same Wikimedia rule for ``wbgetentities`` (50 ids per request)
Last.fm       1 per 1 s             unpublished (old terms: 5/s per IP): 1/s with backoff, as api-facts.md plans
ListenBrainz  30 per 10 s           ~30 per 10 s per IP, and the ``X-RateLimit-*`` headers of every answer
============  ====================  ============================================================

Tuning: demo mode talks to the local API double, whose MusicBrainz is faster (:data:`DEMO_MUSICBRAINZ_QUOTA`);
``MUSICBRAINZ_RATE`` points the app at a mirror with its own rate (:func:`quota_per_second`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

DEEZER = "Deezer"
MUSICBRAINZ = "MusicBrainz"
SPOTIFY = "Spotify"
IMAGE_HOST = "Image host"
WIKIMEDIA = "Wikimedia"
WIKIDATA = "Wikidata"
LASTFM = "Last.fm"
LISTENBRAINZ = "ListenBrainz"


class Quota(NamedTuple):
    """At most ``limit`` requests in any ``period`` seconds (a whole number of seconds: see RateGate)."""

    limit: int
    period: float

    @property
    def per_second(self) -> float:
        return self.limit / self.period

    def __str__(self) -> str:
        return f"{self.limit} per {self.period:g} s"


#: Deezer's documented quota: 50 requests per 5 seconds per IP address.
DEEZER_QUOTA = Quota(50, 5.0)
#: MusicBrainz asks for at most one request per second per IP address, on average.
MUSICBRAINZ_QUOTA = Quota(1, 1.0)
#: In demo mode MusicBrainz is the local double, which does not enforce 1 request/s unless asked:
#: a looser gate keeps demo imports quick.
DEMO_MUSICBRAINZ_QUOTA = Quota(20, 1.0)
#: Wikimedia's REST API (pageviews) and Wikidata's action API with a compliant User-Agent.
WIKIMEDIA_QUOTA = Quota(200, 60.0)
WIKIDATA_QUOTA = Quota(200, 60.0)
#: Last.fm publishes no limit: one request per second, as ``../shared/api-facts.md`` plans.
LASTFM_QUOTA = Quota(1, 1.0)
#: ListenBrainz: about 30 requests per 10 s per IP (its answers' ``X-RateLimit-*`` headers say the rest).
LISTENBRAINZ_QUOTA = Quota(30, 10.0)

#: The quota of each service by the name its client gives itself (``ServiceClient.service``); None: no
#: fixed quota, the gate only follows the service's Retry-After.
QUOTAS: dict[str, Quota | None] = {
    DEEZER: DEEZER_QUOTA,
    MUSICBRAINZ: MUSICBRAINZ_QUOTA,
    SPOTIFY: None,
    IMAGE_HOST: None,
    WIKIMEDIA: WIKIMEDIA_QUOTA,
    WIKIDATA: WIKIDATA_QUOTA,
    LASTFM: LASTFM_QUOTA,
    LISTENBRAINZ: LISTENBRAINZ_QUOTA,
}

#: The longest window :func:`quota_per_second` considers: a rate is written as whole requests per whole
#: seconds up to this many seconds.
_LONGEST_PERIOD = 10


def quota_for(service: str) -> Quota | None:
    """The table's quota for ``service`` (None for a service without a fixed quota or not in the table)."""
    return QUOTAS.get(service)


def quota_per_second(per_second: float) -> Quota:
    """``per_second`` as whole requests per whole seconds, never above it: 1.6 -> 8 per 5 s, 0.3 -> 3 per 10 s.

    Of the periods 1..10 s, the one whose whole number of requests comes closest to ``per_second`` wins
    (the shortest on a tie); a rate below one request per 10 s becomes one request per ``ceil(1 / rate)`` s.
    """
    if not per_second > 0:
        raise ValueError(f"a rate must be more than 0 requests per second (got {per_second:g})")
    best: Quota | None = None
    for period in range(1, _LONGEST_PERIOD + 1):
        limit = math.floor(per_second * period + 1e-9)
        if limit >= 1 and (best is None or limit / period > best.per_second + 1e-12):
            best = Quota(limit, float(period))
    return best if best is not None else Quota(1, float(math.ceil(1 / per_second)))


__all__ = [
    "DEEZER",
    "DEEZER_QUOTA",
    "DEMO_MUSICBRAINZ_QUOTA",
    "IMAGE_HOST",
    "LASTFM",
    "LASTFM_QUOTA",
    "LISTENBRAINZ",
    "LISTENBRAINZ_QUOTA",
    "MUSICBRAINZ",
    "MUSICBRAINZ_QUOTA",
    "QUOTAS",
    "SPOTIFY",
    "WIKIDATA",
    "WIKIDATA_QUOTA",
    "WIKIMEDIA",
    "WIKIMEDIA_QUOTA",
    "Quota",
    "quota_for",
    "quota_per_second",
]
