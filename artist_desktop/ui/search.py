"""The search panel: search-as-you-type on Spotify (debounced, stale requests cancelled), results with
thumbnails, genres, followers when Spotify gives them and an "In library" badge, "Load more" paging by the
app's page size, inline messages, and pasted artist links shown as that one artist."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from artist_desktop.application import PastedLinkError, SearchOutcome
from artist_desktop.domain import ImportRequest, is_spotify_short_link, spotify_id_from_text
from artist_desktop.services import (
    AuthenticationError,
    MissingCredentialsError,
    NotFoundError,
    RateLimitedError,
    ServiceError,
    ServiceUnavailableError,
    SpotifyArtist,
)
from artist_desktop.services.errors import LONG_WAIT, PremiumRequiredError, QuotaExceededError
from artist_desktop.ui.images import ThumbnailCache
from artist_desktop.ui.item_painting import paint_item_panel
from artist_desktop.ui.palette import ERROR_COLOR, MUTED_ROLE, ON_ACCENT_COLOR, PAUSED_COLOR, SUCCESS_COLOR
from artist_desktop.ui.pauses import resume_time_text
from artist_desktop.ui.qt import (
    QAbstractItemView,
    QAbstractListModel,
    QFont,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMimeData,
    QModelIndex,
    QObject,
    QPainter,
    QPainterPath,
    QPalette,
    QPersistentModelIndex,
    QPushButton,
    QRect,
    QRectF,
    QSize,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from artist_desktop.ui.shortcuts import key_text, make_action
from artist_desktop.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

#: Drag and drop between the results and the queue: JSON ``[{"id", "name", "artist": SpotifyArtist.to_dict()
#: | null}, ...]`` (the artist object travels so that importing it needs no Spotify request).
ARTIST_MIME = "application/x-artist-desktop-artists"
DEBOUNCE_MS = 300
RESULT_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True, slots=True)
class PickedArtist:
    """An artist picked for the queue: id, display name and, when it came from search results, Spotify's
    artist object as the search answered it (its import then costs no Spotify request)."""

    spotify_id: str
    name: str
    artist: SpotifyArtist | None = None

    @classmethod
    def of(cls, item: PickedArtist | SpotifyArtist | tuple[str, str]) -> PickedArtist:
        """Accepts a picked artist, a search result's artist, or a (spotify id, name) pair."""
        if isinstance(item, PickedArtist):
            return item
        if isinstance(item, SpotifyArtist):
            return cls(item.id, item.name, item)
        spotify_id, name = item
        return cls(str(spotify_id), str(name))

    def to_request(self) -> ImportRequest:
        """What `AppServices.enqueue` takes; carries ``SpotifyArtist.to_dict()`` when the artist is known."""
        return ImportRequest(self.spotify_id, self.name, self.artist.to_dict() if self.artist is not None else None)


@dataclass(frozen=True, slots=True)
class SearchResult:
    artist: SpotifyArtist
    in_library: bool = False


#: ``search(query, offset)``: one page at the app's page size (Spotify's, 10 in Development Mode).
SearchFunction = Callable[[str, int], Coroutine[Any, Any, SearchOutcome]]
#: ``look_up(pasted_text)``: the one artist a pasted id, ``spotify:artist:`` URI or (short) link names.
LookupFunction = Callable[[str], Coroutine[Any, Any, SearchOutcome]]


def is_artist_link(text: str) -> bool:
    """Whether the search box holds a Spotify artist id, URI or link (short links too) rather than a query."""
    return spotify_id_from_text(text) is not None or is_spotify_short_link(text)


def encode_artists(items: Sequence[PickedArtist | tuple[str, str]]) -> QMimeData:
    picked = [PickedArtist.of(item) for item in items]
    rows = [
        {"id": p.spotify_id, "name": p.name, "artist": p.artist.to_dict() if p.artist is not None else None}
        for p in picked
    ]
    mime = QMimeData()
    mime.setData(ARTIST_MIME, json.dumps(rows).encode())
    mime.setText("\n".join(p.name for p in picked))
    return mime


