"""The main window: menus, the status bar with Redis and database state, and the panels of later features."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from artist_desktop import APP_NAME, __version__
from artist_desktop.config import Settings
from artist_desktop.ui.qt import (
    QAction,
    QCloseEvent,
    QKeySequence,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from artist_desktop.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from artist_desktop.app import AppServices, Health

log = logging.getLogger(__name__)

HEALTH_INTERVAL_MS = 5000


class MainWindow(QMainWindow):
    """Shows state and forwards intent to `AppServices`; it never talks to Redis, SQL or HTTP itself."""

    closed = Signal()

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.services: AppServices | None = None
        self.tasks = TaskRunner(on_error=self._background_failed)
        self.setWindowTitle(APP_NAME + (" — demo data" if settings.demo else ""))
        self.resize(1100, 720)
        self._build_menus()
        self._build_central()
        self._build_status_bar()
        self._health_timer = QTimer(self)
        self._health_timer.setObjectName("health_timer")
        self._health_timer.setInterval(HEALTH_INTERVAL_MS)
        self._health_timer.timeout.connect(self._refresh_health)

    # -- construction -------------------------------------------------------------------------
    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.quit_action)

        self.metrics_menu = bar.addMenu("&Metrics")

        help_menu = bar.addMenu("&Help")
        self.about_action = QAction(f"&About {APP_NAME}", self)
        self.about_action.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self.show_about)
        help_menu.addAction(self.about_action)
        self.help_menu = help_menu

    def _build_central(self) -> None:
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        for title, text in (
            ("&Import", "Search Spotify, queue artists and watch their import progress here."),
            ("&Library", "Imported artists and their metric history appear here."),
        ):
            page = QWidget(self.tabs)
            layout = QVBoxLayout(page)
            label = QLabel(text, page)
            label.setWordWrap(True)
            layout.addWidget(label)
            layout.addStretch(1)
            self.tabs.addTab(page, title)
        self.setCentralWidget(self.tabs)

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.demo_label = QLabel("Demo data", self)
        self.demo_label.setObjectName("demo_label")
        self.demo_label.setVisible(self.settings.demo)
        self.redis_label = QLabel("Redis: starting…", self)
        self.redis_label.setObjectName("redis_label")
        self.database_label = QLabel("Database: starting…", self)
        self.database_label.setObjectName("database_label")
        for label in (self.demo_label, self.redis_label, self.database_label):
            status.addPermanentWidget(label)

    # -- life cycle ---------------------------------------------------------------------------
    def attach(self, services: AppServices) -> None:
        """Called once the services are up: the window starts showing their state."""
        self.services = services
        self._refresh_health()
        self._health_timer.start()

    async def detach(self) -> None:
        """Stop every timer and background task before the services stop."""
        self._health_timer.stop()
        await self.tasks.cancel_all()
        self.services = None

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        event.accept()
        self.hide()
        self.closed.emit()

    # -- status -------------------------------------------------------------------------------
    def _refresh_health(self) -> None:
        if self.services is None or self.tasks.running("health"):
            return
        self.tasks.run(self.services.health(), self.show_health, name="health")

    def show_health(self, health: Health) -> None:
        self.redis_label.setText(
            f"Redis: {'connected' if health.redis_ok else 'unreachable'} ({health.redis_where})"
        )
        self.database_label.setText(
            f"Database: {'ready' if health.database_ok else 'unreachable'} ({health.database_where})"
        )
        for label, ok in ((self.redis_label, health.redis_ok), (self.database_label, health.database_ok)):
            label.setProperty("ok", ok)
            label.setStyleSheet("" if ok else "color: #c62828;")

    def _background_failed(self, name: str, error: BaseException) -> None:
        log.error("%s failed", name, exc_info=error)
        self.statusBar().showMessage(f"{name} failed: {error}", 10000)

    def show_fatal_error(self, title: str, message: str) -> None:
        self.redis_label.setText("Redis: not started")
        self.database_label.setText("Database: not started")
        box = QMessageBox(QMessageBox.Icon.Critical, title, message, QMessageBox.StandardButton.Close, self)
        box.setObjectName("fatal_error")
        box.finished.connect(self.close)
        box.open()

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"<h3>{APP_NAME} {__version__}</h3>"
            "<p>Search Spotify for artists, import them in batches, watch every stage live, "
            "and keep Deezer fan counts up to date.</p>",
        )
