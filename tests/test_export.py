"""Export rows and their CSV / JSON text: the table shape, the series shape, metric names on the command line."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest

from artist_desktop.domain import DailyFigure, LibraryArtist, MetricTrend
from artist_desktop.export import (
    SERIES_COLUMNS,
    metric_columns,
    metrics_of,
    parse_metrics,
    series_rows,
    table_columns,
    table_rows,
    write_rows,
)

DAY = date(2026, 11, 30)


def _artist(artist_id: int, name: str, **series: list[float]) -> LibraryArtist:
    """An artist whose metrics (``deezer_followers=[...]``) have daily figures ending on DAY."""
    trends = {}
    for key, values in series.items():
        platform, metric = key.split("_", 1)
        figures = [DailyFigure(DAY - timedelta(days=len(values) - 1 - n), v) for n, v in enumerate(values)]
        trends[(platform, metric)] = MetricTrend.of(platform, metric, figures)
    return LibraryArtist(
        artist_id=artist_id,
        name=name,
        country=None,
        image_url=None,
        image_path=None,
        updated_at=datetime(2026, 11, 30, tzinfo=UTC),
        trends=trends,
        ids={"spotify": f"{artist_id:022d}", **({"deezer": str(artist_id * 10)} if artist_id % 2 else {})},
    )


def test_the_table_has_ids_then_each_metrics_latest_figure_day_and_changes() -> None:
    growing = _artist(1, "Growing", deezer_followers=[float(100 + n) for n in range(30)], spotify_popularity=[50, 51])
    new = _artist(2, "New", deezer_followers=[7])
    rows = table_rows([growing, new])
    assert metrics_of([growing, new]) == [("spotify", "popularity"), ("deezer", "followers")]
    assert list(rows[0]) == table_columns([("spotify", "popularity"), ("deezer", "followers")])
    assert rows[0] == {
        "name": "Growing",
        "spotify_id": "0000000000000000000001",
        "deezer_id": "10",
        "musicbrainz_id": None,
        "spotify_popularity": 51,
        "spotify_popularity_day": "2026-11-30",
        "spotify_popularity_change_1d": 1,
        "spotify_popularity_change_1d_pct": 2.0,
        "spotify_popularity_change_7d": None,
        "spotify_popularity_change_7d_pct": None,
        "spotify_popularity_change_28d": None,
        "spotify_popularity_change_28d_pct": None,
        "deezer_followers": 129,
        "deezer_followers_day": "2026-11-30",
        "deezer_followers_change_1d": 1,
        "deezer_followers_change_1d_pct": 0.78,  # 1 / 128
        "deezer_followers_change_7d": 7,
        "deezer_followers_change_7d_pct": 5.74,  # 7 / 122
        "deezer_followers_change_28d": 28,
        "deezer_followers_change_28d_pct": 27.72,  # 28 / 101
    }
    assert rows[1]["spotify_popularity"] is None and rows[1]["deezer_followers"] == 7
    assert rows[1]["deezer_followers_change_1d"] is None


def test_the_table_with_chosen_metrics_has_their_columns_only_even_when_no_artist_has_one() -> None:
    rows = table_rows([_artist(1, "A", deezer_followers=[1.5, 2.0])], [("deezer", "albums"), ("deezer", "followers")])
    expected = ["name", "spotify_id", "deezer_id", "musicbrainz_id"]
    expected += metric_columns("deezer", "albums") + metric_columns("deezer", "followers")
    assert list(rows[0]) == expected
    assert rows[0]["deezer_albums"] is None
    assert rows[0]["deezer_followers_change_1d"] == 0.5  # not a whole number: kept as it is


def test_the_series_has_a_row_per_day_artist_and_metric_from_a_day_on() -> None:
    one, two = _artist(1, "One"), _artist(2, "Two")
    series = {
        ("deezer", "followers"): {
            2: [DailyFigure(DAY - timedelta(days=1), 20.0), DailyFigure(DAY, 21.0)],
            1: [DailyFigure(DAY - timedelta(days=5), 1.0), DailyFigure(DAY, 2.5)],
        },
        ("spotify", "popularity"): {1: [DailyFigure(DAY, 60.0)], 2: []},
    }
    rows = series_rows([one, two], series, since=DAY - timedelta(days=1))
    assert [tuple(row[c] for c in SERIES_COLUMNS[2:]) for row in rows] == [
        ("deezer", "followers", "2026-11-30", 2.5),
        ("deezer", "followers", "2026-11-29", 20),
        ("deezer", "followers", "2026-11-30", 21),
        ("spotify", "popularity", "2026-11-30", 60),
    ]
    assert [row["name"] for row in rows] == ["One", "Two", "Two", "One"]
    assert len(series_rows([one, two], series)) == 5


def test_csv_and_json_text_carry_the_same_rows() -> None:
    rows = table_rows([_artist(1, 'Béla, "the" band', deezer_followers=[1, 2]), _artist(2, "Two")])
    columns = table_columns(metrics_of([_artist(1, "x", deezer_followers=[1])]))
    as_csv, as_json = io.StringIO(), io.StringIO()
    assert write_rows(rows, as_csv, "csv", columns) == 2
    assert write_rows(rows, as_json, "json", columns) == 2
    parsed = list(csv.DictReader(io.StringIO(as_csv.getvalue())))
    assert [row["name"] for row in parsed] == ['Béla, "the" band', "Two"]
    assert parsed[0]["deezer_followers"] == "2" and parsed[1]["deezer_followers"] == ""
    decoded = json.loads(as_json.getvalue())
    assert decoded == [{c: row[c] for c in columns} for row in rows]
    assert list(decoded[0]) == columns

    empty = io.StringIO()
    assert write_rows([], empty, "csv", SERIES_COLUMNS) == 0
    assert empty.getvalue() == "name,spotify_id,platform,metric,day,value\n"
    with pytest.raises(ValueError, match="unknown export format 'xml'"):
        write_rows(rows, io.StringIO(), "xml", columns)


def test_metrics_are_named_platform_colon_metric() -> None:
    assert parse_metrics(" Deezer:followers, spotify:popularity,deezer:followers,") == [
        ("deezer", "followers"),
        ("spotify", "popularity"),
    ]
    with pytest.raises(ValueError, match="'deezer:fans' is not a metric: write platform:metric"):
        parse_metrics("deezer:fans")
    with pytest.raises(ValueError, match="'followers' is not a metric"):
        parse_metrics("followers")
    with pytest.raises(ValueError, match="name at least one metric"):
        parse_metrics(" , ")
