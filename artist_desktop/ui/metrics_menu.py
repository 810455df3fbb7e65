"""The Metrics menu: Refresh all metrics, Refresh one source ▸ (one entry per metric source), Find Deezer ids and
Refresh history, and the flows behind them.

`MetricsActions` (a child of the window, found with `findChild`) owns the menu's actions, runs the work
through the window's `Application` and `TaskRunner` behind a progress dialog (a row per source for a refresh),
and opens the dialogs of `artist_desktop.ui.refresh_dialogs` with the results.

A refresh runs each source as its own `Application.refresh_metrics([source])` call, all at once under one
run date (`refresh_each`), so each source's row says "done", "failed: ..." or "skipped: ..." the moment that
source ends instead of when the slowest one does; one refresh runs at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from artist_desktop.domain import Platform, utcnow
from artist_desktop.services.deezer_matcher import Match
from artist_desktop.sources import DatabaseUnavailableError, NothingToRefresh, RefreshSummary
from artist_desktop.sources.refresh import LockHeld, RefreshAllSummary, RefreshStatus
from artist_desktop.ui.qt import QAction, QMainWindow, QMenu, QMessageBox, QObject, Qt, Signal
from artist_desktop.ui.refresh_dialogs import (
    DeezerMatchesDialog,
    MetricsProgressDialog,
    RefreshHistoryDialog,
    RefreshProgressDialog,
    RefreshResultsDialog,
)
from artist_desktop.ui.shortcuts import make_action
from artist_desktop.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from artist_desktop.application import Application, RefreshRunRow

__all__ = ["FIND_TASK", "REFRESH_TASK", "MetricsActions", "refresh_each", "refresh_outcome"]

log = logging.getLogger(__name__)
T = TypeVar("T")

REFRESH_TASK = "metrics-refresh"
FIND_TASK = "deezer-find-ids"
NOT_READY = "Still starting up: the database is not ready yet, try again in a moment."
#: The tooltip of a source that would be skipped now, after its reason: "skipped: no API key".
SKIPPED = "skipped: {reason}"
#: A source as the refresh's dialogs name it: its platform and what a person reads ("Last.fm listeners").
Named = tuple[Platform, str]


def refresh_outcome(task: asyncio.Task[RefreshAllSummary]) -> str:
    """A finished refresh in a sentence short enough for the status bar: "Metrics refresh: 52 updated, 3 failed;
    Last.fm skipped (no API key)" (counts over every source; a source skipped or failed as a whole named with
    why), "Metrics refresh cancelled: ...", "Metrics refresh stopped: ..."."""
    if task.cancelled():
        return "Metrics refresh cancelled: the figures already fetched are kept"
    error = task.exception()
    if error is not None:
        return f"Metrics refresh stopped: {error}"
    runs = task.result().runs
    updated, not_found = sum(run.updated for run in runs), sum(run.not_found for run in runs)
    failures = sum(run.failures for run in runs)
    counts = f"{updated:,} updated, {failures:,} failed" + (f", {not_found:,} not found" if not_found else "")
    parts = [f"Metrics refresh: {counts}"]
    for run in runs:
        if run.status is RefreshStatus.SKIPPED:
            parts.append(f"{run.source.label} skipped ({run.reason})")
        elif run.status is RefreshStatus.FAILED and not run.updated:
            parts.append(f"{run.source.label} failed ({run.reason})")
    return "; ".join(parts)


async def refresh_each(
    application: Application,
    sources: Sequence[Named],
    progress: MetricsProgressDialog,
    *,
    run_date: datetime | None = None,
    only_artist_ids: set[int] | None = None,
) -> RefreshAllSummary:
    """Refresh every source in ``sources`` at once under one run date, each through its own
    `Application.refresh_metrics([source])`, telling ``progress`` of each artist and of each source's end.

    A source with nothing to refresh is a skipped run with the reason; one another process is refreshing
    (`LockHeld`), or whose database cannot be used, a failed run with the reason; an unexpected error in one
    source is that source's failed run (logged), never the others' end. Raises `NothingToRefresh` when no source
    had anything to refresh (no run was recorded), ``asyncio.CancelledError`` when cancelled (every source's run
    is marked cancelled; what was stored stays)."""
    when = run_date or utcnow()

    async def one(source: Platform, label: str) -> RefreshSummary:
        def ended(status: RefreshStatus, reason: str) -> RefreshSummary:
            return RefreshSummary(None, when, status, 0, 0, 0, [], source, label, reason)

        try:
            summary = await application.refresh_metrics(
                [source], progress.report, run_date=when, only_artist_ids=only_artist_ids
            )
            run = summary.run_of(source) or ended(RefreshStatus.SKIPPED, "this source is not configured")
        except NothingToRefresh as exc:
            run = ended(RefreshStatus.SKIPPED, str(exc))
        except (LockHeld, DatabaseUnavailableError) as exc:
            run = ended(RefreshStatus.FAILED, str(exc))
        except Exception as exc:  # a bug in one source: its row says so, the others go on
            log.exception("The %s refresh ended by an unexpected error", label)
            run = ended(RefreshStatus.FAILED, f"Unexpected error: {exc!r}")
        progress.source_ended(run)
        return run

    runs = list(await asyncio.gather(*(one(source, label) for source, label in sources)))
    if runs and all(run.status is RefreshStatus.SKIPPED and run.run_id is None for run in runs):
        reasons = {run.reason for run in runs if run.reason}
        raise NothingToRefresh(reasons.pop() if len(reasons) == 1 else "No source had an artist to refresh")
    return RefreshAllSummary(when, runs)


class MetricsActions(QObject):
    """The Metrics menu's actions and the flows behind them (a child of the window: `findChild`).

    Dialogs are made once and reused: `results_dialog` for live refreshes (a tab per source; Retry failed
    updates its tab), `run_dialog` for a run opened from the history, `history_dialog`, `matches_dialog`.
    `progress_dialog` is the one showing while work runs (None otherwise). `source_actions` holds the "Refresh
    one source" entries by source, rebuilt from `Application.metric_sources()` each time the menu opens.
    `figures_stored` is emitted when a source of a refresh stored figures and when a refresh ended (the library
    then shows the new figures),
    `refresh_finished` with its outcome in a sentence (`refresh_outcome`; the window notifies it when it is not
    active).
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
        self.progress_dialog: MetricsProgressDialog | RefreshProgressDialog | None = None
        self.results_dialog: RefreshResultsDialog | None = None
        self.run_dialog: RefreshResultsDialog | None = None
        self.history_dialog: RefreshHistoryDialog | None = None
        self.matches_dialog: DeezerMatchesDialog | None = None
        self.message_box: QMessageBox | None = None
        self.refresh_action = self._action("refresh_all_metrics", self.refresh)
        self.source_menu = QMenu("Refresh &one source", menu)
        self.source_menu.setObjectName("refresh_one_source")
        self.source_menu.setToolTipsVisible(True)
        self.source_actions: dict[Platform, QAction] = {}
        self.find_ids_action = self._action("find_deezer_ids", self.find_ids)
        self.history_action = self._action("refresh_history", self.show_history)
        self.all_actions = (
            self.refresh_action,
            self.source_menu.menuAction(),
            self.find_ids_action,
            self.history_action,
        )
        menu.addAction(self.refresh_action)
        menu.addMenu(self.source_menu)
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
        """Enabled only while the runtime runs; the source entries follow the current settings."""
        self._set_enabled(self.application() is not None)
        self.sync_sources()

    def _set_enabled(self, enabled: bool) -> None:
        for action in self.all_actions:
            action.setEnabled(enabled)

    def sync_sources(self) -> None:
        """One "Refresh one source" entry per metric source, labelled as the source says; a source that would be
        skipped now stays enabled (its run says why) with "skipped: <reason>" as its tooltip and status tip."""
        application = self.application()
        if application is None:
            return
        self.source_menu.clear()
        for action in self.source_actions.values():
            action.deleteLater()
        self.source_actions = {}
        for info in application.metric_sources():
            action = QAction(info.label, self.source_menu)
            action.setObjectName(f"refresh_source_{info.name.value}")
            tip = SKIPPED.format(reason=info.skip_reason) if info.skip_reason else f"Refresh {info.label} only"
            action.setToolTip(tip)
            action.setStatusTip(tip)
            action.triggered.connect(lambda _checked=False, source=info.name: self.refresh_source(source))
            self.source_menu.addAction(action)
            self.source_actions[info.name] = action

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
        """Metrics -> Refresh all metrics: every source at once, then a results tab per source."""
        application = self._application()
        if application is None or self._already_refreshing():
            return
        sources = [(info.name, info.label) for info in application.metric_sources()]
        self._run_refresh(application, "Refreshing all metrics", sources, None, None, self.show_results)

    def refresh_source(self, source: Platform) -> None:
        """Metrics -> Refresh one source -> a source: that source alone, then its results."""
        application = self._application()
        if application is None or self._already_refreshing():
            return
        info = next((info for info in application.metric_sources() if info.name is source), None)
        if info is None:
            self.window.statusBar().showMessage(f"{source.label} is not available in this setup", 8000)
            return
        self._run_refresh(
            application, f"Refreshing {info.label}", [(source, info.label)], None, None, self.show_results
        )

    def _already_refreshing(self) -> bool:
        if not self.tasks.running(REFRESH_TASK):
            return False
        if self.progress_dialog is not None:
            self.progress_dialog.raise_()
        self.window.statusBar().showMessage("A metrics refresh is already running", 5000)
        return True

    def _run_refresh(
        self,
        application: Application,
        title: str,
        sources: Sequence[Named],
        only_artist_ids: set[int] | None,
        run_date: datetime | None,
        on_success: Callable[[RefreshAllSummary], None],
    ) -> asyncio.Task[RefreshAllSummary]:
        dialog = MetricsProgressDialog(title, sources, self.window)
        self.progress_dialog = dialog

        def succeeded(summary: RefreshAllSummary) -> None:
            dialog.finish()
            on_success(summary)

        def failed(error: BaseException) -> None:
            dialog.finish()
            self._refresh_failed(error)

        def ended(task: asyncio.Task[RefreshAllSummary]) -> None:
            if self.progress_dialog is dialog:
                self.progress_dialog = None
            self._refresh_ended(task)

        # The library shows each source's figures as soon as that source is done, not when the slowest one is.
        dialog.source_finished.connect(lambda run: self.figures_stored.emit() if run.updated else None)
        work = refresh_each(application, sources, dialog, run_date=run_date, only_artist_ids=only_artist_ids)
        task = self.tasks.run(work, succeeded, failed, name=REFRESH_TASK)
        dialog.follow(task)
        task.add_done_callback(ended)
        dialog.show()
        return task

    def _refresh_ended(self, task: asyncio.Task[RefreshAllSummary]) -> None:
        self.figures_stored.emit()  # also after a cancel or a failure: what was fetched is kept
        if task.cancelled():
            self.window.statusBar().showMessage(
                "Metrics refresh cancelled: the figures already fetched are kept (see Refresh history)", 10000
            )
        self.refresh_finished.emit(refresh_outcome(task))
        if self.history_dialog is not None and self.history_dialog.isVisible():
            self._load_history()

    def _refresh_failed(self, error: BaseException) -> None:
        title = "Refresh metrics"
        if isinstance(error, NothingToRefresh):
            self._tell(QMessageBox.Icon.Information, title, str(error), "nothing_to_refresh")
        else:
            log.error("The metrics refresh failed", exc_info=error)
            self._tell(QMessageBox.Icon.Critical, title, f"The refresh stopped: {error}", "refresh_failed")

    def show_results(self, summary: RefreshAllSummary) -> None:
        """A live refresh's results, a tab per source, in the one results dialog (Retry failed updates a tab)."""
        dialog = self.results_dialog
        if dialog is None:
            dialog = self.results_dialog = RefreshResultsDialog(summary, parent=self.window)
            dialog.retry_requested.connect(self.retry_failed)
        else:
            dialog.show_all(summary)
        dialog.show()
        dialog.raise_()

    def retry_failed(self, source: Platform) -> None:
        """Re-run one source for its failed artists only, with the run's own date; the tab shows their new results."""
        application, dialog = self._application(), self.results_dialog
        if application is None or dialog is None or self._already_refreshing():
            return
        tab = dialog.tab(source)
        failed = tab.summary.failed_artist_ids
        if not failed:
            return
        dialog.set_busy(source, True)
        count = len(failed)
        title = f"Retrying {count} failed artist{'s' if count != 1 else ''} of {tab.summary.label}"

        def merge(summary: RefreshAllSummary) -> None:
            run = summary.run_of(source)
            if run is not None and source in {tab.source for tab in dialog.tabs()}:
                dialog.merge(run)

        task = self._run_refresh(application, title, [(source, tab.summary.label)], failed, tab.summary.run_date, merge)
        task.add_done_callback(lambda _task: dialog.set_busy(source, False))

    # -- history ------------------------------------------------------------------------------
    def show_history(self) -> None:
        """Metrics -> Refresh history: every source's past runs; opening one shows its results (read-only)."""
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
            self.tasks.run(application.refresh_runs(None), dialog.set_runs, name="refresh-history", replace=True)

    def open_run(self, run: RefreshRunRow) -> None:
        application = self._application()
        if application is not None:
            self.tasks.run(application.stored_refresh(run), self._show_run, name="refresh-run", replace=True)

    def _show_run(self, summary: RefreshSummary) -> None:
        one = RefreshAllSummary(summary.run_date, [summary])
        dialog = self.run_dialog
        if dialog is None:
            dialog = self.run_dialog = RefreshResultsDialog(one, read_only=True, parent=self.window)
            dialog.setObjectName("refresh_run")
        else:
            dialog.show_all(one)
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
