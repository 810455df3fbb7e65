"""Batches kept apart in the progress view, the Batches history, and the queue paused: by Ctrl+Shift+P, and by
itself while the API double's Spotify answers 503, resuming when it answers again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from artist_desktop.devtools.api_double import Fault
from artist_desktop.domain import ImportRequest, ProgressUpdate, Stage
from artist_desktop.ui.main_window import MainWindow
from artist_desktop.ui.progress import ProgressModel, ProgressPanel, RowState
from artist_desktop.ui.qt import QApplication, Qt

pytestmark = pytest.mark.gui

PAUSE_KEYS = (Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
HISTORY_KEYS = (Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)


def _id(number: int) -> str:
    return f"{number:022d}"


def _in_batch(update: ProgressUpdate, batch_id: int) -> ProgressUpdate:
    return ProgressUpdate(
        update.spotify_id,
        update.stage,
        update.progress,
        update.message,
        update.details,
        {**(update.payload or {}), "batch_id": batch_id},
        cancelled=update.cancelled,
    )


def test_a_new_batch_is_shown_apart_with_its_own_counts(qtbot: Any) -> None:
    model = ProgressModel()
    panel = ProgressPanel(model)
    qtbot.addWidget(panel)
    old = [_id(n) for n in range(1, 18)]
    for spotify_id in old:
        model.apply(_in_batch(ProgressUpdate(spotify_id, Stage.COMPLETE, 100, "Imported"), 1))
    model.flush()
    assert model.spotify_ids() == old
    new = [_id(n) for n in range(20, 32)]
    for spotify_id in new:
        model.apply(_in_batch(ProgressUpdate(spotify_id, Stage.INIT, 0, "Queued"), 2))
    for spotify_id in new[:3]:
        model.apply(_in_batch(ProgressUpdate(spotify_id, Stage.COMPLETE, 100, "Imported"), 2))
    model.flush()

    # The new batch alone, with its own counts: not "3 of 29".
    assert model.batch_id == 2
    assert sorted(model.spotify_ids()) == sorted(new)
    assert panel.summary.text().startswith("Batch of 12 · 3 of 12 done")
    assert (model.counts().done, model.counts().queued) == (3, 9)
    assert model.all_counts().total == 29
    picker = panel.batch_picker
    assert not picker.isHidden()
    assert [picker.itemText(n) for n in range(picker.count())] == [
        "Latest batch · 12 artists",
        "Batch 1 · 17 artists",
        "All batches",
    ]

    picker.setCurrentIndex(1)
    picker.activated.emit(1)
    assert model.batch_id == 1 and model.spotify_ids() == old
    assert panel.summary.text().startswith("Batch of 17 · 17 of 17 done")
    # Remove finished clears the finished batch shown; the view goes back to the newest one.
    removed: list[list[str]] = []
    panel.remove_requested.connect(removed.append)
    panel.remove_action.trigger()
    assert removed == [old]
    model.remove(old)
    assert model.batch_ids() == [2] and model.batch_id == 2
    assert sorted(model.spotify_ids()) == sorted(new)

    # A later batch is shown as it arrives; "All batches" shows every row.
    model.apply(_in_batch(ProgressUpdate(_id(40), Stage.INIT, 0, "Queued"), 3))
    model.flush()
    assert model.spotify_ids() == [_id(40)]
    model.set_batch(None)
    assert len(model.spotify_ids()) == 13 and model.counts().total == 13


def test_rows_without_a_batch_are_listed_as_before(qtbot: Any) -> None:
    model = ProgressModel()
    for number in range(1, 4):
        model.apply(ProgressUpdate(_id(number), Stage.INIT, 0, "Queued"))
    model.flush()
    assert model.batch_id is None and len(model.spotify_ids()) == 3 and model.counts().queued == 3


def _active(qtbot: Any, window: MainWindow) -> None:
    window.activateWindow()
    window.raise_()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)


def _enqueue(qtbot: Any, window: MainWindow, requests: list[ImportRequest]) -> None:
    done: list[list[str]] = []
    window.tasks.run(window.enqueue(requests), done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=10000)


def _all_final(model: ProgressModel, spotify_ids: list[str]) -> bool:
    rows = [model.find_row(spotify_id) for spotify_id in spotify_ids]
    return all(row is not None and row.is_final for row in rows)


def test_two_batches_and_their_history(qtbot: Any, desktop: Any, tmp_path: Path) -> None:
    window, double = desktop.window, desktop.double
    _active(qtbot, window)
    artists = double.catalog.artists[:7]
    first, second = artists[:4], artists[4:]
    double.inject("spotify", first[2].spotify_id, Fault.http(404), times=None)  # one of the first fails
    model = window.progress_model

    _enqueue(qtbot, window, [ImportRequest(a.spotify_id, a.name) for a in first])
    qtbot.waitUntil(lambda: _all_final(model, [a.spotify_id for a in first]), timeout=30000)
    first_batch = model.batch_id
    _enqueue(qtbot, window, [ImportRequest(a.spotify_id, a.name) for a in second])
    qtbot.waitUntil(lambda: _all_final(model, [a.spotify_id for a in second]), timeout=30000)

    assert first_batch is not None and model.batch_id is not None and model.batch_id > first_batch
    assert sorted(model.spotify_ids()) == sorted(a.spotify_id for a in second)
    summary = window.progress_panel.summary
    qtbot.waitUntil(lambda: summary.text().startswith("Batch of 3 · 3 of 3 done"), timeout=3000)  # the next tick
    assert window.overall_label.text() == "3/3 done"
    model.set_batch(first_batch)
    qtbot.wait(100)  # the header's new text is laid out
    assert sorted(model.spotify_ids()) == sorted(a.spotify_id for a in first)
    assert model.counts().failed == 1 and model.counts().done == 3
    shot_dir = tmp_path / "screenshots"
    shot_dir.mkdir()
    window.progress_panel.grab().save(str(shot_dir / "progress-first-batch.png"))
    model.set_batch(model.batch_ids()[0])
    qtbot.wait(100)
    window.progress_panel.grab().save(str(shot_dir / "progress-latest-batch.png"))

    qtbot.keyClick(window, *HISTORY_KEYS)
    qtbot.waitUntil(lambda: window.batches_dialog is not None and window.batches_dialog.isVisible(), timeout=3000)
    dialog = window.batches_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: len(dialog.outcomes()) == 2, timeout=5000)
    assert dialog.outcomes() == [
        (f"Batch {model.batch_id}", "3 complete, 0 failed, 0 cancelled"),
        (f"Batch {first_batch}", "3 complete, 1 failed, 0 cancelled"),
    ]
    qtbot.wait(100)
    dialog.grab().save(str(shot_dir / "batches-history.png"))
    # Enter on the older batch shows it in the progress list.
    dialog.table.setFocus()
    dialog.table.setCurrentIndex(dialog.model.index(1, 0))
    qtbot.keyClick(dialog.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: model.batch_id == first_batch, timeout=3000)
    dialog.reject()


def test_ctrl_shift_p_pauses_and_resumes_the_queue(qtbot: Any, desktop: Any) -> None:
    window, double = desktop.window, desktop.double
    _active(qtbot, window)
    qtbot.keyClick(window, *PAUSE_KEYS)
    qtbot.waitUntil(lambda: window.queue_label.isVisible(), timeout=5000)
    assert window.queue_label.text() == "Queue paused"
    assert window.pause_queue_action.isChecked()
    assert window.pause_queue_action.text().replace("&", "") == "Resume queue"

    artists = double.catalog.artists[:3]
    ids = [a.spotify_id for a in artists]
    _enqueue(qtbot, window, [ImportRequest(a.spotify_id, a.name) for a in artists])
    model = window.progress_model
    qtbot.waitUntil(lambda: model.counts().queued == 3, timeout=5000)
    qtbot.wait(1500)  # the worker would have claimed them by now
    assert model.counts().queued == 3
    assert double.request_count("spotify") == 0

    qtbot.keyClick(window, *PAUSE_KEYS)
    qtbot.waitUntil(lambda: not window.queue_label.isVisible(), timeout=5000)
    assert window.pause_queue_action.text().replace("&", "") == "Pause queue"
    qtbot.waitUntil(lambda: _all_final(model, ids), timeout=30000)
    assert model.counts().done == 3


def test_a_spotify_outage_pauses_the_queue_and_it_resumes_by_itself(qtbot: Any, desktop: Any, tmp_path: Path) -> None:
    window, double, services = desktop.window, desktop.double, desktop.services
    runner = services.runner
    runner.probe_interval = 0.3
    runner.outage_after = 2
    double.inject("spotify", "*", Fault.http(503), times=None)
    artists = double.catalog.artists[:5]
    ids = [a.spotify_id for a in artists]
    _enqueue(qtbot, window, [ImportRequest(spotify_id) for spotify_id in ids])  # bare ids: METADATA asks Spotify
    model = window.progress_model

    qtbot.waitUntil(lambda: window.queue_label.text().startswith("Queue paused: Spotify"), timeout=20000)
    assert window.queue_label.text() == "Queue paused: Spotify is not answering (HTTP 503)"
    qtbot.wait(1000)  # probes fail meanwhile: still paused, and no artist failed
    assert window.queue_label.isVisible()
    assert model.counts().failed == 0 and model.counts().cancelled == 0
    assert all((row := model.find_row(i)) is not None and row.state is not RowState.FAILED for i in ids)
    qtbot.wait(100)  # the status bar is laid out
    window.grab().save(str(tmp_path / "queue-paused-by-an-outage.png"))

    double.clear_faults()
    qtbot.waitUntil(lambda: _all_final(model, ids), timeout=30000)
    assert model.counts().done == 5 and model.counts().failed == 0
    qtbot.waitUntil(lambda: not window.queue_label.isVisible(), timeout=10000)
