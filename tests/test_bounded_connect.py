"""A database or Redis that accepts connections and never answers fails start-up within CONNECT_TIMEOUT, in one
sentence naming it."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from artist_desktop.config import load_settings
from artist_desktop.runtime import Runtime, StartupError

BOUND = 1.0


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port whose server lets connections in (the kernel's backlog) and never reads or answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield server.getsockname()[1]


def test_the_default_bound_is_a_few_seconds() -> None:
    assert load_settings().connect_timeout == 5.0


async def _start_fails(runtime: Runtime) -> tuple[float, str]:
    started = time.monotonic()
    with pytest.raises(StartupError) as failure:
        await runtime.start()
    await runtime.stop()
    return time.monotonic() - started, str(failure.value)


async def test_a_redis_that_never_answers_fails_within_the_bound(
    silent_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARTIST_DESKTOP_REDIS_URL", f"redis://127.0.0.1:{silent_port}")
    monkeypatch.setenv("ARTIST_DESKTOP_CONNECT_TIMEOUT", str(BOUND))
    took, message = await _start_fails(Runtime(load_settings()))
    assert took < BOUND + 2, f"took {took:.1f} s"
    assert message == (
        f"Redis at redis://127.0.0.1:{silent_port} does not answer (no answer within 1 s): start it, "
        "or remove REDIS_URL to use the app's own."
    )


async def test_a_postgresql_that_never_answers_fails_within_the_bound(
    silent_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARTIST_DESKTOP_DATABASE_URL", f"postgresql://artist@127.0.0.1:{silent_port}/artists")
    monkeypatch.setenv("ARTIST_DESKTOP_CONNECT_TIMEOUT", str(BOUND))
    runtime = Runtime(load_settings())
    took, message = await _start_fails(runtime)
    assert took < BOUND + 3, f"took {took:.1f} s"  # the embedded Redis starts first
    assert message == (
        f"PostgreSQL at 127.0.0.1:{silent_port} does not answer (no answer within 1 s): check DATABASE_URL and "
        "that the server runs."
    )


def test_an_unusable_bound_is_refused_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from artist_desktop.config import SettingsError

    monkeypatch.setenv("ARTIST_DESKTOP_CONNECT_TIMEOUT", "0")
    with pytest.raises(SettingsError, match="ARTIST_DESKTOP_CONNECT_TIMEOUT: must be between"):
        load_settings()
