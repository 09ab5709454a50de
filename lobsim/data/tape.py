"""A run's event log as a tape of book events, and the depth it implies.

:func:`read_run_events` reads ``RUN_DIR/events.parquet``; :func:`book_messages` turns its
requests and outcomes into book events in LOBSTER's vocabulary (new, partial cancel,
delete, execution: types 1-4, ticks and lots) while :class:`Depth` keeps the book they
imply. The LOBSTER export (:mod:`lobsim.data.lobster_export`) and the report (:mod:`lobsim.analysis.report`)
both read runs through it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sortedcontainers import SortedDict

from lobsim.scenario.config import MAX_NS, MAX_SECONDS, MAX_TICK_SIZE, MIN_TICK_SIZE
from lobsim.errors import InputError
from lobsim.sim.recorder import KINDS

#: LOBSTER event types
NEW, PARTIAL_CANCEL, DELETE, EXECUTE, EXECUTE_HIDDEN, CROSS, HALT = 1, 2, 3, 4, 5, 6, 7
TYPES = (NEW, PARTIAL_CANCEL, DELETE, EXECUTE, EXECUTE_HIDDEN, CROSS, HALT)
REQUESTS = frozenset({"limit", "market", "cancel", "modify"})

#: One message: (time_ns since the run/file start, type, order id, size lots, price ticks,
#: direction +1/-1, group = seq of the request that caused it).
Message = tuple[int, int, int, int, int, int, int]


@dataclass
class RunEvents:
    """A run's ``events.parquet`` as Python lists, with its tick size (price units per tick)."""

    columns: dict[str, list]
    tick_size: float
    symbol: str


def read_run_events(run_dir: Path) -> RunEvents:
    """Read ``RUN_DIR/events.parquet``, checked (:func:`check_events`); :class:`InputError`
    if it is missing, unreadable or not a consistent lobsim event log."""
    path = Path(run_dir) / "events.parquet"
    if not Path(run_dir).is_dir():
        raise InputError(f"{run_dir}: no such run directory (one holding events.parquet)")
    if not path.exists():
        raise InputError(f"{run_dir}: not a run directory (no events.parquet)")
    from lobsim.sim.output import EVENTS_SCHEMA

    table = read_table(path, EVENTS_SCHEMA, "a lobsim event log")
    meta = {k.decode(errors="replace"): v.decode(errors="replace")
            for k, v in (table.schema.metadata or {}).items()}
    try:
        tick = float(meta["lobsim.tick_size"])
    except (KeyError, ValueError):
        tick = math.nan
    if not MIN_TICK_SIZE <= tick <= MAX_TICK_SIZE:
        raise InputError(f"{path}: not a lobsim event log (lobsim.tick_size in its metadata: "
                         f"expected a number from {MIN_TICK_SIZE:g} to {MAX_TICK_SIZE:g}, got "
                         f"{meta.get('lobsim.tick_size', 'none')[:40]!r})")
    check_events(table, path)
    return RunEvents({name: table.column(name).to_pylist() for name in EVENTS_SCHEMA.names},
                     tick, meta.get("lobsim.symbol", "XYZ"))


def read_table(path: Path, schema: pa.Schema, what: str) -> pa.Table:
    """The Parquet file at ``path``, whose columns must have ``schema``'s names and types
    (others are ignored); :class:`InputError` naming the first column that does not."""
    try:
        table = pq.read_table(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        detail = str(exc).replace(str(path), path.name)  # the path is said once, in front
        raise InputError(f"cannot read {path}: {detail[:200]}") from None
    for f in schema:
        if f.name not in table.column_names:
            raise InputError(f"{path}: not {what} (no column {f.name})")
        actual = table.schema.field(f.name).type
        if actual != f.type:
            raise InputError(f"{path}: not {what} (column {f.name}: expected {f.type}, got {actual})")
    return table


def read_summary(path: Path) -> dict[str, Any]:
    """A run's ``summary.json``: a JSON object whose ``duration_s``, if given, is a number
    in (0, MAX_SECONDS]; :class:`InputError` naming the file otherwise."""
    try:
        summary = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError) as exc:  # ValueError: bad JSON or UTF-8
        raise InputError(f"cannot read {path}: {str(exc)[:200] or 'nested too deep'}") from None
    if not isinstance(summary, dict):
        raise InputError(f"{path}: expected a JSON object, got {type(summary).__name__}")
    duration = summary.get("duration_s", 0)
    if type(duration) not in (int, float) or not 0 <= duration <= MAX_SECONDS:
        raise InputError(f"{path}: duration_s: expected a number of seconds from 0 to "
                         f"{MAX_SECONDS:g}, got {str(duration)[:40]}")
    return summary


