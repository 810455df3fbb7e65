"""The metric chart builds its pyqtgraph plots with the first history; start-up imports neither pyqtgraph nor QtTest."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from artist_desktop.domain import DailyFigure
from artist_desktop.ui.metric_chart import MetricChart, day_seconds
from artist_desktop.ui.qt import QPalette

DAY_1 = datetime(2026, 11, 1, tzinfo=UTC)


def test_importing_the_window_loads_neither_pyqtgraph_nor_qttest() -> None:
    probe = (
        "import sys, artist_desktop.ui.main_window; "
        "print(sorted(m for m in ('pyqtgraph', 'PySide6.QtTest', 'numpy') if m in sys.modules))"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert found.stdout.strip() == "[]"


@pytest.mark.gui
def test_the_chart_builds_its_plots_with_the_first_history(qtbot: Any) -> None:
    chart = MetricChart()
    qtbot.addWidget(chart)
    chart.resize(400, 300)
    chart.show()
    qtbot.waitExposed(chart)
    chart.clear()
    chart.follow_palette()
    assert chart.plots is None

    day_1, day_2 = DAY_1.date(), DAY_1.date() + timedelta(days=1)
    chart.show_series(
        "<b>Adele</b>",
        {
            ("deezer", "followers"): {"Adele": [DailyFigure(day_1, 10.0), DailyFigure(day_2, 12.0)]},
            ("spotify", "popularity"): {"Adele": [DailyFigure(day_1, 80.0)]},
        },
    )

    assert chart.plots is not None and chart.plots.objectName() == "metric_chart"
    assert chart.series == {
        "Deezer fans": {"Adele": [(day_seconds(day_1), 10.0), (day_seconds(day_2), 12.0)]},
        "Spotify popularity": {"Adele": [(day_seconds(day_1), 80.0)]},
    }
    qtbot.waitUntil(lambda: chart.plots.height() > chart.height() // 2)
    assert chart.plots.backgroundBrush().color() == chart.palette().color(QPalette.ColorRole.Base)
    plots = chart.plots
    chart.clear()
    chart.show_series("<b>Queen</b>", {})
    assert chart.plots is plots and chart.series == {}
    assert "no figures yet" in chart.title.text()


@pytest.mark.gui
def test_show_metric_switches_the_metric_and_marks_the_day_in_view(qtbot: Any) -> None:
    chart = MetricChart()
    qtbot.addWidget(chart)
    chart.resize(500, 300)
    chart.show()
    qtbot.waitExposed(chart)
    days = [DAY_1.date() + timedelta(days=n) for n in range(10)]
    series = {
        ("spotify", "followers"): {"Adele": [DailyFigure(day, 1000.0 + n) for n, day in enumerate(days)]},
        ("deezer", "followers"): {"Adele": [DailyFigure(day, 500.0 + n * 10) for n, day in enumerate(days)]},
    }
    chart.show_series("<b>Adele</b>", series)
    assert chart.current_metric == ("spotify", "followers")

    assert chart.show_metric("deezer", "followers", day=days[6])
    assert chart.current_metric == ("deezer", "followers")
    plot = chart._plotted[0][0]
    assert plot.titleLabel.text.startswith("Deezer fans")
    assert chart.marker is not None and chart.marker.value() == day_seconds(days[6])
    assert chart.marked_in_view()
    assert f"<b>{days[6].isoformat()} (alert day)</b>" in chart.hover_label.text()
    assert "Adele <b>560</b>" in chart.hover_label.text()
    assert not chart.show_metric("spotify", "popularity")  # not among the lines: nothing changes
    assert chart.current_metric == ("deezer", "followers")

    # A day outside the figures: the view widens to hold it.
    later = days[-1] + timedelta(days=20)
    chart.show_metric("spotify", "followers", day=later)
    assert chart.current_metric == ("spotify", "followers")
    assert chart.marked_in_view()

    # Pending: the next series (another artist's, on their way) open on that metric with the day marked;
    # the same artists re-read (a library reload) keep the mark, other artists keep the metric and drop it.
    chart.show_metric("deezer", "followers", day=days[3], pending=True)
    chart.show_series("<b>Queen</b>", {key: {"Queen": lines["Adele"]} for key, lines in series.items()})
    assert chart.current_metric == ("deezer", "followers") and chart.marked_day == days[3]
    assert chart.marker is not None and chart.marker.value() == day_seconds(days[3])
    chart.show_series("<b>Queen</b>", {key: {"Queen": lines["Adele"]} for key, lines in series.items()})
    assert chart.marked_day == days[3] and chart.marker is not None
    assert f"{days[3].isoformat()} (alert day)" in chart.hover_label.text()
    chart.show_series("<b>ABBA</b>", {key: {"ABBA": lines["Adele"]} for key, lines in series.items()})
    assert chart.current_metric == ("deezer", "followers")
    assert chart.marked_day is None and chart.marker is None
