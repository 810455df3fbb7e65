"""The progress view tells the truth: counts per state, a filter, active rows first, actions that apply."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from artist_desktop.bus import ProgressBus, connect_redis
from artist_desktop.domain import ProgressUpdate, Stage
from artist_desktop.ui.progress import (
    ROW_ROLE,
    ProgressFilter,
    ProgressModel,
    ProgressPanel,
    RowState,
)
from artist_desktop.ui.qt import QLabel, Qt

pytestmark = pytest.mark.gui

DONE = "0000000000000000000001"
DONE_TOO = "0000000000000000000002"
WARNED = "0000000000000000000003"
FAILED = "0000000000000000000004"
FAILED_TOO = "0000000000000000000005"
CANCELLED = ["0000000000000000000006", "0000000000000000000007", "0000000000000000000008"]
RUNNING = "0000000000000000000009"
QUEUED = "0000000000000000000010"
WARNING = "Deezer: HTTP 503 after 3 attempts"


def _failure(spotify_id: str, reason: str) -> ProgressUpdate:
    return ProgressUpdate(spotify_id, Stage.ERROR, 30, reason, payload={"stage": "ANALYTICS", "reason": reason})


def _mixed_batch() -> list[ProgressUpdate]:
    """Ten artists as the pipeline reports them: every one queued, then two imported, one imported with a
    warning (the COMPLETE update's details, as the runner publishes it), two failed, three cancelled, one
    still running and one still queued."""
    ids = [DONE, DONE_TOO, WARNED, FAILED, FAILED_TOO, *CANCELLED, RUNNING, QUEUED]
    updates = [ProgressUpdate(i, Stage.INIT, 0, "Queued") for i in ids]
    updates += [ProgressUpdate(i, Stage.METADATA, 10, "Reading Spotify") for i in ids[:-1]]
    updates += [
        ProgressUpdate(DONE, Stage.COMPLETE, 100, "Imported", payload={"name": "Alpha"}),
        ProgressUpdate(DONE_TOO, Stage.COMPLETE, 100, "Imported", payload={"name": "Bravo"}),
        ProgressUpdate(WARNED, Stage.COMPLETE, 100, "Imported with warnings", WARNING, {"name": "Charlie"}),
        _failure(FAILED, "Spotify: HTTP 404"),
        _failure(FAILED_TOO, "Database gone"),
        *(ProgressUpdate.cancellation(i, 10, Stage.METADATA) for i in CANCELLED),
        ProgressUpdate(RUNNING, Stage.ANALYTICS, 40, "Reading Deezer fans"),
    ]
    return updates


async def _pump(redis_url: str, prefix: str, updates: list[ProgressUpdate]) -> None:
    """Publish in order on a client of its own, as a worker process would (no pipeline involved)."""
    client = connect_redis(redis_url, client_name="test-publisher")
    try:
        bus = ProgressBus(client, prefix)
        for update in updates:
            await bus.publish(update)
    finally:
        await client.aclose()


def _publish(run_async: Any, redis_url: str, redis_prefix: str, updates: list[ProgressUpdate]) -> None:
    run_async(_pump(redis_url, redis_prefix, updates))


def test_counts_per_state_after_a_mixed_batch(
    qtbot: Any, run_async: Any, offline_desktop: Any, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    window = offline_desktop.window
    model, panel = window.progress_model, window.progress_panel
    _publish(run_async, redis_url, redis_prefix, _mixed_batch())
    qtbot.waitUntil(lambda: model.counts().total == 10 and model.counts().running == 1, timeout=5000)
    # The header, bar and actions follow the model on the window's repaint tick: wait for the tick that shows it.
    qtbot.waitUntil(lambda: "3 cancelled" in panel.summary.text() and "1 running" in panel.summary.text(), timeout=3000)
    full = "3/10 done, 1 with warnings, 2 failed, 3 cancelled"
    qtbot.waitUntil(lambda: window.overall_label.text() == full and window.overall_progress.value() == 34, timeout=3000)
    counts = model.counts()
    assert (counts.queued, counts.running, counts.waiting) == (1, 1, 0)
    assert (counts.complete, counts.warnings, counts.failed, counts.cancelled) == (2, 1, 2, 3)
    # The header and the status bar say each state; "10 of 10 done" and a full bar never happen here.
    summary = panel.summary.text()
    assert summary.startswith("3 of 10 done")
    for part in ("1 with warnings", "2 failed", "3 cancelled", "1 running", "1 queued"):
        assert part in summary
    assert window.overall_label.text() == "3/10 done, 1 with warnings, 2 failed, 3 cancelled"
    assert window.findChild(QLabel, "active_label").text() == "1 running · 1 queued"
    # Three imported (300) and the running one at 40 over ten rows; failed and cancelled rows add nothing.
    assert window.overall_progress.value() == 34
    # The warned row: an ⚠ row whose tooltip holds the warning.
    warned = model.find_row(WARNED)
    assert warned is not None and warned.has_warnings and warned.state is RowState.WARNINGS
    assert warned.warnings == [WARNING]
    assert not model.find_row(DONE).has_warnings
    tooltip = model.index(model.position_of(WARNED)).data(Qt.ItemDataRole.ToolTipRole)
    assert "Complete with warnings" in tooltip and WARNING in tooltip
    # Active rows are listed first; the finished ones below, in arrival order.
    assert model.spotify_ids()[:2] == [RUNNING, QUEUED]
    assert model.spotify_ids()[2:] == [DONE, DONE_TOO, WARNED, FAILED, FAILED_TOO, *CANCELLED]

    panel.view.clearSelection()
    window.progress_panel.grab().save(str(tmp_path / "progress-mixed.png"))

    # The last two cancelled too: everything has finished, yet only 3 of 10 are done and the bar says 30 %.
    _publish(
        run_async,
        redis_url,
        redis_prefix,
        [ProgressUpdate.cancellation(RUNNING, 40, Stage.ANALYTICS), ProgressUpdate.cancellation(QUEUED, 0)],
    )
    qtbot.waitUntil(lambda: model.counts().cancelled == 5, timeout=5000)
    qtbot.waitUntil(lambda: window.overall_label.text() == "3/10 done, 1 with warnings, 2 failed, 5 cancelled")
    assert window.overall_progress.value() == 30
    assert not window.findChild(QLabel, "active_label").isVisible()
    assert panel.summary.text().startswith("3 of 10 done")


def test_the_filter_shows_active_failed_or_done_rows_and_the_counts_stay_whole(
    qtbot: Any, run_async: Any, offline_desktop: Any, redis_url: str, redis_prefix: str
) -> None:
    window = offline_desktop.window
    model, panel = window.progress_model, window.progress_panel
    _publish(run_async, redis_url, redis_prefix, _mixed_batch())
    qtbot.waitUntil(lambda: model.counts().total == 10 and model.counts().running == 1, timeout=5000)
    # The header, bar and actions follow the model on the window's repaint tick: wait for the tick that shows it.
    qtbot.waitUntil(lambda: "3 cancelled" in panel.summary.text() and "1 running" in panel.summary.text(), timeout=3000)

    expected = {
        ProgressFilter.ACTIVE: [RUNNING, QUEUED],
        ProgressFilter.FAILED: [FAILED, FAILED_TOO, *CANCELLED],
        ProgressFilter.DONE: [DONE, DONE_TOO, WARNED],
        ProgressFilter.ALL: [RUNNING, QUEUED, DONE, DONE_TOO, WARNED, FAILED, FAILED_TOO, *CANCELLED],
    }
    for row_filter, ids in expected.items():
        qtbot.mouseClick(panel.filter_buttons[row_filter], Qt.MouseButton.LeftButton)
        assert model.row_filter is row_filter
        assert model.spotify_ids() == ids
        assert panel.filter_buttons[row_filter].text() == f"{row_filter.value} ({len(ids)})"
        assert model.counts().total == 10
        assert panel.summary.text().startswith("3 of 10 done")

    # Under "Active", a row that finishes leaves the list at the next tick; one queued again comes back.
    qtbot.mouseClick(panel.filter_buttons[ProgressFilter.ACTIVE], Qt.MouseButton.LeftButton)
    _publish(run_async, redis_url, redis_prefix, [ProgressUpdate(RUNNING, Stage.COMPLETE, 100, "Imported")])
    qtbot.waitUntil(lambda: model.spotify_ids() == [QUEUED], timeout=5000)
    _publish(run_async, redis_url, redis_prefix, [ProgressUpdate(FAILED, Stage.INIT, 0, "Queued")])
    qtbot.waitUntil(lambda: model.spotify_ids() == [FAILED, QUEUED], timeout=5000)
    # Nothing matching a filter says so instead of an empty list.
    _publish(run_async, redis_url, redis_prefix, [ProgressUpdate.cancellation(i, 0) for i in (FAILED, QUEUED)])
    qtbot.waitUntil(lambda: model.rowCount() == 0, timeout=5000)
    hint = panel.empty_hint
    qtbot.waitUntil(hint.isVisible, timeout=2000)
    assert hint.text() == "No active imports: 10 in All"


def _expected_order(model: ProgressModel) -> list[str]:
    rows = model.all_rows()
    accepts = model.row_filter.accepts
    active = [row.spotify_id for row in rows if accepts(row.state) and row.state.is_active]
    finished = [row.spotify_id for row in rows if accepts(row.state) and not row.state.is_active]
    return active + finished


def test_listing_follows_active_rows_and_keeps_the_selection_through_random_traffic(qtbot: Any) -> None:
    model = ProgressModel()
    panel = ProgressPanel(model)
    qtbot.addWidget(panel)
    ids = [f"{n:022d}" for n in range(40)]
    rng = random.Random(7)
    for round_ in range(60):
        for spotify_id in rng.sample(ids, 10):
            kind = rng.choice(["queue", "work", "error", "cancel", "complete", "warn"])
            update = {
                "queue": ProgressUpdate(spotify_id, Stage.INIT, 0, "Queued"),
                "work": ProgressUpdate(spotify_id, Stage.MEDIA, rng.randint(50, 75), "Downloading"),
                "error": _failure(spotify_id, "Deezer down"),
                "cancel": ProgressUpdate.cancellation(spotify_id, 60, Stage.MEDIA),
                "complete": ProgressUpdate(spotify_id, Stage.COMPLETE, 100, "Imported"),
                "warn": ProgressUpdate(spotify_id, Stage.COMPLETE, 100, "Imported with warnings", WARNING),
            }[kind]
            model.apply(update)
        if round_ % 7 == 0 and model.rowCount():
            # Select one row: the selection must stay on that artist whatever moves.
            chosen = model.row_at(rng.randrange(model.rowCount())).spotify_id
            position = model.position_of(chosen)
            assert position is not None
            selection = panel.view.selectionModel()
            selection.select(model.index(position), type(selection).SelectionFlag.ClearAndSelect)
        selected_before = [row.spotify_id for row in panel.selected_rows()]
        model.flush()
        assert model.spotify_ids() == _expected_order(model)
        assert [row.spotify_id for row in panel.selected_rows()] == [
            i for i in selected_before if model.position_of(i) is not None
        ]
        assert all(model.index(n).data(ROW_ROLE) is model.row_at(n) for n in range(model.rowCount()))
        if round_ % 10 == 5:
            panel.set_filter(rng.choice(list(ProgressFilter)))
        if round_ % 20 == 19:
            model.remove(rng.sample([row.spotify_id for row in model.all_rows()], 3))
            assert model.spotify_ids() == _expected_order(model)
        counts = model.counts()
        states = [row.state for row in model.all_rows()]
        assert [counts.of(state) for state in RowState] == [states.count(state) for state in RowState]


def test_actions_apply_only_to_what_they_can_change_and_a_key_that_does_nothing_says_why(
    qtbot: Any, run_async: Any, offline_desktop: Any, redis_url: str, redis_prefix: str
) -> None:
    window = offline_desktop.window
    model, panel = window.progress_model, window.progress_panel
    _publish(run_async, redis_url, redis_prefix, _mixed_batch())
    qtbot.waitUntil(lambda: model.counts().total == 10 and model.counts().running == 1, timeout=5000)
    # The header, bar and actions follow the model on the window's repaint tick: wait for the tick that shows it.
    qtbot.waitUntil(lambda: "3 cancelled" in panel.summary.text() and "1 running" in panel.summary.text(), timeout=3000)
    view = panel.view
    view.setFocus()
    view.clearSelection()
    # Nothing selected: the selection's actions are off (menu items and buttons alike).
    assert not panel.retry_action.isEnabled() and not panel.cancel_action.isEnabled()
    assert not panel.buttons["retry_selected"].isEnabled() and not panel.buttons["cancel_selected"].isEnabled()
    assert panel.retry_failed_action.isEnabled() and panel.cancel_all_action.isEnabled()
    assert panel.remove_action.isEnabled()
    qtbot.keyClick(view, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert window.statusBar().currentMessage() == "Retry selected: select a failed, cancelled or warned import first"
    qtbot.keyClick(view, Qt.Key.Key_Period, Qt.KeyboardModifier.ControlModifier)
    assert window.statusBar().currentMessage() == "Cancel selected: select a queued or running import first"

    # A clean complete row: nothing to retry or cancel in it.
    _click(qtbot, panel, DONE)
    assert not panel.retry_action.isEnabled() and not panel.cancel_action.isEnabled()
    qtbot.keyClick(view, Qt.Key.Key_Period, Qt.KeyboardModifier.ControlModifier)
    assert window.statusBar().currentMessage() == "Cancel selected: every selected import has already finished"

    # The warned row can be retried (imported again), not cancelled.
    _click(qtbot, panel, WARNED)
    assert panel.retry_action.isEnabled() and not panel.cancel_action.isEnabled()
    # The running row can be cancelled, not retried.
    _click(qtbot, panel, RUNNING)
    assert panel.cancel_action.isEnabled() and not panel.retry_action.isEnabled()
    # It finishes with a warning while selected: the actions follow the row.
    _publish(run_async, redis_url, redis_prefix, [ProgressUpdate(RUNNING, Stage.COMPLETE, 100, "Imported", WARNING)])
    qtbot.waitUntil(lambda: panel.retry_action.isEnabled() and not panel.cancel_action.isEnabled(), timeout=5000)


def _click(qtbot: Any, panel: ProgressPanel, spotify_id: str) -> None:
    position = panel.model.position_of(spotify_id)
    assert position is not None
    panel.view.scrollTo(panel.model.index(position))
    rect = panel.view.visualRect(panel.model.index(position))
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert [row.spotify_id for row in panel.selected_rows()] == [spotify_id]


def test_retry_selected_takes_failed_cancelled_and_warned_rows_and_leaves_clean_ones(qtbot: Any) -> None:
    model = ProgressModel()
    panel = ProgressPanel(model)
    qtbot.addWidget(panel)
    panel.show()
    for update in _mixed_batch():
        model.apply(update)
    model.flush()
    panel.view.selectAll()
    with qtbot.waitSignal(panel.retry_requested) as retried:
        qtbot.mouseClick(panel.buttons["retry_selected"], Qt.MouseButton.LeftButton)
    assert retried.args == [[WARNED, FAILED, FAILED_TOO, *CANCELLED]]
    with qtbot.waitSignal(panel.cancel_requested) as cancelled:
        qtbot.mouseClick(panel.buttons["cancel_selected"], Qt.MouseButton.LeftButton)
    assert cancelled.args == [[RUNNING, QUEUED]]
