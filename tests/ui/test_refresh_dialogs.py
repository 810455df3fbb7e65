"""Metrics menu in the window: Deezer refresh progress and results, retry, CSV, history, Find Deezer ids."""

from __future__ import annotations

import csv
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from artist_desktop.config import Settings, load_settings
from artist_desktop.devtools.api_double import ApiDouble, DoubleConfig
from artist_desktop.domain import Platform
from artist_desktop.runtime import Runtime
from artist_desktop.services import ServiceClients
from artist_desktop.sources import NothingToRefresh
from artist_desktop.store import Database, repository
from artist_desktop.ui.main_window import MainWindow
from artist_desktop.ui.metrics_menu import MetricsActions
from artist_desktop.ui.qt import QFileDialog, QKeySequence, QMessageBox, QPushButton, QSettings, Qt
from artist_desktop.ui.refresh_dialogs import RefreshResultsDialog

pytestmark = pytest.mark.gui

#: The double's Deezer catalog: id -> (name, fans).
CATALOG = {
    501: ("Alpha Band", 1200),
    502: ("Bravo Singer", 300),
    503: ("Charlie Trio", 4500),
    504: ("Delta Voice", 80),
}
HEADER = ["Artist", "Status", "Fans", "Change", "Error"]


@dataclass
class Desk:
    window: MainWindow
    actions: MetricsActions
    services: Runtime
    double: ApiDouble
    add_library_artist: Callable[..., Awaitable[int]]

    async def add_artist(self, name: str, deezer_id: int | None = None) -> int:
        return await self.add_library_artist(self.services.database, name, deezer_id)


def write_catalog(path: Path) -> Path:
    entries = [{"id": deezer_id, "name": name, "nb_fan": fans} for deezer_id, (name, fans) in CATALOG.items()]
    path.write_text(json.dumps({"artists": [], "deezer_only": entries}), encoding="utf-8")
    return path


async def deezer_id_of(database: Database, artist_id: int) -> str | None:
    async with database.session() as session:
        with_ids = await repository.artists_with_platform_id(session, Platform.DEEZER)
    return next((artist.platform_id for artist in with_ids if artist.artist_id == artist_id), None)


@pytest.fixture
def desk(
    qtbot: Any,
    run_async: Any,
    tmp_path: Path,
    redis_url: str,
    redis_prefix: str,
    double_settings: Callable[..., Settings],
    fast_clients: Callable[[Settings], ServiceClients],
    add_library_artist: Callable[..., Awaitable[int]],
) -> Iterator[Desk]:
    """The window attached to real services (SQLite in tmp, the session's Redis) and the API double."""
    double = ApiDouble(DoubleConfig(catalog_path=write_catalog(tmp_path / "catalog.json")))
    double.start_in_thread()
    settings = double_settings(double, redis_url, redis_prefix)
    services = Runtime(settings, clients=fast_clients(settings))
    try:
        run_async(services.start())
        window = MainWindow(
            services.settings, state=QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
        )
        actions = window.findChild(MetricsActions, "metrics_actions")
        assert isinstance(actions, MetricsActions)
        window.show()
        window.attach(services.application)
        try:
            yield Desk(window, actions, services, double, add_library_artist)
        finally:
            # Not qtbot.addWidget: pytest-qt deletes its widgets before fixtures tear down, and the window must
            # outlive detach().
            run_async(window.detach())
            window.close()
            window.deleteLater()
    finally:
        run_async(services.stop())
        double.stop_thread()


def seed_library(desk: Desk, run_async: Any) -> dict[str, int]:
    """Three artists with Deezer ids the double knows, by name -> artist id."""
    return {name: run_async(desk.add_artist(name, deezer_id)) for deezer_id, (name, _fans) in list(CATALOG.items())[:3]}


def refresh_and_wait(qtbot: Any, desk: Desk) -> RefreshResultsDialog:
    previous = desk.actions.results_dialog.summary if desk.actions.results_dialog else None
    desk.actions.refresh_action.trigger()
    qtbot.waitUntil(
        lambda: (
            desk.actions.results_dialog is not None
            and desk.actions.results_dialog.isVisible()
            and desk.actions.results_dialog.summary is not previous
        ),
        timeout=10000,
    )
    assert desk.actions.results_dialog is not None
    return desk.actions.results_dialog


def table(dialog: RefreshResultsDialog) -> list[list[str]]:
    """What the analyst reads in the results table, row by row."""
    proxy = dialog.proxy
    return [[proxy.index(row, col).data() for col in range(proxy.columnCount())] for row in range(proxy.rowCount())]


def figures(dialog: RefreshResultsDialog) -> tuple[str, str, str]:
    return dialog.total_label.text(), dialog.updated_label.text(), dialog.failed_label.text()


