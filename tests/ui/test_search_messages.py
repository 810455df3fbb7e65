"""What a failed search says: the daily quota as a time (with the date when not today), Premium as the app
owner's subscription, and the wording of a resume time; plain functions, no window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from artist_desktop.services.errors import (
    AuthenticationError,
    PremiumRequiredError,
    QuotaExceededError,
    RateLimitedError,
)
from artist_desktop.ui.pauses import parse_resume_at, resume_time_text
from artist_desktop.ui.search import pause_end, search_error_message

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _local(moment: datetime) -> datetime:
    return moment.astimezone()


def test_quota_message_gives_the_local_time_today_and_the_date_otherwise() -> None:
    soon = NOW + timedelta(hours=2, minutes=20)
    error = QuotaExceededError("Spotify", "quota", retry_after=8400, resume_at=soon)
    message = search_error_message(error, now=NOW)
    assert message == f"Spotify's daily quota is used up: search is available again at {resume_time_text(soon, NOW)}"
    same_day = _local(soon).date() == _local(NOW).date()
    assert resume_time_text(soon, NOW) == _local(soon).strftime("%H:%M" if same_day else "%a %d %b %H:%M")
    later = NOW + timedelta(hours=30)
    message = search_error_message(QuotaExceededError("Spotify", "quota", resume_at=later), now=NOW)
    assert message.endswith(_local(later).strftime("%a %d %b %H:%M"))
    assert pause_end(error) == soon


def test_a_retry_after_over_a_minute_is_a_pause_and_a_short_one_a_rate_limit() -> None:
    long_wait = RateLimitedError("Spotify", "rate limit", retry_after=3600)
    assert pause_end(long_wait, now=NOW) == NOW + timedelta(hours=1)
    assert "daily quota is used up" in search_error_message(long_wait, now=NOW)
    short_wait = RateLimitedError("Spotify", "rate limit", retry_after=30)
    assert pause_end(short_wait) is None
    assert search_error_message(short_wait) == "Spotify's rate limit was reached: try again in 30 s."


def test_premium_is_not_a_credentials_problem() -> None:
    message = search_error_message(PremiumRequiredError("Spotify", "Active premium subscription required"))
    assert "Premium" in message and "account that owns this Spotify app" in message
    assert "check them in Settings" not in message
    assert "check them in Settings" in search_error_message(AuthenticationError("Spotify", "invalid_client"))


def test_resume_times_read_from_the_bus_payload() -> None:
    assert parse_resume_at("2026-11-29T14:20:00+00:00") == datetime(2026, 11, 29, 14, 20, tzinfo=UTC)
    assert parse_resume_at("2026-11-29T14:20:00Z") == datetime(2026, 11, 29, 14, 20, tzinfo=UTC)
    assert parse_resume_at("soon") is None and parse_resume_at(None) is None
    naive = datetime(2026, 11, 29, 14, 20)
    assert resume_time_text(naive, now=NOW) == resume_time_text(naive.replace(tzinfo=UTC), now=NOW)