def decode_artists(mime: QMimeData) -> list[PickedArtist]:
    """The artists a drag carries (an entry whose artist object cannot be read keeps its id and name)."""
    if not mime.hasFormat(ARTIST_MIME):
        return []
    try:
        rows = json.loads(bytes(mime.data(ARTIST_MIME).data()).decode())
    except ValueError:
        return []
    picked: list[PickedArtist] = []
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and row.get("id"):
            artist = None
            if isinstance(row.get("artist"), dict):
                try:
                    artist = SpotifyArtist.from_dict(row["artist"])
                except (ServiceError, KeyError, TypeError, ValueError):
                    log.warning("dropped artist %s without its Spotify object", row["id"])
            picked.append(PickedArtist(str(row["id"]), str(row.get("name") or ""), artist))
        elif isinstance(row, list | tuple) and len(row) == 2:
            picked.append(PickedArtist(str(row[0]), str(row[1])))
    return picked


def human_count(value: int | None) -> str:
    """12345678 -> "12.3M" (the list shows orders of magnitude, the tooltip the exact number)."""
    if value is None:
        return "–"
    for limit, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")):
        if value >= limit:
            return f"{value / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return str(value)


def pause_end(error: BaseException, now: datetime | None = None) -> datetime | None:
    """When Spotify answers again after a pause too long to wait in place (its daily quota, or any
    Retry-After over `LONG_WAIT` s), as UTC; None for every other error."""
    if isinstance(error, QuotaExceededError):
        return error.resume_at
    if isinstance(error, RateLimitedError) and error.retry_after is not None and error.retry_after > LONG_WAIT:
        return (now or datetime.now(UTC)) + timedelta(seconds=error.retry_after)
    return None


def search_error_message(error: BaseException, now: datetime | None = None) -> str:
    """The inline message for a failed search, saying what the user can do."""
    if isinstance(error, MissingCredentialsError):
        return "No Spotify credentials yet: enter them in Settings (Ctrl+,) or start with --demo."
    if isinstance(error, PremiumRequiredError):
        return (
            "Spotify requires the account that owns this Spotify app to have Premium (its rule for apps in "
            "Development Mode since February 2026). Subscribe that account to Premium and search again; it can "
            "take a few hours to apply. The client id and secret are fine."
        )
    if isinstance(error, AuthenticationError):
        return f"Spotify rejected the credentials ({error}): check them in Settings (Ctrl+,)."
    if (resume_at := pause_end(error, now)) is not None:
        return f"Spotify's daily quota is used up: search is available again at {resume_time_text(resume_at, now)}"
    if isinstance(error, RateLimitedError):
        wait = f"in {error.retry_after:.0f} s" if error.retry_after else "in a moment"
        return f"Spotify's rate limit was reached: try again {wait}."
    if isinstance(error, ServiceUnavailableError):
        return f"Spotify cannot be reached (is the network down?): {error}"
    if isinstance(error, PastedLinkError | NotFoundError):
        return str(error)
    if isinstance(error, ServiceError):
        return f"Search failed: {error}"
    return f"Search failed unexpectedly: {error}"


