"""The main window: search, selection queue, live progress and the library, with menus and the status bar.

It shows state and forwards intent to the `Application` surface; all background work goes through
`TaskRunner`. The progress view is fed only by `Application.progress_updates` (the Redis subscription),
started in `attach`. Artists are queued through `Application.enqueue` as `ImportRequest`s; those picked from
search results carry Spotify's artist object, so importing them costs no Spotify request. While Spotify's
daily quota pauses it (`Application.spotify_pause()`, checked with the periodic health refresh) the status
bar says until when.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from artist_desktop import APP_NAME, __version__
from artist_desktop.config import Settings, log_dir
from artist_desktop.domain import ImportRequest, ServicePause, utcnow
from artist_desktop.ui.alerts_panel import AlertsPanel
from artist_desktop.ui.batches_dialog import BatchesDialog
from artist_desktop.ui.images import ThumbnailCache
from artist_desktop.ui.import_dialog import ImportIdsDialog
from artist_desktop.ui.library import ARTIST_ID_ROLE, LibraryPanel
from artist_desktop.ui.library_actions import LibraryActions
from artist_desktop.ui.metrics_menu import MetricsActions
from artist_desktop.ui.palette import ERROR_COLOR, PAUSED_COLOR
from artist_desktop.ui.pauses import hourglass_pixmap
from artist_desktop.ui.progress import ProgressCounts, ProgressModel, ProgressPanel, summary_text
from artist_desktop.ui.qt import (
    QAction,
    QApplication,
    QCloseEvent,
    QDesktopServices,
    QEvent,
    QGuiApplication,
    QKeyEvent,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QSettings,
    QSplitter,
    QSystemTrayIcon,
    Qt,
    QTabWidget,
    QTimer,
    QUrl,
    QVBoxLayout,
    QWidget,
    Signal,
)
from artist_desktop.ui.queue import QueuePanel
from artist_desktop.ui.search import PickedArtist, SearchPanel
from artist_desktop.ui.settings_dialog import SettingsDialog, offer_contact, offer_first_run
from artist_desktop.ui.shortcuts import make_action
from artist_desktop.ui.shortcuts_dialog import show_shortcuts
from artist_desktop.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from artist_desktop.application import Application, Health, JobState, QueueState, ResumedQueue, ScheduleStatus
    from artist_desktop.sources.alerts import Detection

log = logging.getLogger(__name__)

LINK_LOST_MESSAGE = "Progress: Redis link lost, reconnecting…"
HEALTH_INTERVAL_MS = 5000
#: How often the progress view re-reads the ledger while imports run (issue 15: never more than ~5 s wrong).
RECONCILE_INTERVAL_MS = 4000
LIBRARY_REFRESH_DELAY_MS = 400
#: While draining a backlog of progress updates, yield to Qt after this many.
YIELD_EVERY = 50
T = TypeVar("T")
ORGANISATION = "artist-desktop"


def window_state() -> QSettings:
    """Where geometry, splitters and the last tab are kept (QSettings, organisation "artist-desktop")."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, "window")


