"""The Qt application and its qasync event loop: run one coroutine on them until it returns."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import qasync

from artist_desktop import APP_NAME
from artist_desktop.resources import resource_path
from artist_desktop.ui.qt import QApplication, QIcon

T = TypeVar("T")
ORGANISATION = "artist-desktop"


def run_on_qt(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Make (or reuse) the QApplication, run ``main()`` on a qasync loop over it and return its result.

    The application does not quit when its last window closes: ``main`` decides when it is done, so it can
    stop the runtime in order first. Async generators are closed and the loop is closed afterwards.
    """
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORGANISATION)
    app.setDesktopFileName(ORGANISATION)  # Wayland matches the window to its menu entry by this
    with contextlib.suppress(FileNotFoundError):  # an icon is nice to have, never a reason not to start
        app.setWindowIcon(QIcon(str(resource_path("icons", "artist-desktop.png"))))
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        result: T = loop.run_until_complete(main())
        return result
    finally:
        with contextlib.suppress(Exception):
            loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        asyncio.set_event_loop(None)