class SearchResultsModel(QAbstractListModel):
    """Search results; draggable to the queue; thumbnails come from a shared cache."""

    def __init__(self, thumbnails: ThumbnailCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._results: list[SearchResult] = []
        self._thumbnails = thumbnails
        thumbnails.loaded.connect(self._thumbnail_loaded)

    def set_results(self, results: Sequence[SearchResult]) -> None:
        self.beginResetModel()
        self._results = list(results)
        self.endResetModel()

    def append(self, results: Sequence[SearchResult]) -> None:
        known = {result.artist.id for result in self._results}
        fresh = [result for result in results if result.artist.id not in known]
        if not fresh:
            return
        first = len(self._results)
        self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
        self._results.extend(fresh)
        self.endInsertRows()

    def mark_in_library(self, spotify_ids: set[str]) -> None:
        for position, result in enumerate(self._results):
            if result.artist.id in spotify_ids and not result.in_library:
                self._results[position] = replace(result, in_library=True)
                index = self.index(position)
                self.dataChanged.emit(index, index)

    def result(self, position: int) -> SearchResult:
        return self._results[position]

    def spotify_ids(self) -> list[str]:
        return [result.artist.id for result in self._results]

    def _thumbnail_loaded(self, url: str) -> None:
        for position, result in enumerate(self._results):
            if result.artist.image_url == url:
                index = self.index(position)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._results)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._results):
            return None
        result = self._results[index.row()]
        artist = result.artist
        if role == Qt.ItemDataRole.DisplayRole:
            return artist.name
        if role == RESULT_ROLE:
            return result
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnails.pixmap(artist.image_url)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [artist.name]
            if artist.followers is not None:  # Development Mode apps get no followers: say nothing then
                lines.append(f"{artist.followers:,} followers")
            if artist.genres:
                lines.append(", ".join(artist.genres))
            if result.in_library:
                lines.append("Already in the library")
            return "\n".join(lines)
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:
        return [ARTIST_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        rows = sorted({index.row() for index in indexes if index.isValid()})
        return encode_artists([PickedArtist.of(self._results[r].artist) for r in rows])

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction


class SearchResultDelegate(QStyledItemDelegate):
    """Thumbnail, name, genres (and followers when Spotify gives them), and an "In library" badge.

    Development Mode apps get artists without followers or popularity: the second line then shows only
    the genres, and with none either the name alone is centred; never a placeholder like "– followers"."""

    HEIGHT = 60
    THUMB = 44

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(260, self.HEIGHT)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        result = index.data(RESULT_ROLE)
        if not isinstance(result, SearchResult):
            return
        ink = paint_item_panel(self, painter, option, index)  # the thumbnail is drawn below
        text_color, muted = ink.text, ink.muted
        rect: QRect = option.rect
        palette: QPalette = option.palette
        artist = result.artist
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        thumb = QRectF(rect.left() + 8, rect.top() + (rect.height() - self.THUMB) / 2, self.THUMB, self.THUMB)
        clip = QPainterPath()
        clip.addRoundedRect(thumb, 6, 6)
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if pixmap is not None and not pixmap.isNull():
            painter.setClipPath(clip)
            painter.drawPixmap(thumb.toRect(), pixmap)
            painter.setClipping(False)
        else:
            painter.fillPath(clip, palette.color(QPalette.ColorRole.Mid))
            painter.setPen(palette.color(QPalette.ColorRole.Light))
            painter.drawText(thumb, Qt.AlignmentFlag.AlignCenter, artist.name[:1].upper())
        left = int(thumb.right()) + 10
        badge_width = 0
        if result.in_library:
            small = QFont(option.font)
            small.setPointSizeF(max(7.0, small.pointSizeF() * 0.85))
            small.setBold(True)
            painter.setFont(small)
            label = "In library"
            badge_width = painter.fontMetrics().horizontalAdvance(label) + 14
            badge = QRectF(rect.right() - badge_width - 8, rect.center().y() - 10, badge_width, 20)
            path = QPainterPath()
            path.addRoundedRect(badge, 10, 10)
            painter.fillPath(path, SUCCESS_COLOR)
            painter.setPen(ON_ACCENT_COLOR)
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, label)
            badge_width += 16
        width = max(40, rect.right() - left - badge_width - 4)
        half = rect.height() // 2
        info = result_info(artist)
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(text_color)
        if info:
            name_rect = QRect(left, rect.top() + 4, width, half - 4)
            name_align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom
        else:
            name_rect = QRect(left, rect.top(), width, rect.height())
            name_align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(
            name_rect, name_align, painter.fontMetrics().elidedText(artist.name, Qt.TextElideMode.ElideRight, width)
        )
        if info:
            painter.setFont(option.font)
            painter.setPen(muted)
            info_rect = QRect(left, rect.top() + half + 2, width, half - 6)
            painter.drawText(
                info_rect,
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                painter.fontMetrics().elidedText(info, Qt.TextElideMode.ElideRight, width),
            )
        painter.restore()


