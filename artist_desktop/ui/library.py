"""The Library: every imported artist with each metric's latest figure, its 1/7/28-day change and a sparkline,
a chart of the selected artists (several compare), exports of what is on screen, and per-artist actions.

The table is a Qt model/view pair (`LibraryModel` under a sort/filter proxy) that stays fast at 10,000 rows;
its columns follow the metrics the library holds, and the analyst picks the visible ones (the header's context
menu, or Columns…), which persist in the window's QSettings. Actions that change data (re-import, set or clear a
platform id, remove) are signals the window forwards to the application; opening a page and copying ids are
done here.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from artist_desktop.domain import CHANGE_WINDOWS, LibraryArtist, MetricTrend, Platform
from artist_desktop.ui.item_painting import paint_item_panel
from artist_desktop.ui.metric_chart import MetricChart, metric_label
from artist_desktop.ui.numbers import compact, full, signed_compact, signed_percent
from artist_desktop.ui.palette import FALL_COLOR, PLACEHOLDER_FILL, PLACEHOLDER_TEXT, RISE_COLOR
from artist_desktop.ui.qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QCheckBox,
    QDesktopServices,
    QFileDialog,
    QFont,
    QGuiApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QModelIndex,
    QObject,
    QPainter,
    QPainterPath,
    QPen,
    QPersistentModelIndex,
    QPixmap,
    QPointF,
    QPushButton,
    QSettings,
    QSize,
    QSortFilterProxyModel,
    QSplitter,
    QStandardPaths,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    Qt,
    QTableView,
    QUrl,
    QVBoxLayout,
    QWidget,
    Signal,
)
from artist_desktop.ui.shortcuts import key_text

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ARTIST_ID_ROLE = Qt.ItemDataRole.UserRole + 2
SPARKLINE_ROLE = Qt.ItemDataRole.UserRole + 3
#: How many artists one compare chart draws (one colour each).
COMPARE_LIMIT = 8
THUMB = 28
#: Where each platform shows an artist, by its id there.
PAGE_URLS = {
    Platform.SPOTIFY: "https://open.spotify.com/artist/{}",
    Platform.DEEZER: "https://www.deezer.com/artist/{}",
    Platform.MUSICBRAINZ: "https://musicbrainz.org/artist/{}",
}
#: Platforms whose id an analyst may set or clear by hand (validated against the service by the application).
#: The ids a person may set by hand, and what each is called in the menu ("Set Wikipedia article…").
EDITABLE_IDS = {
    Platform.DEEZER: "id",
    Platform.MUSICBRAINZ: "id",
    Platform.WIKIPEDIA: "article",
    Platform.LASTFM: "name",
}
#: Metrics in the order their columns come (others follow by name).
METRIC_ORDER = (("spotify", "followers"), ("deezer", "followers"), ("spotify", "popularity"), ("deezer", "albums"))
COLUMNS_KEY = "library/columns"


@dataclass(frozen=True, slots=True)
class Column:
    """One table column. ``kind``: name, country, updated, latest, change, percent or trend; metric columns
    carry their ``metric`` key and, for changes, the window in ``days``."""

    id: str
    header: str
    kind: str
    metric: tuple[str, str] | None = None
    days: int = 0

    @property
    def numeric(self) -> bool:
        return self.kind in ("latest", "change", "percent")


FIXED_COLUMNS = (Column("name", "Artist", "name"), Column("country", "Country", "country"))
UPDATED_COLUMN = Column("updated", "Updated", "updated")


def metric_columns(metric: tuple[str, str]) -> list[Column]:
    """The columns of one metric: latest figure, change and % change over each window, and the sparkline."""
    platform, name = metric
    label = metric_label(platform, name)
    key = f"{platform}:{name}"
    columns = [Column(f"{key}:latest", label, "latest", metric)]
    for days in CHANGE_WINDOWS:
        columns.append(Column(f"{key}:change{days}", f"{label}\n{days}d change", "change", metric, days))
        columns.append(Column(f"{key}:percent{days}", f"{label}\n{days}d %", "percent", metric, days))
    columns.append(Column(f"{key}:trend", f"{label}\n28 days", "trend", metric))
    return columns


def default_visible(column: Column) -> bool:
    """Shown until the analyst chooses: name, country, and for follower counts the latest, 7-day change, 7- and
    28-day % and the sparkline; popularity and album counts show their latest figure only."""
    if column.metric is None:
        return column.kind != "updated"
    followers = column.metric[1] == "followers"
    if column.kind == "latest":
        return True
    if not followers:
        return False
    return (column.kind, column.days) in (("change", 7), ("percent", 7), ("percent", 28), ("trend", 0))


def _metric_sort_key(metric: tuple[str, str]) -> tuple[int, str, str]:
    return (METRIC_ORDER.index(metric) if metric in METRIC_ORDER else len(METRIC_ORDER), *metric)


class LibraryModel(QAbstractTableModel):
    """Library artists as a table; numbers sort as numbers through `SORT_ROLE` (no figure sorts lowest).

    Thumbnails come from the media cache (`LibraryArtist.image_path`), scaled keeping their aspect ratio; an
    artist with no cached image gets a lettered placeholder.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[LibraryArtist] = []
        self.columns: list[Column] = [*FIXED_COLUMNS, UPDATED_COLUMN]
        self._pixmaps: dict[int, QPixmap] = {}

    def set_rows(self, rows: Sequence[LibraryArtist]) -> None:
        metrics = sorted({key for row in rows for key in row.trends}, key=_metric_sort_key)
        columns = [*FIXED_COLUMNS, *(c for metric in metrics for c in metric_columns(metric)), UPDATED_COLUMN]
        self.beginResetModel()
        self._rows = list(rows)
        self.columns = columns
        self._pixmaps = {}
        self.endResetModel()

    def row_at(self, position: int) -> LibraryArtist:
        return self._rows[position]

    def merge_rows(self, rows: Sequence[LibraryArtist]) -> None:
        """Replace the rows of these artists in place and append artists not shown yet (same columns)."""
        positions = {row.artist_id: n for n, row in enumerate(self._rows)}
        new = [row for row in rows if row.artist_id not in positions]
        for row in rows:
            position = positions.get(row.artist_id)
            if position is not None:
                self._rows[position] = row
                self._pixmaps.pop(row.artist_id, None)
                self.dataChanged.emit(self.index(position, 0), self.index(position, len(self.columns) - 1))
        if new:
            self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(new) - 1)
            self._rows.extend(new)
            self.endInsertRows()

    def rows(self) -> list[LibraryArtist]:
        return list(self._rows)

    def column_index(self, column_id: str) -> int:
        return next(n for n, column in enumerate(self.columns) if column.id == column_id)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.header
        if role == Qt.ItemDataRole.ToolTipRole and column.kind in ("change", "percent"):
            return f"Latest figure against the last figure at least {column.days} day(s) before it"
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def raw(self, row: LibraryArtist, column: Column) -> float | str | None:
        """The value behind a cell: a number for metric columns (None without a figure), text otherwise."""
        if column.kind == "name":
            return row.name
        if column.kind == "country":
            return row.country
        if column.kind == "updated":
            return row.updated_at.strftime("%Y-%m-%d %H:%M")
        trend = row.trends.get(column.metric) if column.metric else None
        if trend is None:
            return None
        if column.kind == "latest":
            return trend.latest.value
        if column.kind == "change":
            return trend.change(column.days)
        if column.kind == "percent":
            return trend.change_percent(column.days)
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = self.columns[index.column()]
        if role == ARTIST_ID_ROLE:
            return row.artist_id
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == SORT_ROLE:
            return self._sort_value(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == SPARKLINE_ROLE and column.kind == "trend" and column.metric in row.trends:
            return row.trends[column.metric]
        if role == Qt.ItemDataRole.ForegroundRole and column.kind in ("change", "percent"):
            value = self.raw(row, column)
            if isinstance(value, int | float) and value:
                return RISE_COLOR if value > 0 else FALL_COLOR
            return None
        if role == Qt.ItemDataRole.DecorationRole and column.kind == "name":
            return self._thumbnail(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _text(self, row: LibraryArtist, column: Column) -> str | None:
        value = self.raw(row, column)
        if column.kind == "trend":
            return None
        if column.kind == "latest":
            return compact(value if isinstance(value, int | float) else None)
        if column.kind == "change":
            return signed_compact(value if isinstance(value, int | float) else None)
        if column.kind == "percent":
            return signed_percent(value if isinstance(value, int | float) else None)
        return str(value) if value is not None else "–"

    def _sort_value(self, row: LibraryArtist, column: Column) -> Any:
        if column.kind == "name":
            return row.name.casefold()
        if column.kind == "updated":
            return row.updated_at.timestamp()
        if column.kind == "trend":  # sorts by the change over the whole sparkline
            trend = row.trends.get(column.metric) if column.metric else None
            change = trend.change_percent(CHANGE_WINDOWS[-1]) if trend is not None else None
            return change if change is not None else -math.inf
        value = self.raw(row, column)
        if column.numeric:
            return value if isinstance(value, int | float) else -math.inf
        return value or ""

    def _tooltip(self, row: LibraryArtist, column: Column) -> str | None:
        trend = row.trends.get(column.metric) if column.metric else None
        if trend is None:
            return None
        latest = f"{full(trend.latest.value)} on {trend.latest.day.isoformat()}"
        if column.kind in ("change", "percent"):
            before = trend.earlier.get(column.days)
            if before is None:
                return f"{latest}; no figure {column.days} day(s) before"
            return f"{latest}; {full(before.value)} on {before.day.isoformat()}"
        if column.kind == "trend":
            return f"{metric_label(*trend_key(trend))}: {len(trend.recent)} daily figures, latest {latest}"
        return latest

    def _thumbnail(self, row: LibraryArtist) -> QPixmap:
        pixmap = self._pixmaps.get(row.artist_id)
        if pixmap is None:
            pixmap = _cached_image(row.image_path) or _placeholder(row.name)
            self._pixmaps[row.artist_id] = pixmap
        return pixmap


def trend_key(trend: MetricTrend) -> tuple[str, str]:
    return trend.platform, trend.metric


def _cached_image(path: str | None) -> QPixmap | None:
    if not path:
        return None
    pixmap = QPixmap(path)
    if pixmap.isNull():
        return None
    return pixmap.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)


def _placeholder(name: str) -> QPixmap:
    """A neutral rounded square with the artist's initial: shown only when no image was ever cached."""
    pixmap = QPixmap(THUMB, THUMB)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = QPainterPath()
    path.addRoundedRect(0, 0, THUMB, THUMB, 5, 5)
    painter.fillPath(path, PLACEHOLDER_FILL)
    font = QFont()
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(PLACEHOLDER_TEXT)
    painter.drawText(pixmap.rect(), int(Qt.AlignmentFlag.AlignCenter), (name[:1] or "?").upper())
    painter.end()
    return pixmap


class LibraryFilter(QSortFilterProxyModel):
    """Sorting by the raw values and a case-insensitive filter over the artist's name and country."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        needle = self.filterRegularExpression().pattern()
        if not needle:
            return True
        model = self.sourceModel()
        assert isinstance(model, LibraryModel)
        row = model.row_at(source_row)
        text = f"{row.name} {row.country or ''}".casefold()
        return needle.casefold() in text

    def lessThan(self, left: QModelIndex | QPersistentModelIndex, right: QModelIndex | QPersistentModelIndex) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        try:
            return bool(a < b)
        except TypeError:
            return str(a) < str(b)


class SparklineDelegate(QStyledItemDelegate):
    """Draws a metric's last 28 daily figures as a small line, green when it rose over them, red when it fell."""

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        trend = index.data(SPARKLINE_ROLE)
        ink = paint_item_panel(self, painter, option, index)
        if not isinstance(trend, MetricTrend) or len(trend.recent) < 2:
            return
        values = [f.value for f in trend.recent]
        first_day = trend.recent[0].day
        span_days = max(1, (trend.recent[-1].day - first_day).days)
        low, high = min(values), max(values)
        rect = option.rect.adjusted(6, 6, -6, -6)
        points = [
            QPointF(
                rect.left() + rect.width() * (f.day - first_day).days / span_days,
                rect.bottom() - (rect.height() * (f.value - low) / (high - low) if high > low else rect.height() / 2),
            )
            for f in trend.recent
        ]
        rising = values[-1] >= values[0]
        color = ink.text if ink.selected else (RISE_COLOR if rising else FALL_COLOR)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(color, 1.5))
        path = QPainterPath(points[0])
        for point in points[1:]:
            path.lineTo(point)
        painter.drawPath(path)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(96, 28)


