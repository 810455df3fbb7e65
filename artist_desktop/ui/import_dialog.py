"""The "Import ids or links…" dialog: paste or open a list of Spotify artists, see which lines are not
artists, and queue the others.

One artist per line: an id, ``spotify:artist:<id>``, ``https://open.spotify.com/(intl-xx/)artist/<id>?si=…``
or a short link (``https://spotify.link/…``, resolved by the services by following its redirect); in a
.csv line the first cell naming an artist counts. The check runs in the background through the services'
``requests_from_text`` (debounced while typing, cancelled by a newer text, by Stop or by closing the
dialog), so the event loop never waits on it; the Import button queues what it found through
``AppServices.enqueue`` and is disabled, with the reason shown, while nothing good is found.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from artist_desktop.domain import ImportRequest
from artist_desktop.ui.palette import ERROR_COLOR
from artist_desktop.ui.qt import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QStandardItem,
    QStandardItemModel,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from artist_desktop.ui.shortcuts import key_text, make_action
from artist_desktop.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

#: ``parse(text) -> (requests, [(line number, text or reason), ...])``: `AppServices.requests_from_text`.
ParseFunction = Callable[[str], Coroutine[Any, Any, tuple[list[ImportRequest], list[tuple[int, str]]]]]
#: ``enqueue(requests) -> queued spotify ids``: `AppServices.enqueue`.
EnqueueFunction = Callable[[Sequence[ImportRequest]], Coroutine[Any, Any, list[str]]]

#: Wait this long after the last keystroke before checking the text.
PREVIEW_DELAY_MS = 400
#: Files larger than this are refused (a list of artist links is a few hundred kB at most).
MAX_FILE_BYTES = 5_000_000
#: Bad lines listed one by one; more are counted.
MAX_LISTED = 500
FILE_FILTER = "Artist lists (*.txt *.csv);;All files (*)"


def read_artist_file(path: Path) -> str:
    """A .txt/.csv file's text (UTF-8, a BOM dropped, undecodable bytes replaced); ValueError when too big."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValueError(f"{path.name} is {size / 1e6:.1f} MB: a list of artists is expected to be much smaller")
    return path.read_bytes().decode("utf-8-sig", errors="replace")


