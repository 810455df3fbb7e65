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
        "Deezer followers": {"Adele": [(day_seconds(day_1), 10.0), (day_seconds(day_2), 12.0)]},
        "Spotify popularity": {"Adele": [(day_seconds(day_1), 80.0)]},
    }
    qtbot.waitUntil(lambda: chart.plots.height() > chart.height() // 2)
    assert chart.plots.backgroundBrush().color() == chart.palette().color(QPalette.ColorRole.Base)
    plots = chart.plots
    chart.clear()
    chart.show_series("<b>Queen</b>", {})
    assert chart.plots is plots and chart.series == {}
    assert "no figures yet" in chart.title.text()
