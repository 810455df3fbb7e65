"""Produce resources/screenshot.png (the window in demo mode mid-batch) or, with ``--shots DIR``, the
Development Mode pictures at 1366x768, on a virtual X server (Xvfb).

Run: ``.venv/bin/python packaging/screenshot.py`` (needs Debian's ``xvfb`` and the libxcb packages listed
in qt-async-notes.md). ``--shots /tmp/shots`` writes instead:

- ``search.png``: search results in demo mode (pages of 10, no followers), a few artists queued;
- ``import-ids.png``: the Import ids or links dialog with a header, good links and a line that is no artist;
- ``paused-queue.png``: Spotify's daily quota used up: artists picked from search results imported, pasted
  ids waiting for Spotify with the resume time, and the status bar saying until when;
- ``library-*.png``: the Library on the demo's 90 days (compare, indexed, context menu);
- ``alerts.png``: the Alerts tab on the demo history's spikes; ``alert-chart.png``: one opened, its day marked
  on the artist's chart; ``notification.png``: a Deezer refresh that ended while another window was active
  (Xvfb has no system tray, so the notification is the status-bar message).

``--only alerts,library`` takes only those (names: search, import-ids, paused-queue, library, alerts).

Everything runs in a tmp dir: its own data, settings and window state.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "resources" / "screenshot.png"
SCREEN = "1440x900x24"
SHOTS_SCREEN = "1366x768x24"
SHOTS_SIZE = (1366, 768)
#: Artists queued for the picture (a query of the demo catalog, then the first ones of its results).
QUERY = "a"
ARTISTS = 8


@contextlib.contextmanager
def virtual_display(screen: str = SCREEN) -> Iterator[str]:
    """Start Xvfb on a free display number and yield it (":N")."""
    if shutil.which("Xvfb") is None:
        sys.exit("Xvfb not found: apt-get install -y xvfb libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 ...")
    for number in range(90, 120):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            break
    else:
        sys.exit("no free X display number")
    display = f":{number}"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", screen, "-nolisten", "tcp"])
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
    from artist_desktop.config import load_settings
    from artist_desktop.runtime import Runtime
    from artist_desktop.ui.main_window import MainWindow
    from artist_desktop.ui.qt import QSettings, Qt, import_qtest

    settings = load_settings(demo=True, concurrency=3)
    services = Runtime(settings, demo_history=settings.demo)
    await services.start()
    state = QSettings(str(Path(os.environ["ARTIST_DESKTOP_DATA_DIR"]) / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(services.settings, state=state)
    window.resize(1360, 820)
    window.show()
    window.attach(services.application)
    try:
        search = window.search_panel
        window.focus_search()
        import_qtest().keyClicks(search.field, QUERY)
        await wait_for(lambda: search.model.rowCount() > 0, 15, "search results")
        while search.model.rowCount() < ARTISTS + 2:  # pages of 10 (Development Mode), one of them with a null
            shown = search.model.rowCount()
            search.load_more()
            await wait_for(lambda shown=shown: search.model.rowCount() > shown, 10, "the next page")
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


async def take_shots(folder: Path, only: set[str] | None = None) -> None:
    """The Development Mode pictures (see the module docstring); ``only`` names a few of them."""
    shots: dict[str, Callable[[], Any]] = {
        "search": lambda: shot_search(folder / "search.png"),
        "import-ids": lambda: shot_import_ids(folder / "import-ids.png"),
        "paused-queue": lambda: shot_paused_queue(folder / "paused-queue.png"),
        "library": lambda: shot_library(folder),
        "alerts": lambda: shot_alerts(folder),
    }
    unknown = (only or set()) - set(shots)
    if unknown:
        sys.exit(f"no such shot: {', '.join(sorted(unknown))} (there are {', '.join(shots)})")
    for name, shot in shots.items():
        if only is None or name in only:
            await shot()


@contextlib.asynccontextmanager
async def opened_window(settings: Any) -> AsyncIterator[Any]:
    """Started services and the attached window at 1366x768 (the state file in the tmp data dir)."""
    from artist_desktop.runtime import Runtime
    from artist_desktop.ui.main_window import MainWindow
    from artist_desktop.ui.qt import QSettings

    services = Runtime(settings, demo_history=settings.demo)
    await services.start()
    state = QSettings(str(Path(os.environ["ARTIST_DESKTOP_DATA_DIR"]) / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(services.settings, state=state)
    window.setGeometry(0, 0, *SHOTS_SIZE)
    window.show()
    window.attach(services.application)
    try:
        await wait_for(lambda: not window.tasks.running("runner-start"), 10, "the runner")
        yield window
    finally:
        await window.detach()
        await services.stop()
        window.close()


async def shot_library(folder: Path) -> None:
    """The Library with the demo's 90 days: the table with sparklines, two artists compared, the context menu."""
    from artist_desktop.config import load_settings

    # A data dir of its own: the earlier pictures imported artists from doubles whose fan counts do not move.
    os.environ["ARTIST_DESKTOP_DATA_DIR"] = tempfile.mkdtemp(prefix="artist-desktop-library-")
    async with opened_window(load_settings(demo=True, concurrency=3)) as window:
        window.tabs.setCurrentIndex(1)
        panel = window.library_panel
        window.refresh_library()
        await wait_for(lambda: panel.model.rowCount() >= 40, 15, "the library")
        panel.splitter.setSizes([340, 360])
        selection = panel.table.selectionModel()
        for position in range(panel.proxy.rowCount()):
            index = panel.proxy.index(position, 0)
            if index.data() in ("Queen", "ABBA"):
                selection.select(index, selection.SelectionFlag.Select | selection.SelectionFlag.Rows)
        await wait_for(lambda: len(panel.chart.series.get("Deezer followers", {})) == 2, 10, "the compare chart")
        await asyncio.sleep(0.5)
        save(window, folder / "library-compare.png")
        panel.indexed_box.setChecked(True)
        await wait_for(lambda: "indexed" in panel.chart._plotted[0][0].titleLabel.text, 10, "the indexed chart")
        await asyncio.sleep(0.3)
        save(window, folder / "library-indexed.png")
        menu = panel.context_menu()
        rect = panel.table.visualRect(panel.proxy.index(2, 0))
        menu.popup(panel.table.viewport().mapToGlobal(rect.center()))
        await asyncio.sleep(0.5)
        save_screen(folder / "library-menu.png")
        menu.close()


