"""Wikidata's wbgetentities and Wikimedia's per-article daily pageviews as the API double speaks them.

SKELETON: a helper fills this module (issue 19). Shapes and quirks: ``../shared/api-facts.md``.
"""

from __future__ import annotations

from starlette.routing import Route

from artist_desktop.devtools._catalog import Catalog
from artist_desktop.devtools.double_core import DoubleCore


class WikimediaDouble:
    """Wikidata (``/wikidata/w/api.php``) and Wikimedia pageviews (``/wikimedia/api/rest_v1/...``)."""

    def __init__(self, core: DoubleCore, catalog: Catalog) -> None:
        self._core = core
        self._catalog = catalog

    def routes(self) -> list[Route]:
        return []
