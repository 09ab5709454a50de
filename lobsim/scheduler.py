"""Callbacks at a later simulated time, as single SimPy events.

Every arrow in lobsim that crosses latency (an order travelling to the exchange, a batch
of reports travelling back, a timer) is exactly one scheduled event whose callback does
the work. SimPy orders events of equal time by a global, monotone event id, so ties are
broken by the order in which they were scheduled: never by agent id, never by chance.
A ``simpy.Store`` per message would cost several times the matching itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from heapq import heappop

import simpy
from simpy.core import NORMAL


class _Call(simpy.Event):
    """An event that is born triggered and runs ``fn(arg)`` when the clock reaches it."""

    def __init__(self, env: simpy.Environment, fn: Callable[[Any], None], arg: Any) -> None:
        # Event.__init__ is bypassed: this is the hot path (one per message), the event is
        # scheduled at once by Scheduler.call_later, and Environment.step runs it directly.
        self.env = env
        self.callbacks = None
        self._value = None
        self._ok = True
        self.fn = fn
        self.arg = arg


class Environment(simpy.Environment):
    """A SimPy environment with a fast path for lobsim's scheduled calls.

    ``step`` runs a :class:`_Call` directly (it has exactly one action and cannot fail)
    and hands every other event to SimPy's own ``step`` logic, so SimPy processes and
    events still work alongside. Order is SimPy's: (time, priority, event id).
    """

    def step(self) -> None:
        queue = self._queue
        if queue and type(queue[0][3]) is _Call:
            self._now, _, _, event = heappop(queue)
            event.fn(event.arg)
        else:
            super().step()


class Scheduler:
    """Schedules ``fn(arg)`` after a delay in integer nanoseconds of simulated time."""

    __slots__ = ("env", "_schedule")

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self._schedule = env.schedule

    @property
    def now(self) -> int:
        """Current simulated time, ns."""
        return self.env.now

    def call_later(self, delay_ns: int, fn: Callable[[Any], None], arg: Any = None) -> None:
        """Run ``fn(arg)`` ``delay_ns`` >= 0 nanoseconds from now. O(log pending events)."""
        self._schedule(_Call(self.env, fn, arg), NORMAL, delay_ns)