async def shot_alerts(folder: Path) -> None:
    """The Alerts tab on the demo history, an alert opened on its chart, and a refresh's notification."""
    from artist_desktop.config import load_settings
    from artist_desktop.ui.metrics_menu import MetricsActions
    from artist_desktop.ui.qt import QApplication, QWidget

    os.environ["ARTIST_DESKTOP_DATA_DIR"] = tempfile.mkdtemp(prefix="artist-desktop-alerts-")
    async with opened_window(load_settings(demo=True, concurrency=3)) as window:
        window.refresh_library()
        await wait_for(lambda: window.library_panel.model.rowCount() >= 40, 15, "the library")
        window.tabs.setCurrentIndex(2)
        panel = window.alerts_panel
        window.check_alerts()
        await wait_for(lambda: panel.model.rowCount() > 0, 30, "the demo history's alerts")
        panel.table.selectRow(0)
        await asyncio.sleep(0.3)
        save(window, folder / "alerts.png")
        panel.open_current()
        chart = window.library_panel.chart
        await wait_for(lambda: chart.marker is not None, 10, "the alert's day on the chart")
        library = window.library_panel
        library.splitter.setSizes([300, 400])
        await asyncio.sleep(0.2)
        library.table.scrollTo(library.table.selectionModel().selectedRows()[0])
        await asyncio.sleep(0.3)
        save(window, folder / "alert-chart.png")
        # A metrics refresh that ends while another program is in front: the window notifies its outcome.
        elsewhere = QWidget()
        elsewhere.setWindowTitle("Another program")
        elsewhere.setGeometry(900, 500, 300, 150)
        elsewhere.show()
        await wait_for(lambda: elsewhere.windowHandle() is not None and elsewhere.windowHandle().isExposed(), 5, "it")
        metrics = window.findChild(MetricsActions, "metrics_actions")
        metrics.refresh()
        await asyncio.sleep(0.2)  # the progress dialog shows (and takes the focus)

        def in_front() -> bool:
            if QApplication.activeWindow() is not elsewhere:
                elsewhere.windowHandle().requestActivate()
            return QApplication.activeWindow() is elsewhere

        await wait_for(in_front, 5, "the other window in front")
        await wait_for(lambda: window.last_notification.startswith("Metrics refresh"), 60, "the refresh's end")
        for dialog in (metrics.results_dialog, metrics.progress_dialog):
            if dialog is not None:
                dialog.hide()
        elsewhere.hide()
        await asyncio.sleep(0.3)
        save(window, folder / "notification.png")
        print(f"notification: {window.last_notification!r} (system tray available: {tray_available()})")


def tray_available() -> bool:
    from artist_desktop.ui.qt import QSystemTrayIcon

    return bool(QSystemTrayIcon.isSystemTrayAvailable())


async def search_for(window: Any, query: str, rows: int) -> None:
    from artist_desktop.ui.qt import import_qtest

    search = window.search_panel
    window.focus_search()
    import_qtest().keyClicks(search.field, query)
    await wait_for(lambda: search.model.rowCount() >= rows, 15, "search results")
    await wait_for(lambda: window.thumbnails.pixmap(search.model.result(0).artist.image_url), 10, "thumbnails")


def save(widget: Any, output: Path) -> None:
    if not widget.grab().save(str(output)):
        raise OSError(f"could not write {output}")
    print(f"wrote {output}")


def save_screen(output: Path) -> None:
    """The whole (virtual) screen: a dialog over the window, as the user sees it."""
    from artist_desktop.ui.qt import QGuiApplication

    screen = QGuiApplication.primaryScreen()
    if not screen.grabWindow(0).copy(0, 0, *SHOTS_SIZE).save(str(output)):
        raise OSError(f"could not write {output}")
    print(f"wrote {output}")


