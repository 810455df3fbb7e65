"""Metrics menu in the window: one refresh of every source (a progress row and a results tab per source), retry
failed per source, CSV per source, Esc cancels, history of every source, Find Deezer ids."""

from __future__ import annotations

import csv
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from artist_desktop.config import Settings, load_settings
from artist_desktop.devtools._catalog import CatalogArtist
from artist_desktop.devtools.api_double import ApiDouble, DoubleConfig
from artist_desktop.domain import Platform
from artist_desktop.runtime import Runtime
from artist_desktop.services import ServiceClients
from artist_desktop.store import Database, repository
from artist_desktop.ui.main_window import MainWindow
from artist_desktop.ui.metrics_menu import MetricsActions
from artist_desktop.ui.qt import QApplication, QFileDialog, QKeySequence, QSettings, Qt, QWidget
from artist_desktop.ui.refresh_dialogs import MetricsProgressDialog, RefreshResultsDialog, SourceResultsTab

pytestmark = pytest.mark.gui

#: The double's Deezer catalog: id -> (name, fans).
CATALOG = {
    501: ("Alpha Band", 1200),
    502: ("Bravo Singer", 300),
    503: ("Charlie Trio", 4500),
    504: ("Delta Voice", 80),
}


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


#: Library artists of the double's catalog every metric source knows something of: Wikipedia has no English
#: article for Björk (its run reports her as failed), the others have figures everywhere.
PICKED = ("Björk", "Daft Punk", "Radiohead")
SOURCES = (Platform.DEEZER, Platform.WIKIPEDIA, Platform.LASTFM, Platform.LISTENBRAINZ)
DONE_3 = "done: 3 updated, 0 failed"


@dataclass
class MetricsDesk:
    window: MainWindow
    actions: MetricsActions
    services: Runtime
    double: ApiDouble
    deezer_ids: dict[str, int]
    artist_ids: dict[str, int]


@pytest.fixture
def metrics_desk(
    qtbot: Any,
    run_async: Any,
    tmp_path: Path,
    redis_url: str,
    redis_prefix: str,
    fast_clients: Callable[[Settings], ServiceClients],
    catalog_artists: list[CatalogArtist],
    add_library_artist: Callable[..., Awaitable[int]],
) -> Iterator[Callable[..., MetricsDesk]]:
    """``metrics_desk(**settings)``: the window on real services (SQLite in tmp, the session's Redis) and the API
    double's whole catalog, the library holding `PICKED` with their Deezer ids and MBIDs."""
    double = ApiDouble(DoubleConfig(musicbrainz_rate=None))
    double.start_in_thread()
    opened: list[tuple[MainWindow, Runtime]] = []

    def make(**extra: Any) -> MetricsDesk:
        overrides = {**double.urls.as_settings(), **extra}  # lastfm_api_key="": Last.fm unconfigured
        settings = load_settings(redis_url=redis_url, redis_prefix=redis_prefix, **overrides)
        services = Runtime(settings, clients=fast_clients(settings))
        run_async(services.start())
        window = MainWindow(
            services.settings, state=QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
        )
        opened.append((window, services))
        actions = window.findChild(MetricsActions, "metrics_actions")
        assert isinstance(actions, MetricsActions)
        window.show()
        window.attach(services.application)
        picked = {artist.name: artist for artist in catalog_artists if artist.name in PICKED}
        assert set(picked) == set(PICKED)
        artist_ids = {
            name: run_async(seed(services.database, artist, add_library_artist))
            for name, artist in sorted(picked.items())
        }
        deezer_ids = {name: int(artist.deezer["id"]) for name, artist in picked.items() if artist.deezer}
        return MetricsDesk(window, actions, services, double, deezer_ids, artist_ids)

    try:
        yield make
    finally:
        # Not qtbot.addWidget: pytest-qt deletes its widgets before fixtures tear down, and the window must
        # outlive detach().
        for window, services in opened:
            run_async(window.detach())
            window.close()
            window.deleteLater()
            run_async(services.stop())
        double.stop_thread()


async def seed(database: Database, artist: CatalogArtist, add: Callable[..., Awaitable[int]]) -> int:
    """A library artist with its Deezer id and MBID (what the four sources start from)."""
    assert artist.deezer is not None and artist.musicbrainz is not None
    artist_id = await add(database, artist.name, artist.deezer["id"])
    async with database.session() as session, session.begin():
        await repository.upsert_platform_id(session, artist_id, Platform.MUSICBRAINZ, artist.musicbrainz["mbid"])
    return artist_id


