"""The desktop app: a qasync loop over a QApplication, the main window shown at once, the runtime started behind it."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys

from artist_desktop.config import Settings

log = logging.getLogger(__name__)


def run_gui(settings: Settings) -> int:
    """Run the window on a qasync loop until it closes (or SIGTERM/SIGINT), then stop everything."""
    import qasync

    from artist_desktop.resources import resource_path
    from artist_desktop.ui.qt import QApplication, QIcon

    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("Artist Desktop")
    app.setOrganizationName("artist-desktop")
    app.setDesktopFileName("artist-desktop")  # Wayland matches the window to its menu entry by this
    with contextlib.suppress(FileNotFoundError):  # an icon is nice to have, never a reason not to start
        app.setWindowIcon(QIcon(str(resource_path("icons", "artist-desktop.png"))))
    app.setQuitOnLastWindowClosed(False)  # we quit ourselves, after an orderly shutdown
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        exit_code: int = loop.run_until_complete(_gui_main(settings))
        return exit_code
    finally:
        with contextlib.suppress(Exception):
            loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        asyncio.set_event_loop(None)


async def _gui_main(settings: Settings) -> int:
    from artist_desktop.runtime import Runtime
    from artist_desktop.ui.main_window import MainWindow

    loop = asyncio.get_running_loop()
    closed = asyncio.Event()
    window = MainWindow(settings)
    window.closed.connect(closed.set)
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, window.close)
    window.show()
    log.debug("window shown")
    runtime = Runtime(settings, with_sse=True)
    exit_code = 0
    try:
        try:
            await runtime.start()
        except Exception as exc:
            log.exception("start-up failed")
            window.show_fatal_error("Artist Desktop could not start", str(exc))
            exit_code = 1
        else:
            window.attach(runtime.application)
            # What start-up built lives as long as the app: full collections need not walk it again
            # (about 100 ms each on a large heap, a visible stall during a batch).
            gc.freeze()
        await closed.wait()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await window.detach()
        await runtime.stop()
    return exit_code
