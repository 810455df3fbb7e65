"""Status colours come from ui/palette.py only, stay apart from each other and read on light and dark themes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from artist_desktop.application import Health
from artist_desktop.config import load_settings
from artist_desktop.sources import RefreshResult
from artist_desktop.ui import palette
from artist_desktop.ui.main_window import MainWindow
from artist_desktop.ui.palette import ERROR_COLOR, ON_ACCENT_COLOR, PAUSED_COLOR, SUCCESS_COLOR
from artist_desktop.ui.qt import QColor, QSettings, Qt
from artist_desktop.ui.refresh_dialogs import RefreshResultsModel

pytestmark = pytest.mark.gui

UI = Path(palette.__file__).parent
#: A colour written in code: a hex literal, a named QColor, or a QColor built from numbers.
COLOUR_LITERAL = re.compile(
    r"""#(?:[0-9a-fA-F]{8}|[0-9a-fA-F]{6})\b|["']#[0-9a-fA-F]{3}["']|QColor\(\s*["'\d]|Qt\.GlobalColor\.(?!transparent)"""
)
#: Colours that are no status but live elsewhere (none: the chart's series are in the palette too).
NOT_STATUSES: set[tuple[str, str]] = set()


def test_no_ui_module_but_the_palette_writes_a_colour() -> None:
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(UI.glob("*.py"))
        if path.name != "palette.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if COLOUR_LITERAL.search(line) and not any(path.name == name and part in line for name, part in NOT_STATUSES)
    ]
    assert found == []


def _luminance(colour: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())


def _contrast(one: QColor, other: QColor) -> float:
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("background", ["#ffffff", "#1e1e1e"])
def test_each_accent_reads_on_light_and_dark_themes(background: str) -> None:
    for accent in (SUCCESS_COLOR, ERROR_COLOR, PAUSED_COLOR):
        assert _contrast(accent, QColor(background)) >= 3.0, (accent.name(), background)
    assert _contrast(ON_ACCENT_COLOR, SUCCESS_COLOR) >= 4.5  # the "In library" badge's text


def test_a_pause_is_not_told_as_a_failure_or_a_success() -> None:
    names = {SUCCESS_COLOR.name(), ERROR_COLOR.name(), PAUSED_COLOR.name()}
    assert len(names) == 3
    assert PAUSED_COLOR.blue() > PAUSED_COLOR.red() and ERROR_COLOR.red() > ERROR_COLOR.blue()


def test_failed_refresh_rows_and_unreachable_services_use_the_error_colour(qtbot: Any, tmp_path: Path) -> None:
    model = RefreshResultsModel()
    model.set_results(
        [RefreshResult(1, "Alpha Band", True, value=10), RefreshResult(2, "Bravo Singer", False, error="gone")]
    )
    foreground = Qt.ItemDataRole.ForegroundRole
    assert model.data(model.index(0, 1), foreground) is None
    assert QColor(model.data(model.index(1, 1), foreground)) == ERROR_COLOR

    window = MainWindow(load_settings(), state=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show_health(Health(False, "127.0.0.1:6379", True, "SQLite", demo=False))
    assert window.redis_label.styleSheet() == f"color: {ERROR_COLOR.name()};"
    assert window.database_label.styleSheet() == ""
