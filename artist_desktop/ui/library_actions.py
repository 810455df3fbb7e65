"""The Library's flows: load the rows and the selected artists' series, and carry out the table's actions
(re-import, set or clear a Deezer or MusicBrainz id, remove) through the running application.

`LibraryActions` (a child of the window, found with `findChild`) keeps the panel live: `reload()` after an import
or a refresh stored figures re-reads the rows and, for the selection that stays, the chart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from artist_desktop.domain import DailyFigure, Platform
from artist_desktop.ui.library import LibraryPanel
from artist_desktop.ui.qt import QInputDialog, QLineEdit, QMainWindow, QMessageBox, QObject
from artist_desktop.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from artist_desktop.application import Application

log = logging.getLogger(__name__)

__all__ = ["LibraryActions"]

#: What the dialogs call each editable id ("Wikipedia article").
PLATFORM_NAMES = {
    Platform.DEEZER.value: "Deezer id",
    Platform.MUSICBRAINZ.value: "MusicBrainz id",
    Platform.WIKIPEDIA.value: "Wikipedia article",
    Platform.LASTFM.value: "Last.fm name",
}
ID_HINTS = {
    Platform.DEEZER.value: "Deezer artist id (the number in deezer.com/artist/…)",
    Platform.MUSICBRAINZ.value: "MusicBrainz artist MBID (the 36-character id in musicbrainz.org/artist/…)",
    Platform.WIKIPEDIA.value: "English Wikipedia article title, or its en.wikipedia.org link (its pageviews are "
    "collected from the next refresh, 90 days back)",
    Platform.LASTFM.value: "Last.fm artist name, or its last.fm/music link",
}


def compare_title(names: Sequence[str]) -> str:
    """ "<b>Queen</b> — metric history", or "<b>Queen</b>, <b>ABBA</b> and 2 more compared"."""
    if len(names) == 1:
        return f"<b>{names[0]}</b> — metric history"
    shown = ", ".join(f"<b>{name}</b>" for name in names[:3])
    rest = len(names) - 3
    return f"{shown}{f' and {rest} more' if rest > 0 else ''} compared"


class LibraryActions(QObject):
    """Loads what the Library shows and runs what its context menu asks, behind the window's task runner."""

    def __init__(
        self,
        window: QMainWindow,
        panel: LibraryPanel,
        tasks: TaskRunner,
        application: Callable[[], Application | None],
        *,
        after_reimport: Callable[[list[str]], None] | None = None,
    ) -> None:
        super().__init__(window)
        self.setObjectName("library_actions")
        self.window = window
        self.panel = panel
        self.tasks = tasks
        self.application = application
        self._after_reimport = after_reimport
        self._selected: list[tuple[int, str]] = []
        #: The confirmation box of the last removal (None while none is open).
        self.confirm_box: QMessageBox | None = None
        panel.artists_selected.connect(self.show_series)
        panel.indexed_changed.connect(lambda _indexed: self.show_series(self._selected))
        panel.reimport_requested.connect(self.reimport)
        panel.set_id_requested.connect(self.ask_platform_id)
        panel.clear_id_requested.connect(self.clear_platform_id)
        panel.remove_requested.connect(self.confirm_remove)

    def _tell(self, message: str) -> None:
        self.window.statusBar().showMessage(message, 8000)

    # -- loading --------------------------------------------------------------------------------
    def reload(self, spotify_ids: Sequence[str] | None = None) -> None:
        """Re-read the rows, or only the artists with these Spotify ids (what an import just stored: a full read
        of a large library takes seconds). The panel keeps the selection, which then reloads the chart."""
        application = self.application()
        if application is None:
            return
        if spotify_ids is None:
            self.tasks.run(application.library_artists(), self.panel.set_rows, name="library", replace=True)
        elif not self.tasks.running("library"):  # a full read under way shows them anyway
            self.tasks.run(application.library_artists(spotify_ids=list(spotify_ids)), self.panel.merge_rows)

    def show_series(self, selected: list[tuple[int, str]]) -> None:
        """Chart every metric of the selected artists (one line each; the first `COMPARE_LIMIT`)."""
        self._selected = list(selected)
        application = self.application()
        if application is None or not selected:
            return
        metrics = sorted(
            {key for row in self.panel.selected_rows() if row.artist_id in dict(selected) for key in row.trends}
        )
        self.tasks.run(
            self._load_series(application, selected, metrics),
            lambda series: self.panel.chart.show_series(
                compare_title([name for _id, name in selected]),
                series,
                indexed_to_100=self.panel.indexed_box.isChecked(),
            ),
            name="library-series",
            replace=True,
        )

    @staticmethod
    async def _load_series(
        application: Application, selected: list[tuple[int, str]], metrics: list[tuple[str, str]]
    ) -> dict[tuple[str, str], dict[str, list[DailyFigure]]]:
        ids = [artist_id for artist_id, _name in selected]
        names = dict(selected)
        found = await asyncio.gather(*(application.metric_series(ids, *metric) for metric in metrics))
        return {
            metric: {names[artist_id]: figures for artist_id, figures in by_artist.items() if figures}
            for metric, by_artist in zip(metrics, found, strict=True)
        }

    # -- actions --------------------------------------------------------------------------------
    def reimport(self, artist_ids: list[int]) -> None:
        application = self.application()
        if application is None:
            return

        def queued(spotify_ids: list[str]) -> None:
            self._tell(f"Re-importing {len(spotify_ids)} artist{'s' if len(spotify_ids) != 1 else ''}")
            if self._after_reimport is not None:
                self._after_reimport(spotify_ids)

        self.tasks.run(application.reimport(artist_ids), queued, name="library-reimport")

    def ask_platform_id(self, artist_id: int, platform: str) -> None:
        """Ask for the id (a text dialog), then set it: the application checks it against the service first."""
        row = next((r for r in self.panel.model.rows() if r.artist_id == artist_id), None)
        if row is None:
            return
        current = row.ids.get(platform)
        name = PLATFORM_NAMES[platform]
        text, ok = QInputDialog.getText(
            self.window,
            f"Set {name}",
            f"{ID_HINTS[platform]} for {row.name}:",
            QLineEdit.EchoMode.Normal,
            current or "",
        )
        if ok and text.strip():
            self.set_platform_id(artist_id, platform, text.strip())

    def set_platform_id(self, artist_id: int, platform: str, platform_id: str | None) -> None:
        application = self.application()
        if application is None:
            return
        name = PLATFORM_NAMES[platform]

        def done(_none: None) -> None:
            self._tell(f"{name} {'set' if platform_id else 'cleared'}")
            self.reload()

        self.tasks.run(
            application.set_platform_id(artist_id, platform, platform_id),
            done,
            lambda error: self._refused(f"Set {name}", error),
            name="library-set-id",
        )

    def clear_platform_id(self, artist_ids: list[int], platform: str) -> None:
        for artist_id in artist_ids:
            self.set_platform_id(artist_id, platform, None)

    def _refused(self, title: str, error: BaseException) -> None:
        if not isinstance(error, ValueError):
            log.warning("%s failed", title, exc_info=error)
        box = QMessageBox(QMessageBox.Icon.Warning, title, str(error), QMessageBox.StandardButton.Ok, self.window)
        box.setObjectName("library_refused")
        box.open()

    def confirm_remove(self, artist_ids: list[int]) -> None:
        """Ask first (removing deletes the artists' figures, ids, tracks and cached images; there is no undo)."""
        rows = [r for r in self.panel.model.rows() if r.artist_id in set(artist_ids)]
        if not rows:
            return
        who = rows[0].name if len(rows) == 1 else f"{len(rows)} artists"
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Remove from library",
            f"Remove {who} from the library?\n\nTheir daily figures, platform ids, tracks and cached images are "
            "deleted. This cannot be undone; re-importing brings the artist back without the history.",
            QMessageBox.StandardButton.Cancel,
            self.window,
        )
        box.setObjectName("confirm_remove")
        remove = box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda _result: self._removal_answered(box.clickedButton() is remove, artist_ids))
        self.confirm_box = box
        box.open()

    def _removal_answered(self, confirmed: bool, artist_ids: list[int]) -> None:
        self.confirm_box = None
        application = self.application()
        if not confirmed or application is None:
            return

        def removed(count: int) -> None:
            self._tell(f"Removed {count} artist{'s' if count != 1 else ''}")
            self.reload()

        self.tasks.run(
            application.remove_artists(artist_ids),
            removed,
            lambda error: self._refused("Remove from library", error),
            name="library-remove",
        )
