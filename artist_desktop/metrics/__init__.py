"""Metric refreshes: the Deezer fan-count refresh and the Deezer-id matcher, headless."""

from artist_desktop.metrics.deezer_matcher import (
    Match,
    best_match,
    find_deezer_id,
    find_missing_deezer_ids,
    undo_match,
)
from artist_desktop.metrics.deezer_refresh import (
    NOT_FOUND,
    DatabaseUnavailableError,
    NothingToRefresh,
    RefreshResult,
    RefreshStatus,
    RefreshSummary,
    refresh_deezer_fans,
)

__all__ = [
    "NOT_FOUND",
    "DatabaseUnavailableError",
    "Match",
    "NothingToRefresh",
    "RefreshResult",
    "RefreshStatus",
    "RefreshSummary",
    "best_match",
    "find_deezer_id",
    "find_missing_deezer_ids",
    "refresh_deezer_fans",
    "undo_match",
]
