"""The library's metric chart: one metric at a time (picked in a list), a line per artist, dates on the x axis.

pyqtgraph is imported when the first series is shown (start-up skips it). The plot has a UTC date axis
(`DateAxisItem`), a left axis in compact numbers (1.2M, 845K), the view fitted to every point, a hover
crosshair whose label gives the day and each line's exact value, and no developer context menu. With
several artists the lines can be indexed to 100 at the first day they all have a figure (else at each
line's first figure), so artists of very different sizes compare. `show_metric` can mark an alert's day: an
amber vertical line labelled with the day, kept in view, its figures in the hover label ("(alert day)"), kept
while the same artists' lines are shown again (a library reload) and dropped with other artists.

The metric list holds each metric as a ``"platform:metric"`` string (`metric_key`): Qt turns a tuple item
data into a list, which ``findData`` of a tuple never matches.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from artist_desktop.domain import DailyFigure, Platform
from artist_desktop.ui.numbers import axis_ticks, full
from artist_desktop.ui.palette import SERIES_COLORS, WARNING_COLOR
from artist_desktop.ui.qt import (
    QColor,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPalette,
    Qt,
    QVBoxLayout,
    QWidget,
    import_pyqtgraph,
)

PROMPT = "Select artists to see their metric history (several to compare)"

#: ``(platform, metric) -> {artist name: daily figures, oldest first}``
SeriesByMetric = Mapping[tuple[str, str], Mapping[str, Sequence[DailyFigure]]]


#: Metrics a service names in its own words: Deezer calls its followers fans (``nb_fan``).
_METRIC_WORDS = {(Platform.DEEZER.value, "followers"): "fans"}


def metric_label(platform: str, metric: str) -> str:
    """A metric as a person reads it, the one wording of the Library columns, the charts and the alerts:
    ``("deezer", "followers") -> "Deezer fans"``, ``("lastfm", "listeners") -> "Last.fm listeners"``,
    ``("wikipedia", "pageviews") -> "Wikipedia pageviews"``; the service's name from `Platform.label`, an unknown
    platform capitalised as stored (``("tidal", "streams") -> "Tidal streams"``)."""
    try:
        name = Platform(platform).label
    except ValueError:
        name = platform[:1].upper() + platform[1:]
    words = _METRIC_WORDS.get((platform, metric), metric.replace("_", " "))
    return f"{name} {words}"


def metric_key(platform: str, metric: str) -> str:
    """``("deezer", "followers") -> "deezer:followers"``: a metric as `MetricChart.metric_box` item data."""
    return f"{platform}:{metric}"


def day_seconds(day: date) -> float:
    """The x value of a day: its UTC midnight as a POSIX timestamp (what `DateAxisItem` reads)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def indexed(lines: Mapping[str, Sequence[DailyFigure]]) -> dict[str, list[DailyFigure]]:
    """Each line as a percentage of its figure on the first day every line has one (100 there); a line whose
    base figure is 0, or lines with no common day, are based on their own first non-zero figure."""
    common = set.intersection(*(set(f.day for f in figures) for figures in lines.values())) if lines else set()
    start = min(common) if common else None
    result: dict[str, list[DailyFigure]] = {}
    for name, figures in lines.items():
        base = next((f.value for f in figures if f.day == start and f.value), None) if start else None
        if base is None:
            base = next((f.value for f in figures if f.value), None)
        result[name] = [DailyFigure(f.day, f.value / base * 100) for f in figures] if base else list(figures)
    return result


@dataclass(frozen=True, slots=True)
class _Plotted:
    """What one plot shows, for the hover label: its title and each line's (x values, figures)."""

    label: str
    lines: dict[str, tuple[list[float], list[DailyFigure]]]
    indexed: bool


