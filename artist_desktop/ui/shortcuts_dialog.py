"""Help → Keyboard shortcuts: the shortcut table as this platform writes its keys, read-only."""

from __future__ import annotations

from collections.abc import Iterable

from artist_desktop.ui.qt import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QKeySequence,
    QLabel,
    QStandardItem,
    QStandardItemModel,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from artist_desktop.ui.shortcuts import SHORTCUTS, Shortcut

COLUMNS = ("Action", "Keys", "Where")


class ShortcutsDialog(QDialog):
    """One row per registered shortcut: the action, its keys in this platform's notation, where it works."""

    def __init__(self, parent: QWidget | None = None, shortcuts: Iterable[Shortcut] = SHORTCUTS) -> None:
        super().__init__(parent)
        self.setObjectName("shortcuts_dialog")
        self.setWindowTitle("Keyboard shortcuts")
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        for shortcut in shortcuts:
            keys = ", ".join(seq.toString(QKeySequence.SequenceFormat.NativeText) for seq in shortcut.sequences())
            row = [QStandardItem(shortcut.label), QStandardItem(keys), QStandardItem(shortcut.where)]
            for item in row:
                item.setEditable(False)
            row[0].setData(shortcut.action_id, Qt.ItemDataRole.UserRole)
            self.model.appendRow(row)
        self.view = QTableView(self)
        self.view.setObjectName("shortcuts_view")
        self.view.setModel(self.model)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        rows = self.view.verticalHeader()
        rows.setVisible(False)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        note = QLabel("The keys work anywhere in the main window, unless the last column says otherwise.", self)
        note.setObjectName("shortcuts_note")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setFocus()
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
        self.view.resizeColumnsToContents()
        table_width = sum(self.view.columnWidth(n) for n in range(len(COLUMNS)))
        rows_height = rows.defaultSectionSize() * self.model.rowCount() + header.height()
        self.resize(max(520, table_width + 40), min(760, rows_height + 100))

    def rows(self) -> list[tuple[str, str, str]]:
        """What the table shows, row by row: (action, keys, where)."""
        item = self.model.item
        return [(item(row, 0).text(), item(row, 1).text(), item(row, 2).text()) for row in range(self.model.rowCount())]


def show_shortcuts(parent: QWidget) -> ShortcutsDialog:
    """Show the window's Keyboard shortcuts dialog (made once, then raised again)."""
    dialog = parent.findChild(ShortcutsDialog, "shortcuts_dialog")
    if not isinstance(dialog, ShortcutsDialog):
        dialog = ShortcutsDialog(parent)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog


__all__ = ["ShortcutsDialog", "show_shortcuts"]