class LibraryPanel(QWidget):
    """The table with its filter, column chooser and exports, and the chart of the selected artists.

    Signals carry artist ids for the window to forward to the application: `artists_selected` (ids and names,
    the chart asks for their series), `reimport_requested`, `set_id_requested` (artist id, platform),
    `clear_id_requested` (ids, platform), `remove_requested`.
    """

    artists_selected = Signal(list)
    indexed_changed = Signal(bool)
    reimport_requested = Signal(list)
    set_id_requested = Signal(int, str)
    clear_id_requested = Signal(list, str)
    remove_requested = Signal(list)

    def __init__(self, state: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = LibraryModel(self)
        self.proxy = LibraryFilter(self)
        self.proxy.setSourceModel(self.model)
        self._chosen: dict[str, bool] = self._load_choice()
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
        self.columns_button = QPushButton("Columns…", self)
        self.columns_button.setObjectName("library_columns")
        self.columns_button.clicked.connect(
            lambda: self.column_menu().exec(self.columns_button.mapToGlobal(self.columns_button.rect().bottomLeft()))
        )
        self.export_button = QPushButton("Export table…", self)
        self.export_button.setObjectName("library_export")
        self.export_button.clicked.connect(self.choose_table_export)
        top.addWidget(self.filter_field, 1)
        top.addWidget(self.count_label)
        top.addWidget(self.columns_button)
        top.addWidget(self.export_button)
        layout.addLayout(top)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("library_splitter")
        self.table = QTableView(self.splitter)
        self.table.setObjectName("library_table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(34)
        self.table.setIconSize(QSize(THUMB, THUMB))
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.sparklines = SparklineDelegate(self.table)
        header = self.table.horizontalHeader()
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(lambda pos: self.column_menu().exec(header.mapToGlobal(pos)))
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        chart_area = QWidget(self.splitter)
        chart_layout = QVBoxLayout(chart_area)
        chart_layout.setContentsMargins(0, 4, 0, 0)
        chart_bar = QHBoxLayout()
        self.indexed_box = QCheckBox("Index to 100 at the first common day", chart_area)
        self.indexed_box.setObjectName("library_indexed")
        self.indexed_box.setToolTip("With several artists selected: compare growth rather than size")
        self.indexed_box.toggled.connect(self.indexed_changed.emit)
        self.chart_export_button = QPushButton("Export chart data…", chart_area)
        self.chart_export_button.setObjectName("library_chart_export")
        self.chart_export_button.clicked.connect(self.choose_chart_export)
        chart_bar.addWidget(self.indexed_box)
        chart_bar.addStretch(1)
        chart_bar.addWidget(self.chart_export_button)
        self.chart = MetricChart(chart_area)
        chart_layout.addWidget(self.chart, 1)
        chart_layout.addLayout(chart_bar)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        layout.addWidget(self.splitter, 1)
        self.table.selectionModel().selectionChanged.connect(lambda *_args: self._selection_changed())
        self.model.modelReset.connect(self._columns_changed)
        self.model.modelReset.connect(self._show_count)
        self.proxy.rowsInserted.connect(self._show_count)
        self.proxy.layoutChanged.connect(self._show_count)
        self.filter_field.textChanged.connect(lambda _text: self._show_count())
        self._columns_changed()
        self._show_count()

    # -- rows -----------------------------------------------------------------------------------
    def set_rows(self, rows: Sequence[LibraryArtist]) -> None:
        """Show new rows (an import or refresh stored figures); the selection and sort order stay."""
        selected = set(self.selected_artist_ids())
        header = self.table.horizontalHeader()
        sort_id = self.model.columns[header.sortIndicatorSection()].id if self.model.columns else "name"
        order = header.sortIndicatorOrder()
        self.model.set_rows(rows)
        column = next((n for n, c in enumerate(self.model.columns) if c.id == sort_id), 0)
        self.table.sortByColumn(column, order)
        selection = self.table.selectionModel()
        selection.blockSignals(True)
        for position in range(self.proxy.rowCount()):
            index = self.proxy.index(position, 0)
            if index.data(ARTIST_ID_ROLE) in selected:
                selection.select(index, selection.SelectionFlag.Select | selection.SelectionFlag.Rows)
        selection.blockSignals(False)
        self._selection_changed()

    def merge_rows(self, rows: Sequence[LibraryArtist]) -> None:
        """Replace these artists' rows (and add new artists) without reading the rest again; a metric no column
        shows yet rebuilds the columns."""
        known = {(c.metric) for c in self.model.columns if c.metric is not None}
        if any(key not in known for row in rows for key in row.trends):
            by_id = {row.artist_id: row for row in self.model.rows()}
            by_id.update((row.artist_id, row) for row in rows)
            self.set_rows(sorted(by_id.values(), key=lambda row: (row.name.casefold(), row.artist_id)))
            return
        self.model.merge_rows(rows)
        self._selection_changed()

    def selected_rows(self) -> list[LibraryArtist]:
        """The selected artists in the table's order."""
        positions = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [self._row_shown_at(position) for position in positions]

    def _row_shown_at(self, position: int) -> LibraryArtist:
        """The artist on the table's ``position``-th row as shown (filtered and sorted)."""
        return self.model.row_at(self.proxy.mapToSource(self.proxy.index(position, 0)).row())

    def selected_artist_ids(self) -> list[int]:
        return [row.artist_id for row in self.selected_rows()]

    def _selection_changed(self) -> None:
        rows = self.selected_rows()
        if not rows:
            self.chart.clear()
        self.artists_selected.emit([(row.artist_id, row.name) for row in rows[:COMPARE_LIMIT]])

    def _show_count(self, *_args: Any) -> None:
        total = self.model.rowCount()
        shown = self.proxy.rowCount()
        self.count_label.setText(f"{total} artists" if shown == total else f"{shown} of {total} artists")

    # -- columns --------------------------------------------------------------------------------
    def _load_choice(self) -> dict[str, bool]:
        if self.state is None:
            return {}
        saved = self.state.value(COLUMNS_KEY)
        if not isinstance(saved, str) or not saved:
            return {}
        choice: dict[str, bool] = {}
        for item in saved.split(","):
            column_id, _, shown = item.rpartition("=")
            if column_id:
                choice[column_id] = shown == "1"
        return choice

    def _save_choice(self) -> None:
        if self.state is not None:
            self.state.setValue(COLUMNS_KEY, ",".join(f"{k}={'1' if v else '0'}" for k, v in self._chosen.items()))

    def is_column_visible(self, column: Column) -> bool:
        if column.kind == "name":
            return True
        return self._chosen.get(column.id, default_visible(column))

    def set_column_visible(self, column_id: str, visible: bool) -> None:
        """Show or hide a column; the choice persists (QSettings ``library/columns``)."""
        self._chosen[column_id] = visible
        self._save_choice()
        self._columns_changed()

    def visible_columns(self) -> list[Column]:
        """The visible columns in the order the header shows them."""
        header = self.table.horizontalHeader()
        order = sorted(range(len(self.model.columns)), key=header.visualIndex)
        return [self.model.columns[n] for n in order if not header.isSectionHidden(n)]

    def _columns_changed(self) -> None:
        header = self.table.horizontalHeader()
        width = self.table.fontMetrics()
        for n, column in enumerate(self.model.columns):
            self.table.setColumnHidden(n, not self.is_column_visible(column))
            header_width = max(width.horizontalAdvance(line) for line in column.header.split("\n")) + 28
            if column.kind == "trend":
                self.table.setItemDelegateForColumn(n, self.sparklines)
                self.table.setColumnWidth(n, max(100, header_width))
            elif column.kind == "name":
                header.setSectionResizeMode(n, QHeaderView.ResizeMode.Interactive)
                self.table.setColumnWidth(n, max(200, width.horizontalAdvance("M" * 14)))
            else:
                self.table.setItemDelegateForColumn(n, None)  # type: ignore[arg-type]
                self.table.setColumnWidth(n, max(72, header_width))

    def column_menu(self) -> QMenu:
        """Every column with a check box; unchecking hides it (the artist's name always shows)."""
        menu = QMenu(self)
        menu.setObjectName("library_column_menu")
        current: tuple[str, str] | None = None
        for column in self.model.columns:
            if column.kind == "name":
                continue
            if column.metric != current and column.metric is not None:
                current = column.metric
                menu.addSection(metric_label(*column.metric))
            action = menu.addAction(column.header.split("\n")[-1] if column.metric else column.header)
            action.setCheckable(True)
            action.setChecked(self.is_column_visible(column))
            action.setData(column.id)
            action.toggled.connect(lambda shown, column_id=column.id: self.set_column_visible(column_id, shown))
        return menu

    # -- exports --------------------------------------------------------------------------------
    def export_table(self, path: str | Path) -> int:
        """Write the rows as shown (filtered and sorted) with the visible columns as CSV, plus the Spotify,
        Deezer and MusicBrainz ids and, after each metric's latest figure, the day of that figure. Numbers are
        written in full (no 1.2M), changes in percent with two decimals; sparklines are left out (their figures
        are in the chart export). Returns the number of rows written."""
        columns = [c for c in self.visible_columns() if c.kind != "trend"]
        header: list[str] = []
        for column in columns:
            header.append(column.header.replace("\n", " "))
            if column.kind == "latest":
                header.append(f"{column.header} day")
        header += ["Spotify id", "Deezer id", "MusicBrainz id"]
        rows = [self._row_shown_at(position) for position in range(self.proxy.rowCount())]
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for row in rows:
                cells: list[object] = []
                for column in columns:
                    value = self.model.raw(row, column)
                    if column.kind == "percent" and isinstance(value, int | float):
                        value = round(value, 2)
                    elif isinstance(value, int | float) and value == int(value):
                        value = int(value)
                    cells.append("" if value is None else value)
                    if column.kind == "latest":
                        trend = row.trends.get(column.metric) if column.metric else None
                        cells.append(trend.latest.day.isoformat() if trend else "")
                cells += [row.spotify_id or "", row.deezer_id or "", row.musicbrainz_id or ""]
                writer.writerow(cells)
        return len(rows)

    def export_chart(self, path: str | Path) -> int:
        """Write the chart's figures as CSV, one row per day, artist and metric (as stored, never indexed).
        Returns the number of rows written."""
        count = 0
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["day", "artist", "platform", "metric", "value"])
            for (platform, metric), lines in sorted(self.chart.figures.items()):
                for name, figures in lines.items():
                    for figure in figures:
                        value = int(figure.value) if figure.value == int(figure.value) else figure.value
                        writer.writerow([figure.day.isoformat(), name, platform, metric, value])
                        count += 1
        return count

    def choose_table_export(self) -> None:
        self._choose_export("library.csv", self.export_table)

    def choose_chart_export(self) -> None:
        if not self.chart.figures:
            self.chart.hover_label.setText("Select artists first: the chart has no figures to export.")
            return
        self._choose_export("library-chart.csv", self.export_chart)

    def _choose_export(self, name: str, write: Any) -> None:
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        path, _filter = QFileDialog.getSaveFileName(self, "Export as CSV", str(Path(folder) / name), "CSV (*.csv)")
        if not path:
            return
        try:
            count = write(path)
        except OSError as exc:
            self.count_label.setText(f"Export failed: {exc.strerror or exc}")
            return
        self.count_label.setText(f"Exported {count} rows to {Path(path).name}")

    # -- actions --------------------------------------------------------------------------------
    def context_menu(self) -> QMenu:
        """The actions for the selected artists (open, re-import, copy ids, set or clear ids, remove)."""
        rows = self.selected_rows()
        menu = QMenu(self)
        menu.setObjectName("library_context_menu")
        single = rows[0] if len(rows) == 1 else None
        for platform, attribute, label in (
            (Platform.SPOTIFY, "spotify_id", "Open on &Spotify"),
            (Platform.DEEZER, "deezer_id", "Open on &Deezer"),
            (Platform.MUSICBRAINZ, "musicbrainz_id", "Open on &MusicBrainz"),
        ):
            ids = [getattr(row, attribute) for row in rows if getattr(row, attribute)]
            action = menu.addAction(label)
            action.setObjectName(f"open_{platform.value}")
            action.setEnabled(bool(ids))
            action.triggered.connect(lambda _c=False, p=platform, i=ids: self.open_pages(p, i))
        menu.addSeparator()
        reimport = menu.addAction("&Re-import")
        reimport.setObjectName("reimport")
        reimport.setEnabled(any(row.spotify_id for row in rows))
        reimport.triggered.connect(lambda: self.reimport_requested.emit([row.artist_id for row in rows]))
        copy = menu.addAction("&Copy ids")
        copy.setObjectName("copy_ids")
        copy.setEnabled(bool(rows))
        copy.triggered.connect(lambda: self.copy_ids(rows))
        menu.addSeparator()
        for platform, noun in EDITABLE_IDS.items():
            name = f"{platform.label} {noun}"
            set_action = menu.addAction(f"Set {name}…")
            set_action.setObjectName(f"set_{platform.value}_id")
            set_action.setEnabled(single is not None)
            if single is not None:
                set_action.triggered.connect(
                    lambda _c=False, p=platform, a=single.artist_id: self.set_id_requested.emit(a, p.value)
                )
            clear = menu.addAction(f"Clear {name}")
            clear.setObjectName(f"clear_{platform.value}_id")
            having = [row.artist_id for row in rows if row.ids.get(platform.value)]
            clear.setEnabled(bool(having))
            clear.triggered.connect(lambda _c=False, p=platform, a=having: self.clear_id_requested.emit(a, p.value))
        menu.addSeparator()
        remove = menu.addAction("Re&move from library…")
        remove.setObjectName("remove_artists")
        remove.setEnabled(bool(rows))
        remove.triggered.connect(lambda: self.remove_requested.emit([row.artist_id for row in rows]))
        return menu

    def _context_menu(self, position: Any) -> None:
        if self.selected_rows():
            self.context_menu().exec(self.table.viewport().mapToGlobal(position))

    def open_pages(self, platform: Platform, ids: Iterable[str]) -> list[str]:
        """Open each artist's page on ``platform`` in the browser; returns the addresses."""
        urls = [PAGE_URLS[platform].format(platform_id) for platform_id in ids]
        for url in urls:
            QDesktopServices.openUrl(QUrl(url))
        return urls

    def copy_ids(self, rows: Sequence[LibraryArtist]) -> str:
        """Put a tab-separated block (name, Spotify, Deezer, MusicBrainz id) on the clipboard; returns it."""
        lines = ["\t".join([r.name, r.spotify_id or "", r.deezer_id or "", r.musicbrainz_id or ""]) for r in rows]
        text = "\n".join(lines)
        QGuiApplication.clipboard().setText(text)
        self.count_label.setText(f"Copied the ids of {len(rows)} artist{'s' if len(rows) != 1 else ''}")
        return text
