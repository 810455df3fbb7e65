"""Spotify short links (``https://spotify.link/<code>``, ``https://open.spotify.com/s/<code>``) to artist ids.

A short link carries no id: it resolves only by following Spotify's HTTP redirect (api-facts.md, "What people
paste"). :func:`resolve_short_link` asks the short-link host once, without following the redirect, and reads
the artist id from the ``Location`` it answers (``https://open.spotify.com/artist/<id>?si=...``). That is a
request to the link host, not to the Web API: it uses no Spotify quota and needs no token.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from artist_desktop.domain import is_spotify_short_link, spotify_id_from_text
from artist_desktop.services.errors import NotFoundError, RequestError, ServiceUnavailableError
from artist_desktop.services.http import DEFAULT_USER_AGENT

SERVICE = "Spotify"
#: Where each short-link host is asked (tests point these at a local server with ``base_urls``).
SHORT_LINK_BASE_URLS: Mapping[str, str] = {
    "spotify.link": "https://spotify.link",
    "open.spotify.com": "https://open.spotify.com",
}
_REDIRECTS = (301, 302, 303, 307, 308)
_KINDS = ("track", "album", "playlist", "show", "episode", "user", "audiobook")


async def resolve_short_link(
    url: str,
    *,
    http: httpx.AsyncClient | None = None,
    timeout: float = 10.0,  # noqa: ASYNC109  # httpx's per-request timeout, as every client here takes it
    base_urls: Mapping[str, str] | None = None,
) -> str:
    """The Spotify artist id a short link leads to (one request, the redirect not followed).

    A link that already names an artist (``open.spotify.com/artist/<id>``, ``spotify:artist:<id>``, the id)
    is answered without a request. ``base_urls`` replaces the scheme and host asked for each short-link host
    (default :data:`SHORT_LINK_BASE_URLS`). Raises :class:`RequestError` for text that is no Spotify link,
    :class:`NotFoundError` "this link does not lead to a Spotify artist" (no redirect, an unknown code, or a
    track/album/playlist), and :class:`ServiceUnavailableError` when the link host cannot be reached.
    """
    text = url.strip().strip("<>\"'")
    known = spotify_id_from_text(text)
    if known is not None:
        return known
    if not is_spotify_short_link(text):
        raise RequestError(SERVICE, f"{text!r} is not a Spotify artist link")
    target = _ask_url(text, base_urls if base_urls is not None else SHORT_LINK_BASE_URLS)
    client = http if http is not None else httpx.AsyncClient(timeout=timeout)
    try:
        response = await client.get(
            target, follow_redirects=False, headers={"User-Agent": DEFAULT_USER_AGENT}, timeout=timeout
        )
    except httpx.TimeoutException as exc:
        raise ServiceUnavailableError(SERVICE, f"The Spotify link {text} did not answer within {timeout:g} s") from exc
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise ServiceUnavailableError(SERVICE, f"The Spotify link {text} cannot be reached ({reason})") from exc
    finally:
        if http is None:
            await client.aclose()
    status = response.status_code
    if status >= 500:
        message = f"The Spotify link {text} cannot be reached (HTTP {status})"
        raise ServiceUnavailableError(SERVICE, message, status=status)
    location = response.headers.get("Location") if status in _REDIRECTS else None
    if not location:
        raise NotFoundError(SERVICE, f"This link does not lead to a Spotify artist: {text}", status=status)
    destination = str(response.url.join(location))
    artist_id = spotify_id_from_text(destination)
    if artist_id is None:
        kind = next((k for k in _KINDS if f"/{k}/" in destination), None)
        leads_to = f" (it leads to a {kind})" if kind else ""
        raise NotFoundError(SERVICE, f"This link does not lead to a Spotify artist{leads_to}: {text}")
    return artist_id


def _ask_url(link: str, base_urls: Mapping[str, str]) -> str:
    """The URL to request for ``link``: its path on the configured base URL of its host."""
    parsed = httpx.URL(link if "://" in link else f"https://{link}")
    base = base_urls.get(parsed.host, f"https://{parsed.host}").rstrip("/")
    return base + parsed.raw_path.decode("ascii")


__all__ = ["SHORT_LINK_BASE_URLS", "resolve_short_link"]
