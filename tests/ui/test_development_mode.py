"""The window with a Spotify app in Development Mode (the API double's default): pages of 10, null entries,
no followers, the daily quota and Premium messages, pasted links, the Import ids dialog, frugal imports and
a queue paused by the quota."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from artist_desktop.domain import ServicePause, Stage
from artist_desktop.services import spotify_links
from artist_desktop.store import service_state
from artist_desktop.ui.import_dialog import ImportIdsDialog
from artist_desktop.ui.palette import ERROR_COLOR, PAUSED_COLOR
from artist_desktop.ui.pauses import resume_time_text
from artist_desktop.ui.qt import QColor, QFileDialog, QGuiApplication, QLabel, QPushButton, Qt, QTimer, QWidget
from artist_desktop.ui.search import result_info

pytestmark = pytest.mark.gui


def _has_colour(widget: QWidget, colour: QColor) -> bool:
    """Whether the widget, as painted now, shows this accent somewhere (what the user sees)."""
    image = widget.grab().toImage()
    target = colour.rgb()
    return any(image.pixel(x, y) == target for y in range(image.height()) for x in range(0, image.width(), 2))


def _resume_texts(seconds: float) -> set[str]:
    """What "resumes at" may read for a pause of `seconds` starting about now (a minute may tick over)."""
    now = datetime.now(UTC)
    return {resume_time_text(now + timedelta(seconds=seconds + shift)) for shift in (-60, 0, 60)}


def _paste(qtbot: Any, widget: QWidget, text: str) -> None:
    """Put `text` on the clipboard and press Ctrl+V in `widget`, as a user pasting a link does."""
    QGuiApplication.clipboard().setText(text)
    widget.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.keyClick(widget, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)


def _search(qtbot: Any, window: Any, text: str) -> None:
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(window.search_panel.field, text)


class ShortLinkHost:
    """A loopback stand-in for spotify.link: ``/<code>`` redirects (302) to the artist link registered for
    it, ``/slow`` answers after 5 s, anything else 404 (an unknown code), as Spotify's link host does."""

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                code = self.path.strip("/")
                if code == "slow":
                    time.sleep(5)
                target = host.codes.get(code)
                self.send_response(302 if target else 404)
                if target:
                    self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def short_links(monkeypatch: pytest.MonkeyPatch) -> Iterator[ShortLinkHost]:
    """Short links (spotify.link/<code>) resolve against a local host instead of Spotify's."""
    host = ShortLinkHost()
    monkeypatch.setattr(spotify_links, "SHORT_LINK_BASE_URLS", {"spotify.link": host.url, "open.spotify.com": host.url})
    try:
        yield host
    finally:
        host.close()