async def shot_search(output: Path) -> None:
    from artist_desktop.config import load_settings
    from artist_desktop.ui.qt import Qt

    async with opened_window(load_settings(demo=True, concurrency=3)) as window:
        search = window.search_panel
        await search_for(window, "a", 9)
        search.load_more()
        await wait_for(lambda: search.model.rowCount() >= 19, 10, "the second page")
        selection = search.view.selectionModel()
        for row in (0, 2, 5):
            search.view.setCurrentIndex(search.model.index(row))
            search.add_selected()
        selection.clearSelection()
        for row in (1, 3):
            selection.select(search.model.index(row), selection.SelectionFlag.Select)
        search.view.scrollToTop()
        search.view.setFocus(Qt.FocusReason.OtherFocusReason)
        await asyncio.sleep(0.3)
        save(window, output)


async def shot_import_ids(output: Path) -> None:
    from artist_desktop.config import load_settings

    async with opened_window(load_settings(demo=True, concurrency=3)) as window:
        search = window.search_panel
        await search_for(window, "a", 9)
        ids = [search.model.result(n).artist.id for n in range(3)]
        dialog = window.open_import_ids()
        dialog.text.setPlainText(
            "artist,note\n"
            f"https://open.spotify.com/artist/{ids[0]}?si=1a2b3c4d5e6f4a7b\n"
            f"spotify:artist:{ids[1]}\n"
            "Daft Punk (the name alone is not an artist link)\n"
            f"https://open.spotify.com/intl-de/artist/{ids[2]}\n"
        )
        await wait_for(lambda: "ready to import" in dialog.status.text(), 10, "the check of the lines")
        await asyncio.sleep(0.3)
        save_screen(output)
        dialog.reject()


async def shot_paused_queue(output: Path) -> None:
    """Against a double of our own (demo mode keeps its double private): the quota trips after the search."""
    from artist_desktop.config import load_settings
    from artist_desktop.devtools.api_double import ApiDouble, DoubleConfig

    double = ApiDouble(DoubleConfig())
    await asyncio.to_thread(double.start_in_thread)
    try:
        settings = load_settings(concurrency=2, **double.urls.as_settings())
        async with opened_window(settings) as window:
            search = window.search_panel
            await search_for(window, "a", 9)
            for row in range(4):  # picked from the results: imported with no Spotify request
                search.view.setCurrentIndex(search.model.index(row))
                search.add_selected()
            pasted = [search.model.result(n).artist.id for n in range(4, 8)]
            double.set_spotify_quota(0, retry_after=5 * 3600)  # Spotify's daily quota is used up now
            window.queue_panel.process_all()
            requests, _bad = await window.application.requests_from_text("\n".join(pasted))
            await window.enqueue(requests)  # pasted ids: their import needs Spotify
            model = window.progress_model

            def settled() -> bool:
                rows = [model.row_at(n) for n in range(model.rowCount())]
                return (
                    len(rows) == 8
                    and sum(r.is_complete for r in rows) == 4
                    and sum(r.waiting_for is not None for r in rows) == 4
                )

            try:
                await wait_for(settled, 60, "four imported and four waiting")
            except TimeoutError:
                for n in range(model.rowCount()):
                    r = model.row_at(n)
                    print(r.title, r.update.stage, r.update.message, r.update.payload)
                raise
            await wait_for(window.spotify_pause_label.isVisible, 10, "the status bar pause")
            window.progress_panel.view.clearSelection()
            await asyncio.sleep(0.3)
            save(window, output)
    finally:
        await asyncio.to_thread(double.stop_thread)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--shots", type=Path, help="write the Development Mode pictures to this folder instead")
    parser.add_argument("--only", help="with --shots: only these pictures, comma-separated (e.g. alerts)")
    args = parser.parse_args()
    screen = SHOTS_SCREEN if args.shots else SCREEN
    if args.shots:
        args.shots.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="artist-desktop-shot-") as tmp, virtual_display(screen) as display:
        os.environ.update(
            DISPLAY=display,
            QT_QPA_PLATFORM="xcb",
            ARTIST_DESKTOP_DATA_DIR=str(Path(tmp) / "data"),
            ARTIST_DESKTOP_SETTINGS_FILE=str(Path(tmp) / "settings.toml"),
            ARTIST_DESKTOP_NO_KEYRING="1",
        )
        import qasync

        from artist_desktop.ui.qt import QApplication

        app = QApplication(sys.argv[:1])
        app.setApplicationName("Artist Desktop")
        app.setOrganizationName("artist-desktop")
        app.setStyle("Fusion")
        app.setQuitOnLastWindowClosed(False)  # several windows open and close in turn
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        try:
            only = set(args.only.split(",")) if args.only else None
            loop.run_until_complete(take_shots(args.shots, only) if args.shots else take(OUTPUT))
        finally:
            loop.close()


if __name__ == "__main__":
    main()
