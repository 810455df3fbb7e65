"""The Library's table, chart and exports, on rows built by hand (the window's wiring is tested with services)."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from artist_desktop.domain import DailyFigure, LibraryArtist, MetricTrend
from artist_desktop.ui.library import ARTIST_ID_ROLE, LibraryPanel, default_visible
from artist_desktop.ui.metric_chart import day_seconds, indexed
from artist_desktop.ui.numbers import axis_ticks, compact, signed_compact, signed_percent
from artist_desktop.ui.qt import QSettings

TODAY = date(2026, 11, 29)
DEEZER_FANS = ("deezer", "followers")


def figures(values_by_days_ago: dict[int, float]) -> list[DailyFigure]:
    return sorted(
        (DailyFigure(TODAY - timedelta(days=ago), value) for ago, value in values_by_days_ago.items()),
        key=lambda f: f.day,
    )


def artist(artist_id: int, name: str, fans: dict[int, float], **ids: str) -> LibraryArtist:
    trend = MetricTrend.of(*DEEZER_FANS, figures(fans)) if fans else None
    return LibraryArtist(
        artist_id=artist_id,
        name=name,
        country=ids.pop("country", None),
        image_url=None,
        image_path=None,
        updated_at=datetime(2026, 11, 29, 12, tzinfo=UTC),
        trends={DEEZER_FANS: trend} if trend else {},
        ids={key.removesuffix("_id"): value for key, value in ids.items()},
    )


#: Queen: a figure every day for 40 days, growing 1,000 a day from 6,000,000 (so every change is known).
QUEEN = artist(
    1,
    "Queen",
    {ago: 6_000_000 + (40 - ago) * 1000 for ago in range(41)},
    country="GB",
    spotify_id="1dfeR4HaWDbWqFHLkxsg1d",
    deezer_id="412",
    musicbrainz_id="0383dadf-2a4e-4d10-a46a-e9e041da8eb3",
)
#: ABBA: figures today, 3 and 10 days ago only (no figure exactly 1 or 7 days back).
ABBA = artist(2, "ABBA", {0: 5_000, 3: 4_000, 10: 2_000}, country="SE", spotify_id="0LcJLqbBmaGUft1e9Mm8HV")
#: No figures at all.
NEWCOMER = artist(3, "Newcomer", {})


@pytest.fixture
def panel(qtbot: Any, tmp_path: Path) -> LibraryPanel:
    widget = LibraryPanel(QSettings(str(tmp_path / "state.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(widget)
    widget.resize(1300, 700)
    widget.set_rows([QUEEN, ABBA, NEWCOMER])
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def cell(panel: LibraryPanel, name: str, column_id: str) -> str:
    column = panel.model.column_index(column_id)
    for position in range(panel.proxy.rowCount()):
        if panel.proxy.index(position, 0).data() == name:
            return str(panel.proxy.index(position, column).data())
    raise AssertionError(f"no row {name}")


def test_numbers_read_as_people_write_them() -> None:
    assert [compact(v) for v in (6_924_620, 845_000, 1_234, 999, 0, None)] == [
        "6.92M",
        "845K",
        "1.23K",
        "999",
        "0",
        "–",
    ]
    assert [signed_compact(v) for v in (12_345, -845, 0)] == ["+12.3K", "-845", "0"]
    assert [signed_percent(v) for v in (1.84, -0.4, 0.01, None)] == ["+1.8 %", "-0.4 %", "+<0.1 %", "–"]
    # Neighbouring ticks never read the same, and never 6.92462e+06.
    assert axis_ticks([6_924_000, 6_925_000, 6_926_000], 1000) == ["6.924M", "6.925M", "6.926M"]


def test_change_columns_match_hand_computed_values(panel: LibraryPanel) -> None:
    # Queen: today 6,040,000; 1 day ago 6,039,000; 7 days 6,033,000; 28 days 6,012,000.
    assert cell(panel, "Queen", "deezer:followers:latest") == "6.04M"
    assert cell(panel, "Queen", "deezer:followers:change1") == "+1K"
    assert cell(panel, "Queen", "deezer:followers:change7") == "+7K"
    assert cell(panel, "Queen", "deezer:followers:change28") == "+28K"
    assert cell(panel, "Queen", "deezer:followers:percent28") == signed_percent(28_000 / 6_012_000 * 100) == "+0.5 %"
    # ABBA: the 1-day change compares with the last figure on or before yesterday (3 days ago, 4,000); the
    # 7-day one with 10 days ago (2,000); there is no figure 28 days back.
    assert cell(panel, "ABBA", "deezer:followers:change1") == "+1K"
    assert cell(panel, "ABBA", "deezer:followers:percent7") == "+150 %"
    assert cell(panel, "ABBA", "deezer:followers:change28") == "–"
    assert cell(panel, "Newcomer", "deezer:followers:latest") == "–"


def test_change_columns_sort_as_numbers_with_missing_figures_last(panel: LibraryPanel) -> None:
    from artist_desktop.ui.qt import Qt

    panel.table.sortByColumn(panel.model.column_index("deezer:followers:percent7"), Qt.SortOrder.DescendingOrder)
    order = [panel.proxy.index(n, 0).data() for n in range(panel.proxy.rowCount())]
    assert order == ["ABBA", "Queen", "Newcomer"]


def test_the_column_choice_persists(qtbot: Any, panel: LibraryPanel, tmp_path: Path) -> None:
    change1 = panel.model.column_index("deezer:followers:change1")
    assert panel.table.isColumnHidden(change1)  # not shown until chosen
    menu = panel.column_menu()
    action = next(a for a in menu.actions() if a.data() == "deezer:followers:change1")
    action.trigger()
    assert not panel.table.isColumnHidden(change1)
    panel.state.sync()  # type: ignore[union-attr]

    again = LibraryPanel(QSettings(str(tmp_path / "state.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    again.set_rows([QUEEN])
    assert not again.table.isColumnHidden(again.model.column_index("deezer:followers:change1"))
    assert again.table.isColumnHidden(again.model.column_index("deezer:followers:change28"))


def test_export_writes_the_rows_and_columns_as_shown_plus_ids_and_dates(panel: LibraryPanel, tmp_path: Path) -> None:
    panel.filter_field.setText("a")  # Queen has no "a": ABBA and Newcomer? "Newcomer" has none either
    panel.filter_field.setText("e")  # Queen, Newcomer (and the country filter: SE for ABBA)
    shown = [panel.proxy.index(n, 0).data() for n in range(panel.proxy.rowCount())]
    assert shown == ["ABBA", "Newcomer", "Queen"]
    panel.set_column_visible("country", False)

    written = panel.export_table(tmp_path / "library.csv")

    with open(tmp_path / "library.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    visible = [c for c in panel.visible_columns() if c.kind != "trend"]
    assert written == 3
    assert rows[0] == [
        "Artist",
        "Deezer fans",
        "Deezer fans day",
        "Deezer fans 7d change",
        "Deezer fans 7d %",
        "Deezer fans 28d %",
        "Spotify id",
        "Deezer id",
        "MusicBrainz id",
    ]
    assert len(visible) == 5
    assert rows[1] == ["ABBA", "5000", TODAY.isoformat(), "3000", "150.0", "", "0LcJLqbBmaGUft1e9Mm8HV", "", ""]
    assert rows[2] == ["Newcomer", "", "", "", "", "", "", "", ""]
    assert rows[3][:3] == ["Queen", "6040000", TODAY.isoformat()]
    assert rows[3][-3:] == [QUEEN.spotify_id, "412", QUEEN.musicbrainz_id]


def test_compare_draws_one_line_per_artist_on_a_date_axis(qtbot: Any, panel: LibraryPanel, tmp_path: Path) -> None:
    series = {DEEZER_FANS: {"Queen": QUEEN.trends[DEEZER_FANS].recent, "ABBA": ABBA.trends[DEEZER_FANS].recent}}
    panel.chart.show_series("<b>Queen</b>, <b>ABBA</b> compared", series)
    ((plot, _plotted, _crosshair),) = panel.chart._plotted
    assert len(plot.listDataItems()) == 2
    assert set(panel.chart.series["Deezer fans"]) == {"Queen", "ABBA"}
    assert not plot.getViewBox().menuEnabled()

    axis = plot.getAxis("bottom")
    qtbot.waitUntil(lambda: hasattr(axis, "fontMetrics"), timeout=3000)  # painted: the labels are measured
    low, high = axis.range
    labels = [
        text
        for spacing, values in axis.tickValues(low, high, axis.width())
        for text in axis.tickStrings(values, 1, spacing)
    ]
    assert any("Nov" in text or "2026" in text for text in labels), labels
    left = plot.getAxis("left")
    assert all("e+" not in text for text in left.tickStrings([6.02e6, 6.03e6, 6.04e6], 1, 1e4))
    # The view holds every point: the first and the last day are inside the x range.
    (x_low, x_high), _y = plot.getViewBox().viewRange()
    assert x_low <= day_seconds(QUEEN.trends[DEEZER_FANS].recent[0].day) and x_high >= day_seconds(TODAY)

    hover = panel.chart.hover_at(day_seconds(TODAY))
    assert TODAY.isoformat() in hover and "6,040,000" in hover and "5,000" in hover

    rows = panel.export_chart(tmp_path / "chart.csv")
    with open(tmp_path / "chart.csv", newline="", encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    assert rows == len(exported) == len(QUEEN.trends[DEEZER_FANS].recent) + len(ABBA.trends[DEEZER_FANS].recent)
    assert {
        "day": TODAY.isoformat(),
        "artist": "ABBA",
        "platform": "deezer",
        "metric": "followers",
        "value": "5000",
    } in exported


def test_indexed_lines_start_at_100_on_the_first_common_day() -> None:
    lines = {"Queen": figures({10: 200.0, 3: 300.0, 0: 400.0}), "ABBA": figures({3: 50.0, 0: 100.0})}
    result = indexed(lines)
    assert [f.value for f in result["Queen"]] == pytest.approx([200 / 3, 100.0, 400 / 3])
    assert [f.value for f in result["ABBA"]] == [100.0, 200.0]


def test_context_menu_offers_the_actions_for_the_selection(qtbot: Any, panel: LibraryPanel) -> None:
    panel.table.selectAll()
    menu = panel.context_menu()
    enabled = {a.objectName(): a.isEnabled() for a in menu.actions() if a.objectName()}
    assert enabled == {
        "open_spotify": True,
        "open_deezer": True,
        "open_musicbrainz": True,
        "reimport": True,
        "copy_ids": True,
        "set_deezer_id": False,  # one artist at a time
        "clear_deezer_id": True,
        "set_musicbrainz_id": False,
        "clear_musicbrainz_id": True,
        "set_wikipedia_id": False,
        "clear_wikipedia_id": False,  # none of them has an article title yet
        "set_lastfm_id": False,
        "clear_lastfm_id": False,
        "remove_artists": True,
    }
    removed: list[list[int]] = []
    panel.remove_requested.connect(removed.append)
    next(a for a in menu.actions() if a.objectName() == "remove_artists").trigger()
    assert sorted(removed[0]) == [1, 2, 3]
    text = panel.copy_ids(panel.selected_rows())
    assert text.splitlines()[0].split("\t") == ["ABBA", "0LcJLqbBmaGUft1e9Mm8HV", "", ""]


def test_default_columns_show_the_followers_change_and_trend() -> None:
    from artist_desktop.ui.library import metric_columns

    shown = [c.id for c in metric_columns(DEEZER_FANS) if default_visible(c)]
    assert shown == [
        "deezer:followers:latest",
        "deezer:followers:change7",
        "deezer:followers:percent7",
        "deezer:followers:percent28",
        "deezer:followers:trend",
    ]


def test_rows_carry_their_artist_id(panel: LibraryPanel) -> None:
    ids = {panel.proxy.index(n, 0).data(ARTIST_ID_ROLE) for n in range(panel.proxy.rowCount())}
    assert ids == {1, 2, 3}
