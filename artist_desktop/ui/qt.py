"""The one place the Qt binding is imported: a pin or a work-around for a binding bug lives here only."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import PySide6
from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QEvent,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QRectF,
    QSettings,
    QSize,
    QSortFilterProxyModel,
    QStandardPaths,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QColor,
    QDesktopServices,
    QFont,
    QGuiApplication,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QPolygonF,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QProgressDialog,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QSystemTrayIcon,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from PySide6.QtTest import QTest

_BROKEN = {(6, 12, 0)}
"""PySide6 releases that crash here: 6.12.0 on Python 3.11 aborts after a few hundred Signal.emit()."""


def _check_binding() -> None:
    version = tuple(int(part) for part in PySide6.__version__.split(".")[:3])
    if version in _BROKEN and sys.version_info[:2] == (3, 11):
        raise ImportError(
            f"PySide6 {PySide6.__version__} crashes on Python 3.11 (Signal.emit drops a reference to True); "
            "install PySide6-Essentials<6.12"
        )


_check_binding()


def import_qtest() -> type[QTest]:
    """QtTest's ``QTest`` (synthetic key presses), for tools such as packaging/screenshot.py.

    Imported on first call, never at start-up: the app itself does not simulate input.
    """
    from PySide6.QtTest import QTest

    return QTest


def import_pyqtgraph() -> Any:
    """The pyqtgraph module, imported when the first chart is built (it is ~0.2 s of start-up otherwise).

    It picks up the binding imported above; naming it keeps it from trying another one.
    """
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    import pyqtgraph  # type: ignore[import-untyped]

    return pyqtgraph


__all__ = [
    "QAbstractItemView",
    "QAbstractListModel",
    "QAbstractTableModel",
    "QAction",
    "QApplication",
    "QCheckBox",
    "QCloseEvent",
    "QColor",
    "QComboBox",
    "QDesktopServices",
    "QDialog",
    "QDialogButtonBox",
    "QEvent",
    "QFileDialog",
    "QFont",
    "QFormLayout",
    "QGuiApplication",
    "QHBoxLayout",
    "QHeaderView",
    "QIcon",
    "QInputDialog",
    "QKeyEvent",
    "QKeySequence",
    "QLabel",
    "QLineEdit",
    "QListView",
    "QMainWindow",
    "QMenu",
    "QMessageBox",
    "QMimeData",
    "QModelIndex",
    "QObject",
    "QPainter",
    "QPainterPath",
    "QPalette",
    "QPen",
    "QPersistentModelIndex",
    "QPixmap",
    "QPlainTextEdit",
    "QPointF",
    "QPolygonF",
    "QProgressBar",
    "QProgressDialog",
    "QPushButton",
    "QRect",
    "QRectF",
    "QSettings",
    "QSize",
    "QSortFilterProxyModel",
    "QSpinBox",
    "QSplitter",
    "QStandardItem",
    "QStandardItemModel",
    "QStandardPaths",
    "QStyle",
    "QStyleOptionProgressBar",
    "QStyleOptionViewItem",
    "QStyledItemDelegate",
    "QSystemTrayIcon",
    "QTabWidget",
    "QTableView",
    "QTimer",
    "QUrl",
    "QVBoxLayout",
    "QWidget",
    "Qt",
    "Signal",
    "import_pyqtgraph",
    "import_qtest",
]
