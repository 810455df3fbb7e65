"""Numbers as analysts write them: 845K, 1.2M, +3.4K, +1.8 %; used by the library table, its charts and tooltips."""

from __future__ import annotations

import math
from collections.abc import Sequence

_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))
NO_VALUE = "–"


def compact(value: float | None) -> str:
    """``6924620 -> "6.92M"``, ``845000 -> "845K"``, ``1234 -> "1.23K"``, ``999 -> "999"``, ``None -> "–"``.

    Three significant digits above a thousand (Chartmetric's and Soundcharts' style); whole numbers below.
    """
    if value is None or math.isnan(value):
        return NO_VALUE
    size = abs(value)
    for threshold, suffix in _SUFFIXES:
        if size >= threshold * 0.9995:  # 999,950 reads "1M", not "1000K"
            scaled = value / threshold
            digits = 0 if abs(scaled) >= 99.95 else 1 if abs(scaled) >= 9.995 else 2
            text = f"{scaled:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{scaled:.0f}"
            return f"{text}{suffix}"
    if size == int(size):
        return f"{int(value)}"
    return f"{value:.1f}".rstrip("0").rstrip(".")


def signed_compact(value: float | None) -> str:
    """A change: ``+12.3K``, ``-845``, ``0``; ``None -> "–"``."""
    if value is None or math.isnan(value):
        return NO_VALUE
    text = compact(value)
    return f"+{text}" if value > 0 else text


def signed_percent(value: float | None) -> str:
    """A relative change: ``+1.8 %``, ``-0.4 %``, ``0 %``, and below 0.05 % in magnitude ``<0.1 %``."""
    if value is None or math.isnan(value):
        return NO_VALUE
    if value == 0:
        return "0 %"
    if abs(value) < 0.05:
        return f"{'+' if value > 0 else '-'}<0.1 %"
    digits = 0 if abs(value) >= 100 else 1
    return f"{value:+.{digits}f} %"


def full(value: float | None) -> str:
    """The exact figure with thousands separators, for tooltips and the chart's hover label."""
    if value is None or math.isnan(value):
        return NO_VALUE
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def axis_ticks(values: Sequence[float], spacing: float) -> list[str]:
    """Tick labels for an axis: one suffix for all (from the largest tick) and as many decimals as the tick
    ``spacing`` needs, so neighbouring ticks never read the same (``6.924M, 6.925M`` rather than ``6.92M`` twice).
    """
    if not values:
        return []
    largest = max(abs(v) for v in values)
    threshold, suffix = next(((t, s) for t, s in _SUFFIXES if largest >= t), (1.0, ""))
    step = spacing / threshold if spacing > 0 else 1.0
    digits = min(4, max(0, math.ceil(-math.log10(step)))) if step < 1 else 0
    return [f"{value / threshold:.{digits}f}{suffix}" if value else "0" for value in values]
