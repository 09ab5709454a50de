"""The order flow of a LOBSTER message file, as arrays, with the best quotes around it.

:func:`order_flow` turns parsed messages (:func:`lobsim.data.lobster.read_messages`) and, when
there is one, the order-book file into a :class:`Flow`: for each message the best bid and
ask after it (ticks), the distance of the message's order from its side's best before it,
whether the order was entered in the file, the market orders (executions grouped), and the
order-seconds that orders entered in the file spent at each distance (the exposure that
cancel rates per resting order are estimated from): what calibration
(:mod:`lobsim.analysis.calibration`) needs beyond :class:`~lobsim.data.rundata.RunData`
(which the realism statistics and issue 16's targets read). Executions are grouped and
distances from the best measured by the same functions as there
(:func:`lobsim.data.rundata.execution_groups`, :func:`lobsim.analysis.samples.behind_best`).

Best quotes: from the order-book file when given (row i is the book after message i);
else rebuilt from the orders entered in the file only (orders from before the file are
unknown), which is close once the file has run a while in a busy market. Units: times in
seconds after midnight, prices in ticks, sizes in lots (shares). O(N x K) for N messages
and K distance buckets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce

import numpy as np

from lobsim.errors import InputError
from lobsim.data.lobster import LobsterMessage
from lobsim.data.rundata import execution_groups, orderbook_levels
from lobsim.analysis.metrics import sample_last
from lobsim.analysis.samples import behind_best
from lobsim.book.orders import Side
from lobsim.data.lobster_sync import LobsterBook
from lobsim.data.tape import DELETE, EXECUTE, NEW, PARTIAL_CANCEL, Depth

#: distance code of a new order that improves its side's best (inside the spread)
INSIDE = -1
#: distance code where the side's best was not known
UNKNOWN = -2
VISIBLE = (NEW, PARTIAL_CANCEL, DELETE, EXECUTE)


@dataclass
class Flow:
    """A message file's flow (see the module docstring); arrays have one entry per message."""

    source: str
    tick_units: int  #: LOBSTER price units (1/10000) per tick
    times: np.ndarray  #: seconds after midnight
    types: np.ndarray
    sizes: np.ndarray  #: lots
    prices: np.ndarray  #: ticks (0 for hidden types without a price)
    directions: np.ndarray  #: +1 buy / -1 sell order (for executions: the resting order)
    bid: np.ndarray  #: best bid after the message, ticks (nan: empty or unknown)
    ask: np.ndarray  #: best ask after the message, ticks (nan: empty or unknown)
    bid_size: np.ndarray  #: lots at the best bid after the message (0: empty or unknown)
    ask_size: np.ndarray  #: lots at the best ask after the message
    distance: np.ndarray  #: ticks behind its side's best before it; INSIDE or UNKNOWN
    known: np.ndarray  #: the order was entered in the file (a type 1 row came first)
    exposure: np.ndarray  #: order-seconds of known resting orders per distance bucket
    from_book: bool  #: the best quotes come from an order-book file
    stale: int = 0  #: price levels of orders entered in the file found gone unseen (see _Known)

    @property
    def span_s(self) -> float:
        """Seconds from the first message to the last."""
        return float(self.times[-1] - self.times[0]) if len(self.times) else 0.0

    def before(self, values: np.ndarray) -> np.ndarray:
        """``bid`` or ``ask`` as it was before each message."""
        return np.concatenate(([np.nan], values[:-1]))

    def mid_changes(self, interval_s: float = 1.0) -> np.ndarray:
        """Changes of the two-sided mid (ticks) over consecutive ``interval_s`` intervals
        (previous-tick sampling; intervals before the first two-sided book dropped)."""
        grid = np.arange(math.ceil(self.times[0]), self.times[-1] + 1e-9, interval_s)
        changes = np.diff(sample_last(self.times, (self.bid + self.ask) / 2, grid))
        return changes[np.isfinite(changes)]

    def market_orders(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(time s, sign +1 buy / -1 sell, size lots, index of the first row) of the market
        orders: visible executions at one time against one side are one market order, whose
        sign is the opposite of the resting side."""
        rows, new = execution_groups(self.times, self.types, self.directions, (EXECUTE,))
        if not len(rows):
            empty = np.zeros(0)
            return empty, empty, empty, empty.astype(np.int64)
        t, d = self.times[rows], self.directions[rows]
        group = np.cumsum(new) - 1
        sizes = np.bincount(group, weights=self.sizes[rows])
        return t[new], -d[new].astype(np.float64), sizes, rows[new]


def tick_units(messages: Sequence[LobsterMessage], orderbook: np.ndarray | None = None) -> int:
    """LOBSTER units per tick: the greatest common divisor of the visible prices, the
    order-book file's too when given (at least 1, at most 10000 = one price unit; an
    estimate from the prices the files use)."""
    prices = {m.price for m in messages if m.type in VISIBLE}
    if orderbook is not None and orderbook.size:
        book = orderbook.reshape(len(orderbook), -1, 2)
        visible = book[:, :, 1] > 0
        prices |= set(np.unique(np.abs(book[:, :, 0][visible])).tolist())
    if not prices:
        raise InputError("no visible order (types 1-4) in the message file: nothing to estimate")
    return max(1, min(reduce(math.gcd, prices), 10000))


def _book_quotes(orderbook: np.ndarray, units: int) -> tuple[np.ndarray, ...]:
    """Best bid, ask (ticks, nan when empty) and their sizes per row of an order-book array."""
    price, qty = orderbook_levels(orderbook[:, :4], units)
    return price[:, 0, 0], price[:, 0, 1], qty[:, 0, 0], qty[:, 0, 1]


class _Known:
    """The orders entered in the file, followed by a :class:`LobsterBook` that is never
    seeded (so it holds only those orders), and how many of them rest at each price.

    A 10-level file leaves out what happens beyond level 10, so some orders it saw enter
    are never seen to leave; the book's stale-level rules drop them when the file shows a
    price they cannot coexist with (a resting new order crossing them, a visible execution
    at a worse price). :attr:`depth` counts orders (not lots) per side and price, for the
    exposure by distance; it is recounted at every price a message or a repair touched."""

    def __init__(self, source: str) -> None:
        self.follower = LobsterBook(source)
        self.depth = Depth()  # orders per (side, price)
        self.total = {1: 0, -1: 0}

    @property
    def stale(self) -> int:
        """Price levels dropped as stale."""
        odd = self.follower.oddities
        return odd["stale_crossed"] + odd["stale_better"]

    def apply(self, kind: int, oid: int, side: int, ticks: int, size: int, row: int) -> bool:
        """Apply one visible message; True if it concerned a known order."""
        known = self.follower.book.get(self.follower.ids[oid]) if oid in self.follower.ids else None
        touched = {(side, ticks)} | ({(int(known.side), known.price)} if known else set())
        repairs = self.follower.apply(kind, oid, size, ticks, side, row)
        for level in touched | {(s, p) for s, p, _ in repairs}:
            self._recount(*level)
        return kind == NEW or known is not None

    def _recount(self, side: int, ticks: int) -> None:
        have = len(self.follower.book.queue(Side(side), ticks))
        change = have - self.depth.sides[side].get(ticks, 0)
        if change:
            self.depth.add(side, ticks, change)
            self.total[side] += change

    def by_distance(self, side: int, best: float, buckets: int) -> np.ndarray:
        """Live known orders of ``side`` at 0 .. buckets-2 ticks behind ``best``; the last
        bucket holds every other one. O(price levels within reach)."""
        out = np.zeros(buckets)
        if not math.isnan(best):
            top = int(best)
            levels = self.depth.sides[side]
            near = levels.irange(top - buckets + 2, top) if side == 1 else \
                levels.irange(top, top + buckets - 2)
            for price in near:
                out[(top - price) * side] = levels[price]
        out[-1] = self.total[side] - out[:-1].sum()
        return out


def _distances(types: np.ndarray, prices: np.ndarray, directions: np.ndarray, bid: np.ndarray,
               ask: np.ndarray) -> np.ndarray:
    """Ticks behind the side's best before each visible message (INSIDE for a new order
    better than it; UNKNOWN where that best is unknown or the message is not visible)."""
    behind = behind_best(prices, directions, np.r_[np.nan, bid[:-1]], np.r_[np.nan, ask[:-1]])
    pick = np.isin(types, VISIBLE) & np.isfinite(behind)
    ticks = np.round(behind[pick]).astype(np.int64)
    distance = np.full(len(types), UNKNOWN)
    distance[pick] = np.where((ticks < 0) & (types[pick] == NEW), INSIDE, np.maximum(ticks, 0))
    return distance


def order_flow(messages: Sequence[LobsterMessage], orderbook: np.ndarray | None = None,
               source: str = "messages", buckets: int = 1000) -> Flow:
    """The :class:`Flow` of ``messages`` (with ``orderbook``: one row per message)."""
    if not messages:
        raise InputError(f"{source}: no messages")
    if orderbook is not None and len(orderbook) != len(messages):
        raise InputError(f"order-book file has {len(orderbook)} rows but the message file has "
                         f"{len(messages)}: expected one row per message")
    units = tick_units(messages, orderbook)
    n = len(messages)
    col = lambda name: np.array([getattr(m, name) for m in messages])  # noqa: E731
    types, directions, sizes = col("type"), col("direction"), col("size")
    prices = col("price") // units
    bid, ask, bid_size, ask_size = (np.full(n, np.nan), np.full(n, np.nan), np.zeros(n),
                                    np.zeros(n)) if orderbook is None \
        else _book_quotes(orderbook, units)
    known = np.zeros(n, dtype=bool)
    exposure, book = np.zeros(buckets), _Known(source)
    last_bid = last_ask = math.nan
    for i, m in enumerate(messages):
        if i:
            dt = m.time - messages[i - 1].time
            exposure += dt * (book.by_distance(1, last_bid, buckets)
                              + book.by_distance(-1, last_ask, buckets))
        if m.type in VISIBLE:
            known[i] = book.apply(m.type, m.order_id, m.direction, int(prices[i]), m.size, m.row)
        if orderbook is None:
            b, bid_size[i], a, ask_size[i] = book.follower.book.top()
            bid[i] = np.nan if b is None else b
            ask[i] = np.nan if a is None else a
        last_bid, last_ask = bid[i], ask[i]
    distance = _distances(types, prices, directions, bid, ask)
    return Flow(source, units, col("time"), types, sizes, prices, directions, bid, ask,
                bid_size, ask_size, distance, known, exposure, orderbook is not None, book.stale)
