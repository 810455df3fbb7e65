"""The Qt binding in use survives heavy signal traffic (PySide6 6.12.0 on Python 3.11 does not)."""

from __future__ import annotations

from typing import Any

from artist_desktop.ui.qt import QObject, Signal


class _Emitter(QObject):
    carried = Signal(object)


def test_100k_signals_with_python_objects_do_not_crash(qapp: Any) -> None:
    emitter = _Emitter()
    received: list[int] = []
    emitter.carried.connect(lambda payload: received.append(payload["n"]))
    for n in range(100_000):
        emitter.carried.emit({"n": n, "ok": True, "items": [n, str(n)]})
    assert len(received) == 100_000
    assert received[-1] == 99_999