def result_info(artist: SpotifyArtist) -> str:
    """A result's second line: followers only when Spotify gave them, then up to three genres ("" if neither)."""
    parts = [f"{human_count(artist.followers)} followers"] if artist.followers is not None else []
    if artist.genres:
        parts.append(", ".join(artist.genres[:3]))
    return " · ".join(parts)


class SearchPanel(QWidget):
    """Search field, results and paging; `add_requested` carries the artists the user picked.

    A pasted artist id, ``spotify:artist:`` URI or link (short links too) shows that one artist through
    the look-up function instead of searching for the text. "Load more" asks for the next page at the
    app's page size (10 for a Development Mode app). A search stopped by Spotify's daily quota says when
    it is available again, in the calm pause colour, and emits `spotify_paused`.
    """

    add_requested = Signal(list)  # [PickedArtist, ...]
    spotify_paused = Signal()  # a search met a long Spotify pause (its daily quota)

    def __init__(self, tasks: TaskRunner, thumbnails: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._search: SearchFunction | None = None
        self._look_up: LookupFunction | None = None
        self._query = ""
        self._next_offset: int | None = None
        self._pasted: str | None = None  # the pasted link whose artist is shown (Enter then adds it)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.field = QLineEdit(self)
        self.field.setObjectName("search_field")
        self.field.setPlaceholderText(f"Search Spotify artists, or paste an artist link…  ({key_text('find_action')})")
        self.field.setClearButtonEnabled(True)
        self.field.textChanged.connect(self._text_changed)
        self.field.returnPressed.connect(self._return_pressed)
        layout.addWidget(self.field)
        self.message = QLabel(self)
        self.message.setObjectName("search_message")
        self.message.setWordWrap(True)
        self.message.setVisible(False)
        layout.addWidget(self.message)
        self.model = SearchResultsModel(thumbnails, self)
        self.view = QListView(self)
        self.view.setObjectName("search_results")
        self.view.setModel(self.model)
        self.view.setItemDelegate(SearchResultDelegate(self.view))
        self.view.setUniformItemSizes(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setDragEnabled(True)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.view.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.view.doubleClicked.connect(lambda _index: self.add_selected())
        self.add_action = make_action("add_to_queue_action", self)
        self.add_action.triggered.connect(self.add_selected)
        self.view.addAction(self.add_action)
        layout.addWidget(self.view, 1)
        buttons = QHBoxLayout()
        self.load_more_button = QPushButton("Load more", self)
        self.load_more_button.setObjectName("load_more")
        self.load_more_button.setVisible(False)
        self.load_more_button.clicked.connect(self.load_more)
        self.add_button = QPushButton("Add to queue  →", self)
        self.add_button.setObjectName("add_to_queue")
        self.add_button.setToolTip(
            f"Add the selected artists to the queue ({key_text('add_to_queue_action')}, double-click or drag)"
        )
        self.add_button.clicked.connect(self.add_selected)
        buttons.addWidget(self.load_more_button)
        buttons.addStretch(1)
        buttons.addWidget(self.add_button)
        layout.addLayout(buttons)
        self.debounce_timer = QTimer(self)
        self.debounce_timer.setObjectName("search_debounce_timer")
        self.debounce_timer.setSingleShot(True)
        self.debounce_timer.setInterval(DEBOUNCE_MS)
        self.debounce_timer.timeout.connect(self.search_now)

    def set_search(self, search: SearchFunction | None, look_up: LookupFunction | None = None) -> None:
        """The search and the pasted-link look-up the services offer (None while they are not running)."""
        self._search = search
        self._look_up = look_up

    # -- searching ------------------------------------------------------------------------------
    def _text_changed(self, _text: str) -> None:
        self.debounce_timer.start()

    def _return_pressed(self) -> None:
        """Enter searches now; with a pasted link's artist shown, it adds that artist to the queue."""
        if self._pasted is not None and self._pasted == self.field.text().strip() and self.model.rowCount() == 1:
            self.add_requested.emit([PickedArtist.of(self.model.result(0).artist)])
        else:
            self.search_now()

    def search_now(self) -> None:
        self.debounce_timer.stop()
        self._pasted = None
        query = self.field.text().strip()
        if not query:
            self._tasks.run(_nothing(), name="search", replace=True)  # cancels a stale search
            self._query = ""
            self.model.set_results([])
            self._show_message("")
            self.load_more_button.setVisible(False)
            return
        if self._search is None:
            self._show_message("Still starting up: try again in a moment.")
            return
        self._query = query
        if is_artist_link(query) and self._look_up is not None:
            self._show_message("Looking up the pasted artist…", muted=True)
            work = self._look_up(query)
        else:
            self._show_message("Searching…", muted=True)
            work = self._search(query, 0)
        self._tasks.run(
            work,
            lambda outcome: self._show_page(query, outcome, fresh=True),
            lambda error: self._search_failed(error, fresh=True),
            name="search",
            replace=True,
        )

    def load_more(self) -> None:
        if self._search is None or self._next_offset is None or not self._query:
            return
        query = self._query
        self.load_more_button.setEnabled(False)
        self._tasks.run(
            self._search(query, self._next_offset),
            lambda outcome: self._show_page(query, outcome, fresh=False),
            lambda error: self._search_failed(error, fresh=False),
            name="search",
            replace=True,
        )

    def _show_page(self, query: str, outcome: SearchOutcome, *, fresh: bool) -> None:
        results = [SearchResult(artist, artist.id in outcome.in_library) for artist in outcome.items]
        if fresh:
            self.model.set_results(results)
            if results:
                self.view.setCurrentIndex(self.model.index(0))
        else:
            self.model.append(results)
        self._next_offset = outcome.next_offset
        self._pasted = query if outcome.pasted else None
        self.load_more_button.setEnabled(True)
        self.load_more_button.setVisible(outcome.next_offset is not None)
        if outcome.pasted:
            self._show_message("The artist of the pasted link: press Enter to add it to the queue.", muted=True)
        elif not self.model.rowCount():
            self._show_message(f"No artists match “{query}”.")
        else:
            shown = self.model.rowCount()
            self._show_message(f"{shown} of {outcome.total:,} artists", muted=True)

    def _search_failed(self, error: BaseException, *, fresh: bool) -> None:
        """A new search or look-up that failed clears the older results (they answer another query);
        a failed "Load more" keeps the pages already shown."""
        if fresh:
            self.model.set_results([])
            self._next_offset = None
            self.load_more_button.setVisible(False)
        self.load_more_button.setEnabled(True)
        paused = pause_end(error) is not None
        self._show_message(search_error_message(error), error=not paused, paused=paused)
        if paused:
            self.spotify_paused.emit()

    def _show_message(self, text: str, *, error: bool = False, muted: bool = False, paused: bool = False) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self.message.setProperty("error", error)
        self.message.setProperty("paused", paused)
        if error:
            self.message.setStyleSheet(f"color: {ERROR_COLOR.name()};")
        elif paused:
            self.message.setStyleSheet(f"color: {PAUSED_COLOR.name()};")
        elif muted:
            self.message.setStyleSheet("")
            self.message.setForegroundRole(MUTED_ROLE)
        else:
            self.message.setStyleSheet("")
            self.message.setForegroundRole(QPalette.ColorRole.WindowText)

    # -- picking --------------------------------------------------------------------------------
    def selected_artists(self) -> list[PickedArtist]:
        rows = sorted(index.row() for index in self.view.selectionModel().selectedRows())
        return [PickedArtist.of(self.model.result(r).artist) for r in rows]

    def add_selected(self) -> None:
        picked = self.selected_artists()
        if picked:
            self.add_requested.emit(picked)

    def mark_in_library(self, spotify_ids: set[str]) -> None:
        self.model.mark_in_library(spotify_ids)


async def _nothing() -> None:
    return None