class MainWindow(QMainWindow):
    """Shows state and forwards intent to the `Application`; it never talks to Redis, SQL or HTTP itself.

    `application` is None until `attach` (and again after `detach`)."""

    closed = Signal()

    def __init__(self, settings: Settings, *, state: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.application: Application | None = None
        self._tray: QSystemTrayIcon | None = None
        self._last_run_seen: object = None
        #: The text of the last notification (what a test or a screenshot checks).
        self.last_notification = ""
        #: The counts when no import was active, and the finished counts a running batch started from.
        self._idle_counts = ProgressCounts()
        self._batch_base: ProgressCounts | None = None
        #: Set by `relaunch`: the arguments the app starts again with once this one has stopped.
        self.relaunch_arguments: list[str] | None = None
        self.state = state if state is not None else window_state()
        self.tasks = TaskRunner(on_error=self._background_failed)
        self.thumbnails = ThumbnailCache(self.tasks, parent=self)
        self.settings_dialog: SettingsDialog | None = None
        self.import_ids_dialog: ImportIdsDialog | None = None
        self.batches_dialog: BatchesDialog | None = None
        self._waiting_rows = 0
        #: Set once the user confirmed quitting while imports were active.
        self._quit_confirmed = False
        self.setWindowTitle(APP_NAME + (" — demo data" if settings.demo else ""))
        self.resize(1200, 760)
        self._build_central()
        self._build_menus()
        self._build_status_bar()
        self._health_timer = QTimer(self)
        self._health_timer.setObjectName("health_timer")
        self._health_timer.setInterval(HEALTH_INTERVAL_MS)
        self._health_timer.timeout.connect(self._refresh_health)
        self.library_refresh_timer = QTimer(self)
        self.library_refresh_timer.setObjectName("library_refresh_timer")
        self.library_refresh_timer.setSingleShot(True)
        self.library_refresh_timer.setInterval(LIBRARY_REFRESH_DELAY_MS)
        self.library_refresh_timer.timeout.connect(self._refresh_stored_artists)
        self._stored_since_reload: set[str] = set()
        self._restore_state()
        metrics = MetricsActions(self, self.metrics_menu, self.tasks, lambda: self.application)
        metrics.figures_stored.connect(self.refresh_library)
        metrics.refresh_finished.connect(self.notify_if_away)
        self.library_actions = LibraryActions(
            self, self.library_panel, self.tasks, lambda: self.application, after_reimport=self._reimporting
        )

    # -- construction -------------------------------------------------------------------------
    def _build_central(self) -> None:
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("tabs")
        self.tabs.setDocumentMode(True)

        self.search_panel = SearchPanel(self.tasks, self.thumbnails)
        self.queue_panel = QueuePanel()
        self.progress_model = ProgressModel(self)
        self.progress_panel = ProgressPanel(self.progress_model)
        #: While imports run the view re-reads the ledger this often, so lost updates never mislead for long.
        self.reconcile_timer = QTimer(self)
        self.reconcile_timer.setObjectName("progress_reconcile_timer")
        self.reconcile_timer.setInterval(RECONCILE_INTERVAL_MS)
        self.reconcile_timer.timeout.connect(self._reconcile_if_active)
        self._shown_since = utcnow()  # jobs finished since the window opened are the view's too
        self.selection_splitter = QSplitter(Qt.Orientation.Vertical)
        self.selection_splitter.setObjectName("selection_splitter")
        self.selection_splitter.addWidget(self.search_panel)
        self.selection_splitter.addWidget(self.queue_panel)
        self.selection_splitter.setStretchFactor(0, 3)
        self.selection_splitter.setStretchFactor(1, 2)
        self.import_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.import_splitter.setObjectName("import_splitter")
        self.import_splitter.addWidget(self.selection_splitter)
        self.import_splitter.addWidget(self.progress_panel)
        self.import_splitter.setStretchFactor(0, 2)
        self.import_splitter.setStretchFactor(1, 3)
        for splitter in (self.selection_splitter, self.import_splitter):
            splitter.setChildrenCollapsible(False)
            splitter.setHandleWidth(8)
        import_page = QWidget()
        import_page.setObjectName("import_page")
        page_layout = QVBoxLayout(import_page)
        page_layout.setContentsMargins(10, 10, 10, 6)
        page_layout.addWidget(self.import_splitter)
        self.library_panel = LibraryPanel(self.state)
        library_page = QWidget()
        library_layout = QVBoxLayout(library_page)
        library_layout.setContentsMargins(10, 10, 10, 6)
        library_layout.addWidget(self.library_panel)
        self.tabs.addTab(import_page, "&Import")
        self.tabs.addTab(library_page, "&Library")
        self.alerts_panel = AlertsPanel()
        alerts_page = QWidget()
        alerts_layout = QVBoxLayout(alerts_page)
        alerts_layout.setContentsMargins(10, 10, 10, 6)
        alerts_layout.addWidget(self.alerts_panel)
        self.tabs.addTab(alerts_page, "&Alerts")
        self.alerts_panel.open_requested.connect(self.open_alert)
        self.alerts_panel.dismiss_requested.connect(self.dismiss_alerts)
        self.alerts_panel.check_requested.connect(self.check_alerts)
        self.setCentralWidget(self.tabs)

        self.search_panel.add_requested.connect(self.queue_panel.add)
        self.search_panel.spotify_paused.connect(self._refresh_spotify_pause)
        self.queue_panel.process_requested.connect(self.process)
        self.progress_panel.retry_requested.connect(self.retry)
        self.progress_panel.cancel_requested.connect(self.cancel)
        self.progress_panel.cancel_all_requested.connect(self.cancel_all)
        self.progress_panel.remove_requested.connect(self.remove)
        self.progress_model.names_wanted.connect(self._look_up_names)
        self.progress_model.artists_completed.connect(self._artists_completed)
        self.progress_model.counts_changed.connect(self._show_totals)
        self.progress_model.counts_changed.connect(self._follow_batches)
        self.progress_panel.message_shown.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.progress_panel.history_requested.connect(self.open_batches)

    def _action(self, action_id: str, slot: object) -> QAction:
        """A window action with its text and keys from the shortcut table."""
        action = make_action(action_id, self)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.settings_action = self._action("settings_action", self.open_settings)
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        self.quit_action = make_action("quit", self)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.quit_action)
        self.file_menu = file_menu

        import_menu = bar.addMenu("&Import")
        self.find_action = self._action("find_action", self.focus_search)
        import_menu.addAction(self.find_action)
        self.import_ids_action = self._action("import_ids_action", self.open_import_ids)
        import_menu.addAction(self.import_ids_action)
        import_menu.addAction(self.search_panel.add_action)
        import_menu.addAction(self.queue_panel.remove_action)
        import_menu.addAction(self.queue_panel.process_action)
        self.addAction(self.queue_panel.process_action)
        import_menu.addSeparator()
        for action in (
            self.progress_panel.retry_action,
            self.progress_panel.retry_failed_action,
            self.progress_panel.cancel_action,
            self.progress_panel.cancel_all_action,
            self.progress_panel.remove_action,
        ):
            import_menu.addAction(action)
            self.addAction(action)
        import_menu.addSeparator()
        self.pause_queue_action = self._action("pause_queue", self.set_queue_paused)
        self.pause_queue_action.setCheckable(True)
        import_menu.addAction(self.pause_queue_action)
        self.batches_action = self._action("batches_history", self.open_batches)
        import_menu.addAction(self.batches_action)
        self.import_menu = import_menu

        view_menu = bar.addMenu("&View")
        self.show_import_action = self._action("show_import", lambda: self.tabs.setCurrentIndex(0))
        self.show_library_action = self._action("show_library", lambda: self.tabs.setCurrentIndex(1))
        self.show_alerts_action = self._action("show_alerts", lambda: self.tabs.setCurrentIndex(2))
        self.filter_library_action = self._action("filter_library", self.focus_library_filter)
        self.refresh_library_action = self._action("refresh_library", self.refresh_library)
        for action in (
            self.show_import_action,
            self.show_library_action,
            self.show_alerts_action,
            self.filter_library_action,
            self.refresh_library_action,
        ):
            view_menu.addAction(action)
        self.view_menu = view_menu

        self.metrics_menu = bar.addMenu("&Metrics")

        help_menu = bar.addMenu("&Help")
        self.shortcuts_action = self._action("keyboard_shortcuts", lambda: show_shortcuts(self))
        help_menu.addAction(self.shortcuts_action)
        help_menu.addSeparator()
        self.open_dashboard_action = self._action("open_dashboard", self.open_dashboard)
        help_menu.addAction(self.open_dashboard_action)
        self.copy_dashboard_url_action = self._action("copy_dashboard_url", self.copy_dashboard_url)
        help_menu.addAction(self.copy_dashboard_url_action)
        self.copy_stream_url_action = help_menu.addAction("Copy progress &stream URL (for scripts)")
        self.copy_stream_url_action.setObjectName("copy_stream_url")
        self.copy_stream_url_action.triggered.connect(self.copy_stream_url)
        help_menu.addSeparator()
        self.open_log_folder_action = help_menu.addAction("Open &log folder")
        self.open_log_folder_action.setObjectName("open_log_folder")
        self.open_log_folder_action.triggered.connect(lambda: self.open_folder(log_dir()))
        self.open_data_folder_action = help_menu.addAction("Open d&ata folder")
        self.open_data_folder_action.setObjectName("open_data_folder")
        self.open_data_folder_action.triggered.connect(lambda: self.open_folder(self.settings.data_dir))
        help_menu.addSeparator()
        self.about_action = help_menu.addAction(f"&About {APP_NAME}")
        self.about_action.setObjectName("about")
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self.show_about)
        self.help_menu = help_menu

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.overall_label = QLabel(self)
        self.overall_label.setObjectName("overall_label")
        self.overall_progress = QProgressBar(self)
        self.overall_progress.setObjectName("overall_progress")
        self.overall_progress.setRange(0, 100)
        self.overall_progress.setMaximumWidth(220)
        self.overall_progress.setTextVisible(True)
        self.overall_progress.setVisible(False)
        self.overall_label.setVisible(False)
        self.active_label = QLabel(self)
        self.active_label.setObjectName("active_label")
        self.active_label.setVisible(False)
        self.demo_label = QLabel("Demo data", self)
        self.demo_label.setObjectName("demo_label")
        self.demo_label.setVisible(self.settings.demo)
        self.redis_label = QLabel("Redis: starting…", self)
        self.redis_label.setObjectName("redis_label")
        self.database_label = QLabel("Database: starting…", self)
        self.database_label.setObjectName("database_label")
        self.schedule_label = QLabel(self)
        self.schedule_label.setObjectName("schedule_label")
        self.schedule_label.setVisible(False)
        self.team_label = QLabel(self)
        self.team_label.setObjectName("team_label")
        self.team_label.setVisible(False)
        self.spotify_pause_icon = QLabel(self)
        self.spotify_pause_icon.setObjectName("spotify_pause_icon")
        self.spotify_pause_icon.setPixmap(hourglass_pixmap(14, PAUSED_COLOR, self.devicePixelRatioF()))
        self.spotify_pause_label = QLabel(self)
        self.spotify_pause_label.setObjectName("spotify_pause_label")
        self.spotify_pause_label.setStyleSheet(f"color: {PAUSED_COLOR.name()};")
        self.spotify_pause_label.setToolTip(
            "Spotify's daily quota for this app is used up. Queued artists that need Spotify wait and "
            "continue by themselves; artists picked from search results keep importing."
        )
        for pause_widget in (self.spotify_pause_icon, self.spotify_pause_label):
            pause_widget.setVisible(False)
        self.queue_label = QLabel(self)
        self.queue_label.setObjectName("queue_label")
        self.queue_label.setStyleSheet(f"color: {PAUSED_COLOR.name()};")
        self.queue_label.setVisible(False)
        for widget in (
            self.queue_label,
            self.spotify_pause_icon,
            self.spotify_pause_label,
            self.team_label,
            self.active_label,
            self.overall_label,
            self.overall_progress,
            self.schedule_label,
            self.demo_label,
            self.redis_label,
            self.database_label,
        ):
            status.addPermanentWidget(widget)

    # -- window state -------------------------------------------------------------------------
    def _restore_state(self) -> None:
        geometry = self.state.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        for splitter in (self.import_splitter, self.selection_splitter, self.library_panel.splitter):
            saved = self.state.value(f"splitters/{splitter.objectName()}")
            if saved is not None:
                splitter.restoreState(saved)
        tab = self.state.value("last_tab")
        if tab is not None:
            self.tabs.setCurrentIndex(int(str(tab)))

    def save_state(self) -> None:
        self.state.setValue("geometry", self.saveGeometry())
        for splitter in (self.import_splitter, self.selection_splitter, self.library_panel.splitter):
            self.state.setValue(f"splitters/{splitter.objectName()}", splitter.saveState())
        self.state.setValue("last_tab", self.tabs.currentIndex())
        self.state.sync()

    # -- life cycle ---------------------------------------------------------------------------
    def attach(self, application: Application) -> None:
        """Called once the runtime is up: follow progress, resume the queue, show the library."""
        self.application = application
        self.thumbnails.set_fetcher(application.fetch_image)
        self.search_panel.set_search(application.search_artists, application.look_up_pasted)
        self.tasks.run(self._follow_progress(application), name="progress-subscription")
        self.tasks.run(application.resume_queue(), self._queue_resumed, name="runner-start")
        self.refresh_library()
        self.load_alerts()
        self._refresh_health()
        self._health_timer.start()
        settings = application.settings
        if not settings.demo and not settings.has_spotify_credentials:
            offer_first_run(self, self.open_settings, lambda: self.relaunch(["--demo"]))
        elif not settings.demo and not settings.contact:
            offer_contact(self, self.open_settings)
        if (taken := application.stream_port_taken) is not None:
            port, url = taken
            self.statusBar().showMessage(f"Port {port} is taken: the progress stream is at {url}", 15000)

    def _queue_resumed(self, names: ResumedQueue) -> None:
        """Start-up's queue is back: name its rows, and say so when interrupted imports were resumed."""
        self.progress_model.set_names(names)
        if resumed := names.resumed:
            self.statusBar().showMessage(f"Resumed {resumed} interrupted import{'s' if resumed != 1 else ''}", 15000)

    def stream_url(self) -> str | None:
        """The progress stream's address for other consumers (a browser, curl, a script)."""
        return self.application.stream_url if self.application is not None else None

    def copy_stream_url(self) -> None:
        self._copy(self.stream_url())

    def dashboard_url(self) -> str | None:
        """The live dashboard's address (names, stages, totals), with the access token when one is set."""
        return self.application.dashboard_url if self.application is not None else None

    def copy_dashboard_url(self) -> None:
        self._copy(self.dashboard_url())

    def open_dashboard(self) -> None:
        url = self.dashboard_url()
        if url is None:
            self.statusBar().showMessage("The progress stream is not running.", 5000)
        elif not QDesktopServices.openUrl(QUrl(url)):
            self.statusBar().showMessage(f"No browser opened {url}: copy it with Help → Copy dashboard URL", 8000)

    def open_folder(self, folder: Path) -> None:
        """Show a folder in the file manager (made first if it does not exist yet)."""
        folder.mkdir(parents=True, exist_ok=True)
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.statusBar().showMessage(f"No file manager opened {folder}", 8000)

    def _copy(self, url: str | None) -> None:
        if url is None:
            self.statusBar().showMessage("The progress stream is not running.", 5000)
            return
        QGuiApplication.clipboard().setText(url)
        self.statusBar().showMessage(f"Copied {url}", 5000)

    async def detach(self) -> None:
        """Stop every timer and background task before the runtime stops."""
        self._health_timer.stop()
        self.library_refresh_timer.stop()
        self.search_panel.set_search(None)
        if self.import_ids_dialog is not None:
            self.import_ids_dialog.reject()
        self.thumbnails.set_fetcher(None)
        self.progress_model.repaint_timer.stop()
        self.reconcile_timer.stop()
        # Everything touching Qt objects happens before the await: the window may be gone after it.
        await self.tasks.cancel_all()
        self.application = None

    def relaunch(self, arguments: list[str]) -> None:
        """Close, and once everything has stopped start the app again with ``arguments`` (e.g. ``--demo``)."""
        self.relaunch_arguments = list(arguments)
        self.close()

    def _active_imports(self) -> int:
        """Imports queued, running or waiting while the app runs (what Quit and Cancel all would stop)."""
        return self.progress_model.all_counts().active if self.application is not None else 0

    def _confirm(self, name: str, title: str, text: str, info: str, go: str, then: Callable[[], object]) -> QMessageBox:
        """Ask before stopping work (window-modal, not blocking): `go` runs `then`; Cancel, the default and
        Esc, does nothing."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Cancel, self)
        box.setObjectName(name)
        box.setInformativeText(info)
        go_button = box.addButton(go, QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _result: then() if box.clickedButton() is go_button else None)
        box.open()
        return box

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._quit_confirmed and (active := self._active_imports()):
            event.ignore()
            self._confirm(
                "confirm_quit",
                f"Quit {APP_NAME}?",
                f"{active} import{'s are' if active != 1 else ' is'} still queued or running.",
                "They resume the next time the app starts.",
                "&Quit",
                self._quit_confirmed_now,
            )
            return
        self.save_state()
        event.accept()
        self.hide()
        self.closed.emit()

    def _quit_confirmed_now(self) -> None:
        self._quit_confirmed = True
        self.close()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """A key of a disabled import action (Retry selected with nothing selected…) says why in the status
        bar instead of doing nothing silently."""
        if not self.progress_panel.explain_key(event):
            super().keyPressEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.library_panel.chart.follow_palette()
        super().changeEvent(event)

    # -- background work ----------------------------------------------------------------------
    async def _follow_progress(self, application: Application) -> None:
        """The only feed of the progress view: snapshots first, then live updates, resynced on reconnect; the
        ledger is re-read on reconnect and every few seconds while imports run (`reconcile_timer`)."""
        self.reconcile_timer.start()
        async with application.progress_updates(self._progress_link_changed) as updates:
            async for n, update in aiter_enumerate(updates):
                self.progress_model.apply(update)
                if n % YIELD_EVERY == 0:
                    # A backlog is drained without suspending: let Qt paint and handle input in between.
                    await asyncio.sleep(0)

    def _require(self) -> Application:
        if self.application is None:
            raise RuntimeError("the app is not running")
        return self.application

    def _progress_link_changed(self, connected: bool) -> None:
        if not connected:
            self.statusBar().showMessage(LINK_LOST_MESSAGE)
        elif self.statusBar().currentMessage() == LINK_LOST_MESSAGE:
            self.statusBar().clearMessage()  # only our own message: others (a taken port) stay
        if connected:
            self._reconcile()  # updates published while the link was down may be gone (a restarted Redis)

    def _reconcile_if_active(self) -> None:
        if self.progress_model.counts().active:
            self._reconcile()

    def _reconcile(self) -> None:
        """Re-read the ledger and correct the rows it contradicts (`ProgressModel.reconcile`); quietly skipped
        when the database does not answer (the next tick tries again)."""
        if self.application is None or self.tasks.running("reconcile"):
            return
        ids = [row.spotify_id for row in self.progress_model.all_rows()]
        self.tasks.run(
            self.application.job_states(ids, self._shown_since),
            self._apply_ledger,
            lambda exc: log.info("re-reading the ledger failed: %s", exc),
            name="reconcile",
        )

    def _apply_ledger(self, states: dict[str, JobState]) -> None:
        self.progress_model.reconcile({spotify_id: state.update for spotify_id, state in states.items()})

    # -- intents ------------------------------------------------------------------------------
    def process(self, items: list[PickedArtist]) -> None:
        """Queue the selection; artists picked from search results carry their Spotify object (no request)."""
        if self.application is None:
            self.queue_panel.show_hint("Still starting up: try again in a moment.")
            return
        self.tasks.run(
            self.enqueue([PickedArtist.of(item).to_request() for item in items]),
            lambda _ids: self.queue_panel.model.clear(),
            lambda error: self.queue_panel.show_hint(f"Could not start the batch: {error}"),
            name="enqueue",
        )

    async def enqueue(self, requests: Sequence[ImportRequest]) -> list[str]:
        """Hand artists to the job ledger (`Application.enqueue`); their names label the progress rows."""
        application = self._require()
        self.progress_model.set_names({r.spotify_id: r.name for r in requests if r.name})
        return await application.enqueue(requests)

    async def _requests_from_text(self, text: str) -> tuple[list[ImportRequest], list[tuple[int, str]]]:
        return await self._require().requests_from_text(text)

    def open_import_ids(self) -> ImportIdsDialog:
        """Import → "Import ids or links…" (Ctrl+I): paste or open a list of artists and queue the good ones."""
        if self.import_ids_dialog is None:
            dialog = ImportIdsDialog(self._requests_from_text, self.enqueue, self.tasks, self)
            dialog.queued.connect(self._ids_queued)
            dialog.finished.connect(self._import_ids_closed)
            self.import_ids_dialog = dialog
        self.tabs.setCurrentIndex(0)
        self.import_ids_dialog.open()
        self.import_ids_dialog.text.setFocus(Qt.FocusReason.ShortcutFocusReason)
        return self.import_ids_dialog

    def _ids_queued(self, spotify_ids: list[str]) -> None:
        count = len(spotify_ids)
        self.statusBar().showMessage(f"Queued {count} artist{'s' if count != 1 else ''}", 8000)

    def _import_ids_closed(self, _result: int) -> None:
        dialog, self.import_ids_dialog = self.import_ids_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def retry(self, spotify_ids: list[str]) -> None:
        self.tasks.run(self._require().retry(spotify_ids), name="retry")

    def cancel(self, spotify_ids: list[str]) -> None:
        self.tasks.run(self._require().cancel(spotify_ids), name="cancel")

    def cancel_all(self) -> None:
        """Cancel every unfinished import, after asking when some are queued or running."""
        application = self._require()
        if not (active := self._active_imports()):
            self.tasks.run(application.cancel_all(), name="cancel-all")
            return
        self._confirm(
            "confirm_cancel_all",
            "Cancel all imports?",
            f"Cancel {active} queued or running import{'s' if active != 1 else ''}?",
            "Artists already imported stay in the library; Retry all failed queues the cancelled ones again.",
            "Cancel &all",
            lambda: self.tasks.run(application.cancel_all(), name="cancel-all"),
        )

    def remove(self, spotify_ids: list[str]) -> None:
        self.tasks.run(self._require().remove(spotify_ids), lambda _none: self.progress_model.remove(spotify_ids))

    def focus_search(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.search_panel.field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_panel.field.selectAll()

    def focus_library_filter(self) -> None:
        self.tabs.setCurrentIndex(1)
        self.library_panel.filter_field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.library_panel.filter_field.selectAll()

    def refresh_library(self) -> None:
        """Re-read the library (and the chart of the artists still selected)."""
        self._stored_since_reload.clear()
        self.library_actions.reload()

    def _refresh_stored_artists(self) -> None:
        """Re-read only the artists imports stored since the last time (a large library reads in seconds)."""
        stored, self._stored_since_reload = sorted(self._stored_since_reload), set()
        if stored:
            self.library_actions.reload(stored)

    def _reimporting(self, spotify_ids: list[str]) -> None:
        self._look_up_names(spotify_ids)

    def open_settings(self) -> SettingsDialog:
        if self.settings_dialog is None:
            self.settings_dialog = SettingsDialog(self.settings, self.tasks, self)
            dialog = self.settings_dialog
            dialog.accepted.connect(lambda: self.statusBar().showMessage(dialog.saved_note, 12000))
            self.settings_dialog.finished.connect(self._settings_closed)
        self.settings_dialog.open()
        return self.settings_dialog

    def _settings_closed(self, _result: int) -> None:
        dialog, self.settings_dialog = self.settings_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def _look_up_names(self, spotify_ids: list[str]) -> None:
        if self.application is not None:
            self.tasks.run(self.application.job_names(spotify_ids), self.progress_model.set_names)

    def _artists_completed(self, spotify_ids: list[str]) -> None:
        self._stored_since_reload.update(spotify_ids)
        self.library_refresh_timer.start()
        if self.application is not None and (shown := self.search_panel.model.spotify_ids()):
            self.tasks.run(
                self.application.spotify_ids_in_library(shown),
                self.search_panel.mark_in_library,
                name="badges",
                replace=True,
            )

    def _show_totals(self, counts: ProgressCounts) -> None:
        """The status bar: "3/17 done, 1 with warnings, 8 failed, 4 cancelled", what is still active
        ("1 running · 1 queued"), and a bar of the finished-ok share (full only when every artist imported)."""
        visible = counts.total > 0
        self.overall_progress.setVisible(visible)
        self.overall_label.setVisible(visible)
        self.overall_progress.setValue(counts.percent)
        finished = [part for part, state in counts.parts() if not state.is_active]
        active = [part for part, state in counts.parts() if state.is_active]
        text = f"{counts.done}/{counts.total} done" + "".join(f", {part}" for part in finished)
        self.overall_label.setText(text)
        self.active_label.setText(" · ".join(active))
        self.active_label.setVisible(bool(active))
        for widget in (self.overall_label, self.overall_progress, self.active_label):
            widget.setToolTip(summary_text(counts))
        waiting = self.progress_model.waiting()
        if waiting != self._waiting_rows:  # rows started or stopped waiting: say why without the 5 s delay
            self._waiting_rows = waiting
            self._refresh_spotify_pause()
            self._refresh_queue_state()

    # -- status -------------------------------------------------------------------------------
    def _refresh_health(self) -> None:
        if self.application is None:
            return
        self._refresh_spotify_pause()
        self._refresh_queue_state()
        if not self.tasks.running("health"):
            self.tasks.run(self.application.health(), self.show_health, name="health")
        if not self.tasks.running("schedule-status"):
            self.tasks.run(self.application.schedule_status(), self.show_schedule, name="schedule-status")

    # -- the queue: paused or running, and its batches ----------------------------------------
    def set_queue_paused(self, paused: bool) -> None:
        """Import → Pause queue (Ctrl+Shift+P): no new import starts in any process (running ones finish);
        pressed again, Resume queue (also ends a pause an outage made: it pauses again if the outage goes on)."""
        self.tasks.run(self._require().set_queue_paused(paused), self.show_queue_state, name="pause-queue")

    def _refresh_queue_state(self) -> None:
        if self.application is not None and not self.tasks.running("queue-state"):
            self.tasks.run(self.application.queue_state(), self.show_queue_state, name="queue-state")

    def show_queue_state(self, state: QueueState) -> None:
        """ "Queue paused" (with the outage's reason) in the status bar, and the action's check and text."""
        self.queue_label.setVisible(state.paused)
        self.queue_label.setText(state.text)
        self.queue_label.setToolTip(
            f"{state.text}: press Resume queue (Import menu) to go on"
            if state.by_user
            else f"{state.text}. No import starts meanwhile; it resumes by itself when the service answers again"
        )
        self.pause_queue_action.setChecked(state.paused)
        self.pause_queue_action.setText("&Resume queue" if state.paused else "&Pause queue")

    def open_batches(self) -> BatchesDialog:
        """Import → Batches history (Ctrl+Shift+B): every batch with its outcome; double-click shows one."""
        if self.batches_dialog is None:
            self.batches_dialog = BatchesDialog(self)
            self.batches_dialog.batch_chosen.connect(self._show_batch)
            self.batches_dialog.finished.connect(self._batches_closed)
        dialog = self.batches_dialog
        self.tasks.run(self._require().batches(), dialog.set_batches, name="batches", replace=True)
        dialog.open()
        return dialog

    def _show_batch(self, batch_id: int) -> None:
        if batch_id in self.progress_model.batch_ids():
            self.tabs.setCurrentIndex(0)
            self.progress_model.set_batch(batch_id)
        else:
            self.statusBar().showMessage(f"Batch {batch_id} is no longer in the progress list", 5000)

    def _batches_closed(self, _result: int) -> None:
        dialog, self.batches_dialog = self.batches_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def _refresh_spotify_pause(self) -> None:
        if self.application is not None and not self.tasks.running("spotify-pause"):
            self.tasks.run(self.application.spotify_pause(), self.show_spotify_pause, name="spotify-pause")

    def show_spotify_pause(self, pause: ServicePause | None) -> None:
        """ "Spotify paused until 14:20" in the status bar while the quota pauses Spotify; gone after."""
        active = pause is not None and pause.is_active()
        for pause_widget in (self.spotify_pause_icon, self.spotify_pause_label):
            pause_widget.setVisible(active)
        self.spotify_pause_label.setText(f"Spotify paused until {pause.local_time()}" if pause and active else "")

    def show_health(self, health: Health) -> None:
        self.redis_label.setText(f"Redis: {'connected' if health.redis_ok else 'unreachable'} ({health.redis_where})")
        self.database_label.setText(
            f"Database: {'ready' if health.database_ok else 'unreachable'} ({health.database_where})"
        )
        self.team_label.setVisible(health.team_mode)
        if health.team_mode:
            workers = f"{health.live_workers} worker{'s' if health.live_workers != 1 else ''} live"
            self.team_label.setText(f"Team mode · {health.database_host} · {workers}")
        for label, ok in ((self.redis_label, health.redis_ok), (self.database_label, health.database_ok)):
            label.setProperty("ok", ok)
            label.setStyleSheet("" if ok else f"color: {ERROR_COLOR.name()};")

    # -- the daily collection and alerts ------------------------------------------------------
    def show_schedule(self, status: ScheduleStatus) -> None:
        """ "Next collection 06:00 · last: complete, 3 alerts" in the status bar; a notification (or a
        status-bar message) when a scheduled run finished since the last look, with its new alerts."""
        parts = []
        if status.next_run is not None:
            parts.append(f"Next collection {status.next_run.strftime('%a %H:%M')}")
        last = status.last
        if last is not None:
            alerts = f", {last.new_alerts} new alert{'s' if last.new_alerts != 1 else ''}" if last.new_alerts else ""
            parts.append(f"last {last.day.isoformat()}: {last.status.value}{alerts}")
            self.schedule_label.setToolTip(last.outcome)
        self.schedule_label.setText(" · ".join(parts))
        self.schedule_label.setVisible(bool(parts))
        seen = (last.day, last.finished_at) if last is not None and last.finished_at is not None else None
        if seen is not None and self._last_run_seen is not None and seen != self._last_run_seen and last is not None:
            text = f"Daily collection {last.status.value}: {last.outcome}"
            if last.new_alerts:
                text += f". {last.new_alerts} new alert{'s' if last.new_alerts != 1 else ''}: see the Alerts tab."
            self.notify("Artist Desktop", text)
            self.load_alerts()
        if seen is not None or self._last_run_seen is None:
            self._last_run_seen = seen or ("none",)

    def notify(self, title: str, text: str) -> None:
        """A desktop notification where the system has a tray, else a status-bar message."""
        if QSystemTrayIcon.isSystemTrayAvailable():
            if self._tray is None:
                self._tray = QSystemTrayIcon(self.windowIcon(), self)
                self._tray.show()
            self._tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 10000)
        self.statusBar().showMessage(text, 15000)
        self.last_notification = text

    # -- notifications for long work ---------------------------------------------------------
    def is_away(self) -> bool:
        """Whether the user is elsewhere: neither this window nor one of its dialogs is the active window."""
        active = QApplication.activeWindow()
        while active is not None and active is not self:
            active = active.parentWidget()
        return active is None

    def notify_if_away(self, text: str) -> None:
        """`notify` the outcome of long work that ended while the user was elsewhere (else nothing)."""
        if self.is_away():
            self.notify(APP_NAME, text)

    def _follow_batches(self, counts: ProgressCounts) -> None:
        """When the active imports drop to 0, the batch's outcome ("12 imported, 1 failed") to `notify_if_away`."""
        if counts.active and self._batch_base is None:
            # Finished counts before the batch; a retried row leaves them as it starts, a row done in the first
            # tick is not in the idle counts: the lower of the two.
            self._batch_base = batch_base(self._idle_counts, counts)
        elif not counts.active:
            if self._batch_base is not None:
                self.notify_if_away(batch_outcome(self._batch_base, counts))
                self._batch_base = None
            self._idle_counts = counts

    def load_alerts(self) -> None:
        if self.application is not None:
            self.tasks.run(self.application.alerts(), self.alerts_panel.set_alerts, name="alerts")

    def check_alerts(self) -> None:
        application = self._require()

        def done(detection: Detection) -> None:
            count = len(detection.new)
            self.statusBar().showMessage(f"{count} new alert{'s' if count != 1 else ''}", 8000)
            self.load_alerts()

        self.tasks.run(application.detect_alerts(), done, name="detect-alerts")

    def dismiss_alerts(self, alert_ids: list[int]) -> None:
        application = self._require()
        self.alerts_panel.remove_alerts(alert_ids)
        self.tasks.run(application.dismiss_alerts(alert_ids), name="dismiss-alerts")

    def open_alert(self, artist_id: int, platform: str, metric: str, day: object) -> None:
        """The Library with this artist selected and its chart on this metric, the alert's day marked and in
        view (the chart applies it to the artist's series when they arrive)."""
        self.tabs.setCurrentIndex(1)
        panel = self.library_panel
        panel.filter_field.clear()
        for row in range(panel.proxy.rowCount()):
            index = panel.proxy.index(row, 0)
            if panel.proxy.data(index, ARTIST_ID_ROLE) == artist_id:
                panel.table.selectRow(row)
                panel.table.scrollTo(index)
                break
        else:
            self.statusBar().showMessage("That artist is no longer in the library", 8000)
            return
        panel.chart.show_metric(platform, metric, day=day if isinstance(day, date) else None, pending=True)
        # The artist's series again (when it was already selected no selection change asks for them).
        self.library_actions.show_series([(row.artist_id, row.name) for row in panel.selected_rows()])

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


def batch_base(idle: ProgressCounts, started: ProgressCounts) -> ProgressCounts:
    """The finished counts a batch is measured from: per state the lower of before and at its first tick."""
    return ProgressCounts(
        complete=min(idle.complete, started.complete),
        warnings=min(idle.warnings, started.warnings),
        failed=min(idle.failed, started.failed),
        cancelled=min(idle.cancelled, started.cancelled),
    )


def batch_outcome(base: ProgressCounts, end: ProgressCounts) -> str:
    """ "Import finished: 12 imported (1 with warnings), 1 failed, 2 cancelled": what the batch added to `base`."""
    imported = max(0, end.done - base.done)
    warned = max(0, end.warnings - base.warnings)
    failed = max(0, end.failed - base.failed)
    cancelled = max(0, end.cancelled - base.cancelled)
    text = f"Import finished: {imported} imported" + (f" ({warned} with warnings)" if warned else "")
    return text + (f", {failed} failed" if failed else "") + (f", {cancelled} cancelled" if cancelled else "")


async def aiter_enumerate(source: AsyncIterable[T]) -> AsyncIterator[tuple[int, T]]:
    n = 0
    async for item in source:
        n += 1
        yield n, item
