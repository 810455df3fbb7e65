"""The status colours: one named colour per state, used by every view that shows how something went.

- complete (a finished import, "In library", a passed connection test): `SUCCESS_COLOR`, green;
- complete with warnings: `WARNING_COLOR`, amber;
- failed (an import or refresh row, an unreachable service, refused input): `ERROR_COLOR`, red;
- waiting for a paused service (Spotify's daily quota): `PAUSED_COLOR`, calm blue;
- cancelled, and the details of queued and running rows: the theme's muted text, `MUTED_ROLE` (a cancelled
  row's bar stays in the error red, as for any import that stopped);
- running: the progress bar in the theme's highlight.

A pause passes by itself and is never drawn in the error red. Only the accents are fixed colours, mid-tones
readable on light and dark themes (the tests hold them to 3:1 on white and on #1e1e1e); the rest follows the theme.
"""

from __future__ import annotations

from artist_desktop.ui.qt import QColor, QPalette

#: Complete: a finished import, an artist already in the library, a connection test that passed.
SUCCESS_COLOR = QColor("#2e7d32")
#: Failed: an import or refresh that failed, a service that is unreachable, input that is refused.
ERROR_COLOR = QColor("#d32f2f")
#: Complete with warnings (an optional source was down, an image failed): amber, between the green and the red.
WARNING_COLOR = QColor("#b26a00")
#: Waiting for a paused service: calm blue, distinct from the error red and the success green.
PAUSED_COLOR = QColor("#2f7bc4")
#: A figure that went up / down over a change window (the library's change columns and sparklines).
RISE_COLOR = SUCCESS_COLOR
FALL_COLOR = ERROR_COLOR
#: The chart's lines, one per artist (distinguishable on light and dark backgrounds; not statuses).
SERIES_COLORS = ("#1db954", "#a238ff", "#ff8c00", "#1e88e5", "#e53935", "#8d6e63", "#00897b", "#c0ca33")
#: An artist with no cached picture: a translucent grey tile with a white initial (reads on either theme).
PLACEHOLDER_FILL = QColor(128, 128, 128, 90)
PLACEHOLDER_TEXT = QColor("white")
#: Text drawn on a filled accent (the "In library" badge).
ON_ACCENT_COLOR = QColor("white")
#: Cancelled rows, and the details of queued and running ones: the theme's muted text.
MUTED_ROLE = QPalette.ColorRole.PlaceholderText

__all__ = [
    "ERROR_COLOR",
    "FALL_COLOR",
    "MUTED_ROLE",
    "ON_ACCENT_COLOR",
    "PAUSED_COLOR",
    "PLACEHOLDER_FILL",
    "PLACEHOLDER_TEXT",
    "RISE_COLOR",
    "SERIES_COLORS",
    "SUCCESS_COLOR",
    "WARNING_COLOR",
]
