"""Breakers for optional sources: after a few calls in a row fail, stop calling the source for a while.

An optional source (MusicBrainz, Deezer in an import, an image host) that is down should cost each
artist a warning, not a full retry budget: after :data:`FAILURES_TO_OPEN` calls in a row that the
source did not answer, :meth:`Breaker.call` raises
:class:`~artist_desktop.services.errors.SourceSkippedError` ("MusicBrainz unavailable, skipped") at once,
without a request. Every :data:`PROBE_INTERVAL` seconds one call is let through as a probe: its answer
closes the breaker, its failure keeps it open for another interval.

States (:class:`BreakerState`) and their transitions, all in :meth:`Breaker._settle` and :meth:`Breaker._enter`::

    CLOSED  --FAILURES_TO_OPEN failed calls in a row-->  OPEN
    OPEN    --a call after PROBE_INTERVAL-->            PROBING (that one call is the probe)
    PROBING --the probe answered-->                     CLOSED
    PROBING --the probe failed-->                       OPEN (next probe PROBE_INTERVAL later)
    PROBING --the probe ended without a verdict-->      OPEN (the next call probes at once)
    OPEN    --an answer to a call sent before it opened-->  CLOSED

A *failure* is a call that ends, after its retries, in an error saying the source did not serve it
(:func:`verdict`): unavailable, timed out, refused for its rate or quota, or a garbled answer. An answer
that says "no such thing" (404) or "bad request" is the source working. A refusal by our own rate gate
(before any request) and a cancelled call count neither way.

Breakers count calls (each after its retries), not single requests: one artist whose resource keeps failing
(Deezer answering 500 for one id) must not switch the source off for the others, whose successes keep the
count at zero.

State is per process (one breaker per client and source): a source that is down is found so by each
process within its first few calls, which costs little; sharing the state would cost a Redis round trip
per call for that.

Libraries considered: ``pybreaker`` supports coroutines only through Tornado; ``purgatory`` and
``circuitbreaker`` let every call through once the open time has passed (not a single probe), and
``aiobreaker`` has had no release since 2021. This module is the small part of them the app needs.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from artist_desktop.services.errors import (
    BadResponseError,
    RateLimitedError,
    ServiceError,
    ServiceUnavailableError,
    SourceSkippedError,
)

T = TypeVar("T")

log = logging.getLogger(__name__)

#: Failed calls in a row that open a breaker. Each call has already been retried with backoff, so three in a
#: row with no answer in between is an outage, not a blip; and it is few enough that a down source costs
#: only the first three artists their retry time.
FAILURES_TO_OPEN = 3
#: Seconds between probes while a breaker is open: an outage is usually over in minutes, and one request
#: every 30 s is nothing to a recovering service.
PROBE_INTERVAL = 30.0


class BreakerState(enum.Enum):
    """Where a breaker stands; the transitions are listed in the module docstring."""

    CLOSED = "closed"
    OPEN = "open"
    PROBING = "probing"


def verdict(error: BaseException) -> bool | None:
    """What a call ending in ``error`` says about the source: False an outage (a breaker failure), True an
    answer, None nothing (our own gate refused before any request, a skip, or a bug on our side)."""
    if isinstance(error, SourceSkippedError):
        return None
    if isinstance(error, RateLimitedError):
        return False if error.status is not None else None  # no status: our gate, not the source
    if isinstance(error, ServiceUnavailableError | BadResponseError):
        return False
    return True if isinstance(error, ServiceError) else None


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` says the source did not serve the call (a breaker failure)."""
    return verdict(error) is False


class Breaker:
    """One optional source's breaker: :meth:`call` runs a call, or raises SourceSkippedError while open.

    ``name`` words the skip ("MusicBrainz", "Image host i.scdn.co"); ``service`` is the error's service.
    """

    def __init__(
        self,
        service: str,
        name: str | None = None,
        *,
        failures_to_open: int = FAILURES_TO_OPEN,
        probe_interval: float = PROBE_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failures_to_open < 1 or probe_interval <= 0:
            raise ValueError("a breaker needs failures_to_open >= 1 and probe_interval > 0")
        self.service = service
        self.name = name or service
        self.failures_to_open = failures_to_open
        self.probe_interval = probe_interval
        self._clock = clock
        self.state = BreakerState.CLOSED
        #: Failed calls since the last answer.
        self.failures = 0
        self._next_probe = 0.0

    def __repr__(self) -> str:
        return f"<Breaker {self.name}: {self.state.value}, {self.failures} failures in a row>"

    @property
    def next_probe_in(self) -> float:
        """Seconds until an open breaker lets its next probe through (0 when closed or due)."""
        if self.state is BreakerState.CLOSED:
            return 0.0
        return max(0.0, self._next_probe - self._clock())

    def skipped(self) -> SourceSkippedError:
        """The error a call turned away by this breaker raises."""
        return SourceSkippedError(self.service, f"{self.name} unavailable, skipped")

    async def call(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run ``attempt`` (one call with its retries) unless the breaker is open; record how it ended."""
        probe = self._enter()
        outcome: bool | None = None  # cancelled: no verdict
        try:
            result = await attempt()
        except Exception as exc:
            outcome = verdict(exc)
            raise
        else:
            outcome = True
            return result
        finally:
            self._settle(outcome, probe)

    def _enter(self) -> bool:
        """Admit a call (True when it is the probe) or raise SourceSkippedError."""
        if self.state is BreakerState.CLOSED:
            return False
        if self.state is BreakerState.OPEN and self._clock() >= self._next_probe:
            self.state = BreakerState.PROBING
            log.info("%s: probing after %d failed calls", self.name, self.failures)
            return True
        raise self.skipped()

    def _settle(self, outcome: bool | None, probe: bool) -> None:
        if outcome is True:
            if self.state is not BreakerState.CLOSED:
                log.info("%s answers again: calling it again", self.name)
            self.state = BreakerState.CLOSED
            self.failures = 0
        elif outcome is False:
            self.failures += 1
            if probe or (self.state is BreakerState.CLOSED and self.failures >= self.failures_to_open):
                if self.state is BreakerState.CLOSED:
                    log.warning(
                        "%s failed %d calls in a row: skipped for %g s", self.name, self.failures, self.probe_interval
                    )
                self.state = BreakerState.OPEN
                self._next_probe = self._clock() + self.probe_interval
        elif probe and self.state is BreakerState.PROBING:
            self.state = BreakerState.OPEN  # no verdict: the next call probes at once
            self._next_probe = self._clock()


__all__ = ["FAILURES_TO_OPEN", "PROBE_INTERVAL", "Breaker", "BreakerState", "is_outage", "verdict"]
