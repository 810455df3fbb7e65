"""The Metrics dialogs: refresh progress, refresh results (filter, retry, CSV), refresh history and Deezer matches.

They only show and signal intent; `artist_desktop.ui.metrics_menu` opens them and runs the work.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from artist_desktop.application import RefreshRunRow
from artist_desktop.services.deezer_matcher import Match, Unmatched
from artist_desktop.sources import (
    RefreshResult,
    RefreshStatus,
    RefreshSummary,
)
from artist_desktop.ui.palette import ERROR_COLOR
from artist_desktop.ui.qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
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
    QVBoxLayout,
    QWidget,
    Signal,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = [
    "DeezerMatchesDialog",
    "RefreshHistoryDialog",
    "RefreshProgressDialog",
    "RefreshResultsDialog",
    "RefreshResultsModel",
    "ResultsFilterProxy",
    "merge_retry",
]

RESULT_COLUMNS = ("Artist", "Status", "Fans", "Change", "Error")
HISTORY_COLUMNS = ("Date", "Status", "Total", "Updated", "Failed")
MATCH_COLUMNS = ("Artist", "Deezer name", "Deezer id", "Fans")
UNMATCHED_COLUMNS = ("Artist", "Why no id")
UPDATED, FAILED = "Updated", "Failed"
ID_ROLE = Qt.ItemDataRole.UserRole + 1


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
    """Per-artist refresh results: artist, status, fans, change since the previous run, error."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._results: list[RefreshResult] = []

    def set_results(self, results: Iterable[RefreshResult]) -> None:
        self.beginResetModel()
        self._results = list(results)
        self.endResetModel()

    def result_at(self, row: int) -> RefreshResult:
        return self._results[row]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._results)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(RESULT_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return RESULT_COLUMNS[section]
        return None

    def raw(self, row: int, column: int) -> str | int | None:
        """The cell's value as exported: text, a plain integer, or None when empty."""
        result = self._results[row]
        values: tuple[str | int | None, ...] = (
            result.name,
            UPDATED if result.success else FAILED,
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
        if role == Qt.ItemDataRole.ForegroundRole and column == 1 and not result.success:
            return ERROR_COLOR
        return None


class ResultsFilterProxy(QSortFilterProxyModel):
    """Sorts the results by their real values and, with `failed_only`, hides the artists that updated."""

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

    def lessThan(self, left: QModelIndex | QPersistentModelIndex, right: QModelIndex | QPersistentModelIndex) -> bool:
        model = self._results()
        return model.sort_key(left.row(), left.column()) < model.sort_key(right.row(), right.column())


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


class RefreshResultsDialog(QDialog):
    """A refresh run's figures and per-artist results; Retry failed (live runs only) and Export CSV."""

    retry_requested = Signal()

    def __init__(self, summary: RefreshSummary, *, read_only: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("refresh_results")
        self.setWindowTitle("Deezer fan counts")
        self.resize(760, 480)
        self.read_only = read_only
        self._summary = summary

        self.run_label = QLabel(self)
        self.run_label.setObjectName("run_label")
        self.total_label = QLabel(self)
        self.total_label.setObjectName("total_value")
        self.updated_label = QLabel(self)
        self.updated_label.setObjectName("updated_value")
        self.failed_label = QLabel(self)
        self.failed_label.setObjectName("failed_value")
        figures = QFormLayout()
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
        self.retry_button.clicked.connect(self.retry_requested)
        self.export_button = QPushButton("&Export CSV…", self)
        self.export_button.setObjectName("export_csv")
        self.export_button.clicked.connect(self.choose_export)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self.retry_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.export_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.retry_button.setVisible(not read_only)  # after addButton, which shows it

        layout = QVBoxLayout(self)
        layout.addWidget(self.run_label)
        layout.addLayout(figures)
        layout.addWidget(self.failed_only)
        layout.addWidget(self.view, 1)
        self.export_label = QLabel(self)
        self.export_label.setObjectName("export_label")
        layout.addWidget(self.export_label)
        layout.addWidget(buttons)
        self._busy = False
        self.show_summary(summary)

    @property
    def summary(self) -> RefreshSummary:
        return self._summary

    def show_summary(self, summary: RefreshSummary) -> None:
        self._summary = summary
        state = "" if summary.status is RefreshStatus.COMPLETE else f" ({summary.status.value})"
        self.run_label.setText(f"Run of {_local(summary.run_date)}{state}")
        self.total_label.setText(str(summary.total))
        self.updated_label.setText(str(summary.updated))
        self.failed_label.setText(str(summary.failed))
        self.model.set_results(summary.results)
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
            rows.append([self.model.raw(source_row, column) for column in range(len(RESULT_COLUMNS))])
        return rows

    def export_csv(self, path: str | Path) -> int:
        """Write the table's rows (as shown: sorted and filtered) with a header; returns the row count."""
        rows = self.visible_rows()
        with Path(path).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(RESULT_COLUMNS)
            writer.writerows(["" if value is None else value for value in row] for row in rows)
        return len(rows)

    def choose_export(self) -> None:
        default = f"deezer-fans-{self._summary.run_date.astimezone():%Y-%m-%d-%H%M}.csv"
        path, _filter = QFileDialog.getSaveFileName(self, "Export CSV", default, "CSV files (*.csv)")
        if not path:
            return
        try:
            count = self.export_csv(path)
        except OSError as exc:
            QMessageBox.warning(self, "Export CSV", f"Could not write {path}: {exc}")
            return
        self.export_label.setText(f"Exported {count} row{'s' if count != 1 else ''} to {path}")


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
    """Past Deezer refresh runs, newest first; Open (or a double click) shows a run's results."""

    open_requested = Signal(object)  # RefreshRunRow

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("refresh_history")
        self.setWindowTitle("Refresh history")
        self.resize(560, 380)
        self._runs: list[RefreshRunRow] = []
        self.model = QStandardItemModel(0, len(HISTORY_COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(HISTORY_COLUMNS))
        self.view = _table(self, "history_view")
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setModel(self.model)
        self.view.doubleClicked.connect(lambda index: self._open_row(index.row()))
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
            self.model.appendRow(
                [
                    _item(_local(run.run_date), run.run_id),
                    _item(run.status.value.capitalize()),
                    _item(str(run.total), right=True),
                    _item(str(run.updated), right=True),
                    _item(str(run.failed), right=True),
                ]
            )
        self.empty_label.setVisible(not self._runs)
        self.open_button.setEnabled(bool(self._runs))
        if self._runs:
            self.view.selectRow(0)
        self.view.resizeColumnsToContents()

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
