"""Callbacks at a later simulated time, as single SimPy queue entries.

Every arrow in lobsim that crosses latency (an order travelling to the exchange, a batch
of reports travelling back, a timer) is exactly one scheduled entry whose callback does
the work. SimPy orders entries of equal time by a global, monotone event id, so ties are
broken by the order in which they were scheduled: never by agent id, never by chance.
A ``simpy.Store`` per message would cost several times the matching itself.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop
from typing import Any

import simpy
from simpy.core import NORMAL


class Environment(simpy.Environment):
    """A SimPy environment that also runs plain ``(fn, arg)`` calls.

    ``Environment.schedule`` puts any object on SimPy's queue with the next event id;
    :class:`Scheduler` puts a ``(fn, arg)`` tuple there instead of an ``Event``: a call has
    exactly one action and cannot fail, and building an ``Event`` per message costs more
    than the matching (measured: it was a fifth of a noise-trader run). ``step`` runs
    such a call directly and hands every real event to SimPy's own ``step``, so SimPy
    processes and events work alongside, in the same (time, priority, id) order.
    """

    def step(self) -> None:
        queue = self._queue
        if queue and type(queue[0][3]) is tuple:
            self._now, _, _, (fn, arg) = heappop(queue)
            fn(arg)
        else:
            super().step()


class Scheduler:
    """Schedules ``fn(arg)`` after a delay in integer nanoseconds of simulated time."""

    __slots__ = ("env", "_schedule")

    def __init__(self, env: Environment) -> None:
        self.env = env
        self._schedule = env.schedule

    @property
    def now(self) -> int:
        """Current simulated time, ns."""
        return self.env.now

    def call_later(self, delay_ns: int, fn: Callable[[Any], None], arg: Any = None) -> None:
        """Run ``fn(arg)`` ``delay_ns`` >= 0 nanoseconds from now. O(log pending events)."""
        self._schedule((fn, arg), NORMAL, delay_ns)  # type: ignore[arg-type]
