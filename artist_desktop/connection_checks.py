"""The settings dialog's "Test connection" checks: one async function per service, headless.

Each returns a short success message for people, or raises :class:`ConnectionCheckFailed` with the reason.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from artist_desktop.bus import connect_redis
from artist_desktop.config import Settings
from artist_desktop.domain import SpotifyAppMode, SpotifyCapabilities
from artist_desktop.services import (
    AuthenticationError,
    LastfmClient,
    NotFoundError,
    QuotaExceededError,
    RetryPolicy,
    ServiceError,
    SpotifyClient,
    format_resume_at,
)
from artist_desktop.services.lastfm import LASTFM_SUSPENDED_KEY
from artist_desktop.store import Database

__all__ = [
    "ConnectionCheckFailed",
    "SpotifyReport",
    "check_database",
    "check_lastfm",
    "check_redis",
    "check_spotify",
    "probe_spotify",
]

#: A check answers within this many seconds, or fails.
CHECK_TIMEOUT = 8.0
#: The artist Last.fm's test looks up: Radiohead's MBID, known to MusicBrainz and Last.fm for decades.
LASTFM_CHECK_MBID = "a74b1b7f-71a5-4011-9441-d0b5e4122711"


class ConnectionCheckFailed(Exception):
    """The service did not answer as it should; the message says why, for people."""


@dataclass(frozen=True, slots=True)
class SpotifyReport:
    """What "Test connection" learnt about the configured Spotify app.

    ``mode`` and ``page_size`` as the answers showed them (UNKNOWN when the quota stopped the test before
    any artist came back); ``premium_ok`` None when not yet known; ``quota_resume_at`` (UTC) set when the
    daily quota is used up; ``removed_endpoints`` as recorded in the app's capabilities; ``artist`` the
    name of the artist fetched as a sample.
    """

    mode: SpotifyAppMode
    page_size: int
    premium_ok: bool | None
    quota_resume_at: datetime | None
    removed_endpoints: frozenset[str]
    artist: str | None = None

    def summary(self) -> str:
        """A few lines for people, e.g. "Development Mode (search pages of 10, no followers/popularity)"."""
        lines = ["Spotify accepted the credentials"]
        if self.mode is SpotifyAppMode.DEVELOPMENT:
            lines.append(f"Development Mode (search pages of {self.page_size}, no followers/popularity)")
        elif self.mode is SpotifyAppMode.EXTENDED:
            lines.append(f"Extended Quota (search pages of {self.page_size}, followers and popularity)")
        else:
            lines.append("App mode not known yet (no artist came back)")
        premium = {True: "OK", False: "missing", None: "not known yet"}[self.premium_ok]
        lines.append(f"Premium: {premium}")
        if self.quota_resume_at is None:
            lines.append("Quota OK")
        else:
            lines.append(f"Daily quota used up: available again at {format_resume_at(self.quota_resume_at)}")
        if self.removed_endpoints:
            removed = ", ".join(_ENDPOINT_NAMES.get(e, e) for e in sorted(self.removed_endpoints))
            lines.append(f"Removed for this app: {removed}")
        return "\n".join(lines)


_ENDPOINT_NAMES = {"top-tracks": "top tracks", "several-artists": "several artists per request"}


async def probe_spotify(settings: Settings, capabilities: SpotifyCapabilities | None = None) -> SpotifyReport:
    """Get a token, run one search with the real page size and fetch the first artist found.

    Three requests at most (token, ``GET /search`` with the app's page size, ``GET /artists/{id}``), none
    retried. ``capabilities`` are what the app remembers (default: nothing yet). A used-up quota is part of
    the report, not a failure; a missing Premium, bad credentials or no answer raise
    :class:`ConnectionCheckFailed` with the reason.
    """
    client = SpotifyClient(
        settings.spotify_client_id,
        settings.spotify_client_secret.get_secret_value(),
        settings.spotify_api_url,
        settings.spotify_accounts_url,
        retry=RetryPolicy(max_attempts=1, max_total=CHECK_TIMEOUT),
        timeout=CHECK_TIMEOUT,
        capabilities=capabilities,
    )
    resume_at: datetime | None = None
    artist: str | None = None
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            page = await client.search_artists("a")
            if page.items:
                artist = (await client.get_artist(page.items[0].id)).name
    except QuotaExceededError as exc:
        resume_at = exc.resume_at
    except ServiceError as exc:
        raise ConnectionCheckFailed(str(exc)) from exc
    except TimeoutError as exc:
        raise ConnectionCheckFailed(f"Spotify did not answer within {CHECK_TIMEOUT:.0f} s") from exc
    finally:
        await client.aclose()
    found = client.capabilities
    return SpotifyReport(
        mode=found.mode,
        page_size=client.page_size,
        premium_ok=found.premium_ok,
        quota_resume_at=resume_at,
        removed_endpoints=found.removed_endpoints,
        artist=artist,
    )


async def check_spotify(settings: Settings) -> str:
    """:func:`probe_spotify`'s report as text, one fact per line (raises :class:`ConnectionCheckFailed`)."""
    return (await probe_spotify(settings)).summary()


async def check_lastfm(settings: Settings) -> str:
    """One ``artist.getInfo`` of :data:`LASTFM_CHECK_MBID` with the typed key, not retried: "Last.fm: key
    accepted" (a "not found" answer counts too: Last.fm checks the key first), else
    :class:`ConnectionCheckFailed` ("Last.fm rejects this key", no key, no answer)."""
    key = settings.lastfm_api_key.get_secret_value().strip()
    if not key:
        raise ConnectionCheckFailed("Enter a Last.fm API key first (free at last.fm/api/account/create)")
    client = LastfmClient(
        settings.lastfm_api_url,
        key,
        settings.contact,
        retry=RetryPolicy(max_attempts=1, max_total=CHECK_TIMEOUT),
        timeout=CHECK_TIMEOUT,
    )
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await client.artist_info(mbid=LASTFM_CHECK_MBID)
    except NotFoundError:
        pass
    except AuthenticationError as exc:
        suspended = " (it is suspended)" if exc.status == LASTFM_SUSPENDED_KEY else ""
        raise ConnectionCheckFailed(f"Last.fm rejects this key{suspended}") from exc
    except ServiceError as exc:
        raise ConnectionCheckFailed(str(exc)) from exc
    except TimeoutError as exc:
        raise ConnectionCheckFailed(f"Last.fm did not answer within {CHECK_TIMEOUT:.0f} s") from exc
    finally:
        await client.aclose()
    return "Last.fm: key accepted"


async def check_redis(settings: Settings) -> str:
    """PING the configured Redis; an empty URL means the app runs its own server (nothing to test)."""
    if not settings.redis_url:
        return "The app starts its own redis-server"
    client = connect_redis(settings.redis_url, client_name="artist-desktop-check")
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await client.ping()  # type: ignore[misc]  # typed "Awaitable[bool] | bool"
    except Exception as exc:  # any failure is the answer to show
        raise ConnectionCheckFailed(f"Redis does not answer: {exc or type(exc).__name__}") from exc
    finally:
        await client.aclose()
    return "Redis answered PING"


async def check_database(settings: Settings) -> str:
    """Connect to the configured database and run ``SELECT 1``."""
    database = Database.from_url(settings.effective_database_url)
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            ok = await database.ping()
    except TimeoutError as exc:
        raise ConnectionCheckFailed(f"The database did not answer within {CHECK_TIMEOUT:.0f} s") from exc
    finally:
        await database.dispose()
    if not ok:
        raise ConnectionCheckFailed(f"Cannot connect to {database.url}")
    return f"Connected to {database.url}"
