"""Artist thumbnails: fetched in the background through the pipeline's image client, kept in an LRU cache."""

from __future__ import annotations

import functools
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from artist_desktop.ui.qt import QObject, QPixmap, Qt, Signal
from artist_desktop.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

#: Thumbnails kept in memory (at 48-64 px each, a few MB at most).
CACHE_SIZE = 500
THUMBNAIL_SIZE = 64


class ThumbnailCache(QObject):
    """`pixmap(url)` answers at once (None until loaded) and emits `loaded(url)` once the image is in."""

    loaded = Signal(str)

    def __init__(
        self,
        tasks: TaskRunner,
        fetch: Callable[[str], Awaitable[bytes]] | None = None,
        *,
        size: int = CACHE_SIZE,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._fetch = fetch
        self._size = size
        self._pixmaps: OrderedDict[str, QPixmap] = OrderedDict()
        self._pending: set[str] = set()
        self._failed: set[str] = set()

    def set_fetcher(self, fetch: Callable[[str], Awaitable[bytes]] | None) -> None:
        """The services' image download (None once they are gone)."""
        self._fetch = fetch
        self._pending.clear()

    def pixmap(self, url: str | None) -> QPixmap | None:
        if not url:
            return None
        found = self._pixmaps.get(url)
        if found is not None:
            self._pixmaps.move_to_end(url)
            return found
        if url not in self._pending and url not in self._failed and self._fetch is not None:
            self._pending.add(url)
            self._tasks.run(
                self._download(url),
                functools.partial(self._store, url),
                functools.partial(self._fail, url),
            )
        return None

    async def _download(self, url: str) -> bytes:
        assert self._fetch is not None
        return await self._fetch(url)

    def _store(self, url: str, data: bytes) -> None:
        self._pending.discard(url)
        pixmap = QPixmap()
        if not pixmap.loadFromData(data):
            self._failed.add(url)
            return
        if pixmap.width() > THUMBNAIL_SIZE * 2:
            pixmap = pixmap.scaled(
                THUMBNAIL_SIZE * 2,
                THUMBNAIL_SIZE * 2,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        self._pixmaps[url] = pixmap
        while len(self._pixmaps) > self._size:
            self._pixmaps.popitem(last=False)
        self.loaded.emit(url)

    def _fail(self, url: str, error: BaseException) -> None:
        self._pending.discard(url)
        self._failed.add(url)
        log.info("thumbnail %s not loaded: %s", url, error)
