"""The selection queue: artists picked for the next batch, added by double-click, Enter, button or drag.

Duplicates are refused with a visible hint; "Process all" hands the list to the job ledger
(`AppServices.enqueue`), which is what survives a restart. Each artist picked from search results keeps
Spotify's artist object, so importing it costs no Spotify request (a Development Mode app has a daily quota).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from artist_desktop.ui.qt import (
    QAbstractItemView,
    QAbstractListModel,
    QHBoxLayout,
    QLabel,
    QListView,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPushButton,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from artist_desktop.ui.search import ARTIST_MIME, PickedArtist, decode_artists
from artist_desktop.ui.shortcuts import key_text, make_action

HINT_MS = 4000


class SelectionQueueModel(QAbstractListModel):
    """Picked artists in selection order, each at most once; accepts drops from the results."""

    duplicates_refused = Signal(list)  # names already in the queue
    count_changed = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[PickedArtist] = []

    def add(self, items: Sequence[PickedArtist | tuple[str, str]]) -> list[PickedArtist]:
        """Append the artists not yet queued; returns those added (refused ones are announced).
        Accepts `PickedArtist` (with Spotify's artist object when picked from results) or (id, name)."""
        known = {item.spotify_id for item in self._items}
        fresh: list[PickedArtist] = []
        refused: list[str] = []
        for item in items:
            picked = PickedArtist.of(item)
            if picked.spotify_id in known:
                refused.append(picked.name)
            else:
                known.add(picked.spotify_id)
                fresh.append(picked)
        if fresh:
            first = len(self._items)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._items.extend(fresh)
            self.endInsertRows()
            self.count_changed.emit(len(self._items))
        if refused:
            self.duplicates_refused.emit(refused)
        return fresh

    def remove_rows(self, rows: Sequence[int]) -> None:
        for row in sorted(set(rows), reverse=True):
            if 0 <= row < len(self._items):
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._items[row]
                self.endRemoveRows()
        self.count_changed.emit(len(self._items))

    def clear(self) -> None:
        self.beginResetModel()
        self._items.clear()
        self.endResetModel()
        self.count_changed.emit(0)

    def items(self) -> list[tuple[str, str]]:
        """(spotify id, name) in selection order."""
        return [(item.spotify_id, item.name) for item in self._items]

    def picked(self) -> list[PickedArtist]:
        """The queued artists with their Spotify objects, in selection order."""
        return list(self._items)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        spotify_id, name = item.spotify_id, item.name
        if role == Qt.ItemDataRole.DisplayRole:
            return name
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{name}\nspotify:artist:{spotify_id}"
        if role == Qt.ItemDataRole.UserRole:
            return spotify_id
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        return base if index.isValid() else base | Qt.ItemFlag.ItemIsDropEnabled

    def mimeTypes(self) -> list[str]:
        return [ARTIST_MIME]

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction | Qt.DropAction.MoveAction

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Any) -> bool:
        return data.hasFormat(ARTIST_MIME)

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Any) -> bool:
        items = decode_artists(data)
        if not items:
            return False
        self.add(items)
        return True


class QueuePanel(QWidget):
    """The queue list, its count, hints, and the Process all / Remove actions."""

    process_requested = Signal(list)  # [PickedArtist, ...]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = SelectionQueueModel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        header.addWidget(QLabel("<b>Selection</b>", self))
        header.addStretch(1)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("queue_count")
        header.addWidget(self.count_label)
        layout.addLayout(header)
        self.view = QListView(self)
        self.view.setObjectName("queue_view")
        self.view.setModel(self.model)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAcceptDrops(True)
        self.view.setDropIndicatorShown(True)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.view.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        layout.addWidget(self.view, 1)
        self.hint = QLabel(self)
        self.hint.setObjectName("queue_hint")
        self.hint.setWordWrap(True)
        self.hint.setVisible(False)
        layout.addWidget(self.hint)
        self.hint_timer = QTimer(self)
        self.hint_timer.setObjectName("queue_hint_timer")
        self.hint_timer.setSingleShot(True)
        self.hint_timer.setInterval(HINT_MS)
        self.hint_timer.timeout.connect(lambda: self.hint.setVisible(False))

        self.remove_action = make_action("remove_from_queue", self)
        self.remove_action.triggered.connect(self.remove_selected)
        self.view.addAction(self.remove_action)
        self.process_action = make_action("process_all", self)
        self.process_action.triggered.connect(self.process_all)

        buttons = QHBoxLayout()
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setObjectName("remove_button")
        self.remove_button.setToolTip(f"Remove the selected artists ({key_text('remove_from_queue')})")
        self.remove_button.clicked.connect(self.remove_selected)
        self.process_button = QPushButton("Process all", self)
        self.process_button.setObjectName("process_button")
        self.process_button.setToolTip(f"Import every queued artist ({key_text('process_all')})")
        self.process_button.setDefault(True)
        self.process_button.clicked.connect(self.process_all)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.process_button)
        layout.addLayout(buttons)
        self.model.count_changed.connect(self._show_count)
        self.model.duplicates_refused.connect(self._show_duplicates)
        self._show_count(0)

    def add(self, items: Sequence[PickedArtist | tuple[str, str]]) -> None:
        added = self.model.add(items)
        if added and not self.hint_timer.isActive():
            self.hint.setVisible(False)

    def remove_selected(self) -> None:
        self.model.remove_rows([index.row() for index in self.view.selectionModel().selectedRows()])

    def process_all(self) -> None:
        items = self.model.picked()
        if not items:
            self.show_hint("The selection is empty: add artists from the search results first.")
            return
        self.process_requested.emit(items)

    def show_hint(self, text: str) -> None:
        self.hint.setText(text)
        self.hint.setVisible(True)
        self.hint_timer.start()

    def _show_duplicates(self, names: list[str]) -> None:
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        self.show_hint(f"Already in the selection: {shown}")

    def _show_count(self, count: int) -> None:
        self.count_label.setText(f"{count} artist{'s' if count != 1 else ''}")
        self.process_button.setEnabled(count > 0)
        self.process_action.setEnabled(count > 0)
