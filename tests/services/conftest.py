"""Fixtures for the API client tests."""

from __future__ import annotations

import pytest

from artist_desktop.devtools.api_double import ApiDouble


@pytest.fixture
def double(api_double: ApiDouble) -> ApiDouble:
    """A fresh API double per test, on the test's own event loop (the shared `api_double`)."""
    return api_double
