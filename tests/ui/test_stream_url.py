"""Help -> "Copy progress stream URL" hands other tools the live SSE address, and stopping frees its port."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Slot

from artist_desktop.config import Settings, load_settings
from artist_desktop.runtime import Runtime
from artist_desktop.services import ServiceClients
from artist_desktop.ui.main_window import MainWindow
from artist_desktop.ui.qt import QDesktopServices, QGuiApplication, QObject, Qt, QUrl

pytestmark = pytest.mark.gui


class _UrlRecorder(QObject):
    """Stands in for the browser: QDesktopServices hands it the URLs the app opens."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toString())


async def _health(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=5) as client:
        return await client.get(url)


def test_copy_stream_url_puts_the_live_address_on_the_clipboard_and_stop_frees_the_port(
    qtbot: Any, run_async: Any, redis_url: str, redis_prefix: str, fast_clients: Callable[[Settings], ServiceClients]
) -> None:
    settings = load_settings(
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        sse_port=0,
        spotify_client_id="unused",
        spotify_client_secret="unused",
        spotify_api_url="http://127.0.0.1:9/v1",
        spotify_accounts_url="http://127.0.0.1:9",
        contact="analyst@example.org",
    )
    services = Runtime(settings, clients=fast_clients(settings), with_sse=True)
    run_async(services.start())
    window = MainWindow(services.settings)
    qtbot.addWidget(window)
    stopped = False
    try:
        window.show()
        qtbot.waitExposed(window)
        window.attach(services.application)
        assert services.sse is not None
        port = services.sse.port
        assert port
        QGuiApplication.clipboard().clear()
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=2000)
        qtbot.keyClick(window, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        dashboard = f"http://127.0.0.1:{port}/"
        qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() == dashboard, timeout=2000)
        assert window.statusBar().currentMessage() == f"Copied {dashboard}"
        assert window.copy_stream_url_action in window.help_menu.actions()
        window.copy_stream_url_action.trigger()  # for scripts: the stream itself
        expected = f"http://127.0.0.1:{port}/api/artists/progress"
        qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() == expected, timeout=2000)
        # Ctrl+Shift+O opens the dashboard in the browser (here: the URL handler a test installs).
        opened = _UrlRecorder()
        QDesktopServices.setUrlHandler("http", opened, "open")
        try:
            qtbot.keyClick(
                window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
            )
            qtbot.waitUntil(lambda: opened.urls == [dashboard], timeout=2000)
        finally:
            QDesktopServices.unsetUrlHandler("http")
        # The address is live: the same server answers its health check.
        response = run_async(_health(f"http://127.0.0.1:{port}/api/health"))
        assert response.status_code == 200

        run_async(window.detach())
        started = time.perf_counter()
        run_async(services.stop(), timeout=10)
        stopped = True
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            while True:
                try:
                    sock.bind(("127.0.0.1", port))
                    sock.listen()
                    break
                except OSError:
                    assert time.perf_counter() - started < 2, f"port {port} still taken 2 s after stop()"
                    qtbot.wait(50)
        assert time.perf_counter() - started < 2
    finally:
        if not stopped:
            run_async(window.detach())
            run_async(services.stop(), timeout=10)
    # With the server gone the action says so instead of copying a dead address.
    window.copy_stream_url_action.trigger()
    assert window.statusBar().currentMessage() == "The progress stream is not running."


def test_a_taken_port_is_replaced_and_the_status_bar_says_so(
    qtbot: Any, run_async: Any, redis_url: str, redis_prefix: str, fast_clients: Callable[[Settings], ServiceClients]
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        settings = load_settings(
            redis_url=redis_url,
            redis_prefix=redis_prefix,
            sse_port=taken,
            spotify_client_id="unused",
            spotify_client_secret="unused",
            spotify_api_url="http://127.0.0.1:9/v1",
            spotify_accounts_url="http://127.0.0.1:9",
            contact="analyst@example.org",
        )
        services = Runtime(settings, clients=fast_clients(settings), with_sse=True)
        run_async(services.start())
        window = MainWindow(services.settings)
        qtbot.addWidget(window)
        try:
            window.attach(services.application)
            # still there once the progress subscription has connected (it clears only its own message)
            qtbot.waitUntil(lambda: window.tasks.running("progress-subscription"), timeout=2000)
            qtbot.wait(300)
            assert services.sse is not None and services.sse.port_was_taken
            assert services.sse.port != taken
            message = window.statusBar().currentMessage()
            assert f"Port {taken} is taken" in message
            assert services.sse.url in message
        finally:
            run_async(window.detach())
            run_async(services.stop())
