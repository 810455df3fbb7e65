"""The Alerts tab: unusual daily changes (artist, metric, day, change, how unusual), sortable, opened or dismissed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from artist_desktop.sources.alerts import Alert
from artist_desktop.ui.metric_chart import metric_label
from artist_desktop.ui.qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QEvent,
    QHBoxLayout,
    QHeaderView,
    QKeyEvent,
    QLabel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPushButton,
    QSortFilterProxyModel,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
    Signal,
)

__all__ = ["COLUMNS", "SORT_ROLE", "AlertsModel", "AlertsPanel", "metric_label"]

#: The columns, in order.
COLUMNS = ("Artist", "Metric", "Day", "Change", "Change %", "How unusual")
#: The role the proxy sorts by: the raw value (numbers as numbers, days as days).
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


def _score_text(score: float) -> str:
    """How unusual: the change's distance from the artist's usual change, in its usual spreads."""
    return f"{abs(score):,.0f}× usual" if abs(score) >= 10 else f"{abs(score):.1f}× usual"


class AlertsModel(QAbstractTableModel):
    """The alerts listed, one row each (the view sorts them; newest day first by default)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._alerts: list[Alert] = []

    def set_alerts(self, alerts: Sequence[Alert]) -> None:
        self.beginResetModel()
        self._alerts = list(alerts)
        self.endResetModel()

    def alerts(self) -> list[Alert]:
        return list(self._alerts)

    def alert_at(self, row: int) -> Alert:
        return self._alerts[row]

    def remove_ids(self, alert_ids: set[int]) -> None:
        """Drop these alerts (dismissed), row by row."""
        for row in reversed(range(len(self._alerts))):
            if self._alerts[row].alert_id in alert_ids:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._alerts[row]
                self.endRemoveRows()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._alerts)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        alert, column = self._alerts[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                alert.artist_name,
                metric_label(alert.platform, alert.metric),
                alert.day.isoformat(),
                f"{alert.change:+,.0f}",
                f"{alert.change_percent:+.1f} %",
                _score_text(alert.score),
            )[column]
        if role == SORT_ROLE:
            return (
                alert.artist_name.casefold(),
                metric_label(alert.platform, alert.metric),
                alert.day.toordinal(),
                alert.change,
                alert.change_percent,
                abs(alert.score),
            )[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column >= 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            direction = "rise" if alert.change > 0 else "fall"
            return (
                f"{alert.artist_name}: a {direction} of {alert.change:+,.0f} ({alert.change_percent:+.1f} %) in "
                f"{metric_label(alert.platform, alert.metric)} on {alert.day.isoformat()}, {abs(alert.score):.1f} "
                "times the artist's usual day-to-day variation (previous 28 days)."
            )
        return None


class AlertsPanel(QWidget):
    """The alerts table with Check now, Open chart and Dismiss. Signals for the window: `open_requested`
    (artist id, platform, metric, day), `dismiss_requested` (alert ids), `check_requested` (detect now)."""

    open_requested = Signal(int, str, str, object)
    dismiss_requested = Signal(list)
    check_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = AlertsModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.summary_label = QLabel(self)
        self.summary_label.setObjectName("alerts_summary")
        self.check_button = QPushButton("Check now", self)
        self.check_button.setToolTip("Look for unusual days in the whole history now")
        self.open_button = QPushButton("Open chart", self)
        self.open_button.setToolTip("Show the artist's chart of this metric in the Library (Enter)")
        self.dismiss_button = QPushButton("Dismiss", self)
        self.dismiss_button.setToolTip("Hide the selected alerts (Delete)")
        self.table = QTableView(self)
        self.table.setObjectName("alerts_table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.doubleClicked.connect(lambda index: self._open(index.row()))
        self.table.installEventFilter(self)
        self.open_button.clicked.connect(self.open_current)
        self.dismiss_button.clicked.connect(self.dismiss_selected)
        self.check_button.clicked.connect(self.check_requested.emit)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)

        bar = QHBoxLayout()
        bar.addWidget(self.summary_label, 1)
        for button in (self.check_button, self.open_button, self.dismiss_button):
            bar.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self.set_alerts([])

    def set_alerts(self, alerts: Sequence[Alert]) -> None:
        self.model.set_alerts(alerts)
        self._update_summary()
        self._update_buttons()

    def remove_alerts(self, alert_ids: Sequence[int]) -> None:
        self.model.remove_ids(set(alert_ids))
        self._update_summary()
        self._update_buttons()

    def _alert_shown_at(self, proxy_row: int) -> Alert:
        return self.model.alert_at(self.proxy.mapToSource(self.proxy.index(proxy_row, 0)).row())

    def shown_alerts(self) -> list[Alert]:
        """The alerts in the order the view shows them."""
        return [self._alert_shown_at(row) for row in range(self.proxy.rowCount())]

    def selected_alerts(self) -> list[Alert]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self._alert_shown_at(row) for row in rows]

    def open_current(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            self._open(index.row())

    def dismiss_selected(self) -> None:
        chosen = self.selected_alerts()
        if chosen:
            self.dismiss_requested.emit([alert.alert_id for alert in chosen])

    def _open(self, proxy_row: int) -> None:
        alert = self._alert_shown_at(proxy_row)
        self.open_requested.emit(alert.artist_id, alert.platform, alert.metric, alert.day)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                self.dismiss_selected()
                return True
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.open_current()
                return True
        return super().eventFilter(watched, event)

    def _update_summary(self) -> None:
        alerts = self.model.alerts()
        if not alerts:
            self.summary_label.setText("No alerts: no artist moved unusually against its own recent days.")
            return
        artists = len({alert.artist_id for alert in alerts})
        self.summary_label.setText(
            f"{len(alerts)} unusual day{'s' if len(alerts) != 1 else ''} for {artists} "
            f"artist{'s' if artists != 1 else ''}. Enter opens the chart, Delete dismisses."
        )

    def _update_buttons(self, *_args: Any) -> None:
        chosen = bool(self.table.selectionModel().selectedRows())
        self.dismiss_button.setEnabled(chosen)
        self.open_button.setEnabled(chosen)
