"""Every message and report of a run, in order, ready for ``events.parquet``.

A row is ``(seq, time_ns, kind, agent, order_id, side, price, qty, flag)``:

* ``seq``: global sequence number, the order in which things happened (the row's index);
* ``kind``: a request as it reaches the exchange (``limit``, ``market``, ``cancel``,
  ``modify``) or an outcome (``accepted``, ``rejected``, ``cancel_rejected``, ``fill``,
  ``cancelled``, ``modified``);
* ``side`` +1 buy / -1 sell, ``price`` ticks, ``qty`` lots (null where they do not apply);
* ``flag``: the reject reason, the cancel cause, or ``maker``/``taker`` for fills.

Rows are recorded as columns of integer codes (:class:`Recorder`) and handed to the run's
:class:`Sink` as :class:`EventColumns` in batches of ``sink.batch_rows``, as the run goes:
a :class:`MemorySink` keeps them all (for callers that read the log in memory), a file
sink (:class:`lobsim.sim.output.RunFiles`) writes them out, so that a long run's memory
stays flat. The compiled twins (``lobsim/sim/_cmarket.pyx``) hand over the same columns.
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
NULL_INT = INT64_MIN
#: Rows per chunk of the recorder's columns.
CHUNK_ROWS = 4096
_KIND_CODES = {kind: code for code, kind in enumerate(KINDS)}
#: The outcomes' codes, which the exchange records by.
ACCEPTED, REJECTED, CANCEL_REJECTED, FILL, CANCELLED, MODIFIED = (
    _KIND_CODES[kind] for kind in KINDS[4:])


def _plain_int(value: Any) -> int:
    """An int field as recorded: anything that is not an int, or not one the log's int64
    columns hold besides their null, becomes :data:`NULL_INT`, so that an agent's malformed
    order (a float price, an id of 2**80) cannot break the log; the exchange answers it
    with a reject."""
    return value if type(value) is int and INT64_MIN < value <= INT64_MAX else NULL_INT


class Sink(Protocol):
    """Where a run's rows go, in order, as the run makes them (one small interface for
    keeping them in memory or writing them to files). Each call hands over the rows that
    follow the previous call's; an engine holds at most ``batch_rows`` rows of a kind
    before it hands them over, and hands over the rest when the run finishes."""

    batch_rows: int

    def events(self, log: EventColumns) -> None:
        """Event rows (see the module docstring), from either engine."""

    def book(self, rows: list[tuple]) -> None:
        """(time_ns, side, level, price, qty) L2 snapshot rows."""

    def agents(self, rows: list[tuple]) -> None:
        """(time_ns, agent, cash, inventory, pnl2, spread_capture2, fills) sample rows."""


class MemorySink:
    """Keeps everything: the sink of a run whose caller reads its rows in memory (tests,
    :mod:`lobsim.rl.env`). By default nothing is handed over before the end of the run, so the
    log is one :class:`EventColumns` (None before the engine's first hand-over)."""

    def __init__(self, batch_rows: int = sys.maxsize) -> None:
        self.batch_rows = batch_rows
        self.event_log: EventColumns | None = None
        self.book_rows: list[tuple] = []
        self.agent_rows: list[tuple] = []

    def events(self, log: EventColumns) -> None:
        held = self.event_log
        self.event_log = log.after(held) if held is not None and len(held) else log

    def book(self, rows: list[tuple]) -> None:
        self.book_rows.extend(rows)

    def agents(self, rows: list[tuple]) -> None:
        self.agent_rows.extend(rows)


class DiscardSink:
    """Keeps nothing: for a caller that reads only the summary (a sweep)."""

    batch_rows = 1 << 16

    def events(self, log: EventColumns) -> None:
        pass

    def book(self, rows: list[tuple]) -> None:
        pass

    def agents(self, rows: list[tuple]) -> None:
        pass


class Recorder:
    """Records event rows as integer columns and hands them to ``sink`` as
    :class:`EventColumns`; see the module docstring. ``len(recorder)`` counts every row
    recorded; ``held`` those not handed over yet.

    Rows go into chunks of :data:`CHUNK_ROWS` preallocated columns (compiled,
    ``recorder.pxd`` types them as int views: a row is eight C stores); ``kind`` is coded
    by :data:`KINDS`, ``agent`` by its index in ``agents`` (the market's agents, in
    order: a session's ``index``), ``flag`` by order of first appearance. Memory: 40 B a
    row held. O(1) a row; O(rows) a flush."""

    def __init__(self, agents: list[str], sink: Sink | None = None) -> None:
        self.agents = list(agents)
        self.sink: Sink = sink if sink is not None else MemorySink()
        self.batch_rows = self.sink.batch_rows
        self.flushed = 0  # rows handed to the sink so far: the seq of the first row held
        self.held = 0
        self._full: list[tuple[np.ndarray, ...]] = []  # full chunks held, column by column
        self._flags: list[str] = []
        self._flag_codes: dict[str, int] = {}
        self._new_chunk()

    def __len__(self) -> int:
        return self.flushed + self.held

    def _new_chunk(self) -> None:
        self._time = np.empty(CHUNK_ROWS, np.int64)
        self._kind = np.empty(CHUNK_ROWS, np.int8)
        self._agent = np.empty(CHUNK_ROWS, np.int32)
        self._order = np.empty(CHUNK_ROWS, np.int64)
        self._side = np.empty(CHUNK_ROWS, np.int8)
        self._price = np.empty(CHUNK_ROWS, np.int64)
        self._qty = np.empty(CHUNK_ROWS, np.int64)
        self._flag = np.empty(CHUNK_ROWS, np.int16)
        self._n = 0

    def _chunk(self, rows: int) -> tuple[np.ndarray, ...]:
        """The current chunk's first ``rows`` rows, column by column (views, not copies)."""
        return (np.asarray(self._time)[:rows], np.asarray(self._kind)[:rows],
                np.asarray(self._agent)[:rows], np.asarray(self._order)[:rows],
                np.asarray(self._side)[:rows], np.asarray(self._price)[:rows],
                np.asarray(self._qty)[:rows], np.asarray(self._flag)[:rows])

    def flush(self) -> None:
        """Hand the rows held to the sink as one :class:`EventColumns` (the engine calls
        it at the end of a run; then even with none held, so that a memory sink's log is
        columns, as the compiled twins leave it)."""
        parts = self._full + [self._chunk(self._n)]
        columns = [np.concatenate([part[i] for part in parts]) for i in range(8)]
        log = EventColumns(time_ns=columns[0], kind=columns[1], kinds=list(KINDS),
                           agent=columns[2], agents=self.agents, order_id=columns[3],
                           side=columns[4], price=columns[5], qty=columns[6],
                           flag=columns[7], flags=list(self._flags), first_seq=self.flushed)
        self._full, self._n = [], 0  # the chunk's arrays are reused: the log holds copies
        self.flushed += self.held
        self.held = 0
        self.sink.events(log)

    def row(self, time_ns: int, kind: int, agent: int, order_id: Hashable, side: int | None,
            price: int | None, qty: int | None, flag: str | None) -> None:
        """An outcome (``kind``: its code, e.g. :data:`FILL`) of the order of agent number
        ``agent``; None: null."""
        self._store(time_ns, kind, agent, _plain_int(order_id),
                    0 if side is None else side, _plain_int(price), _plain_int(qty), flag)

    def request(self, time_ns: int, agent: int, request: Request) -> None:
        """Record a request as it reaches the exchange (values are checked later)."""
        op = request.op
        side, price, qty = 0, NULL_INT, NULL_INT
        if request.is_new_order():
            side = request.side
            side = int(side) if type(side) is not bool and side in (1, -1) else 0
        if op != "cancel":
            price, qty = _plain_int(request.price), _plain_int(request.qty)
        self._store(time_ns, _KIND_CODES[op], agent, _plain_int(request.order_id), side, price,
                    qty, None)

    def _store(self, time_ns: int, kind: int, agent: int, order_id: int, side: int, price: int,
               qty: int, flag: str | None) -> None:
        n = self._n
        self._time[n] = time_ns
        self._kind[n] = kind
        self._agent[n] = agent
        self._order[n] = order_id
        self._side[n] = side
        self._price[n] = price
        self._qty[n] = qty
        self._flag[n] = -1 if flag is None else _code(self._flag_codes, self._flags, flag)
        self._n = n + 1
        self.held += 1
        if self._n == len(self._time):  # the chunk is full
            self._full.append(self._chunk(CHUNK_ROWS))
            self._new_chunk()
        if self.held >= self.batch_rows:
            self.flush()


def _code(codes: dict[str, int], labels: list[str], label: str) -> int:
    """``label``'s code: its index in ``labels``, appended on first sight. O(1)."""
    code = codes.get(label)
    if code is None:
        code = codes[label] = len(labels)
        labels.append(label)
    return code


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
