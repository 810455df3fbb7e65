"""The Batches history: every import batch with when it started, where from, how many artists and its outcome.

Like Lidarr's Activity → History: one line per batch, newest first ("12 complete, 2 failed, 1 cancelled", and
what is still queued or running). The window reads the batches (`Application.batches`) and hands them over;
double-clicking (or Enter on) a batch the progress view holds shows it there (`batch_chosen`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from artist_desktop.application import BatchSummary
from artist_desktop.domain import JobStatus
from artist_desktop.ui.palette import ERROR_COLOR
from artist_desktop.ui.qt import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QModelIndex,
    QStandardItem,
    QStandardItemModel,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
    Signal,
)

#: The columns, left to right.
COLUMNS = ("Batch", "Started", "From", "Artists", "Outcome")
_SOURCES = {"window": "Window", "cli": "Command line", "serve": "Server"}
BATCH_ROLE = Qt.ItemDataRole.UserRole + 1


def _when(created_at: datetime) -> str:
    """ "14:20" today, "2026-11-29 14:20" another day, in local time."""
    local = created_at if created_at.tzinfo is not None else created_at.replace(tzinfo=UTC)
    local = local.astimezone()
    return f"{local:%H:%M}" if local.date() == datetime.now().astimezone().date() else f"{local:%Y-%m-%d %H:%M}"


class BatchesDialog(QDialog):
    """The history table; it shows what it is given and signals the batch to show, never reads the ledger."""

    batch_chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("batches_dialog")
        self.setWindowTitle("Import batches")
        self.resize(640, 360)
        layout = QVBoxLayout(self)
        self.hint = QLabel("Reading the batches…", self)
        self.hint.setObjectName("batches_hint")
        layout.addWidget(self.hint)
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.table = QTableView(self)
        self.table.setObjectName("batches_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.activated.connect(self._activated)
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def set_batches(self, batches: Sequence[BatchSummary]) -> None:
        """Show these batches (newest first, as `Application.batches` gives them)."""
        self.model.removeRows(0, self.model.rowCount())
        for batch in batches:
            cells = [
                QStandardItem(f"Batch {batch.id}"),
                QStandardItem(_when(batch.created_at)),
                QStandardItem(_SOURCES.get(batch.source, batch.source)),
                QStandardItem(str(batch.total)),
                QStandardItem(batch.outcome),
            ]
            cells[3].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if batch.count(JobStatus.ERROR):
                cells[4].setForeground(ERROR_COLOR)
            running = "" if batch.finished else " (still importing)"
            for cell in cells:
                cell.setData(batch.id, BATCH_ROLE)
                cell.setToolTip(f"Batch {batch.id}: {batch.total} artists, {batch.outcome}{running}")
            self.model.appendRow(cells)
        self.table.resizeColumnsToContents()
        count = len(batches)
        self.hint.setText(
            f"{count} batch{'es' if count != 1 else ''}, newest first: double-click one to show it in the progress list"
            if count
            else "No import batch yet"
        )

    def outcomes(self) -> list[tuple[str, str]]:
        """(batch, outcome) per line as shown: what a test reads."""
        return [
            (self.model.item(row, 0).text(), self.model.item(row, 4).text()) for row in range(self.model.rowCount())
        ]

    def _activated(self, index: QModelIndex) -> None:
        batch_id = index.data(BATCH_ROLE)
        if isinstance(batch_id, int):
            self.batch_chosen.emit(batch_id)