#: Outcome rows, whose side, price and qty the tape reads.
_OUTCOMES = ("accepted", "fill", "cancelled", "modified")


def check_events(table: pa.Table, path: Path) -> None:
    """The value ranges an event log must keep: ``seq`` strictly increasing, ``time_ns``
    from 0 to 4e17 and never going back, every ``kind`` known, and on the outcome rows the
    tape reads a side of +1/-1 (null allowed but on accepted and fill rows), a positive
    price (where one is given), a non-negative qty, and fills, cancels and modifies only of
    orders the log accepted (an order acted on out of turn is left to
    :func:`book_messages`, which refuses it naming its seq). :class:`InputError` naming
    the column and the first bad row. O(rows), vectorized."""
    col = {name: table.column(name).combine_chunks() for name in ("seq", "time_ns", "kind",
                                                                  "order_id", "side", "price", "qty")}
    kind, side, price = col["kind"], col["side"], col["price"]
    outcome = pc.is_in(kind, pa.array(_OUTCOMES))

    def on_outcomes(ok: pa.Array) -> pa.Array:  # rows that are not outcomes pass
        return pc.or_kleene(pc.invert(outcome), ok)

    _first_bad(path, pc.is_in(kind, pa.array(KINDS)), "kind", "one of " + ", ".join(KINDS))
    _first_bad(path, pc.and_kleene(pc.greater_equal(col["time_ns"], 0),
                                   pc.less_equal(col["time_ns"], 4 * MAX_NS)),  # MAX_NS + latencies
               "time_ns", "a time from 0 to 4e17 ns")
    if len(table) > 1:
        seq, time = col["seq"], col["time_ns"]
        _first_bad(path, pc.greater(seq[1:], seq[:-1]), "seq", "increasing", offset=1)
        _first_bad(path, pc.greater_equal(time[1:], time[:-1]), "time_ns", "non-decreasing", offset=1)
    unsided = pc.and_kleene(pc.is_null(side), pc.invert(pc.is_in(kind, pa.array(("accepted", "fill")))))
    _first_bad(path, on_outcomes(pc.or_kleene(unsided, pc.is_in(side, pa.array([1, -1], pa.int8())))),
               "side", "+1 or -1")
    _first_bad(path, on_outcomes(pc.or_kleene(pc.is_null(price), pc.greater(price, 0))),
               "price", "a price > 0 ticks")
    _first_bad(path, on_outcomes(pc.greater_equal(col["qty"], 0)), "qty", "lots >= 0")
    placed = col["order_id"].filter(pc.equal(kind, "accepted"))
    acted_on = pc.and_kleene(pc.is_in(kind, pa.array(("fill", "cancelled", "modified"))),
                             pc.is_valid(col["order_id"]))
    _first_bad(path, pc.or_kleene(pc.invert(acted_on), pc.is_in(col["order_id"], placed)),
               "order_id", "an order the log accepted")


def _first_bad(path: Path, ok: pa.Array, column: str, expected: str, offset: int = 0) -> None:
    """:class:`InputError` naming the first row (``offset`` + index) where ``ok`` is not true."""
    bad = pc.invert(pc.fill_null(ok, False))
    if pc.any(bad).as_py():
        row = pc.index(bad, True).as_py() + offset
        raise InputError(f"{path}: not a consistent lobsim event log (column {column}, "
                         f"row {row}: expected {expected})")


