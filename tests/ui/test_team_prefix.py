"""Two teams on one Redis (REDIS_PREFIX): a window on prefix A never shows prefix B's artists."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from artist_desktop.bus import ProgressBus, connect_redis
from artist_desktop.config import load_settings
from artist_desktop.domain import ProgressUpdate, Stage
from artist_desktop.runtime import Runtime
from artist_desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.gui

TEAM_A_ARTIST = "AAAAAAAAAAAAAAAAAAAAAA"
TEAM_B_ARTIST = "BBBBBBBBBBBBBBBBBBBBBB"


def test_window_on_prefix_a_never_shows_prefix_b(qtbot: Any, run_async: Any, redis_url: str) -> None:
    settings = load_settings(redis_url=redis_url, redis_prefix=f"team-a-{uuid.uuid4().hex[:6]}:", demo=False)
    services = Runtime(settings)
    run_async(services.start())
    window = MainWindow(settings)
    qtbot.addWidget(window)
    other_team = connect_redis(redis_url)
    try:
        window.attach(services.application)
        team_b = ProgressBus(other_team, prefix=f"team-b-{uuid.uuid4().hex[:6]}:")
        run_async(team_b.publish(ProgressUpdate(TEAM_B_ARTIST, Stage.METADATA, 10, "team B's import")))
        run_async(services.bus.publish(ProgressUpdate(TEAM_A_ARTIST, Stage.METADATA, 10, "team A's import")))
        qtbot.waitUntil(lambda: TEAM_A_ARTIST in window.progress_model.spotify_ids(), timeout=5000)
        run_async(team_b.publish(ProgressUpdate(TEAM_B_ARTIST, Stage.COMPLETE, 100, "done")))
        run_async(services.bus.publish(ProgressUpdate(TEAM_A_ARTIST, Stage.COMPLETE, 100, "done")))
        qtbot.waitUntil(lambda: window.progress_model.find_row(TEAM_A_ARTIST).is_complete, timeout=5000)  # type: ignore[union-attr]
        assert window.progress_model.spotify_ids() == [TEAM_A_ARTIST]
    finally:
        run_async(window.detach())
        run_async(services.stop())
        run_async(other_team.aclose())
