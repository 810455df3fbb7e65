"""Quit and Cancel all ask first while imports are active; start-up says when it resumed interrupted imports."""

from __future__ import annotations

from typing import Any

import pytest

from artist_desktop.bus import ProgressBus, connect_redis
from artist_desktop.devtools.double_core import Fault
from artist_desktop.domain import ImportRequest, ProgressUpdate, Stage
from artist_desktop.ui.main_window import MainWindow
from artist_desktop.ui.qt import QApplication, QMessageBox, Qt

pytestmark = pytest.mark.gui

QUEUED = "0000000000000000000042"


async def _publish(redis_url: str, prefix: str, update: ProgressUpdate) -> None:
    client = connect_redis(redis_url, client_name="test-publisher")
    try:
        await ProgressBus(client, prefix).publish(update)
    finally:
        await client.aclose()


def _active(qtbot: Any, window: MainWindow) -> None:
    window.activateWindow()
    window.raise_()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)


def _shown(window: MainWindow, name: str) -> list[QMessageBox]:
    return [box for box in window.findChildren(QMessageBox, name) if box.isVisible()]


def _box(qtbot: Any, window: MainWindow, name: str) -> QMessageBox:
    """The question box `name` on screen (an answered one may linger hidden until deleted)."""
    qtbot.waitUntil(lambda: len(_shown(window, name)) == 1, timeout=3000)
    return _shown(window, name)[0]


def _button(box: QMessageBox, text: str) -> Any:
    return next(button for button in box.buttons() if button.text().replace("&", "") == text)


def test_quit_while_imports_are_active_asks_and_cancel_keeps_the_window(
    qtbot: Any, run_async: Any, offline_desktop: Any, redis_url: str, redis_prefix: str
) -> None:
    window = offline_desktop.window
    run_async(_publish(redis_url, redis_prefix, ProgressUpdate(QUEUED, Stage.INIT, 0, "Queued")))
    qtbot.waitUntil(lambda: window.progress_model.counts().queued == 1, timeout=5000)
    closed: list[bool] = []
    window.closed.connect(lambda: closed.append(True))

    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    box = _box(qtbot, window, "confirm_quit")
    assert box.text() == "1 import is still queued or running."
    assert "resume the next time the app starts" in box.informativeText()
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    qtbot.keyClick(box, Qt.Key.Key_Return)  # the default: Cancel
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=2000)
    assert window.isVisible() and not closed

    _active(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    box = _box(qtbot, window, "confirm_quit")
    qtbot.mouseClick(_button(box, "Quit"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(closed), timeout=2000)
    assert not window.isVisible()


def test_quit_with_nothing_active_does_not_ask(qtbot: Any, offline_desktop: Any) -> None:
    window = offline_desktop.window
    closed: list[bool] = []
    window.closed.connect(lambda: closed.append(True))
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(closed), timeout=2000)
    assert not _shown(window, "confirm_quit")


def test_cancel_all_asks_first_and_cancels_only_when_confirmed(qtbot: Any, desktop: Any) -> None:
    window, double = desktop.window, desktop.double
    artist = double.catalog.search_spotify("a")[0]
    double.inject("spotify", artist.spotify_id, Fault.slow(30), times=None)  # it stays running
    window.tasks.run(window.enqueue([ImportRequest(artist.spotify_id, artist.name)]), name="enqueue")
    model = window.progress_model
    qtbot.waitUntil(lambda: (row := model.find_row(artist.spotify_id)) is not None and not row.is_final, timeout=10000)
    qtbot.waitUntil(window.progress_panel.cancel_all_action.isEnabled, timeout=5000)

    keys = (Qt.Key.Key_Period, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(window, *keys)
    box = _box(qtbot, window, "confirm_cancel_all")
    assert box.text() == "Cancel 1 queued or running import?"
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    qtbot.wait(300)
    row = model.find_row(artist.spotify_id)
    assert row is not None and not row.is_final

    _active(qtbot, window)  # offscreen, activation does not come back by itself when a box closes
    qtbot.keyClick(window, *keys)
    box = _box(qtbot, window, "confirm_cancel_all")
    qtbot.mouseClick(_button(box, "Cancel all"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: (r := model.find_row(artist.spotify_id)) is not None and r.is_cancelled, timeout=10000)
    qtbot.waitUntil(lambda: not window.progress_panel.cancel_all_action.isEnabled(), timeout=2000)


def test_start_up_says_how_many_interrupted_imports_it_resumed(qtbot: Any, offline_desktop: Any) -> None:
    from artist_desktop.application import ResumedQueue

    window = offline_desktop.window
    window._queue_resumed(ResumedQueue({QUEUED: "Alpha"}, resumed=17))
    assert window.statusBar().currentMessage() == "Resumed 17 interrupted imports"
    window.statusBar().clearMessage()
    window._queue_resumed(ResumedQueue({QUEUED: "Alpha"}, resumed=0))
    assert window.statusBar().currentMessage() == ""
