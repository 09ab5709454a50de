"""A run's event log as a tape of book events, and the depth it implies.

:func:`read_run_events` reads ``RUN_DIR/events.parquet``; :func:`book_messages` turns its
requests and outcomes into book events in LOBSTER's vocabulary (new, partial cancel,
delete, execution: types 1-4, ticks and lots) while :class:`Depth` keeps the book they
imply. The LOBSTER export (:mod:`lobsim.data.lobster_export`) and the report (:mod:`lobsim.analysis.report`)
both read runs through it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
from sortedcontainers import SortedDict

from lobsim.errors import InputError

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
    """Read ``RUN_DIR/events.parquet``; :class:`InputError` if it is missing or unreadable."""
    path = Path(run_dir) / "events.parquet"
    if not Path(run_dir).is_dir():
        raise InputError(f"{run_dir}: no such run directory (one holding events.parquet)")
    if not path.exists():
        raise InputError(f"{run_dir}: not a run directory (no events.parquet)")
    try:
        table = pq.read_table(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    from lobsim.sim.output import EVENTS_SCHEMA

    missing = [name for name in EVENTS_SCHEMA.names if name not in table.column_names]
    if missing:
        raise InputError(f"{path}: not a lobsim event log (no column {', '.join(missing)})")
    meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
    try:
        tick = float(meta["lobsim.tick_size"])
    except (KeyError, ValueError):
        raise InputError(f"{path}: not a lobsim event log (no valid lobsim.tick_size "
                         "in its metadata)") from None
    return RunEvents({name: table.column(name).to_pylist() for name in table.column_names},
                     tick, meta.get("lobsim.symbol", "XYZ"))


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
                order = resting[oid]
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
            order = resting.pop(oid)
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


def _place(pending: dict, resting: dict, depth: Depth, t: int, group: int) -> Iterator[Message]:
    """At the end of a request: what is left of the incoming order rests (type 1)."""
    for oid, (side, price, qty) in pending.items():
        if qty > 0:
            resting[oid] = [side, price, qty]
            depth.add(side, price, qty)
            yield (t, NEW, oid, qty, price, side, group)
    pending.clear()
