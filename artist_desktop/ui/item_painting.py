"""What custom list delegates paint first: the style's item panel (selection, hover, focus) and the text colours."""

from __future__ import annotations

from dataclasses import dataclass

from artist_desktop.ui.palette import MUTED_ROLE
from artist_desktop.ui.qt import (
    QColor,
    QModelIndex,
    QPainter,
    QPalette,
    QPersistentModelIndex,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
)


@dataclass(frozen=True, slots=True)
class ItemInk:
    """The colours a delegate writes with on a painted panel: the state-aware text colour and a muted one
    (the same as the text when the item is selected, so secondary text stays readable on the highlight)."""

    text: QColor
    muted: QColor
    selected: bool


def paint_item_panel(
    delegate: QStyledItemDelegate,
    painter: QPainter,
    option: QStyleOptionViewItem,
    index: QModelIndex | QPersistentModelIndex,
) -> ItemInk:
    """Fill ``option`` for ``index``, draw the view's item panel without the default text and icon (the delegate
    draws its own), and return the colours for what goes on top."""
    delegate.initStyleOption(option, index)
    option.text = ""
    option.icon = type(option.icon)()
    widget = option.widget
    if widget is not None:
        widget.style().drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, widget)
    palette: QPalette = option.palette
    selected = bool(option.state & QStyle.StateFlag.State_Selected)
    text = palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
    return ItemInk(text, text if selected else palette.color(MUTED_ROLE), selected)
