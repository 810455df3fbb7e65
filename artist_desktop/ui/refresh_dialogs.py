"""The Metrics dialogs: one refresh's progress (a row per source), its results (a tab per source: filter, retry,
CSV), the refresh history of every source, and Deezer matches.

They only show and signal intent; `artist_desktop.ui.metrics_menu` opens them and runs the work.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import enum
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from artist_desktop.application import RefreshRunRow
from artist_desktop.domain import MetricType, Platform
from artist_desktop.services.deezer_matcher import Match, Unmatched
from artist_desktop.sources import (
    RefreshResult,
    RefreshStatus,
    RefreshSummary,
)
from artist_desktop.sources.refresh import RefreshAllSummary
from artist_desktop.ui.palette import ERROR_COLOR
from artist_desktop.ui.qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QCheckBox,
    QCloseEvent,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QProgressBar,
    QProgressDialog,
    QPushButton,
    QSortFilterProxyModel,
    QStandardItem,
    QStandardItemModel,
    Qt,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
    Signal,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = [
    "DeezerMatchesDialog",
    "MetricsProgressDialog",
    "RefreshHistoryDialog",
    "RefreshProgressDialog",
    "RefreshResultsDialog",
    "RefreshResultsModel",
    "ResultsFilterProxy",
    "SourceResultsTab",
    "SourceState",
    "merge_retry",
    "tab_text",
    "value_title",
]

HISTORY_COLUMNS = ("Date", "Source", "Status", "Total", "Updated", "Failed", "Not found", "Reason")
MATCH_COLUMNS = ("Artist", "Deezer name", "Deezer id", "Fans")
UNMATCHED_COLUMNS = ("Artist", "Why no id")
UPDATED, FAILED, NOT_FOUND = "Updated", "Failed", "Not found"
ID_ROLE = Qt.ItemDataRole.UserRole + 1
#: The results table's value column, titled after the source's headline figure.
VALUE_TITLES = {
    MetricType.FOLLOWERS: "Fans",
    MetricType.PAGEVIEWS: "Pageviews (latest day)",
    MetricType.LISTENERS: "Listeners",
}
#: Separates a tab's source from its counts: "Deezer fans · 40 updated, 2 failed".
DOT = " · "


def value_title(headline: MetricType) -> str:
    """The value column's title: "Fans", "Pageviews (latest day)", "Listeners"; other metrics capitalised."""
    return VALUE_TITLES.get(headline, headline.value.replace("_", " ").capitalize())


#: What the Change column compares (its header's tooltip).
CHANGE_TIP = (
    "Against the figure this refresh replaced: an earlier refresh of the same day, else the latest earlier day's "
    "(for a first collection, the day before in the series collected)"
)


def result_columns(headline: MetricType) -> tuple[str, ...]:
    """The results table's columns (and the CSV header) for a source whose headline figure is ``headline``."""
    return ("Artist", "Status", value_title(headline), "Change", "Error")


def outcome_counts(summary: RefreshSummary) -> str:
    """ "40 updated, 2 failed", "10 updated, 4 not found": `RefreshSummary.counts_text`, the one wording."""
    return summary.counts_text()


def tab_text(summary: RefreshSummary) -> str:
    """A source's run in a tab title: "Deezer fans · 40 updated, 2 failed", "Last.fm listeners · skipped",
    "Wikipedia pageviews · failed", "... · cancelled"."""
    if summary.status is RefreshStatus.SKIPPED:
        return f"{summary.label}{DOT}skipped"
    counts = outcome_counts(summary)
    if summary.status is RefreshStatus.COMPLETE:
        return f"{summary.label}{DOT}{counts}"
    if summary.status is RefreshStatus.FAILED and not summary.updated:
        return f"{summary.label}{DOT}failed"
    return f"{summary.label}{DOT}{summary.status.value}: {counts}"