def _open_import_ids(qtbot: Any, window: Any) -> ImportIdsDialog:
    qtbot.keyClick(window, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    dialog = window.findChild(ImportIdsDialog, "import_ids_dialog")
    assert isinstance(dialog, ImportIdsDialog) and dialog.isVisible()
    qtbot.waitUntil(dialog.text.hasFocus, timeout=2000)
    return dialog


def test_search_shows_ten_per_page_and_load_more_adds_the_next_ten(qtbot: Any, desktop: Any) -> None:
    window, double = desktop.window, desktop.double
    double.set_spotify_search_nulls(())
    search = window.search_panel
    _search(qtbot, window, "a")
    qtbot.waitUntil(lambda: search.model.rowCount() > 0, timeout=5000)
    assert search.model.rowCount() == 10
    assert "Invalid limit" not in search.message.text()
    assert search.message.text() == "10 of 34 artists"
    first_page = search.model.spotify_ids()
    qtbot.mouseClick(search.load_more_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: search.model.rowCount() == 20, timeout=5000)
    assert search.model.spotify_ids()[:10] == first_page and len(set(search.model.spotify_ids())) == 20
    assert search.message.text() == "20 of 34 artists"
    # Development Mode gives no followers: no "– followers" placeholder, genres or nothing instead.
    for row in range(20):
        result = search.model.result(row)
        assert result.artist.followers is None
        assert "followers" not in result_info(result.artist)
        assert "followers" not in search.model.index(row).data(Qt.ItemDataRole.ToolTipRole)


def test_a_page_with_a_null_entry_keeps_the_other_artists(qtbot: Any, desktop: Any) -> None:
    window, double = desktop.window, desktop.double
    expected = [artist.name for artist in double.catalog.search_spotify("a")]
    search = window.search_panel
    _search(qtbot, window, "a")  # the double puts a null fourth on the first page (Development Mode)
    qtbot.waitUntil(lambda: search.model.rowCount() > 0, timeout=5000)
    assert search.model.rowCount() == 9
    assert not search.message.property("error")
    qtbot.mouseClick(search.load_more_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: search.model.rowCount() == 19, timeout=5000)
    assert [search.model.result(n).artist.name for n in range(19)] == expected[:19]


def test_daily_quota_says_when_search_is_back_without_an_error_tone(qtbot: Any, desktop: Any) -> None:
    window, double = desktop.window, desktop.double
    double.set_spotify_quota(0, retry_after=3 * 3600)
    search = window.search_panel
    _search(qtbot, window, "queen")
    qtbot.waitUntil(lambda: "quota" in search.message.text(), timeout=5000)
    text = search.message.text()
    assert text.startswith("Spotify's daily quota is used up: search is available again at ")
    assert text.rsplit(" at ", 1)[1] in _resume_texts(3 * 3600)
    assert not search.message.property("error")
    assert ERROR_COLOR.name() not in search.message.styleSheet()
    assert PAUSED_COLOR.name() in search.message.styleSheet()


def test_premium_missing_names_the_app_owners_account_not_the_credentials(qtbot: Any, desktop: Any) -> None:
    window, double = desktop.window, desktop.double
    double.set_spotify_premium(False)
    search = window.search_panel
    _search(qtbot, window, "queen")
    qtbot.waitUntil(lambda: "Premium" in search.message.text(), timeout=5000)
    text = search.message.text()
    assert "account that owns this Spotify app" in text
    assert "check them in Settings" not in text and "rejected the credentials" not in text


def test_pasted_link_shows_that_one_artist(qtbot: Any, desktop: Any) -> None:
    window, double = desktop.window, desktop.double
    daft = double.catalog.search_spotify("daft")[0]
    search = window.search_panel
    searches = double.request_count("spotify", "/search")
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    _paste(qtbot, search.field, f"https://open.spotify.com/intl-de/artist/{daft.spotify_id}?si=4f2a9c0e1b7d4e3a")
    qtbot.waitUntil(lambda: search.model.rowCount() == 1, timeout=5000)
    assert search.model.result(0).artist.name == daft.name
    assert "pasted link" in search.message.text()
    assert not search.load_more_button.isVisible()
    assert double.request_count("spotify", "/search") == searches  # not searched for as text

    # Enter (still in the search box) adds it to the queue, with its Spotify object.
    assert search.field.hasFocus()
    qtbot.keyClick(search.field, Qt.Key.Key_Return)
    picked = window.queue_panel.model.picked()
    assert [p.spotify_id for p in picked] == [daft.spotify_id] and picked[0].artist is not None

    # The URI form, and an id Spotify does not know.
    search.field.clear()
    other = double.catalog.search_spotify("radiohead")[0]
    _paste(qtbot, search.field, f"  spotify:artist:{other.spotify_id} ")
    qtbot.waitUntil(
        lambda: search.model.rowCount() == 1 and search.model.result(0).artist.name == other.name, timeout=5000
    )
    search.field.clear()
    _paste(qtbot, search.field, "0000000000000000000000")
    qtbot.waitUntil(lambda: "no artist with id" in search.message.text(), timeout=5000)
    assert search.model.rowCount() == 0
    assert double.request_count("spotify", "/search") == searches


def test_pasted_short_link_is_resolved_to_its_artist(qtbot: Any, desktop: Any, short_links: ShortLinkHost) -> None:
    window, double = desktop.window, desktop.double
    queen = double.catalog.search_spotify("queen")[0]
    short_links.codes["qU33n"] = f"https://open.spotify.com/artist/{queen.spotify_id}?si=x"
    search = window.search_panel
    searches = double.request_count("spotify", "/search")
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    _paste(qtbot, search.field, "https://spotify.link/qU33n")
    qtbot.waitUntil(lambda: search.model.rowCount() == 1, timeout=5000)
    assert search.model.result(0).artist.name == queen.name
    assert double.request_count("spotify", "/search") == searches
    search.field.clear()
    _paste(qtbot, search.field, "https://spotify.link/nothing")
    qtbot.waitUntil(lambda: "does not lead to a Spotify artist" in search.message.text(), timeout=5000)
    assert search.message.text().count("spotify.link/nothing") == 1
    assert search.model.rowCount() == 0


def test_import_ids_dialog_lists_unresolvable_short_links_and_can_stop(
    qtbot: Any, desktop: Any, short_links: ShortLinkHost
) -> None:
    window, double = desktop.window, desktop.double
    queen = double.catalog.search_spotify("queen")[0]
    short_links.codes["qU33n"] = f"https://open.spotify.com/artist/{queen.spotify_id}"
    dialog = _open_import_ids(qtbot, window)
    _paste(qtbot, dialog.text, "https://spotify.link/qU33n\nhttps://spotify.link/g0n3")
    qtbot.waitUntil(lambda: "1 artist ready to import" in dialog.status.text(), timeout=5000)
    assert [r.spotify_id for r in dialog.requests()] == [queen.spotify_id]
    assert len(dialog.bad_lines()) == 1 and dialog.bad_lines()[0].startswith("Line 2: https://spotify.link/g0n3")

    # A link host that does not answer: the check can be stopped, and nothing is importable meanwhile.
    dialog.text.selectAll()
    _paste(qtbot, dialog.text, "https://spotify.link/slow")
    qtbot.waitUntil(dialog.stop_button.isVisible, timeout=3000)
    assert not dialog.import_button.isEnabled()
    qtbot.mouseClick(dialog.stop_button, Qt.MouseButton.LeftButton)
    assert "stopped" in dialog.status.text() and not dialog.import_button.isEnabled()
    qtbot.waitUntil(lambda: not window.tasks.running("import-ids-check"), timeout=1000)  # cancelled, not waited for
    qtbot.keyClick(dialog.text, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.import_ids_dialog is None, timeout=2000)


def test_import_ids_dialog_names_bad_lines_and_queues_the_good_ones(qtbot: Any, desktop: Any, tmp_path: Path) -> None:
    window, double = desktop.window, desktop.double
    first, second = (a.spotify_id for a in double.catalog.search_spotify("a")[:2])
    dialog = _open_import_ids(qtbot, window)
    assert not dialog.import_button.isEnabled()

    # Nothing good: Import stays disabled and says why.
    _paste(qtbot, dialog.text, "hello there\nnot an artist either")
    qtbot.waitUntil(lambda: "Nothing to import" in dialog.status.text(), timeout=5000)
    assert not dialog.import_button.isEnabled()
    assert "Nothing to import" in dialog.import_button.toolTip()
    assert [line.split(":")[0] for line in dialog.bad_lines()] == ["Line 1", "Line 2"]

    # A file with a header, a link, a URI and a bad line; opened through "Open file…".
    listing = tmp_path / "artists.csv"
    listing.write_text(
        f"artist,note\nhttps://open.spotify.com/artist/{first}?si=abc,fav\nhello there,x\nspotify:artist:{second},\n",
        encoding="utf-8",
    )
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    chooser = dialog.findChild(QFileDialog, "import_ids_file_dialog")
    assert chooser is not None and chooser.isVisible()
    chooser.selectFile(str(listing))
    chooser.accept()
    qtbot.waitUntil(lambda: "2 artists ready to import" in dialog.status.text(), timeout=5000)
    assert dialog.import_button.isEnabled()
    assert len(dialog.bad_lines()) == 1
    assert dialog.bad_lines()[0].startswith("Line 3: hello there")
    assert [r.spotify_id for r in dialog.requests()] == [first, second]

    said: list[str] = []  # the status bar's messages (a later "Import finished" may replace the first)
    window.statusBar().messageChanged.connect(said.append)
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.import_ids_dialog is None, timeout=5000)  # closed
    model = window.progress_model
    qtbot.waitUntil(
        lambda: all((row := model.find_row(i)) is not None and row.is_complete for i in (first, second)),
        timeout=20000,
    )
    assert any("Queued 2 artists" in message for message in said), said


