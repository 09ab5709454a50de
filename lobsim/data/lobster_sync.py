"""A book rebuilt from LOBSTER messages that stays in step with a real file.

A real N-level LOBSTER file leaves things out: the book already holds orders when the file
starts, and events beyond level N are absent, so levels that scroll into view and orders
that vanished out of view cannot be known from the messages alone. :class:`LobsterBook`
keeps an :class:`~lobsim.book.OrderBook` (queue priority included) and handles that:

* *prior liquidity*: lots the file shows but no message placed rest as orders of their own
  (ids ``("prior", n)``); executions and cancels of orders from before the file take from
  them at the message's side and price;
* *seeding*: with an order-book file, the book starts as its first row with the first
  message undone;
* *re-sync*: after a message, wherever the visible window disagrees with the file's row
  the window is set from the file: missing lots rest as prior liquidity, surplus lots are
  taken from prior liquidity first, then from the back of the queue (the newest orders),
  and on a side the file shows whole (fewer than N levels) nothing is kept beyond;
* *stale levels*: a new order (type 1) never trades in LOBSTER, so opposite levels it
  would cross are stale (they left out of view) and are removed first; a visible
  execution (type 4) happens at the best price of its side, so better levels there are
  stale too;
* *grounded levels*: once seeded from an order-book file, every cancel or execution moves
  its level by exactly the message's size: a re-sync may have taken lots from the wrong
  order of a level (the file does not say which), so a cancel larger than what its order
  has left takes the rest from the level (prior liquidity first), and a delete smaller
  than it leaves the difference as prior liquidity.

Every such repair is counted by kind in :attr:`LobsterBook.oddities`. ``strict`` keeps the
exact contract for files lobsim wrote itself: a crossing new order or a reused live id is
an :class:`~lobsim.errors.InputError`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable

import numpy as np

from lobsim.book import OrderBook
from lobsim.errors import InputError, InvariantError
from lobsim.data.lobster import BOOK_TYPES
from lobsim.book.orders import Side
from lobsim.data.tape import CROSS, DELETE, EXECUTE, EXECUTE_HIDDEN, HALT, NEW

#: (price ticks, lots) of one level, best first on each side
Level = tuple[int, int]
#: One re-sync change: (side +1 bid / -1 ask, price ticks, lots added (> 0) or taken (< 0))
Adjustment = tuple[int, int, int]

#: Oddity kinds, each counted (in events, rows or levels as said) by :class:`LobsterBook`.
ODDITIES = {
    "extra_columns": "rows with columns after the sixth (ignored)",
    "hidden_execution": "type 5 rows (no visible change)",
    "cross_trade": "type 6 rows (no visible change)",
    "halt": "type 7 rows (no visible change)",
    "prior_order": "cancels and executions of orders from before the file",
    "prior_lots_unseen": "of those, events whose lots were not (all) in the known book",
    "stale_crossed": "levels removed because a new order would have crossed them",
    "stale_better": "levels removed because a visible execution happened at a worse price",
    "size_mismatch": "cancels and executions whose size is not what the order has left here",
    "price_mismatch": "events whose price differs from their order's",
    "duplicate_id": "new orders reusing a live id (the old order is dropped)",
    "crossed_row": "order-book rows that are themselves crossed (not re-synced)",
}
_UNSEEN_TYPES = {EXECUTE_HIDDEN: "hidden_execution", CROSS: "cross_trade", HALT: "halt"}


class LobsterBook:
    """An :class:`OrderBook` driven by LOBSTER events (prices in ticks, sizes in lots).

    :meth:`apply` is O(1) plus the book's O(log L) per level opened or emptied (and per
    stale level removed); :meth:`resync` is O(N + the book's levels within the window).

    Two-level example (prices in ticks; the file's first row after a new bid of 2 at 100)::

        >>> lob = LobsterBook()
        >>> lob.seed([(100, 5)], [(101, 3)], 2, (1, 2, 100, 1))  # the new order undone
        [(1, 100, 3), (-1, 101, 3)]
        >>> lob.apply(1, 7, 2, 100, 1, row=1)
        []
        >>> lob.book.depth(2)
        ([(100, 5)], [(101, 3)])
    """

    def __init__(self, source: str = "messages", strict: bool = False) -> None:
        self.book = OrderBook()
        self.source, self.strict = source, strict
        self.oddities: Counter[str] = Counter({kind: 0 for kind in ODDITIES})
        self.ids: dict[int, Hashable] = {}  # LOBSTER id -> live book id
        self.lobster_id: dict[Hashable, int] = {}  # live book id -> LOBSTER id
        self.prior: dict[tuple[int, int], list[Hashable]] = {}  # (side, ticks) -> prior ids, oldest first
        self.grounded = False  #: level totals follow an order-book file (set by :meth:`seed`)
        self._serial = 0

    # ------------------------------------------------------------------ messages

    def apply(self, kind: int, order_id: int, size: int, ticks: int, direction: int,
              row: int) -> list[Adjustment]:
        """Apply one message (``ticks`` = its price in ticks; ignored for types 5-7).
        Returns the *repairs*: changes to liquidity other than the message's own order
        (stale levels cleared, lots moved so that the level moves by the message's size,
        prior liquidity taken), for a replayed population to mirror."""
        if kind == NEW:
            return self._new(order_id, direction, ticks, size, row)
        if kind in _UNSEEN_TYPES:
            self.oddities[_UNSEEN_TYPES[kind]] += 1
            return []
        stale = self._clear_better(direction, ticks) if kind == EXECUTE and not self.strict else []
        if order_id in self.ids:
            return stale + self._reduce_known(kind, order_id, size, ticks)
        self.oddities["prior_order"] += 1
        taken = self.take_prior(direction, ticks, size)
        if taken < size and self.grounded:  # the level's total is the file's: take the rest there
            taken += self._shrink(direction, ticks, size - taken)
        if taken < size:
            self.oddities["prior_lots_unseen"] += 1
        return stale + ([(direction, ticks, -taken)] if taken else [])

    def _clear_better(self, side: int, ticks: int) -> list[Adjustment]:
        """A visible execution happens at the best price of its side, so levels better
        than ``ticks`` there are stale (they left out of view): remove them."""
        cleared = self._clear_through(side, ticks + side)
        self.oddities["stale_better"] += len(cleared)
        return cleared

    def _new(self, order_id: int, side: int, ticks: int, size: int, row: int) -> list[Adjustment]:
        if order_id in self.ids:
            if self.strict:
                raise InputError(f"{self.source}:{row}: order id {order_id} is already live")
            self.oddities["duplicate_id"] += 1
            self._cancel(self.ids[order_id])
        book_id: Hashable = order_id
        while self.book.is_used(book_id):  # an id that comes back after its order left
            self._serial += 1
            book_id = (order_id, self._serial)
        repairs: list[Adjustment] = []
        if not self._rest(book_id, side, ticks, size):
            if self.strict:
                raise InputError(f"{self.source}:{row}: new order at {ticks} ticks crosses the book")
            repairs = self._clear_through(-side, ticks)
            self.oddities["stale_crossed"] += len(repairs)
            self._rest(book_id, side, ticks, size)
        self.ids[order_id], self.lobster_id[book_id] = book_id, order_id
        return repairs

    def _reduce_known(self, kind: int, order_id: int, size: int, ticks: int) -> list[Adjustment]:
        """Cancel or execute a known order. A size that differs from what the order has
        left here means lots went to the wrong order of its level in an earlier re-sync;
        on a grounded book the level still moves by exactly ``size``."""
        book_id = self.ids[order_id]
        info = self.book.get(book_id)
        if info is None:
            raise InvariantError(f"order {order_id} is mapped but not in the book")
        side, price, left = int(info.side), info.price, info.qty
        self.oddities["price_mismatch"] += price != ticks
        if kind == DELETE or size >= left:
            self._cancel(book_id)
        else:
            self.book.modify(book_id, qty=left - size)
        if size == left or (size < left and kind != DELETE):
            return []
        self.oddities["size_mismatch"] += 1
        if not self.grounded:
            return []
        if size < left:  # a delete smaller than the order: the rest belongs to the level
            return [(side, price, left - size)] if self._grow(side, price, left - size) else []
        taken = self._shrink(side, price, size - left)
        return [(side, price, -taken)] if taken else []

    # ------------------------------------------------------------------ liquidity

    def _rest(self, book_id: Hashable, side: int, ticks: int, size: int) -> bool:
        """Rest without trading; False (nothing changed) if it would cross."""
        return not self.book.limit(book_id, "lobster", Side(side), ticks, size, post_only=True)

    def _grow(self, side: int, ticks: int, lots: int) -> bool:
        """Add ``lots`` of prior liquidity at the back of a level; False if it would cross."""
        self._serial += 1
        book_id = ("prior", self._serial)
        if not self.book.limit(book_id, "prior", Side(side), ticks, lots, post_only=True):
            self.prior.setdefault((side, ticks), []).append(book_id)
            return True
        return False

    def take_prior(self, side: int, ticks: int, lots: int) -> int:
        """Take up to ``lots`` from prior liquidity at a level, newest first; lots taken."""
        ids = self.prior.get((side, ticks), [])
        taken = 0
        while ids and taken < lots:
            left = self.book.remaining(ids[-1])
            take = min(left, lots - taken)
            if take == left:
                self.book.cancel(ids.pop())
            else:
                self.book.modify(ids[-1], qty=left - take)
            taken += take
        if not ids:
            self.prior.pop((side, ticks), None)
        return taken

    def _shrink(self, side: int, ticks: int, lots: int) -> int:
        """Take up to ``lots`` from a level: prior liquidity first, then the newest
        orders; lots taken."""
        taken = self.take_prior(side, ticks, lots)
        for book_id, left in reversed(self.book.queue(Side(side), ticks)):
            if taken >= lots:
                break
            take = min(left, lots - taken)
            if take == left:
                self._cancel(book_id)
            else:
                self.book.modify(book_id, qty=left - take)
            taken += take
        return taken

    def _cancel(self, book_id: Hashable) -> None:
        self.book.cancel(book_id)
        order_id = self.lobster_id.pop(book_id, None)
        if order_id is not None:
            del self.ids[order_id]

    def _clear_through(self, side: int, ticks: int) -> list[Adjustment]:
        """Remove every level on ``side`` at or through ``ticks`` (stale); what was removed."""
        removed: list[Adjustment] = []
        while True:
            best = self.book.best_bid() if side == 1 else self.book.best_ask()
            if best is None or (best[0] < ticks if side == 1 else best[0] > ticks):
                return removed
            removed.append((side, best[0], -self._shrink(side, best[0], best[1])))

    # ------------------------------------------------------------------ the window

    def resync(self, bids: list[Level], asks: list[Level], levels: int) -> list[Adjustment]:
        """Make the visible ``levels`` equal the file's (``bids``/``asks``: its non-empty
        levels, best first); returns the changes made. Prices beyond the file's window are
        kept, except on a side the file shows whole (fewer than ``levels`` levels)."""
        if bids and asks and bids[0][0] >= asks[0][0]:
            self.oddities["crossed_row"] += 1
            return []
        changes = self._differences(1, bids, levels) + self._differences(-1, asks, levels)
        for side, ticks, delta in changes:
            if delta < 0:
                self._shrink(side, ticks, -delta)
        cleared: list[Adjustment] = []
        for side, ticks, delta in changes:
            if delta > 0 and not self._grow(side, ticks, delta):  # a stale level beyond the window
                stale = self._clear_through(-side, ticks)
                self.oddities["stale_crossed"] += len(stale)
                cleared += stale
                self._grow(side, ticks, delta)
        return changes + cleared

    def _differences(self, side: int, target: list[Level], levels: int) -> list[Adjustment]:
        have = self.side_within(side, target[-1][0] if len(target) == levels else None)
        wanted = dict(target)
        return [(side, p, wanted.get(p, 0) - have.get(p, 0))
                for p in sorted(wanted.keys() | have.keys(), reverse=side == 1)
                if wanted.get(p, 0) != have.get(p, 0)]

    def side_within(self, side: int, horizon: int | None) -> dict[int, int]:
        """Lots per price on ``side`` at or better than ``horizon`` (None: the whole side)."""
        count = max(self.book.level_count()[0 if side == 1 else 1], 1)
        n = count if horizon is None else 16
        while True:  # doubling: O(levels within the horizon), not O(the whole side)
            bids, asks = self.book.depth(n)
            found = bids if side == 1 else asks
            within = [(p, q) for p, q in found if horizon is None or (p - horizon) * side >= 0]
            if len(within) < len(found) or n >= count:
                return dict(within)
            n *= 2

    def follow(self, bids: list[Level], asks: list[Level], levels: int) -> list[Adjustment] | None:
        """After a message: if the visible ``levels`` differ from the file's row, re-sync
        them (:meth:`resync`) and return the changes; None if they agree."""
        if self.book.depth(levels) == (bids, asks):
            return None
        return self.resync(bids, asks, levels)

    def seed(self, bids: list[Level], asks: list[Level], levels: int,
             first: tuple[int, int, int, int]) -> list[Adjustment]:
        """Start from a first order-book row with its message ``first`` (kind, size, ticks,
        direction) undone, as prior liquidity; returns what was placed."""
        kind, size, ticks, direction = first
        self.grounded = True
        sides = {1: dict(bids), -1: dict(asks)}
        if kind in BOOK_TYPES:
            level = sides[direction]
            level[ticks] = level.get(ticks, 0) + (-size if kind == NEW else size)
        before = {s: sorted(((p, q) for p, q in d.items() if q > 0), reverse=s == 1)
                  for s, d in sides.items()}
        return self.resync(before[1], before[-1], levels)


def orderbook_ticks(orderbook: np.ndarray, factor: int, source: str) -> np.ndarray:
    """An order-book array (from :func:`lobsim.data.lobster.read_orderbook`) with prices in
    ticks of ``factor`` LOBSTER units (0 for empty levels); :class:`InputError` naming the
    first row with a price off that grid."""
    prices, sizes = orderbook[:, 0::2], orderbook[:, 1::2]
    off = (sizes > 0) & (prices % factor != 0)
    if off.any():
        row = int(np.argmax(off.any(axis=1)))
        raise InputError(f"{source}: row {row + 1}: a price is not a multiple of the tick size "
                         f"({factor} LOBSTER units); see --tick-size")
    ticks = orderbook.copy()
    ticks[:, 0::2] = np.where(sizes > 0, prices // factor, 0)
    return ticks


def row_levels(row: list[int]) -> tuple[list[Level], list[Level]]:
    """(bids, asks) of one order-book row in ticks: its non-empty levels, best first."""
    asks = [(p, q) for p, q in zip(row[0::4], row[1::4]) if q > 0]
    bids = [(p, q) for p, q in zip(row[2::4], row[3::4]) if q > 0]
    return bids, asks