def test_metrics_menu_actions_wait_for_the_services(qtbot: Any, tmp_path: Path) -> None:
    window = MainWindow(load_settings(), state=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    entries = {a.text().replace("&", ""): a.shortcut() for a in window.metrics_menu.actions() if a.text()}
    assert entries == {
        "Refresh Deezer fan counts": QKeySequence("Shift+F5"),
        "Find Deezer ids": QKeySequence("Ctrl+Shift+D"),
        "Refresh history": QKeySequence("Ctrl+H"),
    }
    actions = window.findChild(MetricsActions, "metrics_actions")
    assert isinstance(actions, MetricsActions)
    window.metrics_menu.aboutToShow.emit()
    assert not any(action.isEnabled() for action in actions.all_actions)
    window.metrics_menu.aboutToHide.emit()
    actions.refresh_action.trigger()
    assert "not ready" in window.statusBar().currentMessage()
    assert actions.progress_dialog is None


def test_refresh_shows_progress_then_results_and_exports_csv(
    qtbot: Any, run_async: Any, desk: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_library(desk, run_async)
    desk.double.override_deezer_artist(502, nb_fan=-5)
    desk.double.set_latency(0.3)  # long enough to see the progress dialog
    desk.actions.refresh_action.trigger()
    progress = desk.actions.progress_dialog
    assert progress is not None and progress.isVisible()
    assert progress.windowTitle() == "Refreshing Deezer fan counts"
    shown: list[tuple[int, int, str]] = []
    progress.progress_changed.connect(
        lambda *_: shown.append((progress.bar.value(), progress.bar.maximum(), progress.labelText()))
    )

    qtbot.waitUntil(lambda: desk.actions.results_dialog is not None, timeout=10000)
    assert [value for value, _maximum, _label in shown] == [1, 2, 3]
    assert all(maximum == 3 and f"{value} / 3" in label for value, maximum, label in shown)
    assert {label.splitlines()[-1] for _value, _maximum, label in shown} == {
        "Alpha Band",
        "Bravo Singer",
        "Charlie Trio",
    }
    dialog = desk.actions.results_dialog
    assert dialog is not None and dialog.isVisible()
    assert desk.actions.progress_dialog is None
    assert figures(dialog) == ("3", "2", "1")
    assert table(dialog) == [
        ["Alpha Band", "Updated", "1,200", "", ""],
        ["Bravo Singer", "Failed", "", "", "Fan count not available"],
        ["Charlie Trio", "Updated", "4,500", "", ""],
    ]

    # Sortable by fans (numbers as numbers), and "Failed only" leaves the failure.
    dialog.view.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    assert [row[0] for row in table(dialog)] == ["Charlie Trio", "Alpha Band", "Bravo Singer"]
    dialog.failed_only.setChecked(True)
    assert [row[0] for row in table(dialog)] == ["Bravo Singer"]
    dialog.failed_only.setChecked(False)

    # Export CSV writes the rows in the table's order, with plain numbers.
    target = tmp_path / "fans.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), "CSV files (*.csv)"))
    dialog.export_button.click()
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        HEADER,
        ["Charlie Trio", "Updated", "4500", "", ""],
        ["Alpha Band", "Updated", "1200", "", ""],
        ["Bravo Singer", "Failed", "", "", "Fan count not available"],
    ]
    assert [row[0] for row in rows[1:]] == [row[0] for row in table(dialog)]
    assert dialog.export_label.text() == f"Exported 3 rows to {target}"
    dialog.failed_only.setChecked(True)
    assert dialog.export_csv(tmp_path / "failed.csv") == 1
    assert (tmp_path / "failed.csv").read_text(encoding="utf-8").splitlines()[1].startswith("Bravo Singer,Failed")


def test_retry_failed_reruns_only_the_failures_and_updates_the_dialog(qtbot: Any, run_async: Any, desk: Desk) -> None:
    ids = seed_library(desk, run_async)
    desk.double.override_deezer_artist(502, nb_fan=-5)
    dialog = refresh_and_wait(qtbot, desk)
    assert figures(dialog) == ("3", "2", "1")
    assert dialog.retry_button.isEnabled()
    first_run = dialog.summary

    desk.double.override_deezer_artist(502, nb_fan=310)
    desk.double.reset_counters()
    dialog.retry_button.click()
    qtbot.waitUntil(lambda: figures(dialog) == ("3", "3", "0"), timeout=10000)
    assert desk.double.request_count("deezer") == 1  # only Bravo Singer was asked again
    assert ["Bravo Singer", "Updated", "310", "", ""] in table(dialog)
    assert not dialog.retry_button.isEnabled()  # nothing left to retry
    assert dialog.summary.run_date == first_run.run_date
    assert dialog.summary.failed_artist_ids == set()
    assert first_run.failed_artist_ids == {ids["Bravo Singer"]}

    # A later run shows the change since the previous one.
    desk.double.override_deezer_artist(501, nb_fan=1250)
    dialog = refresh_and_wait(qtbot, desk)
    assert table(dialog)[0] == ["Alpha Band", "Updated", "1,250", "+50", ""]
    assert table(dialog)[1] == ["Bravo Singer", "Updated", "310", "+0", ""]


def test_nothing_to_refresh_says_so(qtbot: Any, run_async: Any, desk: Desk) -> None:
    run_async(desk.add_artist("Delta Voice"))  # no Deezer id
    desk.actions.refresh_action.trigger()
    qtbot.waitUntil(lambda: desk.actions.message_box is not None, timeout=5000)
    box = desk.actions.message_box
    assert box is not None and box.objectName() == "nothing_to_refresh"
    assert box.text() == str(NothingToRefresh())
    assert desk.actions.results_dialog is None
    assert desk.double.request_count("deezer") == 0
    box.button(QMessageBox.StandardButton.Ok).click()


def test_cancel_stops_the_refresh_and_history_lists_the_runs(qtbot: Any, run_async: Any, desk: Desk) -> None:
    seed_library(desk, run_async)
    dialog = refresh_and_wait(qtbot, desk)
    assert figures(dialog) == ("3", "3", "0")

    desk.double.set_latency(0.8)
    desk.actions.refresh_action.trigger()
    progress = desk.actions.progress_dialog
    assert progress is not None
    qtbot.waitUntil(lambda: desk.double.request_count("deezer") == 6, timeout=5000)  # all three asked again
    cancel = next(button for button in progress.findChildren(QPushButton) if button.text() == "Cancel")
    cancel.click()
    qtbot.waitUntil(lambda: "cancelled" in desk.window.statusBar().currentMessage(), timeout=5000)
    assert desk.actions.progress_dialog is None
    assert dialog.summary.run_date is not None and figures(dialog) == ("3", "3", "0")  # the old results stay

    desk.actions.history_action.trigger()
    history = desk.actions.history_dialog
    assert history is not None and history.isVisible()
    qtbot.waitUntil(lambda: history.model.rowCount() == 2, timeout=5000)
    statuses = [history.model.item(row, 1).text() for row in range(2)]
    assert statuses == ["Cancelled", "Complete"]  # newest first
    assert [history.model.item(1, col).text() for col in (2, 3, 4)] == ["3", "3", "0"]

    history.view.selectRow(1)
    history.open_button.click()
    qtbot.waitUntil(lambda: desk.actions.run_dialog is not None and desk.actions.run_dialog.isVisible(), timeout=5000)
    opened = desk.actions.run_dialog
    assert opened is not None and opened is not dialog
    assert figures(opened) == ("3", "3", "0")
    assert [row[0] for row in table(opened)] == ["Alpha Band", "Bravo Singer", "Charlie Trio"]
    assert not opened.retry_button.isVisibleTo(opened)


def test_find_deezer_ids_shows_matches_and_undo_forgets_them(qtbot: Any, run_async: Any, desk: Desk) -> None:
    database = desk.services.database
    delta = run_async(desk.add_artist("Delta Voice"))
    alpha = run_async(desk.add_artist("Alpha Band"))
    run_async(desk.add_artist("Nobody Known"))
    desk.actions.find_ids_action.trigger()
    assert desk.actions.progress_dialog is not None
    qtbot.waitUntil(lambda: desk.actions.matches_dialog is not None, timeout=10000)
    dialog = desk.actions.matches_dialog
    assert dialog is not None and dialog.isVisible()
    rows = [[dialog.model.item(row, col).text() for col in range(4)] for row in range(dialog.model.rowCount())]
    assert sorted(rows) == [["Alpha Band", "Alpha Band", "501", "1,200"], ["Delta Voice", "Delta Voice", "504", "80"]]
    assert run_async(deezer_id_of(database, delta)) == "504"
    # The artist Deezer does not know is listed with the reason, not silently left out.
    assert dialog.unmatched_view.isVisibleTo(dialog)
    unmatched = [
        [dialog.unmatched_model.item(row, col).text() for col in range(2)]
        for row in range(dialog.unmatched_model.rowCount())
    ]
    assert [name for name, _why in unmatched] == ["Nobody Known"] and "no Deezer match" in unmatched[0][1]
    assert "Set Deezer id" in dialog.unmatched_label.text()

    delta_row = next(row for row in range(dialog.model.rowCount()) if dialog.model.item(row, 0).text() == "Delta Voice")
    dialog.view.selectRow(delta_row)
    dialog.undo_button.click()
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=5000)
    assert dialog.model.item(0, 0).text() == "Alpha Band"
    assert "Undone: 1" in dialog.summary_label.text()
    assert run_async(deezer_id_of(database, delta)) is None
    assert run_async(deezer_id_of(database, alpha)) == "501"
