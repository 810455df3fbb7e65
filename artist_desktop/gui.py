"""The desktop app: the main window shown at once, the headless runtime started behind it, both stopped in order.

The one module that joins `ui` and `runtime`: the window only ever sees `runtime.application`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import subprocess
import sys

from artist_desktop.config import Settings

log = logging.getLogger(__name__)


def run_gui(settings: Settings) -> int:
    """Run the window on a qasync loop until it closes (or SIGTERM/SIGINT), then stop everything; the exit code."""
    from artist_desktop.ui.event_loop import run_on_qt

    return run_on_qt(lambda: _gui_main(settings))


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
    runtime = Runtime(settings, with_sse=True, demo_history=True, schedule=True)
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
    if window.relaunch_arguments is not None:
        # Only now: this process has let go of its progress-stream port and the embedded Redis, so the new
        # one binds the same port (clients of the old address reconnect to it) instead of a substitute.
        relaunch(window.relaunch_arguments)
    return exit_code


def relaunch_command(arguments: list[str]) -> list[str]:
    """How to start this app again with ``arguments``: the bundle's own executable, or this Python's module."""
    if getattr(sys, "frozen", False):  # the PyInstaller bundle: the executable is the app
        return [sys.executable, *arguments]
    return [sys.executable, "-m", "artist_desktop", *arguments]


def relaunch(arguments: list[str]) -> None:
    """Start a new app process with ``arguments``, detached from this one (which is about to exit)."""
    command = relaunch_command(arguments)
    log.info("restarting: %s", " ".join(command))
    subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)
