"""The settings dialog's fields for the audience sources: contact, Last.fm key (with Test connection), ListenBrainz
token; secrets never reach the settings file."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from artist_desktop.config import load_settings, settings_file
from artist_desktop.devtools.api_double import LASTFM, ApiDouble
from artist_desktop.ui.qt import QLabel, QLineEdit, QPushButton, Qt
from artist_desktop.ui.settings_dialog import CONTACT_HINT, SECRET_KEPT, SettingsDialog
from artist_desktop.ui.tasks import TaskRunner

pytestmark = pytest.mark.gui


@pytest.fixture
def dialog(
    qtbot: Any, gui_loop: asyncio.AbstractEventLoop, threaded_double: ApiDouble, monkeypatch: pytest.MonkeyPatch
) -> SettingsDialog:
    """The dialog of a user with no Last.fm key yet, Last.fm's URL pointed at the double (as demo mode does)."""
    monkeypatch.setenv("ARTIST_DESKTOP_LASTFM_API_URL", threaded_double.urls.lastfm_api_url)
    made = SettingsDialog(load_settings(), TaskRunner())
    qtbot.addWidget(made)
    made.show()
    qtbot.waitExposed(made)
    return made


def click(qtbot: Any, dialog: SettingsDialog, name: str) -> None:
    qtbot.mouseClick(dialog.findChild(QPushButton, name), Qt.MouseButton.LeftButton)


def lastfm_result(qtbot: Any, dialog: SettingsDialog) -> str:
    label = dialog.findChild(QLabel, "test_lastfm_result")
    qtbot.waitUntil(lambda: label.text().startswith(("✓", "✕")), timeout=10000)
    return str(label.text())


def test_the_last_fm_test_uses_the_typed_key(qtbot: Any, dialog: SettingsDialog, threaded_double: ApiDouble) -> None:
    key = dialog.findChild(QLineEdit, "lastfm_api_key")
    assert key.echoMode() == QLineEdit.EchoMode.Password
    click(qtbot, dialog, "test_lastfm")
    assert "Enter a Last.fm API key first" in lastfm_result(qtbot, dialog)

    qtbot.keyClicks(key, "typo")
    click(qtbot, dialog, "test_lastfm")
    assert lastfm_result(qtbot, dialog) == "✕ Last.fm rejects this key"

    key.clear()
    qtbot.keyClicks(key, threaded_double.lastfm.api_key)
    click(qtbot, dialog, "test_lastfm")
    assert lastfm_result(qtbot, dialog) == "✓ Last.fm: key accepted"
    assert threaded_double.request_count(LASTFM) == 2


def test_contact_and_secrets_are_saved_the_secrets_outside_the_file(qtbot: Any, dialog: SettingsDialog) -> None:
    contact = dialog.findChild(QLineEdit, "contact")
    assert contact.text() == load_settings().contact  # the saved contact (the default here)
    assert CONTACT_HINT in contact.toolTip()
    assert "block generic User-Agents" in dialog.findChild(QLabel, "contact_hint").text()
    contact.selectAll()
    qtbot.keyClicks(contact, "analyst@example.org")
    qtbot.keyClicks(dialog.findChild(QLineEdit, "lastfm_api_key"), "my-lastfm-key")
    qtbot.keyClicks(dialog.findChild(QLineEdit, "listenbrainz_token"), "my-lb-token")
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Save), Qt.MouseButton.LeftButton)
    box = dialog.secret_box  # the tests run without a keyring: the dialog asks where the secrets go
    assert box is not None and box.isVisible()
    assert "Last.fm API key and ListenBrainz token" in box.text()
    qtbot.mouseClick(box.findChild(QPushButton, "secret_for_session"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=2000)

    saved = load_settings()
    assert saved.contact == "analyst@example.org"
    assert saved.lastfm_api_key.get_secret_value() == "my-lastfm-key"
    assert saved.listenbrainz_token.get_secret_value() == "my-lb-token"
    text = settings_file().read_text(encoding="utf-8")
    assert "analyst@example.org" in text
    assert "my-lastfm-key" not in text and "my-lb-token" not in text

    # opened again: the saved secrets are kept when their fields stay empty
    again = SettingsDialog(saved, TaskRunner())
    qtbot.addWidget(again)
    for name in ("lastfm_api_key", "listenbrainz_token"):
        field = again.findChild(QLineEdit, name)
        assert field.text() == "" and field.placeholderText() == SECRET_KEPT
    kept = again.validated()
    assert kept is not None and kept.lastfm_api_key.get_secret_value() == "my-lastfm-key"
    assert kept.listenbrainz_token.get_secret_value() == "my-lb-token"
