"""The one place the Qt binding is imported: a pin or a work-around for a binding bug lives here only."""

from __future__ import annotations

import os
import sys

import PySide6
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QByteArray,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QProcess,
    QRect,
    QRectF,
    QSettings,
    QSize,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QColor,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QIcon,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QShortcut,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QProgressDialog,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStatusBar,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

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

# pyqtgraph picks up the binding imported above; naming it keeps it from trying another one.
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
import pyqtgraph as pg  # type: ignore[import-untyped]  # noqa: E402  (after the binding check, on purpose)

__all__ = [
    "QAbstractItemView",
    "QAbstractListModel",
    "QAbstractTableModel",
    "QAction",
    "QApplication",
    "QByteArray",
    "QCheckBox",
    "QCloseEvent",
    "QColor",
    "QComboBox",
    "QDialog",
    "QDialogButtonBox",
    "QEvent",
    "QFileDialog",
    "QFont",
    "QFontMetrics",
    "QFormLayout",
    "QFrame",
    "QGridLayout",
    "QGuiApplication",
    "QHBoxLayout",
    "QHeaderView",
    "QIcon",
    "QItemSelection",
    "QItemSelectionModel",
    "QKeySequence",
    "QLabel",
    "QLineEdit",
    "QListView",
    "QMainWindow",
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
    "QPoint",
    "QPointF",
    "QProcess",
    "QProgressBar",
    "QProgressDialog",
    "QPushButton",
    "QRect",
    "QRectF",
    "QSettings",
    "QShortcut",
    "QSize",
    "QSortFilterProxyModel",
    "QSpinBox",
    "QSplitter",
    "QStandardItem",
    "QStandardItemModel",
    "QStatusBar",
    "QStyle",
    "QStyleOptionProgressBar",
    "QStyleOptionViewItem",
    "QStyledItemDelegate",
    "QTabWidget",
    "QTableView",
    "QTest",
    "QTextBrowser",
    "QTimer",
    "QToolButton",
    "QTreeView",
    "QUrl",
    "QVBoxLayout",
    "QWidget",
    "Qt",
    "QtCore",
    "QtGui",
    "QtWidgets",
    "Signal",
    "Slot",
    "pg",
]