def test_thirty_artists_picked_in_the_window_import_with_no_spotify_request(qtbot: Any, desktop: Any) -> None:
    window, double = desktop.window, desktop.double
    search = window.search_panel
    _search(qtbot, window, "a")
    for shown in (9, 19, 29):  # pages of 10, the first with a null entry
        qtbot.waitUntil(lambda shown=shown: search.model.rowCount() == shown, timeout=5000)
        qtbot.mouseClick(search.load_more_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: search.model.rowCount() == 34, timeout=5000)
    search.view.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.keyClick(search.view, Qt.Key.Key_Home)
    for _ in range(29):
        qtbot.keyClick(search.view, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(search.view, Qt.Key.Key_Return)
    queue = window.queue_panel
    assert queue.count_label.text() == "30 artists"
    ids = [spotify_id for spotify_id, _ in queue.model.items()]

    spotify_before = double.request_count("spotify")
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    model = window.progress_model
    qtbot.waitUntil(lambda: all((r := model.find_row(i)) is not None and r.is_final for i in ids), timeout=90000)
    assert all(model.find_row(i).is_complete for i in ids)
    assert double.request_count("spotify") == spotify_before
    qtbot.waitUntil(lambda: window.overall_label.text() == "30/30 done", timeout=2000)


def test_a_queue_paused_by_the_quota_reads_as_waiting(qtbot: Any, desktop: Any) -> None:
    window, double = desktop.window, desktop.double
    wanted = [a.spotify_id for a in double.catalog.search_spotify("a")[:2]]
    double.set_spotify_quota(0, retry_after=2 * 3600)
    dialog = _open_import_ids(qtbot, window)
    _paste(qtbot, dialog.text, "\n".join(wanted))  # bare ids: their import needs Spotify
    qtbot.waitUntil(dialog.import_button.isEnabled, timeout=5000)
    qtbot.keyClick(dialog.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    model = window.progress_model

    def waiting(spotify_id: str) -> bool:
        row = model.find_row(spotify_id)
        return row is not None and row.waiting_for == "Spotify"

    qtbot.waitUntil(lambda: all(waiting(i) for i in wanted), timeout=20000)
    row = model.find_row(wanted[0])
    assert row is not None and row.update.stage is Stage.INIT and not row.is_error
    assert row.waiting_text.startswith("Waiting for Spotify (resumes ")
    assert row.waiting_text.removeprefix("Waiting for Spotify (resumes ").rstrip(")") in _resume_texts(2 * 3600)
    view = window.progress_panel.view
    view.clearSelection()
    qtbot.waitUntil(lambda: _has_colour(view, PAUSED_COLOR), timeout=2000)
    assert not _has_colour(view, ERROR_COLOR)
    qtbot.waitUntil(lambda: "2 waiting" in window.progress_panel.summary.text(), timeout=2000)
    assert window.overall_label.text() == "0/2 done"  # nothing failed

    label = window.findChild(QLabel, "spotify_pause_label")
    qtbot.waitUntil(label.isVisible, timeout=7000)
    assert label.text().startswith("Spotify paused until ")
    assert label.text().removeprefix("Spotify paused until ") in _resume_texts(2 * 3600)


def test_status_bar_says_spotify_is_paused_until_the_pause_ends(qtbot: Any, desktop: Any, run_async: Any) -> None:
    window = desktop.window
    window.findChild(QTimer, "health_timer").setInterval(250)  # the periodic refresh, sped up for the test
    label = window.findChild(QLabel, "spotify_pause_label")
    assert not label.isVisible()
    resume_at = datetime.now(UTC) + timedelta(seconds=3)

    async def pause_spotify() -> None:  # as another process meeting the quota records it
        async with desktop.services.database.session() as session, session.begin():
            await service_state.record_pause(session, ServicePause("Spotify", resume_at, "quota"))

    run_async(pause_spotify())
    qtbot.waitUntil(label.isVisible, timeout=3000)
    assert label.text() == f"Spotify paused until {resume_time_text(resume_at)}"
    assert window.findChild(QLabel, "spotify_pause_icon").isVisible()
    qtbot.waitUntil(lambda: not label.isVisible(), timeout=6000)


def test_settings_test_connection_shows_the_spotify_report(
    qtbot: Any, desktop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = desktop.window
    for name, value in desktop.double.urls.as_env().items():  # what the dialog tests is the configured Spotify
        monkeypatch.setenv(name, value)
    qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    dialog = window.settings_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.mouseClick(dialog.findChild(QPushButton, "test_spotify"), Qt.MouseButton.LeftButton)
    result = dialog.findChild(QLabel, "test_spotify_result")
    qtbot.waitUntil(lambda: result.text().startswith(("✓", "✕")), timeout=10000)
    text = result.text()
    assert text.startswith("✓") and text.count("\n") >= 2, text
    assert "Development" in text and "Premium" in text
