"""Metric refreshes: the Deezer fan-count refresh, headless (the Deezer-id matcher is services.deezer_matcher)."""

from artist_desktop.sources.deezer_refresh import (
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
    "NothingToRefresh",
    "RefreshResult",
    "RefreshStatus",
    "RefreshSummary",
    "refresh_deezer_fans",
]