class ImportIdsDialog(QDialog):
    """Text box, "Open file…", the check's result (count, bad lines), Import and Cancel.

    `queued` carries the spotify ids that were queued, once Import succeeded (the dialog then closes)."""

    queued = Signal(list)

    def __init__(
        self, parse: ParseFunction, enqueue: EnqueueFunction, tasks: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("import_ids_dialog")
        self.setWindowTitle("Import ids or links")
        self.setMinimumSize(620, 480)
        self._parse = parse
        self._enqueue = enqueue
        self._tasks = tasks
        self._checking: asyncio.Task[Any] | None = None
        self._requests: list[ImportRequest] = []
        self._checked_text: str | None = None
        self._file_dialog: QFileDialog | None = None

        layout = QVBoxLayout(self)
        intro = QLabel(
            "One Spotify artist per line: a link (https://open.spotify.com/artist/…), a spotify:artist: URI, "
            "an id, or a short link (spotify.link/…). In a CSV file the first cell naming an artist counts.",
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("import_ids_text")
        self.text.setPlaceholderText(
            "https://open.spotify.com/artist/4Z8W4fKeB5YxbusRsdQVPb?si=…\nspotify:artist:0OdUWJ0sBjDrqHygGUXeCF"
        )
        self.text.setTabChangesFocus(True)  # Tab leaves the box: every control is reachable by keyboard
        self.text.textChanged.connect(self._text_changed)
        intro.setBuddy(self.text)
        layout.addWidget(self.text, 3)

        row = QHBoxLayout()
        self.open_button = QPushButton("&Open file…", self)
        self.open_button.setObjectName("import_ids_open")
        self.open_button.setToolTip("Read a .txt or .csv file with one artist per line")
        self.open_button.setAutoDefault(False)
        self.open_button.clicked.connect(self.choose_file)
        self.status = QLabel("Paste artist links or ids, or open a file.", self)
        self.status.setObjectName("import_ids_status")
        self.status.setWordWrap(True)
        self.stop_button = QPushButton("&Stop", self)
        self.stop_button.setObjectName("import_ids_stop")
        self.stop_button.setToolTip("Stop checking (short links are resolved one by one)")
        self.stop_button.setAutoDefault(False)
        self.stop_button.setVisible(False)
        self.stop_button.clicked.connect(self.stop_or_check)
        row.addWidget(self.open_button)
        row.addWidget(self.status, 1)
        row.addWidget(self.stop_button)
        layout.addLayout(row)

        self.problems_label = QLabel("Lines that are not artists:", self)
        self.problems_label.setVisible(False)
        layout.addWidget(self.problems_label)
        self.problems = QStandardItemModel(self)
        self.problems_view = QListView(self)
        self.problems_view.setObjectName("import_ids_problems")
        self.problems_view.setModel(self.problems)
        self.problems_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.problems_view.setVisible(False)
        self.problems_label.setBuddy(self.problems_view)
        layout.addWidget(self.problems_view, 2)

        self.buttons = QDialogButtonBox(self)
        self.import_button = self.buttons.addButton("&Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setObjectName("import_ids_import")
        self.import_button.setEnabled(False)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.import_good)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.import_action = make_action("import_ids_accept", self)
        self.import_action.triggered.connect(self.import_good)
        self.addAction(self.import_action)

        self.preview_timer = QTimer(self)
        self.preview_timer.setObjectName("import_ids_preview_timer")
        self.preview_timer.setSingleShot(True)
        self.preview_timer.setInterval(PREVIEW_DELAY_MS)
        self.preview_timer.timeout.connect(self.check_now)
        self.finished.connect(lambda _result: self._stop_checking())
        self._set_import_enabled(False, "Nothing to import yet: paste artist links or ids, or open a file.")

    # -- checking ---------------------------------------------------------------------------------
    def _text_changed(self) -> None:
        self._checked_text = None
        self._requests = []
        self._stop_checking()
        if self.text.toPlainText().strip():
            self._set_import_enabled(False, "Checking the lines…")
            self.preview_timer.start()
        else:
            self.preview_timer.stop()
            self._show_problems([])
            self._set_import_enabled(False, "Nothing to import yet: paste artist links or ids, or open a file.")

    def check_now(self) -> None:
        """Check the current text in the background (a check of older text is cancelled)."""
        self.preview_timer.stop()
        text = self.text.toPlainText()
        if not text.strip():
            return
        self._stop_checking()
        self._set_import_enabled(False, "Checking the lines (short links are followed)…")
        self.stop_button.setText("&Stop")
        self.stop_button.setVisible(True)
        self._checking = self._tasks.run(
            self._parse(text),
            lambda result: self._show_check(text, *result),
            self._check_failed,
            name="import-ids-check",
            replace=True,
        )

    def stop_or_check(self) -> None:
        if self._checking is not None and not self._checking.done():
            self._stop_checking()
            self.stop_button.setText("&Check")
            self.stop_button.setVisible(True)
            self._set_import_enabled(False, "Check stopped: press Check to run it again.")
        else:
            self.check_now()

    def _stop_checking(self) -> None:
        if self._checking is not None and not self._checking.done():
            self._checking.cancel()
        self._checking = None
        self.stop_button.setVisible(False)

    def _show_check(self, text: str, requests: list[ImportRequest], bad: list[tuple[int, str]]) -> None:
        self._checking = None
        self.stop_button.setVisible(False)
        if text != self.text.toPlainText():
            return  # edited meanwhile: a newer check follows
        self._checked_text = text
        self._requests = list(requests)
        self._show_problems(bad)
        count = len(self._requests)
        if count:
            artists = f"{count} artist{'s' if count != 1 else ''}"
            skipped = f"; {len(bad)} line{'s' if len(bad) != 1 else ''} skipped (listed below)" if bad else ""
            self._set_import_enabled(True, f"{artists} ready to import{skipped}.")
        elif bad:
            lines = "the line is" if len(bad) == 1 else f"none of the {len(bad)} lines is"
            self._set_import_enabled(False, f"Nothing to import: {lines} a Spotify artist link or id.")
        else:
            self._set_import_enabled(False, "Nothing to import yet: paste artist links or ids, or open a file.")

    def _check_failed(self, error: BaseException) -> None:
        self._checking = None
        self.stop_button.setText("&Check")
        self.stop_button.setVisible(True)
        log.warning("checking the artist list failed: %s", error)
        self._set_import_enabled(False, f"Could not check the lines: {error}", error=True)

    def _show_problems(self, bad: Sequence[tuple[int, str]]) -> None:
        self.problems.clear()
        for line_no, text in bad[:MAX_LISTED]:
            item = QStandardItem(f"Line {line_no}: {text}")
            item.setData(line_no, Qt.ItemDataRole.UserRole)
            item.setToolTip(text)
            self.problems.appendRow(item)
        if len(bad) > MAX_LISTED:
            self.problems.appendRow(QStandardItem(f"… and {len(bad) - MAX_LISTED} more"))
        self.problems_label.setVisible(bool(bad))
        self.problems_view.setVisible(bool(bad))

    def bad_lines(self) -> list[str]:
        """What the problems list shows ("Line 3: …")."""
        return [self.problems.item(n).text() for n in range(self.problems.rowCount())]

    def requests(self) -> list[ImportRequest]:
        """The artists the last finished check found (what Import queues)."""
        return list(self._requests)

    def _set_import_enabled(self, enabled: bool, reason: str, *, error: bool = False) -> None:
        self.import_button.setEnabled(enabled)
        self.import_button.setToolTip(
            f"Queue the artists found ({key_text('import_ids_accept')})" if enabled else reason
        )
        self.status.setText(reason)
        self.status.setStyleSheet(f"color: {ERROR_COLOR.name()};" if error else "")

    # -- files ------------------------------------------------------------------------------------
    def choose_file(self) -> QFileDialog:
        """Open the file chooser (not modal to the loop: the choice arrives through `fileSelected`)."""
        chooser = QFileDialog(self, "Open a list of artists", str(Path.home()), FILE_FILTER)
        chooser.setObjectName("import_ids_file_dialog")
        chooser.setFileMode(QFileDialog.FileMode.ExistingFile)
        chooser.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        chooser.fileSelected.connect(lambda path: self.load_file(Path(path)))
        chooser.finished.connect(lambda _result: chooser.deleteLater())
        self._file_dialog = chooser
        chooser.open()
        return chooser

    def load_file(self, path: Path) -> None:
        """Read the file off the loop thread and put its text in the box (which checks it)."""
        self._set_import_enabled(False, f"Reading {path.name}…")
        self._tasks.run(
            asyncio.to_thread(read_artist_file, path),
            self.text.setPlainText,
            lambda error: self._set_import_enabled(False, f"Could not read {path.name}: {error}", error=True),
            name="import-ids-read",
            replace=True,
        )

    # -- importing --------------------------------------------------------------------------------
    def import_good(self) -> None:
        """Queue the artists the check found, then close; the text must be the checked one."""
        if not self._requests or self._checked_text != self.text.toPlainText():
            return
        requests = list(self._requests)
        self.import_button.setEnabled(False)
        self.status.setText(f"Queueing {len(requests)} artist{'s' if len(requests) != 1 else ''}…")
        self._tasks.run(self._enqueue(requests), self._queued, self._enqueue_failed, name="import-ids-enqueue")

    def _queued(self, spotify_ids: list[str]) -> None:
        self.queued.emit(list(spotify_ids))
        self.accept()

    def _enqueue_failed(self, error: BaseException) -> None:
        self._set_import_enabled(True, f"Could not queue the artists: {error}", error=True)


__all__ = ["ImportIdsDialog", "read_artist_file"]