class MetricChart(QWidget):
    """One metric's plot at a time (followers and popularity differ by orders of magnitude, and one plot gets the
    whole height); `metric_box` picks the metric, and the choice holds while the selection changes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.title = QLabel(PROMPT, self)
        self.title.setObjectName("chart_title")
        self.title.setWordWrap(True)
        self.metric_box = QComboBox(self)
        self.metric_box.setObjectName("chart_metric")
        self.metric_box.setToolTip("The metric the chart shows")
        self.metric_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.metric_box.activated.connect(lambda _index: self._draw())
        self.metric_box.setVisible(False)
        top.addWidget(self.title, 1)
        top.addWidget(self.metric_box)
        layout.addLayout(top)
        self.hover_label = QLabel(" ", self)
        self.hover_label.setObjectName("chart_hover")
        self.hover_label.setTextFormat(self.hover_label.textFormat().RichText)
        layout.addWidget(self.hover_label)
        # pyqtgraph's plot area is built when the first series is shown (start-up skips pyqtgraph);
        # until then an empty area of the same colour holds its place.
        self.plots: Any = None
        self._placeholder = QWidget(self)
        self._placeholder.setBackgroundRole(QPalette.ColorRole.Base)
        self._placeholder.setAutoFillBackground(True)
        layout.addWidget(self._placeholder, 1)
        self._layout = layout
        #: What is drawn: metric label -> artist name -> [(x, y)] (the y values as plotted: indexed or not).
        self.series: dict[str, dict[str, list[tuple[float, float]]]] = {}
        #: The figures behind the lines, as given (for the chart-data export).
        self.figures: dict[tuple[str, str], dict[str, list[DailyFigure]]] = {}
        self._plotted: list[tuple[Any, _Plotted, Any]] = []
        self._indexed = False
        self._mouse_proxy: Any = None
        #: The day marked on the chart (an alert's), or None; `marker` is its line while drawn.
        self.marked_day: date | None = None
        self.marker: Any = None
        #: A `show_metric` request the next `show_series` applies (the series it is for are on their way).
        self._pending: tuple[str, date | None] | None = None
        self._title = ""
        self.follow_palette()

    # -- look -----------------------------------------------------------------------------------
    def follow_palette(self) -> None:
        """Take the chart's colours from the (OS light/dark) palette."""
        palette = self.palette()
        self._foreground = palette.color(QPalette.ColorRole.Text)
        if self.plots is not None:
            self.plots.setBackground(palette.color(QPalette.ColorRole.Base))

    def _build_plots(self) -> None:
        """pyqtgraph's ``GraphicsLayoutWidget`` in the placeholder's place (once)."""
        pg = import_pyqtgraph()
        self.plots = pg.GraphicsLayoutWidget(self)
        self.plots.setObjectName("metric_chart")
        self._layout.replaceWidget(self._placeholder, self.plots)
        self._placeholder.deleteLater()
        self._mouse_proxy = pg.SignalProxy(self.plots.scene().sigMouseMoved, rateLimit=30, slot=self._mouse_moved)
        self.follow_palette()

    # -- content --------------------------------------------------------------------------------
    def show_series(self, title: str, series: SeriesByMetric, *, indexed_to_100: bool = False) -> None:
        """Keep every metric's lines (a line per artist) and draw the picked metric; ``title`` is rich text."""
        self.figures = {
            key: {name: list(f) for name, f in lines.items() if f}
            for key, lines in sorted(series.items(), key=lambda item: _metric_order(item[0]))
            if any(lines.values())
        }
        self._indexed = indexed_to_100
        self.series = {}
        for (platform, metric), lines in self.figures.items():
            drawn = indexed(lines) if indexed_to_100 and len(lines) > 1 else lines
            self.series[metric_label(platform, metric)] = {
                name: [(day_seconds(f.day), f.value) for f in figures] for name, figures in drawn.items()
            }
        self.title.setText(title if self.figures else f"{title} — no figures yet")
        wanted = self.metric_box.currentData()
        if title != self._title:  # other artists: the mark was another line's (the same ones re-read keep it)
            self.marked_day = None
        self._title = title
        if self._pending is not None:
            wanted, self.marked_day = self._pending
            self._pending = None
        self.metric_box.blockSignals(True)
        self.metric_box.clear()
        for platform, metric in self.figures:
            self.metric_box.addItem(metric_label(platform, metric), metric_key(platform, metric))
        position = self.metric_box.findData(wanted) if wanted is not None else -1
        self.metric_box.setCurrentIndex(max(0, position))
        self.metric_box.blockSignals(False)
        self.metric_box.setVisible(len(self.figures) > 1)
        self._draw()

    @property
    def current_metric(self) -> tuple[str, str] | None:
        """The metric drawn: ``(platform, metric)``, or None with nothing to draw."""
        data = self.metric_box.currentData()
        if not isinstance(data, str):
            return None
        platform, _colon, metric = data.partition(":")
        return platform, metric

    def show_metric(self, platform: str, metric: str, *, day: date | None = None, pending: bool = False) -> bool:
        """Draw this metric of the lines shown (the same as picking it in `metric_box`), with ``day`` marked
        (None: no mark). With ``pending`` the next `show_series` does the same (its series are on their way).
        Returns whether the lines shown have this metric."""
        key = metric_key(platform, metric)
        if pending:
            self._pending = (key, day)
        position = self.metric_box.findData(key)
        if position < 0:
            return False
        self.metric_box.setCurrentIndex(position)
        self.marked_day = day
        self._draw()
        return True

    def _draw(self) -> None:
        """Draw the picked metric: a line per artist, a legend with several, a hidden crosshair for hovering."""
        if self.plots is None:
            self._build_plots()
        pg = import_pyqtgraph()
        self.plots.clear()
        self._plotted = []
        self.hover_label.setText(" ")
        self.marker = None
        key = self.current_metric
        if key is None:
            return
        lines = self.figures[key]
        rebased = self._indexed and len(lines) > 1
        drawn = indexed(lines) if rebased else lines
        label = metric_label(*key)
        plot = self.plots.addPlot(
            axisItems={"bottom": pg.DateAxisItem(orientation="bottom", utcOffset=0), "left": _number_axis(pg)}
        )
        plot.setMenuEnabled(False)
        plot.hideButtons()
        title = label + (" (indexed, first common day = 100)" if rebased else "")
        plot.setTitle(title, color=self._foreground.name(), size="9pt")
        plot.showGrid(x=True, y=True, alpha=0.2)
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setTextPen(self._foreground)
            plot.getAxis(axis).setPen(self._foreground)
        if len(drawn) > 1:
            legend = plot.addLegend(offset=(8, 8), labelTextColor=self._foreground)
            legend.setBrush(pg.mkBrush(self.palette().color(QPalette.ColorRole.Base)))
        plotted = _Plotted(label, {}, rebased)
        for n, (name, figures) in enumerate(drawn.items()):
            xs = [day_seconds(f.day) for f in figures]
            color = QColor(SERIES_COLORS[n % len(SERIES_COLORS)])
            symbol = "o" if len(figures) <= 60 else None
            plot.plot(
                xs,
                [f.value for f in figures],
                pen=pg.mkPen(color, width=2),
                symbol=symbol,
                symbolSize=5,
                symbolBrush=color,
                symbolPen=color,
                name=name,
            )
            plotted.lines[name] = (xs, figures)
        crosshair = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen(self._foreground, width=1, style=Qt.PenStyle.DashLine)
        )
        crosshair.setVisible(False)
        plot.addItem(crosshair, ignoreBounds=True)
        plot.enableAutoRange()
        plot.autoRange(padding=0.05)
        self._plotted.append((plot, plotted, crosshair))
        if self.marked_day is not None:
            self._mark(pg, plot, self.marked_day)

    def _mark(self, pg: Any, plot: Any, day: date) -> None:
        """An amber line labelled with the day, the view widened to hold it, its figures in the hover label."""
        x = day_seconds(day)
        self.marker = pg.InfiniteLine(
            pos=x,
            angle=90,
            movable=False,
            pen=pg.mkPen(WARNING_COLOR, width=2),
            label=day.isoformat(),
            labelOpts={"position": 0.95, "color": WARNING_COLOR, "fill": self.palette().color(QPalette.ColorRole.Base)},
        )
        plot.addItem(self.marker, ignoreBounds=True)
        (low, high), _y_range = plot.vb.viewRange()
        if not low <= x <= high:
            margin = (high - low) * 0.05 or 86400.0
            plot.setXRange(min(low, x - margin), max(high, x + margin), padding=0)
        self.hover_at(x)

    def marked_in_view(self) -> bool:
        """Whether the marked day is inside the plot's visible x range."""
        if self.marked_day is None or not self._plotted:
            return False
        (low, high), _y_range = self._plotted[0][0].vb.viewRange()
        return bool(low <= day_seconds(self.marked_day) <= high)

    def clear(self) -> None:
        if self.plots is not None:
            self.plots.clear()
        self.series, self.figures, self._plotted = {}, {}, []
        self.marked_day, self.marker, self._title = None, None, ""
        self.metric_box.clear()
        self.metric_box.setVisible(False)
        self.title.setText(PROMPT)
        self.hover_label.setText(" ")

    # -- hover ----------------------------------------------------------------------------------
    def hover_at(self, x: float) -> str:
        """The hover text for the day nearest to ``x`` (seconds) on every plot; shown in `hover_label`."""
        parts: list[str] = []
        day_text = ""
        for _plot, plotted, crosshair in self._plotted:
            values = []
            for name, (xs, figures) in plotted.lines.items():
                if not xs:
                    continue
                at = _nearest(xs, x)
                figure = figures[at]
                day_text = figure.day.isoformat()
                value = f"{figure.value:.1f}" if plotted.indexed else full(figure.value)
                values.append(f"{name} <b>{value}</b>")
                crosshair.setPos(xs[at])
                crosshair.setVisible(True)
            if values:
                parts.append(f"{plotted.label}: " + ", ".join(values))
        marked = self.marked_day is not None and day_text == self.marked_day.isoformat()
        day_text += " (alert day)" if marked else ""
        text = f"<b>{day_text}</b> · " + " · ".join(parts) if parts else " "
        self.hover_label.setText(text)
        return text

    def _mouse_moved(self, event: tuple[Any, ...]) -> None:
        position = event[0]
        for plot, _plotted, _crosshair in self._plotted:
            if plot.sceneBoundingRect().contains(position):
                self.hover_at(plot.vb.mapSceneToView(position).x())
                return


def _metric_order(key: tuple[str, str]) -> tuple[int, str, str]:
    """Followers first (Spotify, then Deezer), then the rest by name: the default metric is the first."""
    order = (("spotify", "followers"), ("deezer", "followers"))
    return (order.index(key) if key in order else len(order), *key)


def _nearest(xs: list[float], x: float) -> int:
    at = bisect.bisect_left(xs, x)
    if at == 0:
        return 0
    if at == len(xs):
        return len(xs) - 1
    return at if xs[at] - x < x - xs[at - 1] else at - 1


def _number_axis(pg: Any) -> Any:
    """A left axis whose ticks read 1.2M / 845K instead of 6.92462e+06 or an SI prefix."""

    class NumberAxis(pg.AxisItem):  # type: ignore[misc]
        def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
            return axis_ticks([value * scale for value in values], spacing * scale)

    axis = NumberAxis(orientation="left")
    axis.enableAutoSIPrefix(False)
    return axis
