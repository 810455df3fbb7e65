"""The settings dialog's Last.fm "Test connection" against the API double: one request, the key's verdict."""

from __future__ import annotations

import pytest

from artist_desktop.config import load_settings
from artist_desktop.connection_checks import LASTFM_CHECK_MBID, ConnectionCheckFailed, check_lastfm
from artist_desktop.devtools.api_double import LASTFM, ApiDouble


async def test_the_demo_key_is_accepted_with_one_request(api_double: ApiDouble) -> None:
    settings = load_settings(**{**api_double.urls.as_settings(), "contact": "analyst@example.org"})
    assert await check_lastfm(settings) == "Last.fm: key accepted"
    assert api_double.request_count(LASTFM) == 1
    assert "analyst@example.org" in (api_double.last_user_agent(LASTFM) or "")
    # the well-known MBID is not in the sample catalog: Last.fm's "not found" still says the key works
    assert LASTFM_CHECK_MBID not in api_double.catalog.by_mbid


async def test_a_wrong_key_is_rejected(api_double: ApiDouble) -> None:
    settings = load_settings(**{**api_double.urls.as_settings(), "lastfm_api_key": "typo"})
    with pytest.raises(ConnectionCheckFailed, match=r"^Last\.fm rejects this key$"):
        await check_lastfm(settings)
    assert api_double.request_count(LASTFM) == 1  # not retried


async def test_a_suspended_key_is_rejected_saying_so(api_double: ApiDouble) -> None:
    api_double.lastfm.suspend_key()
    with pytest.raises(ConnectionCheckFailed, match=r"^Last\.fm rejects this key \(it is suspended\)$"):
        await check_lastfm(load_settings(**api_double.urls.as_settings()))


async def test_no_key_asks_for_one_without_a_request(api_double: ApiDouble) -> None:
    settings = load_settings(**api_double.urls.as_settings(include_credentials=False))
    with pytest.raises(ConnectionCheckFailed, match=r"Enter a Last\.fm API key first"):
        await check_lastfm(settings)
    assert api_double.request_count(LASTFM) == 0


async def test_no_answer_is_a_failure_with_the_reason() -> None:
    settings = load_settings(lastfm_api_url="http://127.0.0.1:9", lastfm_api_key="k")
    with pytest.raises(ConnectionCheckFailed, match=r"Cannot reach Last\.fm"):
        await check_lastfm(settings)
