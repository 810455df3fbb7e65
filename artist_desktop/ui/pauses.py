"""How the window shows a service pause (Spotify's daily quota): local resume times, an hourglass.

A pause is a state that passes by itself, not a failure: it is drawn in `palette.PAUSED_COLOR`, never in the
error colour. Spotify answers 429 with a Retry-After of hours once a Development Mode app's daily quota is used up
(``../shared/api-facts.md``, Spotify "quota"); the lower layers turn that into a UTC ``resume_at``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from artist_desktop.domain import ServicePause
from artist_desktop.ui.palette import PAUSED_COLOR
from artist_desktop.ui.qt import QColor, QPainter, QPainterPath, QPen, QPixmap, QPointF, QRectF, Qt


def resume_time_text(resume_at: datetime, now: datetime | None = None) -> str:
    """When a paused service answers again, in local time: "14:20" today, with the date otherwise
    ("Tue 30 Nov 14:20"), worded as `ServicePause.local_time` does for the command line. A naive
    ``resume_at`` is taken as UTC (the bus payload's ISO strings are UTC)."""
    if resume_at.tzinfo is None:
        resume_at = resume_at.replace(tzinfo=UTC)
    return ServicePause("", resume_at).local_time(now)


def parse_resume_at(value: object) -> datetime | None:
    """The ``resume_at`` of a progress payload (ISO 8601, UTC) as an aware datetime, or None."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def paint_hourglass(painter: QPainter, rect: QRectF, color: QColor) -> None:
    """An hourglass inside ``rect`` (drawn, not a glyph: it needs no emoji font), sand in the lower bulb."""
    side = min(rect.width(), rect.height())
    box = QRectF(rect.center().x() - side * 0.32, rect.center().y() - side / 2, side * 0.64, side)
    top, bottom, left, right = box.top(), box.bottom(), box.left(), box.right()
    middle = QPointF(box.center().x(), box.center().y())
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(color, max(1.2, side / 10))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    inset = box.width() * 0.12
    glass = QPainterPath()
    glass.moveTo(left + inset, top + side * 0.1)
    glass.lineTo(right - inset, top + side * 0.1)
    glass.lineTo(middle.x() + side * 0.04, middle.y())
    glass.lineTo(right - inset, bottom - side * 0.1)
    glass.lineTo(left + inset, bottom - side * 0.1)
    glass.lineTo(middle.x() - side * 0.04, middle.y())
    glass.closeSubpath()
    painter.drawPath(glass)
    painter.drawLine(QPointF(left, top + side * 0.06), QPointF(right, top + side * 0.06))
    painter.drawLine(QPointF(left, bottom - side * 0.06), QPointF(right, bottom - side * 0.06))
    sand = QPainterPath()
    sand.moveTo(middle.x(), middle.y() + side * 0.12)
    sand.lineTo(right - inset * 1.6, bottom - side * 0.14)
    sand.lineTo(left + inset * 1.6, bottom - side * 0.14)
    sand.closeSubpath()
    painter.fillPath(sand, color)
    painter.restore()


def hourglass_pixmap(size: int, color: QColor = PAUSED_COLOR, device_pixel_ratio: float = 1.0) -> QPixmap:
    """The hourglass as a transparent pixmap (for a status bar label)."""
    pixels = max(1, round(size * device_pixel_ratio))
    pixmap = QPixmap(pixels, pixels)
    pixmap.setDevicePixelRatio(device_pixel_ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    paint_hourglass(painter, QRectF(0, 0, size, size), color)
    painter.end()
    return pixmap


__all__ = ["hourglass_pixmap", "paint_hourglass", "parse_resume_at", "resume_time_text"]
