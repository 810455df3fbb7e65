"""The settings dialog's "Test connection" checks: one async function per service, headless.

Each returns a short success message for people, or raises :class:`ConnectionCheckFailed` with the reason.
"""

from __future__ import annotations

import asyncio

from artist_desktop.bus import connect_redis
from artist_desktop.config import Settings
from artist_desktop.services import RetryPolicy, ServiceError, SpotifyClient
from artist_desktop.store import Database

__all__ = ["ConnectionCheckFailed", "check_database", "check_redis", "check_spotify"]

#: A check answers within this many seconds, or fails.
CHECK_TIMEOUT = 8.0


class ConnectionCheckFailed(Exception):
    """The service did not answer as it should; the message says why, for people."""


async def check_spotify(settings: Settings) -> str:
    """Get a token with the configured client id and secret, then run a one-result search."""
    client = SpotifyClient(
        settings.spotify_client_id,
        settings.spotify_client_secret.get_secret_value(),
        settings.spotify_api_url,
        settings.spotify_accounts_url,
        retry=RetryPolicy(max_attempts=1, max_total=CHECK_TIMEOUT),
        timeout=CHECK_TIMEOUT,
    )
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await client.search_artists("a", limit=1)
    except ServiceError as exc:
        raise ConnectionCheckFailed(str(exc)) from exc
    except TimeoutError as exc:
        raise ConnectionCheckFailed(f"Spotify did not answer within {CHECK_TIMEOUT:.0f} s") from exc
    finally:
        await client.aclose()
    return "Spotify accepted the credentials"


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
        raise ConnectionCheckFailed(f"Cannot connect to {database.display_url}")
    return f"Connected to {database.display_url}"
