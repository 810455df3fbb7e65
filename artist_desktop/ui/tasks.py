"""The one helper for background work in the window: coroutines run as tracked tasks, never touching widgets.

A coroutine does the work; its result, or its error, comes back through the callbacks on the loop thread.
Every task is cancelled when the window detaches, so closing the window never leaves work running.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class TaskRunner:
    """Runs coroutines on the current (qasync) loop and cancels them all on `cancel_all`."""

    def __init__(self, on_error: Callable[[str, BaseException], None] | None = None) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._named: dict[str, asyncio.Task[Any]] = {}
        self._on_error = on_error

    def run(
        self,
        coro: Coroutine[Any, Any, T],
        on_success: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        *,
        name: str = "",
        replace: bool = False,
    ) -> asyncio.Task[T]:
        """Start `coro`; with `replace`, a running task of the same name is cancelled first (stale search)."""
        if name and replace and (old := self._named.get(name)) is not None:
            old.cancel()
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        if name:
            self._named[name] = task

        def done(finished: asyncio.Task[T]) -> None:
            self._tasks.discard(finished)
            if name and self._named.get(name) is finished:
                del self._named[name]
            if finished.cancelled():
                return
            error = finished.exception()
            if error is None:
                if on_success is not None:
                    on_success(finished.result())
            elif on_error is not None:
                on_error(error)
            elif self._on_error is not None:
                self._on_error(name or "background task", error)
            else:
                log.error("%s failed", name or "background task", exc_info=error)

        task.add_done_callback(done)
        return task

    def running(self, name: str) -> bool:
        return name in self._named

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._named.clear()
