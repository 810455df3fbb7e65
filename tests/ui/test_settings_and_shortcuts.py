"""The settings dialog validates inline and tests connections; every action has its shortcut; state is kept."""

from __future__ import annotations

from typing import Any

import pytest

from artist_desktop.config import load_settings, settings_file
from artist_desktop.ui.main_window import MainWindow
from artist_desktop.ui.qt import QKeySequence, QLabel, QPushButton, Qt
from artist_desktop.ui.settings_dialog import SettingsDialog

pytestmark = pytest.mark.gui


def test_settings_dialog_shows_concurrency_0_inline_and_tests_connections(qtbot: Any, offline_desktop: Any) -> None:
    window = offline_desktop.window
    qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    dialog = window.findChild(SettingsDialog, "settings_dialog")
    assert dialog is not None and dialog.isVisible()
    dialog.concurrency.selectAll()
    qtbot.keyClicks(dialog.concurrency, "0")
    assert dialog.concurrency.value() == 0
    save = dialog.buttons.button(dialog.buttons.StandardButton.Save)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert dialog.error_label.isVisible()
    assert "CONCURRENCY: must be between 1 and 64 (got 0)" in dialog.error_label.text()

    dialog.concurrency.selectAll()
    qtbot.keyClicks(dialog.concurrency, "6")
    for name, expected in (("redis", "Redis answered PING"), ("database", "Connected to")):
        qtbot.mouseClick(dialog.findChild(QPushButton, f"test_{name}"), Qt.MouseButton.LeftButton)
        result = dialog.findChild(QLabel, f"test_{name}_result")
        qtbot.waitUntil(lambda result=result: result.text().startswith(("✓", "✕")), timeout=10000)
        assert expected in result.text()
    # Spotify at a port where nothing listens: the reason is shown, not a crash.
    qtbot.mouseClick(dialog.findChild(QPushButton, "test_spotify"), Qt.MouseButton.LeftButton)
    spotify = dialog.findChild(QLabel, "test_spotify_result")
    qtbot.waitUntil(lambda: spotify.text().startswith("✕"), timeout=10000)

    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=2000)
    assert load_settings().concurrency == 6


def test_without_a_keyring_saving_a_secret_asks_where_it_goes(
    qtbot: Any, offline_desktop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ARTIST_DESKTOP_SPOTIFY_CLIENT_SECRET", raising=False)
    window = offline_desktop.window
    qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    dialog = window.findChild(SettingsDialog, "settings_dialog")
    assert dialog is not None
    dialog.client_secret.clear()
    qtbot.keyClicks(dialog.client_secret, "n3w-s3cret")
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Save), Qt.MouseButton.LeftButton)
    box = dialog.secret_box
    assert box is not None and box.isVisible() and "no keyring" in box.text()
    assert dialog.isVisible()  # nothing saved until the question is answered
    qtbot.mouseClick(box.findChild(QPushButton, "secret_for_session"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=2000)
    assert "for this session only" in window.statusBar().currentMessage()
    assert "n3w-s3cret" not in settings_file().read_text(encoding="utf-8")
    assert load_settings().spotify_client_secret.get_secret_value() == "n3w-s3cret"


def test_every_action_has_its_shortcut_in_the_menus(qtbot: Any) -> None:
    window = MainWindow(load_settings())
    qtbot.addWidget(window)
    shortcuts = {
        action.text().replace("&", ""): action.shortcut().toString(QKeySequence.SequenceFormat.PortableText)
        for menu in (window.file_menu, window.import_menu, window.view_menu)
        for action in menu.actions()
        if not action.isSeparator()
    }
    # Help's rarely used entries (About, the folders, the raw stream URL) go by their mnemonic (Alt+H, letter).
    help_items = [action for action in window.help_menu.actions() if not action.isSeparator()]
    assert all("&" in action.text() for action in help_items), [a.text() for a in help_items]
    assert shortcuts["Find artists"] == "Ctrl+F"
    assert shortcuts["Process all"] == "Ctrl+Return"
    assert shortcuts["Remove from selection"] == "Del"
    assert shortcuts["Settings…"] == "Ctrl+,"
    assert shortcuts["Add selected to queue"] == "Return"
    assert all(shortcuts.values()), [name for name, keys in shortcuts.items() if not keys]


def test_window_remembers_tab_and_splitters(qtbot: Any) -> None:
    window = MainWindow(load_settings())
    qtbot.addWidget(window)
    window.show()
    window.import_splitter.setSizes([300, 900])
    sizes = window.import_splitter.sizes()
    window.show_library_action.trigger()
    assert window.tabs.currentIndex() == 1
    window.close()
    again = MainWindow(load_settings())
    qtbot.addWidget(again)
    again.show()
    assert again.tabs.currentIndex() == 1
    restored = again.import_splitter.sizes()
    assert abs(restored[0] / sum(restored) - sizes[0] / sum(sizes)) < 0.05  # the same split
