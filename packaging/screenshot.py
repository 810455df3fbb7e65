"""Produce resources/screenshot.png: the window in demo mode mid-batch, on a virtual X server (Xvfb).

Run: ``.venv/bin/python packaging/screenshot.py`` (needs Debian's ``xvfb`` and the libxcb packages listed
in qt-async-notes.md). Everything runs in a tmp dir: its own data, settings and window state.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "resources" / "screenshot.png"
SCREEN = "1440x900x24"
#: Artists queued for the picture (a query of the demo catalog, then the first ones of its results).
QUERY = "a"
ARTISTS = 8


@contextlib.contextmanager
def virtual_display() -> Iterator[str]:
    """Start Xvfb on a free display number and yield it (":N")."""
    if shutil.which("Xvfb") is None:
        sys.exit("Xvfb not found: apt-get install -y xvfb libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 ...")
    for number in range(90, 120):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            break
    else:
        sys.exit("no free X display number")
    display = f":{number}"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", SCREEN, "-nolisten", "tcp"])
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{number}").exists():
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit("Xvfb did not start")
            time.sleep(0.05)
        yield display
    finally:
        server.terminate()
        server.wait(10)


async def wait_for(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def take(output: Path) -> None:
    from artist_desktop.app import AppServices
    from artist_desktop.config import load_settings
    from artist_desktop.ui.main_window import MainWindow
    from artist_desktop.ui.qt import QSettings, Qt, QTest

    settings = load_settings(demo=True, concurrency=3)
    services = AppServices(settings)
    await services.start()
    state = QSettings(str(Path(os.environ["ARTIST_DESKTOP_DATA_DIR"]) / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(services.settings, state=state)
    window.resize(1360, 820)
    window.show()
    window.attach(services)
    try:
        search = window.search_panel
        window.focus_search()
        QTest.keyClicks(search.field, QUERY)
        await wait_for(lambda: search.model.rowCount() >= ARTISTS + 2, 15, "search results")
        await wait_for(lambda: window.thumbnails.pixmap(search.model.result(0).artist.image_url), 10, "thumbnails")
        search.view.selectionModel().clearSelection()
        for row in range(ARTISTS):
            search.view.selectionModel().select(
                search.model.index(row), search.view.selectionModel().SelectionFlag.Select
            )
        search.add_selected()
        window.queue_panel.process_all()
        model = window.progress_model

        def mid_batch() -> bool:
            rows = [model.row_at(n) for n in range(model.rowCount())]
            done = sum(row.is_complete for row in rows)
            running = sum(0 < row.update.progress < 100 for row in rows)
            return len(rows) == ARTISTS and done >= 3 and running >= 2

        await wait_for(mid_batch, 60, "the batch to be half way")
        await asyncio.sleep(0.1)  # one more repaint tick
        # Queue a couple more so the selection panel is not empty in the picture.
        search.view.selectionModel().clearSelection()
        search.view.setCurrentIndex(search.model.index(ARTISTS))
        search.add_selected()
        search.view.setCurrentIndex(search.model.index(ARTISTS + 1))
        search.add_selected()
        search.view.setFocus(Qt.FocusReason.OtherFocusReason)
        await asyncio.sleep(0.15)
        output.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(output)):
            raise OSError(f"could not write {output}")
        print(f"wrote {output}")
    finally:
        await window.detach()
        await services.stop()
        window.close()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="artist-desktop-shot-") as tmp, virtual_display() as display:
        os.environ.update(
            DISPLAY=display,
            QT_QPA_PLATFORM="xcb",
            ARTIST_DESKTOP_DATA_DIR=str(Path(tmp) / "data"),
            ARTIST_DESKTOP_SETTINGS_FILE=str(Path(tmp) / "settings.toml"),
            ARTIST_DESKTOP_NO_KEYRING="1",
        )
        import qasync

        from artist_desktop.ui.qt import QApplication

        app = QApplication(sys.argv)
        app.setApplicationName("Artist Desktop")
        app.setOrganizationName("artist-desktop")
        app.setStyle("Fusion")
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(take(OUTPUT))
        finally:
            loop.close()


if __name__ == "__main__":
    main()
