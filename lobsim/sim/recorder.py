"""Every message and report of a run, in order, ready for ``events.parquet``.

A row is ``(seq, time_ns, kind, agent, order_id, side, price, qty, flag)``:

* ``seq``: global sequence number, the order in which things happened (the row's index);
* ``kind``: a request as it reaches the exchange (``limit``, ``market``, ``cancel``,
  ``modify``) or an outcome (``accepted``, ``rejected``, ``cancel_rejected``, ``fill``,
  ``cancelled``, ``modified``);
* ``side`` +1 buy / -1 sell, ``price`` ticks, ``qty`` lots (null where they do not apply);
* ``flag``: the reject reason, the cancel cause, or ``maker``/``taker`` for fills.

Rows are appended as tuples (one append per row on the hot path) and handed to the run's
:class:`Sink` in batches of ``sink.batch_rows``, as the run goes: a :class:`MemorySink`
keeps them all (for callers that read the log in memory), a file sink
(:class:`lobsim.sim.output.RunFiles`) writes them out, so that a long run's memory stays flat.
The compiled engine (``lobsim/sim/_cmarket.pyx``) records columns of integer codes instead,
and hands over :class:`EventColumns`, which give the same rows.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from lobsim.sim.ledger import INT64_MAX, INT64_MIN
from lobsim.sim.requests import Request

COLUMNS = ("seq", "time_ns", "kind", "agent", "order_id", "side", "price", "qty", "flag")
#: Every ``kind``, in the order of the compiled engine's codes.
KINDS = ("limit", "market", "cancel", "modify", "accepted", "rejected", "cancel_rejected",
         "fill", "cancelled", "modified")
#: Null in :class:`EventColumns`' integer columns (side: 0; flag: -1).
NULL_INT = np.iinfo(np.int64).min


def _plain_int(value: Any) -> int | None:
    """An int field of a request as recorded: anything that is not an int, or not one the
    log's int64 columns hold, becomes null, so that an agent's malformed order (a float
    price, an id of 2**80) cannot break the log; the exchange answers it with a reject."""
    return value if type(value) is int and INT64_MIN <= value <= INT64_MAX else None


class Sink(Protocol):
    """Where a run's rows go, in order, as the run makes them (one small interface for
    keeping them in memory or writing them to files). Each call hands over the rows that
    follow the previous call's; an engine holds at most ``batch_rows`` rows of a kind
    before it hands them over, and hands over the rest when the run finishes."""

    batch_rows: int

    def events(self, log: list[tuple] | EventColumns) -> None:
        """Event rows (see the module docstring), from either engine."""

    def book(self, rows: list[tuple]) -> None:
        """(time_ns, side, level, price, qty) L2 snapshot rows."""

    def agents(self, rows: list[tuple]) -> None:
        """(time_ns, agent, cash, inventory, pnl2, spread_capture2, fills) sample rows."""


class MemorySink:
    """Keeps everything: the sink of a run whose caller reads its rows in memory (tests,
    :mod:`lobsim.rl.env`). By default nothing is handed over before the end of the run, so the
    log stays one list (Python engine) or one :class:`EventColumns` (compiled engine)."""

    def __init__(self, batch_rows: int = sys.maxsize) -> None:
        self.batch_rows = batch_rows
        self.event_log: list[tuple] | EventColumns = []
        self.book_rows: list[tuple] = []
        self.agent_rows: list[tuple] = []

    def events(self, log: list[tuple] | EventColumns) -> None:
        if isinstance(log, EventColumns):
            held = self.event_log
            self.event_log = log.after(held) if isinstance(held, EventColumns) and len(held) else log
        else:
            held = self.event_log
            if held:
                held.extend(log)  # type: ignore[union-attr]
            else:
                self.event_log = log

    def book(self, rows: list[tuple]) -> None:
        self.book_rows.extend(rows)

    def agents(self, rows: list[tuple]) -> None:
        self.agent_rows.extend(rows)


class DiscardSink:
    """Keeps nothing: for a caller that reads only the summary (a sweep)."""

    batch_rows = 1 << 16

    def events(self, log: list[tuple] | EventColumns) -> None:
        pass

    def book(self, rows: list[tuple]) -> None:
        pass

    def agents(self, rows: list[tuple]) -> None:
        pass


class Recorder:
    """Collects event rows and hands them to ``sink`` in batches; see the module docstring.
    ``rows`` holds the rows not handed over yet; ``len(recorder)`` counts them all."""

    def __init__(self, sink: Sink | None = None) -> None:
        self.sink: Sink = sink if sink is not None else MemorySink()
        self.batch_rows = self.sink.batch_rows
        self.rows: list[tuple] = []
        self.flushed = 0  # rows handed to the sink so far: the seq of rows[0]

    def __len__(self) -> int:
        return self.flushed + len(self.rows)

    def flush(self) -> None:
        """Hand the rows held to the sink (the engine calls it at the end of a run)."""
        if self.rows:
            rows, self.rows = self.rows, []
            self.flushed += len(rows)
            self.sink.events(rows)

    def row(self, time_ns: int, kind: str, agent: str, order_id: Hashable, side: int | None,
            price: int | None, qty: int | None, flag: str | None) -> None:
        rows = self.rows
        rows.append((self.flushed + len(rows), time_ns, kind, agent, _plain_int(order_id),
                          None if side is None else int(side), price, qty, flag))
        if len(rows) >= self.batch_rows:
            self.flush()

    def request(self, time_ns: int, agent: str, request: Request) -> None:
        """Record a request as it reaches the exchange (values are checked later)."""
        rows = self.rows
        seq = self.flushed + len(rows)
        op = request.op
        order_id = _plain_int(request.order_id)
        if request.is_new_order():
            side = request.side
            side = int(side) if type(side) is not bool and side in (1, -1) else None
            rows.append((seq, time_ns, op, agent, order_id, side,
                         _plain_int(request.price), _plain_int(request.qty), None))
        elif op == "modify":
            rows.append((seq, time_ns, op, agent, order_id, None,
                         _plain_int(request.price), _plain_int(request.qty), None))
        else:
            rows.append((seq, time_ns, op, agent, order_id, None, None, None, None))
        if len(rows) >= self.batch_rows:
            self.flush()


@dataclass(frozen=True)
class EventColumns:
    """An event log as columns (what the compiled engine records), one entry per row.

    ``kind``, ``agent`` and ``flag`` are codes into ``kinds``, ``agents`` and ``flags``
    (flag -1: null); ``order_id``, ``price`` and ``qty`` hold :data:`NULL_INT` for null,
    ``side`` 0. ``seq`` is ``first_seq`` plus the row's index (a batch of a longer log
    starts past 0).
    """

    time_ns: np.ndarray
    kind: np.ndarray
    kinds: list[str]
    agent: np.ndarray
    agents: list[str]
    order_id: np.ndarray
    side: np.ndarray
    price: np.ndarray
    qty: np.ndarray
    flag: np.ndarray
    flags: list[str]
    first_seq: int = 0

    def __len__(self) -> int:
        return len(self.time_ns)

    def columns(self) -> dict[str, tuple[np.ndarray, np.ndarray | None, list[str] | None]]:
        """{column: (values, null mask or None, labels for coded strings or None)}, in
        :data:`COLUMNS` order."""
        return {
            "seq": (np.arange(self.first_seq, self.first_seq + len(self), dtype=np.int64), None, None),
            "time_ns": (self.time_ns, None, None),
            "kind": (self.kind, None, self.kinds),
            "agent": (self.agent, None, self.agents),
            "order_id": (self.order_id, self.order_id == NULL_INT, None),
            "side": (self.side, self.side == 0, None),
            "price": (self.price, self.price == NULL_INT, None),
            "qty": (self.qty, self.qty == NULL_INT, None),
            "flag": (self.flag, self.flag < 0, self.flags),
        }

    def rows(self) -> list[tuple]:
        """The log as the Python :class:`Recorder`'s row tuples."""
        lists = []
        for values, null, labels in self.columns().values():
            column = values.tolist()
            if labels is not None:
                column = [None if code < 0 else labels[code] for code in column]
            elif null is not None:
                column = [None if gone else value for value, gone in zip(column, null.tolist())]
            lists.append(column)
        return list(zip(*lists))

    def after(self, earlier: EventColumns) -> EventColumns:
        """``earlier`` followed by these rows, as one log (the codes' labels only grow as a
        run goes, so the latest batch's labels name every code). O(rows)."""
        def join(name: str) -> np.ndarray:
            return np.concatenate([getattr(earlier, name), getattr(self, name)])
        return EventColumns(time_ns=join("time_ns"), kind=join("kind"), kinds=self.kinds,
                            agent=join("agent"), agents=self.agents, order_id=join("order_id"),
                            side=join("side"), price=join("price"), qty=join("qty"),
                            flag=join("flag"), flags=self.flags, first_seq=earlier.first_seq)


