"""The Alerts tab: the demo history's spikes listed, sorted, opened in the Library, dismissed; same as the CLI."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from artist_desktop.devtools._catalog import load_catalog
from artist_desktop.devtools.demo_history import seed_demo_history
from artist_desktop.ui.alerts_panel import COLUMNS
from artist_desktop.ui.qt import QEvent, QKeyEvent, Qt, QWidget

pytestmark = pytest.mark.gui


@pytest.fixture
def alerts_window(qtbot: Any, run_async: Any, desktop: Any) -> Any:
    """The window on the demo history (40 days), alerts detected and shown on the Alerts tab."""
    catalog = load_catalog()
    run_async(seed_demo_history(desktop.services.database, catalog, days=40))
    window = desktop.window
    window.refresh_library()
    qtbot.waitUntil(lambda: window.library_panel.model.rowCount() == len(catalog.artists), timeout=30000)
    detection = run_async(desktop.services.application.detect_alerts())
    assert detection.new, "the demo history has spikes"
    window.load_alerts()
    qtbot.waitUntil(lambda: window.alerts_panel.model.rowCount() == len(detection.new), timeout=10000)
    window.tabs.setCurrentIndex(2)
    return window


def _key(widget: QWidget, key: Qt.Key) -> None:
    from artist_desktop.ui.qt import QApplication

    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        QApplication.sendEvent(widget, QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier))


def test_the_panel_lists_the_demo_spikes_newest_first_and_sorts_by_how_unusual(
    qtbot: Any, alerts_window: Any, tmp_path: Path
) -> None:
    panel = alerts_window.alerts_panel
    shown = panel.shown_alerts()
    assert [alert.day for alert in shown] == sorted((alert.day for alert in shown), reverse=True)
    assert [panel.proxy.headerData(n, Qt.Orientation.Horizontal) for n in range(len(COLUMNS))] == list(COLUMNS)
    panel.table.sortByColumn(5, Qt.SortOrder.DescendingOrder)
    scores = [abs(alert.score) for alert in panel.shown_alerts()]
    assert scores == sorted(scores, reverse=True)
    assert "unusual day" in panel.summary_label.text()
    alerts_window.resize(1200, 700)
    path = tmp_path / "alerts-panel.png"
    assert alerts_window.grab().save(str(path))
    if (keep := Path("/tmp/h20")).is_dir():
        alerts_window.grab().save(str(keep / "alerts-panel.png"))


def test_enter_opens_the_artists_chart_on_that_metric(qtbot: Any, alerts_window: Any) -> None:
    panel = alerts_window.alerts_panel
    target = next(alert for alert in panel.shown_alerts() if alert.platform == "deezer")
    row = panel.shown_alerts().index(target)
    panel.table.selectRow(row)
    panel.table.setCurrentIndex(panel.proxy.index(row, 0))
    _key(panel.table, Qt.Key.Key_Return)

    library = alerts_window.library_panel
    assert alerts_window.tabs.currentIndex() == 1
    assert library.selected_artist_ids() == [target.artist_id]
    chart = library.chart
    qtbot.waitUntil(lambda: target.artist_name in chart.title.text() and chart.marked_day == target.day, timeout=5000)
    assert chart.current_metric == ("deezer", "followers")
    assert chart._plotted[0][0].titleLabel.text.startswith("Deezer fans")  # drawn, not only picked
    assert chart.marker is not None and chart.marked_in_view()
    assert f"{target.day.isoformat()} (alert day)" in chart.hover_label.text()


def test_opening_an_alert_of_the_selected_artist_marks_its_day(qtbot: Any, alerts_window: Any) -> None:
    panel, chart = alerts_window.alerts_panel, alerts_window.library_panel.chart
    first = panel.shown_alerts()[0]
    alerts_window.open_alert(first.artist_id, first.platform, first.metric, first.day)
    qtbot.waitUntil(lambda: chart.marked_day == first.day, timeout=5000)
    other = next(
        (a for a in panel.shown_alerts() if a.artist_id == first.artist_id and a.day != first.day),
        None,
    )
    again = other or first
    alerts_window.open_alert(again.artist_id, again.platform, again.metric, again.day)  # no selection change
    qtbot.waitUntil(lambda: chart.marked_day == again.day and chart.marker is not None, timeout=5000)
    assert chart.current_metric == (again.platform, again.metric)
    assert alerts_window.library_panel.selected_artist_ids() == [again.artist_id]


def test_delete_dismisses_and_a_reload_keeps_it_hidden(qtbot: Any, run_async: Any, alerts_window: Any) -> None:
    panel = alerts_window.alerts_panel
    before = panel.model.rowCount()
    first = panel.shown_alerts()[0]
    panel.table.selectRow(0)
    _key(panel.table, Qt.Key.Key_Delete)
    assert panel.model.rowCount() == before - 1
    qtbot.waitUntil(lambda: not alerts_window.tasks.running("dismiss-alerts"), timeout=5000)
    alerts_window.load_alerts()
    qtbot.wait(300)
    qtbot.waitUntil(lambda: not alerts_window.tasks.running("alerts"), timeout=5000)
    assert first.alert_id not in {alert.alert_id for alert in panel.model.alerts()}
    assert panel.model.rowCount() == before - 1


def test_alerts_json_lists_the_same_alerts_as_the_panel(
    qtbot: Any, run_async: Any, alerts_window: Any, desktop: Any
) -> None:
    settings = desktop.services.settings
    env = {
        "ARTIST_DESKTOP_DATABASE_URL": settings.effective_database_url,
        "ARTIST_DESKTOP_REDIS_URL": settings.redis_url,
        "ARTIST_DESKTOP_REDIS_PREFIX": settings.redis_prefix,
    }
    # In a thread: the window's loop runs on (and ends its short transactions) while the command starts.
    result = run_async(
        asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "artist_desktop", "alerts", "--json"],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
            env={**os.environ, **env},
        ),
        timeout=100,
    )
    assert result.returncode == 0, result.stderr
    panel = alerts_window.alerts_panel
    assert json.loads(result.stdout) == [alert.to_json() for alert in panel.model.alerts()]


def test_a_finished_scheduled_run_notifies_with_its_new_alerts(qtbot: Any, alerts_window: Any) -> None:
    from datetime import date, datetime

    from artist_desktop.application import ScheduleStatus
    from artist_desktop.sources.schedule import LastRun, ScheduledRunStatus

    now = datetime.now().astimezone()
    alerts_window.show_schedule(ScheduleStatus(True, now, None))
    assert alerts_window.last_notification == ""
    last = LastRun(date.today(), ScheduledRunStatus.COMPLETE, "Deezer fans: 3 of 3 updated, 0 failed", now, now, 2)
    alerts_window.show_schedule(ScheduleStatus(True, now, last))
    assert alerts_window.last_notification.startswith("Daily collection complete: Deezer fans: 3 of 3 updated")
    assert "2 new alerts" in alerts_window.last_notification
    assert "last " in alerts_window.schedule_label.text() and "Next collection" in alerts_window.schedule_label.text()