def active(qtbot: Any, window: QWidget) -> None:
    window.activateWindow()
    window.raise_()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)


def press_refresh_all(qtbot: Any, desk: MetricsDesk) -> MetricsProgressDialog:
    """Shift+F5 on the window, as a person would; returns the progress dialog it opened."""
    active(qtbot, desk.window)
    qtbot.keyClick(desk.window, Qt.Key.Key_F5, Qt.KeyboardModifier.ShiftModifier)
    progress = desk.actions.progress_dialog
    assert isinstance(progress, MetricsProgressDialog) and progress.isVisible()
    return progress


def wait_for_results(qtbot: Any, desk: MetricsDesk, previous: object = None) -> RefreshResultsDialog:
    qtbot.waitUntil(
        lambda: (
            desk.actions.results_dialog is not None
            and desk.actions.results_dialog.isVisible()
            and desk.actions.progress_dialog is None
            and desk.actions.results_dialog.summary.run_date is not previous
        ),
        timeout=30000,
    )
    assert desk.actions.results_dialog is not None
    return desk.actions.results_dialog


def table(tab: SourceResultsTab) -> list[list[str]]:
    """What the analyst reads in a tab's results table, row by row."""
    proxy = tab.proxy
    return [[proxy.index(row, col).data() for col in range(proxy.columnCount())] for row in range(proxy.rowCount())]


def header(tab: SourceResultsTab) -> list[str]:
    model = tab.proxy
    return [model.headerData(col, Qt.Orientation.Horizontal) for col in range(model.columnCount())]


def figures(tab: SourceResultsTab) -> tuple[str, str, str]:
    return tab.total_label.text(), tab.updated_label.text(), tab.failed_label.text()


