"""Fixtures for the bus tests: a fresh bus per test (the session redis-server is in tests/conftest.py)."""

from __future__ import annotations
