"""Long work that ends while the user is elsewhere notifies its outcome: a batch import, a Deezer refresh."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from artist_desktop.devtools.api_double import Fault
from artist_desktop.ui.main_window import batch_base, batch_outcome
from artist_desktop.ui.metrics_menu import MetricsActions
from artist_desktop.ui.progress import ProgressCounts
from artist_desktop.ui.qt import QApplication, QWidget
from artist_desktop.ui.search import PickedArtist

pytestmark = pytest.mark.gui


@pytest.fixture
def elsewhere(qtbot: Any) -> Iterator[QWidget]:
    """Another top-level window (another program, as far as the main window can tell)."""
    other = QWidget()
    other.setWindowTitle("Another program")
    other.resize(300, 200)
    qtbot.addWidget(other)
    other.show()
    qtbot.waitExposed(other)
    yield other


def _activate(qtbot: Any, widget: QWidget) -> None:
    widget.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is widget, timeout=3000)


def _import(qtbot: Any, run_async: Any, window: Any, double: Any, picked: int, failing: int) -> list[str]:
    """Import `picked` search results (no Spotify request) and `failing` pasted ids Spotify answers 404 for."""
    search = window.search_panel
    if search.model.rowCount() < picked + failing:
        window.search_panel.field.setText("a")
        qtbot.waitUntil(lambda: search.model.rowCount() >= picked + failing, timeout=5000)
    ids = [search.model.result(n).artist.id for n in range(picked + failing)]
    for spotify_id in ids[picked:]:
        double.inject("spotify", spotify_id, Fault.http(404), times=None)
    requests, bad = run_async(window.application.requests_from_text("\n".join(ids[picked:])))
    assert not bad
    picked_items = [PickedArtist.of(search.model.result(n).artist).to_request() for n in range(picked)]
    run_async(window.enqueue([*picked_items, *requests]))
    return ids


def test_a_batch_that_ends_while_the_user_is_elsewhere_notifies_its_outcome(
    qtbot: Any, run_async: Any, desktop: Any, elsewhere: QWidget
) -> None:
    window, double = desktop.window, desktop.double
    _activate(qtbot, elsewhere)
    assert window.is_away()
    _import(qtbot, run_async, window, double, picked=3, failing=1)
    qtbot.waitUntil(lambda: window.last_notification != "", timeout=30000)
    assert window.last_notification == "Import finished: 3 imported, 1 failed"
    assert window.progress_model.counts().active == 0
    assert window.statusBar().currentMessage() == window.last_notification  # no tray offscreen: the status bar


def test_a_batch_that_ends_in_front_of_the_user_does_not_notify(
    qtbot: Any, run_async: Any, desktop: Any, elsewhere: QWidget
) -> None:
    window = desktop.window
    _activate(qtbot, window)
    assert not window.is_away()
    _import(qtbot, run_async, window, desktop.double, picked=2, failing=0)
    qtbot.waitUntil(lambda: window.progress_model.counts().done == 2, timeout=30000)
    qtbot.wait(300)  # a repaint tick or two after the last row finished
    assert window.last_notification == ""


def test_a_deezer_refresh_that_ends_while_the_user_is_elsewhere_notifies(
    qtbot: Any, run_async: Any, desktop: Any, elsewhere: QWidget
) -> None:
    window = desktop.window
    _import(qtbot, run_async, window, desktop.double, picked=3, failing=0)
    qtbot.waitUntil(lambda: window.progress_model.counts().done == 3, timeout=30000)
    metrics = window.findChild(MetricsActions, "metrics_actions")
    seen: list[str] = []
    metrics.refresh_finished.connect(seen.append)
    metrics.refresh()
    _activate(qtbot, elsewhere)  # the user went elsewhere while it runs
    qtbot.waitUntil(lambda: bool(seen), timeout=30000)
    assert seen[0].startswith("Metrics refresh: ") and " updated, " in seen[0]
    assert window.last_notification == seen[0]


def test_the_outcome_counts_only_what_the_batch_finished() -> None:
    before = ProgressCounts(complete=10, warnings=1, failed=2, cancelled=1)
    # Its first tick: the two failed rows retried (active again), one new row already done.
    first_tick = ProgressCounts(queued=6, complete=11, warnings=1, cancelled=1)
    base = batch_base(before, first_tick)
    end = ProgressCounts(complete=18, warnings=2, failed=1, cancelled=2)
    assert batch_outcome(base, end) == "Import finished: 9 imported (1 with warnings), 1 failed, 1 cancelled"
    assert batch_outcome(base, ProgressCounts(complete=10, warnings=1)) == "Import finished: 0 imported"
