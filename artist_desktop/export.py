"""The library as rows to export, and those rows written as CSV or JSON to a text stream (no Qt, no database).

Two shapes; both keep their columns in a fixed order, and a figure that is missing is empty in CSV and
``null`` in JSON.

**The table** (:func:`table_rows`), one row per artist::

    name, spotify_id, deezer_id, musicbrainz_id,
    then for each metric ``<platform>_<metric>`` (e.g. ``deezer_followers``):
        deezer_followers             the latest daily figure
        deezer_followers_day         its UTC day, ISO (2026-11-30)
        deezer_followers_change_1d   the change over 1 day (absolute)     } then 7d and 28d, as the library
        deezer_followers_change_1d_pct  ... and in percent, 2 decimals   } computes them (`MetricTrend`)

**The series** (:func:`series_rows`), the chart's data: one row per day, artist and metric, oldest day first::

    name, spotify_id, platform, metric, day, value

Whole numbers are written as integers (5615520, not 5615520.0).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import TextIO

from artist_desktop.domain import CHANGE_WINDOWS, DailyFigure, LibraryArtist, MetricType, Platform

__all__ = [
    "FORMATS",
    "SERIES_COLUMNS",
    "TABLE_ID_COLUMNS",
    "metric_columns",
    "metrics_of",
    "parse_metrics",
    "series_rows",
    "table_columns",
    "table_rows",
    "write_rows",
]

#: The formats :func:`write_rows` writes.
FORMATS = ("csv", "json")
#: The table's first columns, before each metric's.
TABLE_ID_COLUMNS = ("name", "spotify_id", "deezer_id", "musicbrainz_id")
#: The columns of the series shape.
SERIES_COLUMNS = ("name", "spotify_id", "platform", "metric", "day", "value")

Metric = tuple[str, str]


def metric_columns(platform: str, metric: str) -> list[str]:
    """The table's columns for one metric: latest figure, its day, then each change window absolute and %."""
    key = f"{platform}_{metric}"
    columns = [key, f"{key}_day"]
    for days in CHANGE_WINDOWS:
        columns += [f"{key}_change_{days}d", f"{key}_change_{days}d_pct"]
    return columns


def table_columns(metrics: Sequence[Metric]) -> list[str]:
    """Every column of the table shape for these metrics, in order."""
    return [*TABLE_ID_COLUMNS, *(column for metric in metrics for column in metric_columns(*metric))]


def metrics_of(artists: Iterable[LibraryArtist]) -> list[Metric]:
    """The metrics any of these artists has a trend for, in the domain's order (platforms, then metric types;
    others after, sorted)."""
    present = {key for artist in artists for key in artist.trends}
    order = {(p.value, m.value): n for n, (p, m) in enumerate((p, m) for p in Platform for m in MetricType)}
    return sorted(present, key=lambda key: (order.get(key, len(order)), key))


def table_rows(artists: Sequence[LibraryArtist], metrics: Sequence[Metric] | None = None) -> list[dict[str, object]]:
    """One row per artist, in the given order: ids, then for each metric (default: every metric any artist
    has, :func:`metrics_of`) its latest figure, day and changes (see the module docstring)."""
    chosen = list(metrics) if metrics is not None else metrics_of(artists)
    rows: list[dict[str, object]] = []
    for artist in artists:
        row: dict[str, object] = {
            "name": artist.name,
            "spotify_id": artist.spotify_id,
            "deezer_id": artist.deezer_id,
            "musicbrainz_id": artist.musicbrainz_id,
        }
        for platform, metric in chosen:
            trend = artist.trends.get((platform, metric))
            key = f"{platform}_{metric}"
            row[key] = _number(trend.latest.value) if trend else None
            row[f"{key}_day"] = trend.latest.day.isoformat() if trend else None
            for days in CHANGE_WINDOWS:
                change = trend.change(days) if trend else None
                percent = trend.change_percent(days) if trend else None
                row[f"{key}_change_{days}d"] = None if change is None else _number(change)
                row[f"{key}_change_{days}d_pct"] = None if percent is None else round(percent, 2)
        rows.append(row)
    return rows


def series_rows(
    artists: Sequence[LibraryArtist],
    series: Mapping[Metric, Mapping[int, Sequence[DailyFigure]]],
    since: date | None = None,
) -> list[dict[str, object]]:
    """One row per day, artist and metric (see the module docstring): metrics in the order given, artists in
    the order given, days oldest first; only days on or after ``since`` when given."""
    rows: list[dict[str, object]] = []
    for (platform, metric), by_artist in series.items():
        for artist in artists:
            for figure in by_artist.get(artist.artist_id, ()):
                if since is not None and figure.day < since:
                    continue
                rows.append(
                    {
                        "name": artist.name,
                        "spotify_id": artist.spotify_id,
                        "platform": platform,
                        "metric": metric,
                        "day": figure.day.isoformat(),
                        "value": _number(figure.value),
                    }
                )
    return rows


def write_rows(rows: Sequence[Mapping[str, object]], stream: TextIO, fmt: str, columns: Sequence[str]) -> int:
    """Write ``rows`` to ``stream`` as ``"csv"`` (a header of ``columns``, then one line per row; None is empty)
    or ``"json"`` (an array of objects with ``columns`` as keys, in order). Returns the number of rows."""
    if fmt == "csv":
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if row.get(c) is None else row.get(c) for c in columns] for row in rows])
    elif fmt == "json":
        json.dump([{c: row.get(c) for c in columns} for row in rows], stream, indent=2, ensure_ascii=False)
        stream.write("\n")
    else:
        raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    return len(rows)


def parse_metrics(text: str) -> list[Metric]:
    """``"deezer:followers,spotify:popularity"`` as metrics; ValueError naming what is not one."""
    known_platforms = {p.value for p in Platform}
    known_metrics = {m.value for m in MetricType}
    metrics: list[Metric] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        platform, _, metric = item.partition(":")
        platform, metric = platform.strip().lower(), metric.strip().lower()
        if platform not in known_platforms or metric not in known_metrics:
            raise ValueError(
                f"{item!r} is not a metric: write platform:metric with a platform of "
                f"{', '.join(sorted(known_platforms))} and a metric of {', '.join(sorted(known_metrics))}"
            )
        if (platform, metric) not in metrics:
            metrics.append((platform, metric))
    if not metrics:
        raise ValueError("name at least one metric, e.g. deezer:followers")
    return metrics


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
