"""Last.fm's ``artist.getInfo`` as the API double speaks it (HTTP-200 errors, string numbers).

SKELETON: a helper fills this module (issue 19). Shapes and quirks: ``../shared/api-facts.md``.
"""

from __future__ import annotations

from starlette.routing import Route

from artist_desktop.devtools._catalog import Catalog
from artist_desktop.devtools.double_core import DoubleCore


class LastfmDouble:
    """Last.fm (``/lastfm/2.0/``)."""

    def __init__(self, core: DoubleCore, catalog: Catalog) -> None:
        self._core = core
        self._catalog = catalog

    def routes(self) -> list[Route]:
        return []
