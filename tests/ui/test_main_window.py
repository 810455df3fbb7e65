"""The window shell: title, menus with shortcuts, the status bar's service state, a clean close."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Slot

from artist_desktop.config import load_settings, log_dir
from artist_desktop.runtime import Runtime
from artist_desktop.ui.main_window import MainWindow
from artist_desktop.ui.qt import QDesktopServices, QMessageBox, QObject, Qt, QUrl

pytestmark = pytest.mark.gui


def _menu_titles(window: MainWindow) -> list[str]:
    return [action.text().replace("&", "") for action in window.menuBar().actions()]


def test_window_has_title_menus_and_shortcuts(qtbot: Any) -> None:
    window = MainWindow(load_settings())
    qtbot.addWidget(window)
    assert window.windowTitle() == "Artist Desktop"
    assert _menu_titles(window) == ["File", "Import", "View", "Metrics", "Help"]
    assert not window.quit_action.shortcut().isEmpty()
    assert not window.demo_label.isVisible()


def test_demo_mode_is_labelled(qtbot: Any) -> None:
    window = MainWindow(load_settings(demo=True))
    qtbot.addWidget(window)
    window.show()
    assert "demo data" in window.windowTitle()
    assert window.demo_label.isVisible()


def test_status_bar_shows_redis_and_database_state(qtbot: Any, run_async: Any) -> None:
    services = Runtime(load_settings())
    run_async(services.start())
    window = MainWindow(services.settings)
    qtbot.addWidget(window)
    try:
        window.attach(services.application)
        qtbot.waitUntil(lambda: window.redis_label.text().startswith("Redis: connected"), timeout=5000)
        assert "embedded" in window.redis_label.text()
        qtbot.waitUntil(lambda: window.database_label.text().startswith("Database: ready"), timeout=5000)
    finally:
        run_async(window.detach())
        run_async(services.stop())
    # Once the services are gone the state is no longer "connected".
    assert window.application is None


def test_closing_the_window_emits_closed(qtbot: Any) -> None:
    window = MainWindow(load_settings())
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.closed, timeout=2000):
        window.quit_action.trigger()
    assert not window.isVisible()


def test_fatal_start_up_error_is_shown_and_closes_the_window(qtbot: Any) -> None:
    window = MainWindow(load_settings())
    qtbot.addWidget(window)
    window.show()
    window.show_fatal_error("Artist Desktop could not start", "redis-server not found")
    box = window.findChild(QMessageBox, "fatal_error")
    assert box is not None and "redis-server not found" in box.text()
    with qtbot.waitSignal(window.closed, timeout=2000):
        box.button(QMessageBox.StandardButton.Close).click()


class _UrlRecorder(QObject):
    """Stands in for the file manager: QDesktopServices hands it the folders the app opens."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toLocalFile())


def test_help_opens_the_log_and_data_folders(qtbot: Any, isolated_user_env: Any) -> None:
    window = MainWindow(load_settings())
    qtbot.addWidget(window)
    names = [action.objectName() for action in window.help_menu.actions() if action.objectName()]
    assert names[:2] == ["keyboard_shortcuts", "open_dashboard"] and names[-1] == "about"
    opened = _UrlRecorder()
    QDesktopServices.setUrlHandler("file", opened, "open")
    try:
        window.open_log_folder_action.trigger()
        window.open_data_folder_action.trigger()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert opened.urls == [str(log_dir()), str(window.settings.data_dir)]
    assert all(Path(folder).is_dir() for folder in opened.urls)


def test_without_a_contact_the_window_asks_for_one_and_enter_opens_settings(
    qtbot: Any, run_async: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spotify credentials but no contact: MusicBrainz and Wikipedia would be skipped, so the window asks."""
    services = Runtime(load_settings(spotify_client_id="id", spotify_client_secret="secret"))
    run_async(services.start())
    window = MainWindow(services.settings)
    qtbot.addWidget(window)
    opened: list[bool] = []
    monkeypatch.setattr(window, "open_settings", lambda: opened.append(True))
    try:
        window.attach(services.application)
        qtbot.waitUntil(lambda: window.findChild(QMessageBox, "ask_contact") is not None, timeout=5000)
        box = window.findChild(QMessageBox, "ask_contact")
        assert box is not None and "e-mail or web address" in box.text()
        assert window.findChild(QMessageBox, "first_run") is None
        qtbot.mouseClick(box.findChild(QObject, "enter_contact"), Qt.MouseButton.LeftButton)
        assert opened == [True]
    finally:
        run_async(window.detach())
        run_async(services.stop())
