"""The Library in the window on real services: 90 days of the demo's figures, compare, live refresh, actions."""

from __future__ import annotations

from typing import Any

import pytest

from artist_desktop.devtools._catalog import load_catalog
from artist_desktop.devtools.demo_history import seed_demo_history
from artist_desktop.ui.library import LibraryPanel
from artist_desktop.ui.library_actions import LibraryActions
from artist_desktop.ui.metrics_menu import MetricsActions
from artist_desktop.ui.qt import QMessageBox

pytestmark = pytest.mark.gui


@pytest.fixture
def library(qtbot: Any, run_async: Any, desktop: Any) -> tuple[Any, LibraryPanel, LibraryActions]:
    catalog = load_catalog()
    seeded = run_async(seed_demo_history(desktop.services.database, catalog, days=40))
    assert seeded == len(catalog.artists)
    window = desktop.window
    window.tabs.setCurrentIndex(1)
    window.refresh_library()
    panel = window.library_panel
    qtbot.waitUntil(lambda: panel.model.rowCount() == len(catalog.artists), timeout=30000)
    actions = window.findChild(LibraryActions, "library_actions")
    assert isinstance(actions, LibraryActions)
    return desktop, panel, actions


def _select(panel: LibraryPanel, *names: str) -> None:
    panel.table.clearSelection()
    selection = panel.table.selectionModel()
    for position in range(panel.proxy.rowCount()):
        index = panel.proxy.index(position, 0)
        if index.data() in names:
            selection.select(index, selection.SelectionFlag.Select | selection.SelectionFlag.Rows)


def test_the_table_shows_change_and_selecting_two_artists_compares_them(qtbot: Any, library: Any) -> None:
    _desktop, panel, _actions = library
    latest = panel.model.column_index("deezer:followers:latest")
    assert not panel.table.isColumnHidden(latest)
    shown = {panel.proxy.index(n, 0).data(): panel.proxy.index(n, latest).data() for n in range(panel.proxy.rowCount())}
    assert shown["Queen"] != "–" and shown["ABBA"] != "–"

    _select(panel, "Queen", "ABBA")
    qtbot.waitUntil(lambda: set(panel.chart.series.get("Deezer fans", {})) == {"Queen", "ABBA"}, timeout=5000)
    assert all(len(points) == 40 for points in panel.chart.series["Deezer fans"].values())
    assert "compared" in panel.chart.title.text()
    panel.indexed_box.setChecked(True)
    qtbot.waitUntil(lambda: "indexed" in panel.chart._plotted[0][0].titleLabel.text, timeout=5000)


def test_a_refresh_updates_the_table_without_f5(qtbot: Any, library: Any) -> None:
    desktop, panel, _actions = library
    window = desktop.window
    queen = next(r for r in panel.model.rows() if r.name == "Queen")
    desktop.double.override_deezer_artist(int(queen.deezer_id), nb_fan=123_456_789)
    menu = window.findChild(MetricsActions, "metrics_actions")
    assert isinstance(menu, MetricsActions)
    menu.refresh_action.trigger()
    qtbot.waitUntil(
        lambda: (
            next(r for r in panel.model.rows() if r.name == "Queen").trends[("deezer", "followers")].latest.value
            == 123_456_789
        ),
        timeout=20000,
    )


def test_removing_asks_first_and_then_removes(qtbot: Any, library: Any) -> None:
    _desktop, panel, actions = library
    before = panel.model.rowCount()
    _select(panel, "ABBA")
    assert next(a for a in panel.context_menu().actions() if a.objectName() == "remove_artists").isEnabled()
    panel.remove_requested.emit(panel.selected_artist_ids())
    box = actions.confirm_box
    assert box is not None and box.objectName() == "confirm_remove" and "ABBA" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    qtbot.wait(300)
    assert panel.model.rowCount() == before

    panel.remove_requested.emit(panel.selected_artist_ids())
    box = actions.confirm_box
    assert box is not None
    remove = next(b for b in box.buttons() if b.text() == "Remove")
    remove.click()
    qtbot.waitUntil(lambda: panel.model.rowCount() == before - 1, timeout=5000)
    assert "ABBA" not in {r.name for r in panel.model.rows()}


def test_a_bad_deezer_id_is_refused_with_a_reason(qtbot: Any, library: Any) -> None:
    desktop, panel, actions = library
    queen = next(r for r in panel.model.rows() if r.name == "Queen")
    actions.set_platform_id(queen.artist_id, "deezer", "not-a-number")
    qtbot.waitUntil(lambda: desktop.window.findChild(QMessageBox, "library_refused") is not None, timeout=5000)
    box = desktop.window.findChild(QMessageBox, "library_refused")
    assert "Deezer" in box.text()
    box.done(0)
    unchanged = next(r for r in panel.model.rows() if r.name == "Queen")
    assert unchanged.deezer_id == queen.deezer_id