def test_the_metrics_menu_offers_all_one_source_and_waits_for_the_services(qtbot: Any, tmp_path: Path) -> None:
    window = MainWindow(load_settings(), state=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    entries = {a.text().replace("&", ""): a.shortcut() for a in window.metrics_menu.actions() if a.text()}
    assert entries == {
        "Refresh all metrics": QKeySequence("Shift+F5"),
        "Refresh one source": QKeySequence(),
        "Find Deezer ids": QKeySequence("Ctrl+Shift+D"),
        "Refresh history": QKeySequence("Ctrl+H"),
    }
    actions = window.findChild(MetricsActions, "metrics_actions")
    assert isinstance(actions, MetricsActions)
    window.metrics_menu.aboutToShow.emit()
    assert not any(action.isEnabled() for action in actions.all_actions)
    window.metrics_menu.aboutToHide.emit()
    window.show()
    qtbot.waitExposed(window)
    active(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_F5, Qt.KeyboardModifier.ShiftModifier)
    assert "not ready" in window.statusBar().currentMessage()
    assert actions.progress_dialog is None


def test_refresh_all_shows_a_row_per_source_and_last_fm_without_a_key_is_skipped(
    qtbot: Any, metrics_desk: Callable[..., MetricsDesk], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = metrics_desk(lastfm_api_key="")
    # Refresh one source: an entry per source, Last.fm enabled but saying it would be skipped.
    desk.window.metrics_menu.aboutToShow.emit()
    one = desk.actions.source_actions
    assert [action.text() for action in one.values()] == [
        "Deezer fans",
        "Wikipedia pageviews",
        "Last.fm listeners",
        "ListenBrainz listeners",
    ]
    assert one[Platform.LASTFM].isEnabled() and one[Platform.LASTFM].toolTip() == "skipped: no API key"
    assert one[Platform.LASTFM].statusTip() == "skipped: no API key"
    assert "skipped" not in one[Platform.DEEZER].toolTip()
    desk.window.metrics_menu.aboutToHide.emit()

    outcomes: list[str] = []  # what the window notifies when the user is elsewhere
    desk.actions.refresh_finished.connect(outcomes.append)
    stored: list[bool] = []  # the library reloads as each source that stored figures ends, and at the end
    desk.actions.figures_stored.connect(lambda: stored.append(True))
    desk.double.set_latency(0.1)  # long enough to see every row run
    progress = press_refresh_all(qtbot, desk)
    assert progress.windowTitle() == "Refreshing all metrics"
    assert [row.name.text() for row in progress.rows.values()] == [
        "Deezer fans",
        "Wikipedia pageviews",
        "Last.fm listeners",
        "ListenBrainz listeners",
    ]
    assert {source: progress.state(source) for source in SOURCES} == dict.fromkeys(SOURCES, "waiting")
    seen: dict[Platform, list[str]] = {}
    bars: dict[Platform, list[str]] = {}

    def shown(source: Platform) -> None:
        seen.setdefault(source, []).append(progress.state(source))
        bars.setdefault(source, []).append(progress.rows[source].bar.text())

    progress.progress_changed.connect(lambda source, *_: shown(source))
    progress.source_finished.connect(lambda run: shown(run.source))

    dialog = wait_for_results(qtbot, desk)
    # Each row ran (done / total on its bar) and ended in its own state; Last.fm was skipped, not failed.
    for source in (Platform.DEEZER, Platform.LISTENBRAINZ):
        assert seen[source][0].startswith("running 1 / 3: ") and bars[source][0] == "1 / 3"
        assert seen[source][-1] == DONE_3 and bars[source][-1] == "3 / 3"
    assert seen[Platform.WIKIPEDIA][-1] == "done: 2 updated, 1 not found"  # Björk has no English article
    assert seen[Platform.LASTFM] == ["skipped: no API key"]

    # One results dialog, a tab per source titled with its outcome and its own headline column.
    assert dialog.tab_titles() == [
        "Deezer fans · 3 updated, 0 failed",
        "Wikipedia pageviews · 2 updated, 1 not found",
        "Last.fm listeners · skipped",
        "ListenBrainz listeners · 3 updated, 0 failed",
    ]
    deezer, wikipedia, lastfm, listenbrainz = dialog.tabs()
    assert header(deezer) == ["Artist", "Status", "Fans", "Change", "Error"]
    assert header(wikipedia)[2] == "Pageviews (latest day)"
    assert header(listenbrainz)[2] == "Listeners"
    assert [row[:2] for row in table(deezer)] == [[name, "Updated"] for name in PICKED]
    deezer.view.sortByColumn(2, Qt.SortOrder.DescendingOrder)  # by fans, as numbers
    fans = [int(row[2].replace(",", "")) for row in table(deezer)]
    assert fans == sorted(fans, reverse=True) and len(fans) == 3
    assert table(wikipedia)[0][:2] == ["Björk", "Not found"] and table(wikipedia)[0][4]
    assert figures(listenbrainz) == ("3", "3", "0")
    # The skipped tab says why in words, with no empty table.
    dialog.tab_widget.setCurrentWidget(lastfm)
    assert lastfm.reason_label.isVisible()
    assert lastfm.reason_label.text() == "Last.fm listeners was skipped: no API key."
    assert not lastfm.view.isVisible() and not lastfm.retry_button.isVisible()
    assert desk.double.request_count("lastfm") == 0

    # CSV export per tab, named after the source, headed with its figure.
    dialog.tab_widget.setCurrentWidget(listenbrainz)
    assert listenbrainz.default_file_name().startswith("listenbrainz-listeners-")
    target = tmp_path / "listeners.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), "CSV files (*.csv)"))
    listenbrainz.export_button.click()
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["Artist", "Status", "Listeners", "Change", "Error"]
    assert [row[0] for row in rows[1:]] == list(PICKED) and all(row[2].isdigit() for row in rows[1:])
    assert listenbrainz.export_label.text() == f"Exported 3 rows to {target}"
    assert outcomes == ["Metrics refresh: 8 updated, 0 failed, 1 not found; Last.fm skipped (no API key)"]
    assert len(stored) == 4


def test_retry_failed_reruns_one_source_for_its_failures_in_its_tab(
    qtbot: Any, metrics_desk: Callable[..., MetricsDesk]
) -> None:
    desk = metrics_desk(lastfm_api_key="")
    daft_punk = desk.deezer_ids["Daft Punk"]
    desk.double.override_deezer_artist(daft_punk, nb_fan=-5)
    press_refresh_all(qtbot, desk)
    dialog = wait_for_results(qtbot, desk)
    deezer = dialog.tab(Platform.DEEZER)
    assert dialog.tab_titles()[0] == "Deezer fans · 2 updated, 1 failed"
    assert ["Daft Punk", "Failed", "", "", "Fan count not available"] in table(deezer)
    first_run = dialog.summary
    wikipedia_before = table(dialog.tab(Platform.WIKIPEDIA))

    desk.double.override_deezer_artist(daft_punk, nb_fan=1_234_567)
    desk.double.reset_counters()
    dialog.tab_widget.setCurrentWidget(deezer)
    assert deezer.retry_button.isEnabled()
    deezer.retry_button.click()
    progress = desk.actions.progress_dialog
    assert isinstance(progress, MetricsProgressDialog) and list(progress.rows) == [Platform.DEEZER]
    qtbot.waitUntil(lambda: figures(deezer) == ("3", "3", "0"), timeout=10000)
    assert desk.double.request_count("deezer") == 1  # only Daft Punk was asked again
    assert desk.double.request_count("listenbrainz") == desk.double.request_count("wikidata") == 0
    assert ["Daft Punk", "Updated", "1,234,567", "", ""] in table(deezer)
    assert dialog.tab_titles()[0] == "Deezer fans · 3 updated, 0 failed"
    assert not deezer.retry_button.isEnabled()  # nothing left to retry
    assert dialog.summary.run_date == first_run.run_date
    assert table(dialog.tab(Platform.WIKIPEDIA)) == wikipedia_before  # the other tabs are left as they were
    assert first_run.run_of(Platform.DEEZER).failed_artist_ids == {desk.artist_ids["Daft Punk"]}  # type: ignore[union-attr]


def test_esc_cancels_the_refresh_and_the_history_lists_every_source(
    qtbot: Any, metrics_desk: Callable[..., MetricsDesk]
) -> None:
    desk = metrics_desk(lastfm_api_key="")
    press_refresh_all(qtbot, desk)
    first = wait_for_results(qtbot, desk)
    finished = first.summary

    desk.double.set_latency(1.0)
    progress = press_refresh_all(qtbot, desk)
    qtbot.waitUntil(lambda: desk.double.request_count("deezer") >= 4, timeout=5000)  # the second run asks
    qtbot.keyClick(progress, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: "cancelled" in desk.window.statusBar().currentMessage(), timeout=10000)
    assert desk.actions.progress_dialog is None
    assert first.summary.run_date == finished.run_date  # the results shown stay those of the finished refresh

    active(qtbot, desk.window)
    qtbot.keyClick(desk.window, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    history = desk.actions.history_dialog
    assert history is not None and history.isVisible()
    qtbot.waitUntil(lambda: any(row[1:3] == ["Deezer", "Cancelled"] for row in history.rows()), timeout=5000)
    rows = history.rows()
    by_source: dict[str, list[list[str]]] = {}
    for row in rows:
        by_source.setdefault(row[1], []).append(row)
    assert set(by_source) == {"Deezer", "Wikipedia", "Last.fm", "ListenBrainz"}
    # Newest first: the cancelled Deezer run, then the first refresh's runs; Last.fm skipped with the reason.
    assert by_source["Deezer"][0][2] == "Cancelled" and by_source["Deezer"][1][2:7] == ["Complete", "3", "3", "0", "0"]
    assert {(row[2], row[7]) for row in by_source["Last.fm"]} == {("Skipped", "no API key")}
    assert by_source["Wikipedia"][-1][2:7] == ["Complete", "3", "2", "0", "1"]  # Björk: not found, no failure
    assert by_source["ListenBrainz"][-1][2:7] == ["Complete", "3", "3", "0", "0"]

    # Opening a run shows it in the results dialog: the Last.fm skip, then the first Deezer run.
    history.view.selectRow(rows.index(by_source["Last.fm"][0]))
    history.open_button.click()
    qtbot.waitUntil(lambda: desk.actions.run_dialog is not None and desk.actions.run_dialog.isVisible(), timeout=5000)
    opened = desk.actions.run_dialog
    assert opened is not None and opened is not first
    assert opened.tab_titles() == ["Last.fm listeners · skipped"]
    assert opened.tabs()[0].reason_label.text() == "Last.fm listeners was skipped: no API key."
    history.view.selectRow(rows.index(by_source["Deezer"][1]))
    history.open_button.click()
    qtbot.waitUntil(lambda: opened.tab_titles() == ["Deezer fans · 3 updated, 0 failed"], timeout=5000)
    tab = opened.tabs()[0]
    assert [row[0] for row in table(tab)] == list(PICKED)
    assert header(tab)[2] == "Fans" and not tab.retry_button.isVisibleTo(tab)


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
