"""The Metrics menu: Refresh Deezer fan counts, Find Deezer ids and Refresh history, and the flows behind them.

`MetricsActions` (a child of the window, found with `findChild`) owns the menu's actions, runs the work
through the window's `Application` and `TaskRunner` behind a cancellable progress dialog, and opens the
dialogs of `artist_desktop.ui.refresh_dialogs` with the results.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from artist_desktop.services.deezer_matcher import Match
from artist_desktop.sources import DatabaseUnavailableError, NothingToRefresh, RefreshSummary
from artist_desktop.ui.qt import QAction, QMainWindow, QMenu, QMessageBox, QObject, Qt, Signal
from artist_desktop.ui.refresh_dialogs import (
    DeezerMatchesDialog,
    RefreshHistoryDialog,
    RefreshProgressDialog,
    RefreshResultsDialog,
)
from artist_desktop.ui.shortcuts import make_action
from artist_desktop.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from artist_desktop.application import Application, RefreshRunRow

__all__ = ["FIND_TASK", "REFRESH_TASK", "MetricsActions", "refresh_outcome"]

log = logging.getLogger(__name__)
T = TypeVar("T")

REFRESH_TASK = "deezer-refresh"
FIND_TASK = "deezer-find-ids"
NOT_READY = "Still starting up: the database is not ready yet, try again in a moment."


def refresh_outcome(task: asyncio.Task[RefreshSummary]) -> str:
    """A finished refresh in a sentence: "Deezer refresh: 40 updated, 2 failed", "... cancelled", "... stopped"."""
    if task.cancelled():
        return "Deezer refresh cancelled: the fan counts already fetched are kept"
    error = task.exception()
    if error is not None:
        return f"Deezer refresh stopped: {error}"
    summary = task.result()
    return f"Deezer refresh: {summary.updated} updated, {summary.failed} failed"


class MetricsActions(QObject):
    """The Metrics menu's actions and the flows behind them (a child of the window: `findChild`).

    Dialogs are made once and reused: `results_dialog` for live runs (Retry failed updates it),
    `run_dialog` for a run opened from the history, `history_dialog`, `matches_dialog`.
    `progress_dialog` is the one showing while work runs (None otherwise). `figures_stored` is emitted when a
    refresh ended (the library then shows the new figures), `refresh_finished` with its outcome in a sentence
    ("Deezer refresh: 40 updated, 2 failed"; the window notifies it when it is not active).
    """

    figures_stored = Signal()
    refresh_finished = Signal(str)

    def __init__(
        self,
        window: QMainWindow,
        menu: QMenu,
        tasks: TaskRunner,
        application: Callable[[], Application | None],
    ) -> None:
        """`window` parents the dialogs and shows status messages; `application()` is the running app or None."""
        super().__init__(window)
        self.setObjectName("metrics_actions")
        self.window = window
        self.tasks = tasks
        self.application = application
        self.progress_dialog: RefreshProgressDialog | None = None
        self.results_dialog: RefreshResultsDialog | None = None
        self.run_dialog: RefreshResultsDialog | None = None
        self.history_dialog: RefreshHistoryDialog | None = None
        self.matches_dialog: DeezerMatchesDialog | None = None
        self.message_box: QMessageBox | None = None
        self.refresh_action = self._action("refresh_deezer", self.refresh)
        self.find_ids_action = self._action("find_deezer_ids", self.find_ids)
        self.history_action = self._action("refresh_history", self.show_history)
        self.all_actions = (self.refresh_action, self.find_ids_action, self.history_action)
        menu.addAction(self.refresh_action)
        menu.addAction(self.find_ids_action)
        menu.addSeparator()
        menu.addAction(self.history_action)
        # Greyed out in the menu until the app runs; the shortcuts stay live and say why they wait.
        menu.aboutToShow.connect(self.sync_enabled)
        menu.aboutToHide.connect(lambda: self._set_enabled(True))

    def _action(self, action_id: str, slot: Callable[[], None]) -> QAction:
        action = make_action(action_id, self.window)
        action.triggered.connect(lambda _checked=False: slot())
        self.window.addAction(action)
        return action

    def sync_enabled(self) -> None:
        """Enabled only while the runtime runs."""
        self._set_enabled(self.application() is not None)

    def _set_enabled(self, enabled: bool) -> None:
        for action in self.all_actions:
            action.setEnabled(enabled)

    def _application(self) -> Application | None:
        application = self.application()
        if application is None:
            self.window.statusBar().showMessage(NOT_READY, 8000)
        return application

    def _tell(self, icon: QMessageBox.Icon, title: str, text: str, name: str) -> None:
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self.window)
        box.setObjectName(name)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.message_box = box

    def _start(
        self,
        title: str,
        work: Callable[[Callable[[int, int, str], None]], Coroutine[Any, Any, T]],
        on_success: Callable[[T], None],
        on_error: Callable[[BaseException], None],
        name: str,
    ) -> asyncio.Task[T]:
        """Run `work(progress)` through the window's runner behind a progress dialog."""
        dialog = RefreshProgressDialog(title, self.window)
        self.progress_dialog = dialog

        def succeeded(value: T) -> None:
            dialog.finish()
            on_success(value)

        def failed(error: BaseException) -> None:
            dialog.finish()
            on_error(error)

        def ended(_task: asyncio.Task[T]) -> None:
            if self.progress_dialog is dialog:
                self.progress_dialog = None

        task = self.tasks.run(work(dialog.report), succeeded, failed, name=name)
        dialog.follow(task)
        task.add_done_callback(ended)
        dialog.show()
        return task

    # -- refresh ------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Metrics -> Refresh Deezer fan counts: every artist with a Deezer id, then the results."""
        application = self._application()
        if application is None:
            return
        if self.tasks.running(REFRESH_TASK):
            if self.progress_dialog is not None:
                self.progress_dialog.raise_()
            return
        self._run_refresh(application, None, None, self.show_results)

    def _run_refresh(
        self,
        application: Application,
        only_artist_ids: set[int] | None,
        run_date: datetime | None,
        on_success: Callable[[RefreshSummary], None],
    ) -> asyncio.Task[RefreshSummary]:
        task = self._start(
            "Refreshing Deezer fan counts",
            lambda progress: application.refresh_deezer_fans(
                progress, run_date=run_date, only_artist_ids=only_artist_ids
            ),
            on_success,
            self._refresh_failed,
            REFRESH_TASK,
        )
        task.add_done_callback(self._refresh_ended)
        return task

    def _refresh_ended(self, task: asyncio.Task[RefreshSummary]) -> None:
        self.figures_stored.emit()  # also after a cancel or a failure: what was fetched is kept
        if task.cancelled():
            self.window.statusBar().showMessage(
                "Deezer refresh cancelled: the fan counts already fetched are kept (see Refresh history)", 10000
            )
        self.refresh_finished.emit(refresh_outcome(task))
        if self.history_dialog is not None and self.history_dialog.isVisible():
            self._load_history()

    def _refresh_failed(self, error: BaseException) -> None:
        title = "Refresh Deezer fan counts"
        if isinstance(error, NothingToRefresh):
            self._tell(QMessageBox.Icon.Information, title, str(error), "nothing_to_refresh")
        elif isinstance(error, DatabaseUnavailableError):
            self._tell(QMessageBox.Icon.Critical, title, str(error), "refresh_failed")
        else:
            log.error("Deezer refresh failed", exc_info=error)
            self._tell(QMessageBox.Icon.Critical, title, f"The refresh stopped: {error}", "refresh_failed")

    def show_results(self, summary: RefreshSummary) -> None:
        """A live run's results, in the one results dialog (Retry failed updates it in place)."""
        dialog = self.results_dialog
        if dialog is None:
            dialog = self.results_dialog = RefreshResultsDialog(summary, parent=self.window)
            dialog.retry_requested.connect(self.retry_failed)
        else:
            dialog.set_busy(False)
            dialog.failed_only.setChecked(False)
            dialog.show_summary(summary)
        dialog.show()
        dialog.raise_()

    def retry_failed(self) -> None:
        """Re-run only the failed artists with the run's own date, then show their new results."""
        application, dialog = self._application(), self.results_dialog
        if application is None or dialog is None or self.tasks.running(REFRESH_TASK):
            return
        failed = dialog.summary.failed_artist_ids
        if not failed:
            return
        dialog.set_busy(True)
        task = self._run_refresh(application, failed, dialog.summary.run_date, dialog.merge)
        task.add_done_callback(lambda _task: dialog.set_busy(False))

    # -- history ------------------------------------------------------------------------------
    def show_history(self) -> None:
        """Metrics -> Refresh history: past runs; opening one shows its results (read-only)."""
        if self._application() is None:
            return
        if self.history_dialog is None:
            self.history_dialog = RefreshHistoryDialog(self.window)
            self.history_dialog.open_requested.connect(self.open_run)
        self.history_dialog.show()
        self.history_dialog.raise_()
        self._load_history()

    def _load_history(self) -> None:
        application, dialog = self.application(), self.history_dialog
        if application is not None and dialog is not None:
            self.tasks.run(application.deezer_refresh_runs(), dialog.set_runs, name="refresh-history", replace=True)

    def open_run(self, run: RefreshRunRow) -> None:
        application = self._application()
        if application is not None:
            self.tasks.run(application.stored_refresh(run), self._show_run, name="refresh-run", replace=True)

    def _show_run(self, summary: RefreshSummary) -> None:
        dialog = self.run_dialog
        if dialog is None:
            dialog = self.run_dialog = RefreshResultsDialog(summary, read_only=True, parent=self.window)
            dialog.setObjectName("refresh_run")
        else:
            dialog.failed_only.setChecked(False)
            dialog.show_summary(summary)
        dialog.show()
        dialog.raise_()

    # -- find ids -----------------------------------------------------------------------------
    def find_ids(self) -> None:
        """Metrics -> Find Deezer ids: match artists without one by name, then show what was matched."""
        application = self._application()
        if application is None or self.tasks.running(FIND_TASK):
            return
        self._start(
            "Finding Deezer ids",
            application.find_missing_deezer_ids,
            self._show_matches,
            self._find_failed,
            FIND_TASK,
        )

    def _find_failed(self, error: BaseException) -> None:
        log.error("Finding Deezer ids failed", exc_info=error)
        self._tell(QMessageBox.Icon.Critical, "Find Deezer ids", f"The search stopped: {error}", "find_failed")

    def _show_matches(self, matches: list[Match]) -> None:
        dialog = self.matches_dialog
        if dialog is None:
            dialog = self.matches_dialog = DeezerMatchesDialog(matches, self.window)
            dialog.undo_requested.connect(self.undo)
        else:
            dialog.set_matches(matches)
        dialog.show()
        dialog.raise_()

    def undo(self, artist_ids: list[int]) -> None:
        """Forget the Deezer ids the analyst rejected; they leave the matches list once gone."""
        application, dialog = self._application(), self.matches_dialog
        if application is None or dialog is None:
            return
        self.tasks.run(
            application.undo_deezer_matches(artist_ids),
            dialog.remove_artists,
            self._undo_failed,
            name="deezer-undo",
        )

    def _undo_failed(self, error: BaseException) -> None:
        log.error("Undoing Deezer ids failed", exc_info=error)
        self._tell(QMessageBox.Icon.Warning, "Undo Deezer ids", f"Could not undo: {error}", "undo_failed")
        if self.matches_dialog is not None:
            self.matches_dialog.remove_artists(())
