"""The window in team mode: Process all only queues; a shared worker imports; the status bar says so."""

from __future__ import annotations

from typing import Any

import pytest

from artist_desktop.config import load_settings
from artist_desktop.devtools.api_double import ApiDouble
from artist_desktop.domain import JobStatus
from artist_desktop.runtime import Runtime
from artist_desktop.ui.main_window import MainWindow

pytestmark = [pytest.mark.postgres, pytest.mark.gui]


def test_window_in_team_mode_queues_and_a_shared_worker_imports(
    qtbot: Any, run_async: Any, team_env: dict[str, str], team_double: ApiDouble, workers: Any
) -> None:
    settings = load_settings(
        database_url=team_env["ARTIST_DESKTOP_DATABASE_URL"],
        redis_url=team_env["ARTIST_DESKTOP_REDIS_URL"],
        redis_prefix=team_env["ARTIST_DESKTOP_REDIS_PREFIX"],
        **team_double.urls.as_settings(),
    )
    assert settings.team_mode and not settings.runs_local_worker
    services = Runtime(settings)
    run_async(services.start())
    window = MainWindow(settings)
    qtbot.addWidget(window)
    try:
        window.attach(services.application)
        artists = team_double.catalog.artists[:3]
        window.queue_panel.add([(a.spotify_id, a.name) for a in artists])
        window.queue_panel.process_all()

        def queued() -> bool:
            outcomes = run_async(services.runner.outcomes([a.spotify_id for a in artists]))
            return len(outcomes) == 3 and all(o.status is JobStatus.QUEUED for o in outcomes)

        qtbot.waitUntil(queued, timeout=10000)
        qtbot.wait(1500)  # the window itself must not start them
        assert queued()

        workers.start("shared", 2)  # a worker on "another machine" picks them up
        qtbot.waitUntil(
            lambda: all(
                row is not None and row.is_complete
                for row in (window.progress_model.find_row(a.spotify_id) for a in artists)
            ),
            timeout=60000,
        )
        window._refresh_health()
        qtbot.waitUntil(lambda: "1 worker live" in window.team_label.text(), timeout=10000)
        assert window.team_label.text().startswith("Team mode · 127.0.0.1")
    finally:
        run_async(window.detach())
        run_async(services.stop())