def _local(moment: datetime) -> str:
    """A UTC instant as the analyst's local date and time."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _number(value: int | None, *, signed: bool = False) -> str:
    if value is None:
        return ""
    return f"{value:+,}" if signed else f"{value:,}"


def merge_retry(summary: RefreshSummary, retry: RefreshSummary) -> RefreshSummary:
    """`summary` with the retried artists' results replaced by `retry`'s, and its counts recomputed."""
    retried = {result.artist_id: result for result in retry.results}
    results = [retried.pop(result.artist_id, result) for result in summary.results] + list(retried.values())
    updated = sum(1 for result in results if result.success)
    return dataclasses.replace(
        summary, results=results, total=len(results), updated=updated, failed=len(results) - updated
    )


# -- the results table -------------------------------------------------------------------------------


class RefreshResultsModel(QAbstractTableModel):
    """Per-artist results of one source's run: artist, status, the headline figure (its column titled after it:
    "Fans", "Listeners"), change since the figure before the run, error. A flat list: thousands of rows are
    cheap (nothing is made per row until the view asks)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._results: list[RefreshResult] = []
        self.columns = result_columns(MetricType.FOLLOWERS)
        self._order: tuple[int, Qt.SortOrder] = (0, Qt.SortOrder.AscendingOrder)

    def set_results(self, results: Iterable[RefreshResult], headline: MetricType = MetricType.FOLLOWERS) -> None:
        self.beginResetModel()
        self._results = list(results)
        self.columns = result_columns(headline)
        self._sort_rows()
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sorted here with one key per row (tens of thousands of rows in milliseconds; a proxy's comparisons
        would each call back into Python)."""
        self.beginResetModel()
        self._order = (column, order)
        self._sort_rows()
        self.endResetModel()

    def _sort_rows(self) -> None:
        column, order = self._order
        keys = {id(result): self.sort_key(row, column) for row, result in enumerate(self._results)}
        self._results.sort(key=lambda result: keys[id(result)], reverse=order == Qt.SortOrder.DescendingOrder)

    def result_at(self, row: int) -> RefreshResult:
        return self._results[row]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._results)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section]
        if role == Qt.ItemDataRole.ToolTipRole and orientation == Qt.Orientation.Horizontal and section == 3:
            return CHANGE_TIP
        return None

    def raw(self, row: int, column: int) -> str | int | None:
        """The cell's value as exported: text, a plain integer, or None when empty."""
        result = self._results[row]
        values: tuple[str | int | None, ...] = (
            result.name,
            UPDATED if result.success else NOT_FOUND if result.not_found else FAILED,
            result.value,
            result.change,
            result.error,
        )
        return values[column]

    def sort_key(self, row: int, column: int) -> tuple[bool, Any]:
        """Orders empty cells first, numbers as numbers and text without regard to case."""
        value = self.raw(row, column)
        if value is None:
            return (False, 0)
        return (True, value.casefold() if isinstance(value, str) else value)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        result = self._results[row]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if column == 2:
                return _number(result.value)
            if column == 3:
                return _number(result.change, signed=True)
            return self.raw(row, column) or ""
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (2, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and column == 1 and not result.success and not result.not_found:
            return ERROR_COLOR
        return None


class ResultsFilterProxy(QSortFilterProxyModel):
    """With `failed_only`, hides the artists that updated; sorting is the results model's own (`sort` passes the
    view's header clicks on to it), by the real values."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._failed_only = False

    def set_failed_only(self, failed_only: bool) -> None:
        self.beginFilterChange()
        self._failed_only = failed_only
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def _results(self) -> RefreshResultsModel:
        source = self.sourceModel()
        assert isinstance(source, RefreshResultsModel)
        return source

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        return not self._failed_only or not self._results().result_at(source_row).success

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._results().sort(column, order)


def _table(parent: QWidget, name: str) -> QTableView:
    view = QTableView(parent)
    view.setObjectName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return view


def _why(summary: RefreshSummary) -> str:
    """A run that fetched nothing, in words ("" when it has results to show)."""
    reason = summary.reason or "no reason was recorded"
    if summary.status is RefreshStatus.SKIPPED:
        return f"{summary.label} was skipped: {reason}."
    if summary.status is RefreshStatus.FAILED:
        return f"{summary.label} failed: {reason}."
    if summary.status is RefreshStatus.CANCELLED:
        return f"{summary.label} was cancelled; what it fetched before is kept."
    return ""


class SourceResultsTab(QWidget):
    """One source's run: counts, why it was skipped or failed, the per-artist table (Failed only), Retry failed
    (live runs) and Export CSV. `retry_requested` carries the source (a `Platform`)."""

    retry_requested = Signal(object)

    def __init__(self, summary: RefreshSummary, *, read_only: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"results_{summary.source.value}")
        self.read_only = read_only
        self._summary = summary

        self.run_label = QLabel(self)
        self.run_label.setObjectName("run_label")
        self.reason_label = QLabel(self)
        self.reason_label.setObjectName("reason_label")
        self.reason_label.setWordWrap(True)
        self.reason_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.total_label = QLabel(self)
        self.total_label.setObjectName("total_value")
        self.updated_label = QLabel(self)
        self.updated_label.setObjectName("updated_value")
        self.failed_label = QLabel(self)
        self.failed_label.setObjectName("failed_value")
        self.figures = QWidget(self)
        figures = QFormLayout(self.figures)
        figures.setContentsMargins(0, 0, 0, 0)
        figures.addRow("Total:", self.total_label)
        figures.addRow("Updated:", self.updated_label)
        figures.addRow("Failed:", self.failed_label)

        self.failed_only = QCheckBox("&Failed only", self)
        self.failed_only.setObjectName("failed_only")
        self.model = RefreshResultsModel(self)
        self.proxy = ResultsFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.failed_only.toggled.connect(self.proxy.set_failed_only)
        self.view = _table(self, "results_view")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)

        self.retry_button = QPushButton("&Retry failed", self)
        self.retry_button.setObjectName("retry_failed")
        self.retry_button.clicked.connect(lambda: self.retry_requested.emit(self._summary.source))
        self.retry_button.setVisible(not read_only)
        self.export_button = QPushButton("&Export CSV…", self)
        self.export_button.setObjectName("export_csv")
        self.export_button.clicked.connect(self.choose_export)
        self.export_label = QLabel(self)
        self.export_label.setObjectName("export_label")
        self.export_label.setWordWrap(True)
        actions = QHBoxLayout()
        actions.addWidget(self.failed_only)
        actions.addStretch(1)
        actions.addWidget(self.retry_button)
        actions.addWidget(self.export_button)

        layout = self._layout = QVBoxLayout(self)
        layout.addWidget(self.run_label)
        layout.addWidget(self.reason_label)
        layout.addWidget(self.figures)
        layout.addLayout(actions)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.export_label)
        layout.addStretch(0)  # takes the room of the table when a run has no rows (skipped, failed at once)
        self._busy = False
        self.show_summary(summary)

    @property
    def summary(self) -> RefreshSummary:
        return self._summary

    @property
    def source(self) -> Platform:
        return self._summary.source

    def show_summary(self, summary: RefreshSummary) -> None:
        self._summary = summary
        state = "" if summary.status is RefreshStatus.COMPLETE else f" ({summary.status.value})"
        self.run_label.setText(f"{summary.label}: run of {_local(summary.run_date)}{state}")
        why = _why(summary)
        self.reason_label.setText(why)
        self.reason_label.setVisible(bool(why))
        self.total_label.setText(f"{summary.total:,}")
        self.updated_label.setText(f"{summary.updated:,}")
        self.failed_label.setText(
            f"{summary.failures:,}"
            + (f"  ({summary.not_found:,} not found: no page or id there)" if summary.not_found else "")
        )
        self.model.set_results(summary.results, summary.headline)
        has_rows = bool(summary.results)
        for widget in (self.view, self.failed_only, self.export_button, self.figures):
            widget.setVisible(has_rows)
        self.retry_button.setVisible(has_rows and not self.read_only)
        self._layout.setStretch(self._layout.count() - 1, 0 if has_rows else 1)
        if len(summary.results) <= 2000:  # measuring every row of a huge run would stall the window
            self.view.resizeColumnsToContents()
        self._sync_retry()

    def merge(self, retry: RefreshSummary) -> None:
        """Show the outcome of "Retry failed": the retried artists' new results and the new counts."""
        self.show_summary(merge_retry(self._summary, retry))

    def set_busy(self, busy: bool) -> None:
        """While a retry runs, it cannot be started again."""
        self._busy = busy
        self._sync_retry()

    def _sync_retry(self) -> None:
        self.retry_button.setEnabled(not self._busy and bool(self._summary.failed_artist_ids))

    def visible_rows(self) -> list[list[str | int | None]]:
        """The rows as the table shows them (sorted, filtered), with plain values."""
        rows = []
        for proxy_row in range(self.proxy.rowCount()):
            source_row = self.proxy.mapToSource(self.proxy.index(proxy_row, 0)).row()
            rows.append([self.model.raw(source_row, column) for column in range(len(self.model.columns))])
        return rows

    def export_csv(self, path: str | Path) -> int:
        """Write the table's rows (as shown: sorted and filtered) with a header; returns the row count."""
        rows = self.visible_rows()
        with Path(path).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(self.model.columns)
            writer.writerows(["" if value is None else value for value in row] for row in rows)
        return len(rows)

    def default_file_name(self) -> str:
        """After the source and its figure: ``lastfm-listeners-2026-12-07-0930.csv``, ``deezer-fans-...``."""
        summary = self._summary
        return f"{summary.source.value}-{summary.value_key}-{summary.run_date.astimezone():%Y-%m-%d-%H%M}.csv"

    def choose_export(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(self, "Export CSV", self.default_file_name(), "CSV files (*.csv)")
        if not path:
            return
        try:
            count = self.export_csv(path)
        except OSError as exc:
            QMessageBox.warning(self, "Export CSV", f"Could not write {path}: {exc}")
            return
        self.export_label.setText(f"Exported {count} row{'s' if count != 1 else ''} to {path}")


class RefreshResultsDialog(QDialog):
    """One refresh's results: a tab per source (`SourceResultsTab`), titled with its outcome ("Deezer fans · 40
    updated, 2 failed"). `retry_requested(source)` asks to re-run a source's failed artists (live runs only)."""

    retry_requested = Signal(object)

    def __init__(self, summary: RefreshAllSummary, *, read_only: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("refresh_results")
        self.setWindowTitle("Metrics refresh results")
        self.resize(900, 560)
        self.read_only = read_only
        self._summary = summary
        self.tab_widget = QTabWidget(self)
        self.tab_widget.setObjectName("source_tabs")
        self.tab_widget.setDocumentMode(True)
        self.tab_widget.tabBar().setExpanding(False)
        self.tab_widget.tabBar().setElideMode(Qt.TextElideMode.ElideNone)
        self.tab_widget.tabBar().setUsesScrollButtons(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tab_widget, 1)
        layout.addWidget(buttons)
        self.show_all(summary)

    @property
    def summary(self) -> RefreshAllSummary:
        """What the tabs show now (a retry's results merged in)."""
        return RefreshAllSummary(self._summary.run_date, [tab.summary for tab in self.tabs()])

    def tabs(self) -> list[SourceResultsTab]:
        found = (self.tab_widget.widget(index) for index in range(self.tab_widget.count()))
        return [tab for tab in found if isinstance(tab, SourceResultsTab)]

    def tab(self, source: Platform) -> SourceResultsTab:
        """The tab of ``source``; KeyError when this refresh did not run it."""
        for tab in self.tabs():
            if tab.source is source:
                return tab
        raise KeyError(source)

    def tab_titles(self) -> list[str]:
        return [self.tab_widget.tabText(index) for index in range(self.tab_widget.count())]

    def show_all(self, summary: RefreshAllSummary) -> None:
        """A new refresh: one tab per source, in the refresh's order."""
        self._summary = summary
        while self.tab_widget.count():
            old = self.tab_widget.widget(0)
            self.tab_widget.removeTab(0)
            if old is not None:
                old.deleteLater()
        for run in summary.runs:
            tab = SourceResultsTab(run, read_only=self.read_only, parent=self.tab_widget)
            tab.retry_requested.connect(self.retry_requested)
            self.tab_widget.addTab(tab, tab_text(run))
            self._sync_title(tab)
        self._fit_tabs()
        if len(summary.runs) == 1:
            self.setWindowTitle(f"{summary.runs[0].label}: refresh results")
        else:
            self.setWindowTitle("Metrics refresh results")

    def _fit_tabs(self) -> None:
        """Wide enough for every tab's title (up to the screen's width; past it the tab bar scrolls)."""
        wanted = self.tab_widget.tabBar().sizeHint().width() + 48
        screen = self.screen()
        limit = screen.availableGeometry().width() - 40 if screen is not None else wanted
        if self.width() < min(wanted, limit):
            self.resize(min(wanted, limit), self.height())

    def merge(self, retry: RefreshSummary) -> None:
        """A retry's results into its source's tab (counts and tab title recomputed)."""
        tab = self.tab(retry.source)
        tab.merge(retry)
        self._sync_title(tab)

    def set_busy(self, source: Platform, busy: bool) -> None:
        self.tab(source).set_busy(busy)

    def _sync_title(self, tab: SourceResultsTab) -> None:
        index = self.tab_widget.indexOf(tab)
        self.tab_widget.setTabText(index, tab_text(tab.summary))
        why = _why(tab.summary)
        self.tab_widget.setTabToolTip(index, why or tab_text(tab.summary))
        if tab.summary.status is RefreshStatus.FAILED and not tab.summary.updated:
            self.tab_widget.tabBar().setTabTextColor(index, ERROR_COLOR)
        else:
            self.tab_widget.tabBar().setTabTextColor(index, self.palette().windowText().color())


# -- history and matches ---------------------------------------------------------------------------


def _item(text: str, value: object = None, *, right: bool = False) -> QStandardItem:
    item = QStandardItem(text)
    item.setEditable(False)
    if value is not None:
        item.setData(value, ID_ROLE)
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class RefreshHistoryDialog(QDialog):
    """Past refresh runs of every source, newest first, with the source and why a run was skipped or failed;
    Open (or a double click) shows a run's results."""

    open_requested = Signal(object)  # RefreshRunRow

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("refresh_history")
        self.setWindowTitle("Refresh history")
        self.resize(820, 420)
        self._runs: list[RefreshRunRow] = []
        self.model = QStandardItemModel(0, len(HISTORY_COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(HISTORY_COLUMNS))
        self.view = _table(self, "history_view")
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setModel(self.model)
        self.view.doubleClicked.connect(lambda index: self._open_row(index.row()))
        self.view.horizontalHeader().setSectionResizeMode(len(HISTORY_COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.empty_label = QLabel("No refresh has run yet.", self)
        self.empty_label.setObjectName("history_empty")
        self.open_button = QPushButton("&Open", self)
        self.open_button.setObjectName("open_run")
        self.open_button.clicked.connect(self._open_selected)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
        self.set_runs([])

    def set_runs(self, runs: Sequence[RefreshRunRow]) -> None:
        self._runs = list(runs)
        self.model.removeRows(0, self.model.rowCount())
        for run in self._runs:
            status = run.status.value.capitalize() + (" (scheduled)" if run.scheduled else "")
            reason = _item(run.reason or "")
            reason.setToolTip(run.reason or "")
            self.model.appendRow(
                [
                    _item(_local(run.run_date), run.run_id),
                    _item(run.source.label),
                    _item(status),
                    _item(f"{run.total:,}", right=True),
                    _item(f"{run.updated:,}", right=True),
                    _item(f"{run.failed - run.not_found:,}", right=True),
                    _item(f"{run.not_found:,}", right=True),
                    reason,
                ]
            )
        self.empty_label.setVisible(not self._runs)
        self.open_button.setEnabled(bool(self._runs))
        if self._runs:
            self.view.selectRow(0)
        for column in range(len(HISTORY_COLUMNS) - 1):  # the reason takes the rest (its whole text in the tooltip)
            self.view.resizeColumnToContents(column)

    def rows(self) -> list[list[str]]:
        """The table as the analyst reads it, row by row."""
        return [
            [self.model.item(row, column).text() for column in range(self.model.columnCount())]
            for row in range(self.model.rowCount())
        ]

    def _open_selected(self) -> None:
        rows = self.view.selectionModel().selectedRows()
        if rows:
            self._open_row(rows[0].row())

    def _open_row(self, row: int) -> None:
        if 0 <= row < len(self._runs):
            self.open_requested.emit(self._runs[row])


class DeezerMatchesDialog(QDialog):
    """The Deezer ids just found ("Undo selected" forgets the ones the analyst rejects), and below them the
    artists left without one with the reason (namesakes, no match, an id another artist holds)."""

    undo_requested = Signal(list)

    def __init__(self, matches: Sequence[Match], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("deezer_matches")
        self.setWindowTitle("Deezer ids found")
        self.resize(640, 400)
        self.summary_label = QLabel(self)
        self.summary_label.setObjectName("matches_summary")
        self.model = QStandardItemModel(0, len(MATCH_COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(MATCH_COLUMNS))
        self.view = _table(self, "matches_view")
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setModel(self.model)
        self.undo_button = QPushButton("&Undo selected", self)
        self.undo_button.setObjectName("undo_selected")
        self.undo_button.clicked.connect(self._undo_selected)
        self.unmatched_label = QLabel(self)
        self.unmatched_label.setObjectName("unmatched_summary")
        self.unmatched_label.setWordWrap(True)
        self.unmatched_model = QStandardItemModel(0, len(UNMATCHED_COLUMNS), self)
        self.unmatched_model.setHorizontalHeaderLabels(list(UNMATCHED_COLUMNS))
        self.unmatched_view = _table(self, "unmatched_view")
        self.unmatched_view.setModel(self.unmatched_model)
        self.unmatched_view.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self.undo_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.view, 2)
        layout.addWidget(self.unmatched_label)
        layout.addWidget(self.unmatched_view, 1)
        layout.addWidget(buttons)
        self._undone = 0
        self.set_matches(matches)

    def set_matches(self, matches: Sequence[Match]) -> None:
        self.model.removeRows(0, self.model.rowCount())
        for match in matches:
            self.model.appendRow(
                [
                    _item(match.name, match.artist_id),
                    _item(match.deezer_name),
                    _item(match.deezer_id),
                    _item(_number(match.fans), right=True),
                ]
            )
        self.view.resizeColumnsToContents()
        unmatched: list[Unmatched] = list(getattr(matches, "unmatched", []))
        self.unmatched_model.removeRows(0, self.unmatched_model.rowCount())
        for artist in unmatched:
            self.unmatched_model.appendRow([_item(artist.name, artist.artist_id), _item(artist.reason)])
        self.unmatched_view.resizeColumnToContents(0)
        count = len(unmatched)
        self.unmatched_label.setText(
            f"Left without a Deezer id: {count} artist{'s' if count != 1 else ''}. Set one by hand in the "
            "Library (right-click an artist → Set Deezer id…)."
        )
        for widget in (self.unmatched_label, self.unmatched_view):
            widget.setVisible(bool(count))
        self._undone = 0
        self._sync()

    def artist_ids(self) -> list[int]:
        return [int(self.model.item(row, 0).data(ID_ROLE)) for row in range(self.model.rowCount())]

    def _undo_selected(self) -> None:
        ids = [
            int(self.model.item(index.row(), 0).data(ID_ROLE)) for index in self.view.selectionModel().selectedRows()
        ]
        if ids:
            self.undo_button.setEnabled(False)
            self.undo_requested.emit(ids)

    def remove_artists(self, artist_ids: Iterable[int]) -> None:
        """The undone matches leave the list."""
        gone = set(artist_ids)
        for row in reversed(range(self.model.rowCount())):
            if int(self.model.item(row, 0).data(ID_ROLE)) in gone:
                self.model.removeRow(row)
                self._undone += 1
        self._sync()

    def _sync(self) -> None:
        count = self.model.rowCount()
        if count:
            text = f"Matched {count} artist{'s' if count != 1 else ''} to a Deezer id."
        else:
            text = "No new Deezer ids: no artist without one has an exact match on Deezer."
        if self._undone:
            text += f" Undone: {self._undone}."
        self.summary_label.setText(text)
        self.undo_button.setEnabled(count > 0)


# -- progress --------------------------------------------------------------------------------------


class SourceState(enum.Enum):
    """Where one source's row of the progress dialog is: WAITING -> RUNNING (its first artist) -> DONE | FAILED
    | SKIPPED | CANCELLED; WAITING -> SKIPPED | FAILED | CANCELLED directly (no artist, no key, lock held)."""

    WAITING = "waiting"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class _SourceRow:
    """One source's row: its label, a done / total bar and its state in words."""

    def __init__(self, source: Platform, label: str, parent: QWidget) -> None:
        self.source = source
        self.state = SourceState.WAITING
        self.name = QLabel(label, parent)
        self.name.setObjectName(f"source_{source.value}")
        self.bar = QProgressBar(parent)
        self.bar.setObjectName(f"bar_{source.value}")
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setTextVisible(False)  # the counts are in the state's words: text over the chunk reads badly
        self.bar.setMinimumWidth(160)
        self.state_label = QLabel(SourceState.WAITING.value, parent)
        self.state_label.setObjectName(f"state_{source.value}")
        self.state_label.setMinimumWidth(260)
        self.state_label.setWordWrap(True)

    def progress(self, done: int, total: int, name: str) -> None:
        if self.state not in (SourceState.WAITING, SourceState.RUNNING):
            return
        self.state = SourceState.RUNNING
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        self.bar.setFormat(f"{done:,} / {total:,}")
        self.state_label.setText(f"running {done:,} / {total:,}: {name}")
        self.state_label.setToolTip(name)

    def end(self, summary: RefreshSummary) -> None:
        status = summary.status
        if status is RefreshStatus.SKIPPED:
            self.state, text = SourceState.SKIPPED, f"skipped: {summary.reason or 'nothing to do'}"
        elif status is RefreshStatus.CANCELLED:
            self.state, text = SourceState.CANCELLED, "cancelled"
        elif status is RefreshStatus.FAILED and not summary.updated:
            self.state, text = SourceState.FAILED, f"failed: {summary.reason or 'see the log'}"
        else:
            self.state = SourceState.DONE
            text = f"done: {outcome_counts(summary)}"
            if status is RefreshStatus.FAILED:
                text += f" (stopped: {summary.reason})"
        if summary.total:
            self.bar.setRange(0, summary.total)
            self.bar.setValue(summary.updated + summary.failed)
            self.bar.setFormat(f"{summary.updated + summary.failed:,} / {summary.total:,}")
        else:
            self.bar.setRange(0, 1)
            self.bar.setValue(0 if self.state is not SourceState.DONE else 1)
            self.bar.setFormat("—")
        self.state_label.setText(text)
        self.state_label.setToolTip(text)

    def cancel(self) -> None:
        if self.state in (SourceState.WAITING, SourceState.RUNNING):
            self.state = SourceState.CANCELLED
            self.state_label.setText("cancelled")
            self.state_label.setToolTip("cancelled")


class MetricsProgressDialog(QDialog):
    """A metrics refresh under way: a row per source (label, done / total bar, state: waiting, running, done N
    updated, M failed, failed: reason, skipped: reason). Cancel, Esc or closing the dialog cancel the task (what
    was stored stays); the dialog goes away when the task ends, however it ends.

    The work reports through `report(source, done, total, name)` and `source_ended(summary)`: both only emit;
    the rows update in their slots, never inside the task's frame."""

    progress_changed = Signal(object, int, int, str)
    source_finished = Signal(object)

    def __init__(self, title: str, sources: Sequence[tuple[Platform, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("refresh_progress")
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(620)
        self._task: asyncio.Task[Any] | None = None
        self._finished = False
        self.rows = {source: _SourceRow(source, label, self) for source, label in sources}
        heading = QLabel(f"{title}…", self)
        heading.setObjectName("progress_heading")
        grid = QFormLayout()
        grid.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for row in self.rows.values():
            line = QHBoxLayout()
            line.addWidget(row.bar, 2)
            line.addWidget(row.state_label, 3)
            grid.addRow(row.name, line)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setObjectName("cancel_refresh")
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(grid)
        layout.addWidget(self.buttons)
        self.progress_changed.connect(self._show_progress)
        self.source_finished.connect(self._show_end)

    def state(self, source: Platform) -> str:
        """A row's state as the analyst reads it ("done 3 updated, 0 failed", "skipped: no API key")."""
        return self.rows[source].state_label.text()

    def report(self, source: Platform, done: int, total: int, name: str) -> None:
        """The refresh's progress callback (`sources.refresh.SourceProgress`)."""
        self.progress_changed.emit(source, done, total, name)

    def source_ended(self, summary: RefreshSummary) -> None:
        """One source's run ended: its row shows how."""
        self.source_finished.emit(summary)

    def follow(self, task: asyncio.Task[Any]) -> None:
        """Cancel cancels `task`; the dialog goes away when the task ends, however it ends."""
        self._task = task
        task.add_done_callback(lambda _task: self.finish())

    def finish(self) -> None:
        """Close and delete the dialog (once: the result handler and the task's end both call this)."""
        if self._finished:
            return
        self._finished = True
        self._task = None
        self.close()
        self.deleteLater()

    def reject(self) -> None:
        """Cancel, Esc: the task is cancelled; the dialog stays until it has stopped (the writes under way land)."""
        task, self._task = self._task, None
        if task is None or self._finished:
            super().reject()
            return
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")
        for row in self.rows.values():
            row.cancel()
        task.cancel()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._finished:
            event.ignore()
            self.reject()
            return
        super().closeEvent(event)

    def _show_progress(self, source: Platform, done: int, total: int, name: str) -> None:
        row = self.rows.get(source)
        if row is not None and not self._finished:
            row.progress(done, total, name)

    def _show_end(self, summary: RefreshSummary) -> None:
        row = self.rows.get(summary.source)
        if row is not None and not self._finished:
            row.end(summary)


class RefreshProgressDialog(QProgressDialog):
    """done / total and the artist just finished while background work runs; Cancel cancels the task."""

    progress_changed = Signal(int, int, str)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(f"{title}…", "Cancel", 0, 0, parent)
        self.setObjectName("refresh_progress")
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumDuration(0)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.setMinimumWidth(420)
        # Our own bar, set directly: QProgressDialog.setValue() on a modal dialog runs processEvents(),
        # which would re-enter the qasync loop from inside the task reporting progress.
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)
        self.setBar(self.bar)
        self._title = title
        self._task: asyncio.Task[Any] | None = None
        self._finished = False
        self.progress_changed.connect(self._show_progress)
        self.canceled.connect(self._cancel)

    def report(self, done: int, total: int, name: str) -> None:
        """The work's progress callback: it only emits; the dialog updates in its slot."""
        self.progress_changed.emit(done, total, name)

    def follow(self, task: asyncio.Task[Any]) -> None:
        """Cancel cancels `task`; the dialog goes away when the task ends, however it ends."""
        self._task = task
        task.add_done_callback(lambda _task: self.finish())

    def finish(self) -> None:
        """Close and delete the dialog (once: the result handler and the task's end both call this)."""
        if self._finished:
            return
        self._finished = True
        self._task = None
        self.close()
        self.deleteLater()

    def _show_progress(self, done: int, total: int, name: str) -> None:
        if self._finished:
            return
        self.bar.setRange(0, total)
        self.bar.setValue(done)
        self.setLabelText(f"{self._title}: {done} / {total}\n{name}")

    def _cancel(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
