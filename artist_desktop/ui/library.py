"""The library view: imported artists (sortable, filterable) and a chart of the selected artist's metrics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from artist_desktop.application import LibraryRow
from artist_desktop.ui.images import ThumbnailCache
from artist_desktop.ui.qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QColor,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QModelIndex,
    QObject,
    QPalette,
    QPersistentModelIndex,
    QSize,
    QSortFilterProxyModel,
    QSplitter,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
    Signal,
    import_pyqtgraph,
)
from artist_desktop.ui.shortcuts import key_text

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ARTIST_ID_ROLE = Qt.ItemDataRole.UserRole + 2
COLUMNS = ("Artist", "Country", "Spotify followers", "Deezer fans", "Last updated")
#: Line colours for the chart's series (distinguishable on light and dark backgrounds).
SERIES_COLORS = ("#1db954", "#a238ff", "#ff8c00", "#1e88e5", "#e53935", "#8d6e63")

MetricHistory = dict[tuple[str, str], list[tuple[datetime, float]]]


class LibraryModel(QAbstractTableModel):
    """Library rows as a table; numbers sort as numbers through `SORT_ROLE`."""

    def __init__(self, thumbnails: ThumbnailCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[LibraryRow] = []
        self._thumbnails = thumbnails
        thumbnails.loaded.connect(self._thumbnail_loaded)

    def set_rows(self, rows: Sequence[LibraryRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, position: int) -> LibraryRow:
        return self._rows[position]

    def _thumbnail_loaded(self, url: str) -> None:
        for position, row in enumerate(self._rows):
            if row.image_url == url:
                index = self.index(position, 0)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        spotify = row.followers.get("spotify")
        deezer = row.followers.get("deezer")
        if role == ARTIST_ID_ROLE:
            return row.artist_id
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                row.name,
                row.country or "–",
                f"{spotify:,}" if spotify is not None else "–",
                f"{deezer:,}" if deezer is not None else "–",
                row.updated_at.strftime("%Y-%m-%d %H:%M"),
            )[column]
        if role == SORT_ROLE:
            return (
                row.name.casefold(),
                row.country or "",
                spotify if spotify is not None else -1,
                deezer if deezer is not None else -1,
                row.updated_at.timestamp(),
            )[column]
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return self._thumbnails.pixmap(row.image_url)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (2, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class LibraryFilter(QSortFilterProxyModel):
    """Sorting by the raw values and a case-insensitive filter over every column."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)


class MetricChart(QWidget):
    """One small plot per metric series (followers and popularity differ by orders of magnitude)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel("Select an artist to see its metric history", self)
        self.title.setObjectName("chart_title")
        layout.addWidget(self.title)
        # pyqtgraph's plot area is built when the first history is shown (start-up skips pyqtgraph);
        # until then an empty area of the same colour holds its place.
        self.plots: Any = None
        self._placeholder = QWidget(self)
        self._placeholder.setBackgroundRole(QPalette.ColorRole.Base)
        self._placeholder.setAutoFillBackground(True)
        layout.addWidget(self._placeholder, 1)
        self._layout = layout
        self.series: dict[str, list[tuple[float, float]]] = {}
        self.follow_palette()

    def follow_palette(self) -> None:
        """Take the chart's colours from the (OS light/dark) palette."""
        palette = self.palette()
        if self.plots is not None:
            self.plots.setBackground(palette.color(QPalette.ColorRole.Base))
        self._foreground = palette.color(QPalette.ColorRole.Text)

    def _build_plots(self) -> None:
        """pyqtgraph's ``GraphicsLayoutWidget`` in the placeholder's place (once)."""
        self.plots = import_pyqtgraph().GraphicsLayoutWidget(self)
        self.plots.setObjectName("metric_chart")
        self._layout.replaceWidget(self._placeholder, self.plots)
        self._placeholder.deleteLater()
        self.follow_palette()

    def show_history(self, name: str, history: MetricHistory) -> None:
        if self.plots is None:
            self._build_plots()
        pg = import_pyqtgraph()
        self.plots.clear()
        self.series = {}
        self.title.setText(f"<b>{name}</b> — metric history" if history else f"<b>{name}</b> — no metrics yet")
        previous: Any = None
        for n, ((platform, metric), points) in enumerate(sorted(history.items())):
            label = f"{platform.capitalize()} {metric}"
            xs = [date.timestamp() for date, _ in points]
            ys = [value for _, value in points]
            self.series[label] = list(zip(xs, ys, strict=True))
            plot = self.plots.addPlot(row=n, col=0, axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
            plot.setTitle(label, color=self._foreground.name(), size="9pt")
            plot.showGrid(x=True, y=True, alpha=0.2)
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setTextPen(self._foreground)
                plot.getAxis(axis).setPen(self._foreground)
            color = QColor(SERIES_COLORS[n % len(SERIES_COLORS)])
            plot.plot(xs, ys, pen=pg.mkPen(color, width=2), symbol="o", symbolSize=6, symbolBrush=color)
            if previous is not None:
                plot.setXLink(previous)
            previous = plot

    def clear(self) -> None:
        if self.plots is not None:
            self.plots.clear()
        self.series = {}
        self.title.setText("Select an artist to see its metric history")


class LibraryPanel(QWidget):
    """The table with its filter, and the chart; `artist_selected` asks the window for the history."""

    artist_selected = Signal(int, str)

    def __init__(self, thumbnails: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = LibraryModel(thumbnails, self)
        self.proxy = LibraryFilter(self)
        self.proxy.setSourceModel(self.model)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.filter_field = QLineEdit(self)
        self.filter_field.setObjectName("library_filter")
        self.filter_field.setPlaceholderText(f"Filter the library…  ({key_text('filter_library')})")
        self.filter_field.setClearButtonEnabled(True)
        self.filter_field.textChanged.connect(self.proxy.setFilterFixedString)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("library_count")
        top.addWidget(self.filter_field, 1)
        top.addWidget(self.count_label)
        layout.addLayout(top)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("library_splitter")
        self.table = QTableView(self.splitter)
        self.table.setObjectName("library_table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(34)
        self.table.setIconSize(QSize(28, 28))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.chart = MetricChart(self.splitter)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout.addWidget(self.splitter, 1)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.model.modelReset.connect(self._show_count)
        self.proxy.rowsInserted.connect(self._show_count)
        self.proxy.layoutChanged.connect(self._show_count)
        self.filter_field.textChanged.connect(lambda _text: self._show_count())
        self._show_count()

    def set_rows(self, rows: Sequence[LibraryRow]) -> None:
        selected = self.selected_artist_id()
        self.model.set_rows(rows)
        if selected is not None:
            for position in range(self.proxy.rowCount()):
                if self.proxy.index(position, 0).data(ARTIST_ID_ROLE) == selected:
                    self.table.selectRow(position)
                    break

    def selected_artist_id(self) -> int | None:
        index = self.table.currentIndex()
        return index.data(ARTIST_ID_ROLE) if index.isValid() else None

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self.chart.clear()
            return
        source = self.proxy.mapToSource(current)
        row = self.model.row_at(source.row())
        self.artist_selected.emit(row.artist_id, row.name)

    def _show_count(self, *_args: Any) -> None:
        total = self.model.rowCount()
        shown = self.proxy.rowCount()
        self.count_label.setText(f"{total} artists" if shown == total else f"{shown} of {total} artists")
