"""The desktop app's life cycle: "Try demo mode" starts the new app only once this one has let go of its port."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from artist_desktop import gui
from artist_desktop.config import load_settings
from artist_desktop.ui.qt import QApplication, QMessageBox, QPushButton

pytestmark = pytest.mark.gui


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _first_run_box() -> QMessageBox | None:
    for widget in QApplication.topLevelWidgets():
        box = widget.findChild(QMessageBox, "first_run")
        if box is not None and box.isVisible():
            return box
    return None


def test_try_demo_restarts_after_the_stream_port_is_released(
    qtbot: Any, gui_loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch, redis_url: str, redis_prefix: str
) -> None:
    port = _free_port()
    settings = load_settings(redis_url=redis_url, redis_prefix=redis_prefix, sse_port=port, demo=False)
    assert not settings.has_spotify_credentials
    relaunched: list[list[str]] = []

    def relaunch(arguments: list[str]) -> None:
        with socket.socket() as sock:  # the new app gets the same port: this one has closed it
            sock.bind((settings.sse_host, port))
        relaunched.append(arguments)

    monkeypatch.setattr(gui, "relaunch", relaunch)
    app = gui_loop.create_task(gui._gui_main(settings))
    qtbot.waitUntil(lambda: _first_run_box() is not None, timeout=15000)
    box = _first_run_box()
    assert box is not None
    with socket.socket() as sock, pytest.raises(OSError):  # while it runs, the app holds the port
        sock.bind((settings.sse_host, port))
    next(button for button in box.findChildren(QPushButton) if button.objectName() == "try_demo").click()
    qtbot.waitUntil(app.done, timeout=20000)
    assert app.result() == 0
    assert relaunched == [["--demo"]]


def test_the_relaunch_command_runs_this_app_again() -> None:
    assert gui.relaunch_command(["--demo"])[-3:] == ["-m", "artist_desktop", "--demo"]
