"""Callbacks at a later simulated time, in one order with SimPy's events.

Every arrow in lobsim that crosses latency (an order travelling to the exchange, a batch
of reports travelling back, a timer) is exactly one scheduled call whose callback does the
work. Calls of equal time are taken in the order they were scheduled (a global, monotone
sequence number): never by agent id, never by chance.

Calls wait in the scheduler's own binary heap of :class:`Call` records, ordered by
``(time ns, sequence)``; SimPy's events (``scheduler.env.timeout(...)``,
``env.process(...)``) wait in the environment's heap as usual, ordered by ``(time,
priority, sequence)``. Both draw their sequence numbers from one counter, and a call
ranks as a ``NORMAL`` event, so :meth:`Scheduler.run_until` (and ``env.step``) always
takes the earlier of the two heads: one total order, as if they shared a queue. A call
has exactly one action and cannot fail, so it is run directly: building a SimPy
``Event`` per message would cost more than the matching.

The heap is written here rather than taken from ``heapq`` so that, compiled, a call is a
typed record compared in C (two int64 fields) instead of a tuple compared field by field
through Python's rich comparison (docs/market.md has the measurement). A call due at or
past :data:`lobsim.units.HORIZON_NS` (292 years) is dropped: no run lasts that long, and
its time would not fit the record's int64.

This module is compiled by Cython when a compiler is present (``scheduler.pxd`` types it);
the same source runs as plain Python otherwise (see :mod:`lobsim.sim.build`).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import simpy
from simpy.core import NORMAL

from lobsim.units import HORIZON_NS


class Sequence:
    """The one counter of calls and SimPy events: an iterator (SimPy takes its event ids
    with ``next``), which the scheduler also reads directly."""

    def __init__(self) -> None:
        self.value = 0

    def __iter__(self) -> Sequence:
        return self

    def __next__(self) -> int:
        return self.take()

    def take(self) -> int:
        value = self.value
        self.value = value + 1
        return value


class Call:
    """``fn(arg)``, due at ``time`` (ns), the ``sequence``-th thing scheduled. Made only by
    :meth:`Scheduler.call_later`, which sets the four fields itself (``scheduler.pxd``
    types them)."""

    time: int
    sequence: int
    fn: Callable[[Any], None]
    arg: Any

    def after_event(self, entry: tuple) -> bool:
        """Whether this call runs after SimPy's queue entry ``(time, priority, id, event)``
        (a call ranks as a NORMAL event)."""
        return (entry[0], entry[1], entry[2]) < (self.time, NORMAL, self.sequence)


class Environment(simpy.Environment):
    """A SimPy environment whose clock is its :class:`Scheduler`'s, and whose ``step`` and
    ``peek`` also see the scheduler's calls (for code that calls ``env.run`` or
    ``env.step`` itself; lobsim's markets run through :meth:`Scheduler.run_until`)."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler
        super().__init__(0)
        self._eid = scheduler.sequence

    @property  # type: ignore[override]
    def _now(self) -> int:
        return self.scheduler.now

    @_now.setter
    def _now(self, value: int) -> None:
        self.scheduler.now = value

    def peek(self) -> float:
        call = self.scheduler.next_call()
        if call is None or (self._queue and call.after_event(self._queue[0])):
            return super().peek()
        return call.time

    def step(self) -> None:
        if not self.scheduler.run_next_call():
            super().step()


#: allocations between two collections of the youngest generation during a run
GC_BATCH = 50_000


class Scheduler:
    """Schedules ``fn(arg)`` after a delay in integer nanoseconds of simulated time, and
    runs the calls and SimPy's events in order. ``now``: simulated time, ns (SimPy's
    ``env.now`` is the same clock)."""

    def __init__(self) -> None:
        self.now = 0
        self.sequence = Sequence()
        self.env = Environment(self)
        self._calls: list[Call] = []  # a binary heap: _calls[0] runs first

    def call_later(self, delay_ns: int, fn: Callable[[Any], None], arg: Any = None) -> None:
        """Run ``fn(arg)`` ``delay_ns`` >= 0 nanoseconds from now (never, if that is at or
        past :data:`lobsim.units.HORIZON_NS`). O(log pending calls)."""
        time = self.now + delay_ns
        if time >= HORIZON_NS:
            return
        # Call.__new__ and plain stores, not a constructor: compiled, this skips the
        # argument parsing of a Python-level call, once per message
        call = Call.__new__(Call)
        call.time, call.sequence, call.fn, call.arg = time, self.sequence.take(), fn, arg
        self._push(call)

    def next_call(self) -> Call | None:
        """The call that runs next, or None."""
        return self._calls[0] if self._calls else None

    def run_next_call(self) -> bool:
        """Run the next call if it comes before SimPy's next event; whether it did."""
        calls, queue = self._calls, self.env._queue
        if not calls or (queue and calls[0].after_event(queue[0])):
            return False
        call = self._pop()
        self.now = call.time
        call.fn(call.arg)
        return True

    def run_until(self, until_ns: int) -> None:
        """Run every call and event due before ``until_ns``, in order; then the clock reads
        ``until_ns`` (as SimPy's ``env.run(until=...)`` leaves it). Whatever is due at
        exactly ``until_ns`` stays for the next call. O(entries run x log pending).

        While it runs, the collector's youngest generation waits for :data:`GC_BATCH`
        allocations instead of Python's 700: a market allocates a few short-lived objects per
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
        calls, queue, env = self._calls, self.env._queue, self.env
        until = min(until_ns, HORIZON_NS)
        while calls or queue:
            if calls and not (queue and calls[0].after_event(queue[0])):
                call = calls[0]
                if call.time >= until:
                    break
                self._pop()
                self.now = call.time
                call.fn(call.arg)
            elif queue[0][0] < until_ns:
                # a SimPy event: SimPy processes it (and sets the clock)
                simpy.Environment.step(env)
            else:
                break
        if until_ns > self.now:
            self.now = until_ns

    def _push(self, call: Call) -> None:
        """Add ``call`` to the heap (sift it up from the end). O(log pending)."""
        calls = self._calls
        calls.append(call)
        i = len(calls) - 1
        while i > 0:
            parent = (i - 1) >> 1
            above = calls[parent]
            # stop under a call that runs first; the comparison is written out, as a
            # method call would cost the interpreted build more than it (likewise in _pop)
            if above.time < call.time or (above.time == call.time
                                          and above.sequence < call.sequence):
                break
            calls[i] = above
            i = parent
        calls[i] = call

    def _pop(self) -> Call:
        """Remove and return the first call (the last one sifts down from the root).
        O(log pending)."""
        calls = self._calls
        first, last = calls[0], calls.pop()
        n = len(calls)
        if n == 0:
            return first
        i = 0
        while True:
            child = 2 * i + 1
            if child >= n:
                break
            earlier = calls[child]
            if child + 1 < n:
                right = calls[child + 1]
                if right.time < earlier.time or (right.time == earlier.time
                                                 and right.sequence < earlier.sequence):
                    child, earlier = child + 1, right
            if last.time < earlier.time or (last.time == earlier.time
                                            and last.sequence < earlier.sequence):
                break
            calls[i] = earlier
            i = child
        calls[i] = last
        return first
