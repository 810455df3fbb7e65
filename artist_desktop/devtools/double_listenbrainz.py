"""ListenBrainz's ``POST /1/popularity/artist`` as the API double speaks it (nulls, token mode, rate headers).

Route (below ``/listenbrainz``; ``shared/api-facts.md``, "ListenBrainz")::

    POST /1/popularity/artist   body {"artist_mbids": [mbid, ...]} (at most 1,000)
        -> [{"artist_mbid", "total_listen_count", "total_user_count"}, ...] in request order, one entry per
           MBID sent (repeats included), ``artist_mbid`` as sent

- Counts are ``null`` for an MBID the catalog does not know, for a catalog artist without Spotify followers,
  for a fixed eighth of the catalog's artists (:func:`listenbrainz_figures`) and for any MBID
  :meth:`ListenBrainzDouble.set_null` names. Known artists' figures derive from their Spotify followers
  (:func:`listenbrainz_figures`): the same on every run.
- Errors are ``{"code": <status>, "error": "..."}``: 400 for a body that is not ``{"artist_mbids": [str...]}``,
  for a malformed MBID (one is enough to refuse the whole request) and for more than 1,000 MBIDs; 401 in token
  mode (:meth:`ListenBrainzDouble.require_token`) without ``Authorization: Token <token>`` or with another one;
  429 past the core's sliding window (30 per 10 s by default, :func:`~artist_desktop.devtools.double_core.
  rate_limited`).
- Every answer carries ``X-RateLimit-Limit`` (the window's size), ``X-RateLimit-Remaining`` (places left in the
  window once this request is counted: 29, 28, ... within 10 s) and ``X-RateLimit-Reset-In`` (whole seconds,
  rounded up, until the oldest request in the window leaves it and a place frees; 0 for an empty window). With
  the rate limit turned off (``DoubleConfig(listenbrainz_rate=None)``) there is nothing to count and no
  ``X-RateLimit-*`` header is sent.
- Injected faults match the sub-path (``/1/popularity/artist``) or any MBID of the body (lower case).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from artist_desktop.devtools._catalog import Catalog
from artist_desktop.devtools.double_core import LISTENBRAINZ, PREFIXES, DoubleCore

#: The most MBIDs one popularity request may carry.
MAX_MBIDS = 1000
#: ListenBrainz accepts an MBID in either case; the answer echoes it as sent.
_MBID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _unit(*parts: object) -> float:
    """A number in [0, 1) fixed by ``parts``."""
    digest = hashlib.sha256("\x1f".join(("listenbrainz", *map(str, parts))).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def listenbrainz_figures(mbid: str, followers: int | None) -> tuple[int, int] | None:
    """``(total_user_count, total_listen_count)`` of a catalog artist with ``followers`` Spotify followers, or
    None when ListenBrainz "has no listens" for it: no followers, or one artist in eight (chosen by its MBID).

    Listeners are 1/40 of the followers times 0.5..1.5, at least 1; listens 20..200 per listener.
    """
    if followers is None or _unit("null", mbid.lower()) < 0.125:
        return None
    listeners = max(1, round(followers / 40 * (0.5 + _unit("users", mbid.lower()))))
    listens = listeners * (20 + int(_unit("listens", mbid.lower()) * 181))
    return listeners, listens


def _error(status: int, message: str) -> Response:
    return JSONResponse({"code": status, "error": message}, status)


class ListenBrainzDouble:
    """ListenBrainz (``/listenbrainz/1/...``) over the sample catalog, with its knobs (guarded by the core's
    lock): :meth:`require_token`, :meth:`set_null`, :meth:`reverse_answers`; :meth:`figures` and
    :meth:`last_authorization` for tests to read."""

    def __init__(self, core: DoubleCore, catalog: Catalog) -> None:
        self._core = core
        self._catalog = catalog
        self._token: str | None = None
        self._nulls: set[str] = set()
        self._reversed = False
        self._last_authorization: str | None = None

    def routes(self) -> list[Route]:
        return [Route(f"{PREFIXES[LISTENBRAINZ]}/1/popularity/artist", self._popularity, methods=["POST"])]

    # -- knobs -----------------------------------------------------------------------------------

    def require_token(self, token: str | None) -> None:
        """Token mode: answer 401 unless ``Authorization: Token <token>`` is sent (None: keyless, the default;
        an ``Authorization`` header is then ignored)."""
        with self._core.lock:
            self._token = token

    def set_null(self, mbid: str, null: bool = True) -> None:
        """Answer ``null`` counts for ``mbid`` (False: its usual figures again)."""
        with self._core.lock:
            if null:
                self._nulls.add(mbid.lower())
            else:
                self._nulls.discard(mbid.lower())

    def reverse_answers(self, reverse: bool = True) -> None:
        """Answer the array in reverse request order. Not ListenBrainz's documented behaviour: it shows that a
        client matches the entries by ``artist_mbid``, not by position."""
        with self._core.lock:
            self._reversed = reverse

    def figures(self, mbid: str) -> tuple[int, int] | None:
        """``(total_user_count, total_listen_count)`` the double answers for ``mbid``, or None for nulls."""
        artist = self._catalog.by_mbid.get(mbid.lower())
        with self._core.lock:
            if artist is None or mbid.lower() in self._nulls:
                return None
        return listenbrainz_figures(mbid, artist.followers)

    def last_authorization(self) -> str | None:
        """The ``Authorization`` header of the last popularity request (None: it had none)."""
        with self._core.lock:
            return self._last_authorization

    # -- the route -------------------------------------------------------------------------------

    def _rate_headers(self) -> dict[str, str]:
        """The ``X-RateLimit-*`` headers of the core's window as it stands (this request already counted)."""
        with self._core.lock:
            # The core keeps no public view of a window's state: read the sliding window itself.
            window = self._core._windows.get(LISTENBRAINZ)
            if window is None:
                return {}
            now = time.monotonic()
            live = [t for t in window._times if now - t < window.period]
            limit = window.limit
            reset_in = math.ceil(window.period - (now - live[0])) if live else 0
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - len(live))),
            "X-RateLimit-Reset-In": str(max(0, reset_in)),
        }

    async def _popularity(self, request: Request) -> Response:
        with self._core.lock:
            self._last_authorization = request.headers.get("authorization")
        try:
            body: Any = json.loads(await request.body())
        except ValueError:
            body = None
        mbids = body.get("artist_mbids") if isinstance(body, dict) else None
        keys = [m.lower() for m in mbids if isinstance(m, str)] if isinstance(mbids, list) else []

        async def answer() -> Response:
            with self._core.lock:
                token, nulls, reverse = self._token, set(self._nulls), self._reversed
            if token is not None:
                sent = request.headers.get("authorization", "")
                if sent != f"Token {token}":
                    return _error(401, "You need to provide an Authorization header." if not sent else "Invalid token.")
            if not isinstance(mbids, list) or not all(isinstance(m, str) for m in mbids):
                return _error(400, "artist_mbids must be a list of strings")
            if len(mbids) > MAX_MBIDS:
                return _error(400, f"Too many artist mbids, max is {MAX_MBIDS}")
            for mbid in mbids:
                if not _MBID.match(mbid):
                    return _error(400, f"Invalid artist_mbid: {mbid}")
            entries = []
            for mbid in mbids:
                artist = self._catalog.by_mbid.get(mbid.lower())
                figures = None
                if artist is not None and mbid.lower() not in nulls:
                    figures = listenbrainz_figures(mbid, artist.followers)
                users, listens = figures if figures is not None else (None, None)
                entries.append({"artist_mbid": mbid, "total_listen_count": listens, "total_user_count": users})
            return JSONResponse(entries[::-1] if reverse else entries)

        response = await self._core.serve(LISTENBRAINZ, request, keys, answer)
        rate = self._rate_headers()
        if rate:
            response.headers["X-RateLimit-Limit"] = rate["X-RateLimit-Limit"]
            for name in ("X-RateLimit-Remaining", "X-RateLimit-Reset-In"):
                if name not in response.headers:  # a 429 already says 0 left and when to come back
                    response.headers[name] = rate[name]
        return response


__all__ = ["MAX_MBIDS", "ListenBrainzDouble", "listenbrainz_figures"]