class Depth:
    """Aggregated visible lots per price (ticks) on each side, for L1/L2 queries."""

    def __init__(self) -> None:
        self.sides: dict[int, SortedDict] = {1: SortedDict(), -1: SortedDict()}

    def add(self, side: int, price: int, qty: int) -> None:
        levels = self.sides[side]
        left = levels.get(price, 0) + qty
        if left:
            levels[price] = left
        else:
            del levels[price]

    def top(self, levels: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(bids, asks), best first, up to ``levels`` (price ticks, lots) pairs each."""
        bids, asks = self.sides[1], self.sides[-1]
        n = len(bids)
        bid_keys = bids.keys()[max(n - levels, 0):][::-1]
        ask_keys = asks.keys()[:levels]
        return [(p, bids[p]) for p in bid_keys], [(p, asks[p]) for p in ask_keys]

    def best(self) -> tuple[int | None, int, int | None, int]:
        """(bid, bid lots, ask, ask lots); None for an empty side."""
        bids, asks = self.sides[1], self.sides[-1]
        bid = bids.peekitem(-1) if bids else (None, 0)
        ask = asks.peekitem(0) if asks else (None, 0)
        return bid[0], bid[1], ask[0], ask[1]


def book_messages(events: dict[str, list], depth: Depth | None = None) -> Iterator[Message]:
    """Walk a run's event rows (in ``seq`` order) and yield its LOBSTER messages in order.

    ``depth``, if given, is updated before each message is yielded, so the caller sees the
    book *after* the message (as LOBSTER's order-book file does)."""
    depth = depth if depth is not None else Depth()
    resting: dict[int, list[int]] = {}  # order id -> [side, price, lots]
    pending: dict[int, list[int]] = {}  # incoming order id -> [side, price, lots not yet placed]
    group, group_t = -1, 0
    columns = (events[k] for k in ("seq", "time_ns", "kind", "order_id", "side", "price", "qty", "flag"))
    for seq, t, kind, oid, side, price, qty, flag in zip(*columns):
        if kind in REQUESTS:
            yield from _place(pending, resting, depth, group_t, group)
            group, group_t = seq, t
        elif kind == "accepted" and price is not None:
            pending[oid] = [side, price, qty]
        elif kind == "fill":
            if flag == "maker":
                order = _resting(resting, oid, seq)
                order[2] -= qty
                if not order[2]:
                    del resting[oid]
                depth.add(side, price, -qty)
                yield (t, EXECUTE, oid, qty, price, side, group)
            elif oid in pending:
                pending[oid][2] -= qty
        elif kind == "cancelled":
            if oid in pending:
                pending[oid][2] -= qty
            elif oid in resting:
                order = resting[oid]
                order[2] -= qty
                depth.add(order[0], order[1], -qty)
                if order[2]:
                    yield (t, PARTIAL_CANCEL, oid, qty, order[1], order[0], group)
                else:
                    del resting[oid]
                    yield (t, DELETE, oid, qty, order[1], order[0], group)
        elif kind == "modified":
            order = _resting(resting, oid, seq)
            del resting[oid]
            if price == order[1] and qty == order[2]:  # the book changed nothing
                resting[oid] = order
            elif price == order[1] and qty < order[2]:
                resting[oid] = [order[0], price, qty]
                depth.add(order[0], price, qty - order[2])
                yield (t, PARTIAL_CANCEL, oid, order[2] - qty, price, order[0], group)
            else:  # loses priority: leaves, then re-enters (and may trade) under the same id
                depth.add(order[0], order[1], -order[2])
                yield (t, DELETE, oid, order[2], order[1], order[0], group)
                pending[oid] = [order[0], price, qty]
    yield from _place(pending, resting, depth, group_t, group)


def _resting(resting: dict[int, list[int]], oid: int, seq: int) -> list[int]:
    """The resting order ``oid``; :class:`InputError` if the log never placed it."""
    order = resting.get(oid)
    if order is None:
        raise InputError(f"not a consistent lobsim event log: seq {seq} acts on order {oid}, "
                         "which is not resting")
    return order


def _place(pending: dict, resting: dict, depth: Depth, t: int, group: int) -> Iterator[Message]:
    """At the end of a request: what is left of the incoming order rests (type 1)."""
    for oid, (side, price, qty) in pending.items():
        if qty > 0:
            resting[oid] = [side, price, qty]
            depth.add(side, price, qty)
            yield (t, NEW, oid, qty, price, side, group)
    pending.clear()
