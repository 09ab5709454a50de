"""Callbacks at a later simulated time, on SimPy's own event queue.

Every arrow in lobsim that crosses latency (an order travelling to the exchange, a batch
of reports travelling back, a timer) is exactly one queue entry whose callback does the
work. Entries of equal time are taken in the order they were scheduled (a global,
monotone sequence number): never by agent id, never by chance.

The queue is SimPy's: entries are ``(time ns, priority, sequence, ...)`` on the
environment's heap, numbered by its own counter, so that SimPy processes and events
(``scheduler.env.timeout(...)``, ``env.process(...)``) run beside agents in one
(time, priority, sequence) order. SimPy's entries end with an event, which SimPy
processes as usual; a call's entry ends with ``fn, arg`` (five fields: the sequence
numbers are unique, so tuples of both lengths compare on their first three), and
:meth:`Scheduler.run_until` runs it directly: a call has exactly one action and cannot
fail, and building an ``Event`` per message would cost more than the matching.

This module is compiled by Cython when a compiler is present (``scheduler.pxd`` types it);
the same source runs as plain Python otherwise (see :mod:`lobsim.sim.build`).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.core import NORMAL


class Environment(simpy.Environment):
    """A SimPy environment whose clock is its :class:`Scheduler`'s, and whose ``step``
    also runs plain ``(fn, arg)`` calls (for code that calls ``env.run`` or ``env.step``
    itself; lobsim's markets run through :meth:`Scheduler.run_until`)."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler
        super().__init__(0)

    @property  # type: ignore[override]
    def _now(self) -> int:
        return self.scheduler.now

    @_now.setter
    def _now(self, value: int) -> None:
        self.scheduler.now = value

    def step(self) -> None:
        queue = self._queue
        if queue and len(queue[0]) == 5:
            now, _, _, fn, arg = heappop(queue)
            self.scheduler.now = now
            fn(arg)
        else:
            super().step()


#: allocations between two collections of the youngest generation during a run
GC_BATCH = 50_000


class Scheduler:
    """Schedules ``fn(arg)`` after a delay in integer nanoseconds of simulated time, and
    runs the queue. ``now``: simulated time, ns (SimPy's ``env.now`` is the same clock)."""

    def __init__(self) -> None:
        self.now = 0
        self.env = Environment(self)
        self._queue: list = self.env._queue
        self._sequence = self.env._eid  # SimPy's counter: one order for calls and events

    def call_later(self, delay_ns: int, fn: Callable[[Any], None], arg: Any = None) -> None:
        """Run ``fn(arg)`` ``delay_ns`` >= 0 nanoseconds from now. O(log pending entries)."""
        heappush(self._queue, (self.now + delay_ns, NORMAL, next(self._sequence), fn, arg))

    def run_until(self, until_ns: int) -> None:
        """Run every entry due before ``until_ns``, in order; then the clock reads
        ``until_ns`` (as SimPy's ``env.run(until=...)`` leaves it). An entry at exactly
        ``until_ns`` stays for the next call. O(entries run x log pending).

        While it runs, the collector's youngest generation waits for :data:`GC_BATCH`
        allocations instead of Python's 700: a market allocates a few short-lived tuples per
        message, and with the default threshold the collector spent 15% of a compiled run
        walking the survivors (docs/market.md). Reference counting still frees everything
        at once; only cycles wait a little longer."""
        threshold = gc.get_threshold()
        if threshold[0] and threshold[0] < GC_BATCH:
            gc.set_threshold(GC_BATCH, *threshold[1:])
        try:
            self._run(until_ns)
        finally:
            gc.set_threshold(*threshold)

    def _run(self, until_ns: int) -> None:
        queue = self._queue
        env = self.env
        while queue:
            entry = queue[0]
            if entry[0] >= until_ns:
                break
            if len(entry) == 5:
                heappop(queue)
                self.now = entry[0]
                entry[3](entry[4])
            else:
                env.step()  # a SimPy event: SimPy processes it (and sets the clock)
        if until_ns > self.now:
            self.now = until_ns