class MidChanges:
    """Running statistics of the mid's changes between snapshots, for the summary's
    ``mid_volatility``: O(1) memory however long the run. Sums are exact integers
    (half-ticks), so the figure does not depend on how the run was cut."""

    def __init__(self) -> None:
        self.last: int | None = None  # twice the previous mid, ticks
        self.n = self.sum = self.sum_squares = 0

    def add(self, mid2: int) -> None:
        """One snapshot's mid (twice the mid, ticks)."""
        if self.last is not None:
            change = mid2 - self.last
            self.n += 1
            self.sum += change
            self.sum_squares += change * change
        self.last = mid2

    def std(self, tick_size: float) -> float | None:
        """Population standard deviation of the changes, price units; None below 2 changes."""
        if self.n < 2:
            return None
        variance_n2 = self.n * self.sum_squares - self.sum * self.sum  # n^2 x variance, half-ticks^2
        return math.sqrt(variance_n2) / self.n * tick_size / 2


class Samples:
    """Book snapshot rows and agent sample rows as a run takes them (both engines append
    to ``book`` and ``agents``), handed to ``sink`` in batches; and the mid's
    :class:`MidChanges`. Memory: at most ``sink.batch_rows`` rows of each."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.book: list[tuple] = []  #: (time_ns, side, level, price, qty)
        self.agents: list[tuple] = []  #: (time_ns, agent, cash, inventory, pnl2, spread_capture2, fills)
        self.mid_changes = MidChanges()

    def taken(self, mid2: int) -> None:
        """One snapshot's rows were appended; ``mid2``: twice its mid, ticks."""
        self.mid_changes.add(mid2)
        if max(len(self.book), len(self.agents)) >= self.sink.batch_rows:
            self.flush()

    def flush(self) -> None:
        """Hand the rows held to the sink (the engine calls it at the end of a run)."""
        if self.book:
            rows, self.book = self.book, []
            self.sink.book(rows)
        if self.agents:
            rows, self.agents = self.agents, []
            self.sink.agents(rows)
