"""The analyst's path through the window with real key presses and clicks: search, queue, import, retry."""

from __future__ import annotations

from typing import Any

import pytest

from artist_desktop.devtools.api_double import Fault
from artist_desktop.domain import Stage
from artist_desktop.ui.palette import ERROR_COLOR, SUCCESS_COLOR
from artist_desktop.ui.qt import QColor, QListView, Qt, QWidget
from artist_desktop.ui.search import ARTIST_MIME

pytestmark = pytest.mark.gui


def _click_row(
    qtbot: Any, view: QListView, row: int, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    rect = view.visualRect(view.model().index(row, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def _has_colour(widget: QWidget, colour: QColor) -> bool:
    """Whether the widget, as painted now, shows this status accent somewhere (what the user sees)."""
    image = widget.grab().toImage()
    target = colour.rgb()
    for y in range(0, image.height(), 1):
        for x in range(0, image.width(), 2):
            if image.pixel(x, y) == target:
                return True
    return False


def test_search_queue_import_fail_retry_and_badge(qtbot: Any, desktop: Any) -> None:
    window, double = desktop.window, desktop.double
    search = window.search_panel
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(search.field.hasFocus, timeout=2000)
    qtbot.keyClicks(search.field, "a")
    qtbot.waitUntil(lambda: search.model.rowCount() >= 5, timeout=5000)
    assert search.load_more_button.isVisible()
    assert not any(search.model.result(n).in_library for n in range(search.model.rowCount()))

    # Pick three (click, shift+click), add with Enter; Enter again is refused as duplicates.
    _click_row(qtbot, search.view, 0)
    _click_row(qtbot, search.view, 2, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(search.view, Qt.Key.Key_Return)
    queue = window.queue_panel
    assert [name for _, name in queue.model.items()] == [search.model.result(n).artist.name for n in range(3)]
    assert queue.count_label.text() == "3 artists"
    qtbot.keyClick(search.view, Qt.Key.Key_Return)
    assert queue.model.rowCount() == 3
    assert queue.hint.isVisible() and "Already in the selection" in queue.hint.text()

    # One more, then Delete takes it off again.
    fourth = search.view.visualRect(search.model.index(3)).center()
    qtbot.mouseClick(search.view.viewport(), Qt.MouseButton.LeftButton, pos=fourth)
    qtbot.mouseDClick(search.view.viewport(), Qt.MouseButton.LeftButton, pos=fourth)
    assert queue.model.rowCount() == 4
    _click_row(qtbot, queue.view, 3)
    qtbot.keyClick(queue.view, Qt.Key.Key_Delete)
    assert queue.model.rowCount() == 3

    # Picked from the results, they import without asking Spotify again.
    ids = [spotify_id for spotify_id, _ in queue.model.items()]
    spotify_before = double.request_count("spotify")
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    model = window.progress_model

    def complete(spotify_id: str) -> bool:
        row = model.find_row(spotify_id)
        return row is not None and row.is_complete

    qtbot.waitUntil(lambda: all(complete(i) for i in ids), timeout=20000)
    assert queue.model.rowCount() == 0  # handed to the job ledger
    assert double.request_count("spotify") == spotify_before
    assert all(model.find_row(i).update.progress == 100 for i in ids)
    qtbot.waitUntil(lambda: window.overall_label.text() == "3/3 done", timeout=2000)

    # A pasted id must be fetched from Spotify, which does not know it right now: a red row.
    failing = search.model.result(3).artist.id
    double.inject("spotify", failing, Fault.http(404), times=None)
    qtbot.keyClick(window, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    dialog = window.import_ids_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.keyClicks(dialog.text, f"spotify:artist:{failing}")
    qtbot.waitUntil(dialog.import_button.isEnabled, timeout=5000)
    qtbot.keyClick(dialog.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: (row := model.find_row(failing)) is not None and row.is_error, timeout=20000)
    failed = model.find_row(failing)
    assert failed is not None
    assert "Spotify" in failed.reason and failed.failed_stage is Stage.METADATA
    assert _has_colour(window.progress_panel.view, ERROR_COLOR)
    # A new batch, shown apart from the three imported before; All batches lists every row.
    assert model.spotify_ids() == [failing]
    qtbot.waitUntil(lambda: window.overall_label.text() == "0/1 done, 1 failed", timeout=2000)
    model.set_batch(None)
    qtbot.waitUntil(lambda: window.overall_label.text() == "3/4 done, 1 failed", timeout=2000)
    assert _has_colour(window.progress_panel.view, SUCCESS_COLOR)

    # Spotify knows the artist again: Retry (on the selected red row) makes it complete.
    double.clear_faults()
    position = model.spotify_ids().index(failing)
    _click_row(qtbot, window.progress_panel.view, position)
    qtbot.mouseClick(window.progress_panel.findChild(QWidget, "retry_selected_button"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: (row := model.find_row(failing)) is not None and row.is_complete, timeout=20000)
    qtbot.waitUntil(lambda: window.overall_label.text() == "4/4 done", timeout=2000)

    # The results now carry the "In library" badge, and the library tab lists the four.
    qtbot.waitUntil(lambda: all(search.model.result(n).in_library for n in range(4)), timeout=5000)
    assert not search.model.result(4).in_library
    qtbot.waitUntil(lambda: window.library_panel.model.rowCount() == 4, timeout=5000)


def test_drag_from_results_drops_into_the_queue(qtbot: Any, desktop: Any) -> None:
    window = desktop.window
    search = window.search_panel
    qtbot.keyClicks(search.field, "daft")
    qtbot.waitUntil(lambda: search.model.rowCount() == 2, timeout=5000)
    mime = search.model.mimeData([search.model.index(0), search.model.index(1)])
    assert mime.hasFormat(ARTIST_MIME)
    queue = window.queue_panel.model
    assert queue.canDropMimeData(mime, Qt.DropAction.CopyAction, -1, -1, queue.index(-1))
    assert queue.dropMimeData(mime, Qt.DropAction.CopyAction, -1, -1, queue.index(-1))
    assert sorted(name for _, name in queue.items()) == ["Daft Punk", "Daftside Collective"]
    # The drag carried Spotify's artist objects: importing the dropped artists asks Spotify nothing.
    assert all(picked.artist is not None and picked.artist.id == picked.spotify_id for picked in queue.picked())
    ids = [spotify_id for spotify_id, _ in queue.items()]
    before = desktop.double.request_count("spotify")
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    model = window.progress_model
    qtbot.waitUntil(lambda: all((r := model.find_row(i)) is not None and r.is_complete for i in ids), timeout=20000)
    assert desktop.double.request_count("spotify") == before


def test_search_messages_no_results_and_rate_limit(qtbot: Any, desktop: Any) -> None:
    search = desktop.window.search_panel
    qtbot.keyClicks(search.field, "zzzz-nobody")
    qtbot.waitUntil(lambda: "No artists match" in search.message.text(), timeout=5000)
    desktop.double.inject("spotify", "*", Fault.rate_limited(retry_after=30), times=None)
    search.field.clear()
    qtbot.keyClicks(search.field, "queen")
    qtbot.waitUntil(lambda: "rate limit" in search.message.text(), timeout=5000)
    assert "30 s" in search.message.text()
    desktop.double.clear_faults()


def test_typing_fast_searches_once_after_the_pause(qtbot: Any, desktop: Any) -> None:
    search = desktop.window.search_panel
    before = desktop.double.request_count("spotify", "/search")
    qtbot.keyClicks(search.field, "radiohead")
    qtbot.waitUntil(lambda: search.model.rowCount() == 1, timeout=5000)
    assert desktop.double.request_count("spotify", "/search") - before == 1
