"""GUI fixtures: window state in a tmp dir, the API double in a thread, and a started window on real services."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from artist_desktop.config import Settings, load_settings
from artist_desktop.devtools.api_double import ApiDouble
from artist_desktop.runtime import Runtime
from artist_desktop.services import ServiceClients
from artist_desktop.ui.main_window import MainWindow
from artist_desktop.ui.qt import QSettings


@pytest.fixture(autouse=True)
def window_state_dir(tmp_path: Path) -> Path:
    """QSettings (window geometry, splitters, last tab) go to the test's tmp dir, never the user's."""
    path = tmp_path / "qsettings"
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(path))
    return path


@dataclass
class Desktop:
    window: MainWindow
    services: Runtime
    double: ApiDouble | None


def _open(qtbot: Any, run_async: Any, services: Runtime, double: ApiDouble | None) -> Iterator[Desktop]:
    run_async(services.start())
    window = MainWindow(services.settings)
    window.show()
    qtbot.waitExposed(window)
    try:
        window.attach(services.application)
        qtbot.waitUntil(lambda: not window.tasks.running("runner-start"), timeout=5000)
        yield Desktop(window, services, double)
    finally:
        run_async(window.detach())
        run_async(services.stop())
        window.close()
        window.deleteLater()


@pytest.fixture
def desktop(
    qtbot: Any,
    run_async: Any,
    threaded_double: ApiDouble,
    redis_url: str,
    redis_prefix: str,
    double_settings: Callable[..., Settings],
    fast_clients: Callable[[Settings], ServiceClients],
) -> Iterator[Desktop]:
    """The window attached to started services that talk to the API double."""
    settings = double_settings(threaded_double, redis_url, redis_prefix)
    yield from _open(qtbot, run_async, Runtime(settings, clients=fast_clients(settings)), threaded_double)


@pytest.fixture
def offline_desktop(
    qtbot: Any,
    run_async: Any,
    redis_url: str,
    redis_prefix: str,
    fast_clients: Callable[[Settings], ServiceClients],
) -> Iterator[Desktop]:
    """The window on real Redis and SQLite, with (unused) credentials and no API double."""
    settings = load_settings(
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        spotify_client_id="unused",
        spotify_client_secret="unused",
        spotify_api_url="http://127.0.0.1:9/v1",
        spotify_accounts_url="http://127.0.0.1:9",
        contact="analyst@example.org",  # a set-up app: no first-run question over the window
    )
    yield from _open(qtbot, run_async, Runtime(settings, clients=fast_clients(settings)), None)
