"""The limit order book: price-time priority matching for one instrument.

Pure: no SimPy, no I/O, no clock. Every operation returns the reports it caused
(:mod:`lobsim.book.reports`) and never raises on a bad request: a bad request is a
:class:`~lobsim.book.reports.Rejected` report and changes nothing.

Two implementations of one contract. :class:`PyOrderBook`, below, is the reference,
written in Python; ``lobsim.book._cbook.OrderBook`` is the same book compiled (Cython over C++
structures, built by ``pip install``): several times faster through the same API, and
its per-message cost grows much less with the book's size (README, Benchmarks).
``lobsim.book.orderbook.OrderBook`` (and ``lobsim.OrderBook``) is the compiled one whenever it is
importable; setting the environment variable ``LOBSIM_PURE_PYTHON=1`` before lobsim is
imported selects the Python one. :data:`IMPLEMENTATION` says which was chosen. Both pass
the same tests against the model in ``tests/book_model.py`` and give byte-identical runs.

The rest of this docstring describes :class:`PyOrderBook`; the compiled book's layout is
described in ``lobsim/book/_cbook.pyx``.

Layout. Each side maps price -> :class:`_Level`; a level is a doubly linked FIFO of
order records (O(1) append, O(1) removal from anywhere). A ``SortedList`` of the
side's prices gives the best level and ordered depth; the best price of each side is also
cached, because every incoming order compares against it. An id -> order dict gives
O(1) cancel and lookup.

Complexity, with L the number of price levels on a side:
insert O(log L) when it opens a level, else O(1); cancel O(1), plus O(log L) when it
empties a level; matching O(log L) per level it empties plus O(1) per fill.
Nothing scans a level or the book, except the queries that return one
(:meth:`OrderBook.queue`, :meth:`OrderBook.depth`, :meth:`OrderBook.snapshot`) and
:meth:`OrderBook.queue_position`, which walks the orders ahead of the one asked about.

>>> from lobsim import OrderBook, Side
>>> book = OrderBook()
>>> book.limit(1, "alice", Side.SELL, 101, 5)
[]
>>> book.limit(2, "bob", Side.BUY, 101, 3)[0]
Traded(price=101, qty=3, maker=1, taker=2, maker_owner='alice', taker_owner='bob', aggressor=<Side.BUY: 1>, maker_left=2)
>>> book.best_ask()
(101, 2)
"""

from __future__ import annotations

import os
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, NamedTuple

from sortedcontainers import SortedList

from lobsim.errors import InvariantError
from lobsim.book.orders import (
    MAX_PRICE,
    MAX_QTY,
    CancelCause,
    RejectReason,
    Side,
    TimeInForce,
)
from lobsim.book.reports import Cancelled, Modified, Rejected, Report, Traded

BUY = Side.BUY
SELL = Side.SELL
GTC = TimeInForce.GTC
IOC = TimeInForce.IOC
FOK = TimeInForce.FOK
INVALID = RejectReason.INVALID
UNKNOWN_ID = RejectReason.UNKNOWN_ID
DUPLICATE_ID = RejectReason.DUPLICATE_ID
WOULD_CROSS = RejectReason.WOULD_CROSS
REQUEST = CancelCause.REQUEST
UNFILLED = CancelCause.UNFILLED
SELF_TRADE = CancelCause.SELF_TRADE

#: Builds a report NamedTuple from a tuple of its fields without going through the
#: class's Python-level ``__new__``: 243 ns instead of 582 ns (timeit, this machine).
#: Used where reports are made per fill or per cancel.
_make = tuple.__new__

#: Cached best prices of an empty side. Valid prices lie strictly between them, so
#: "does a buy at p cross?" is just ``p >= best_ask`` with no emptiness test.
NO_ASK = MAX_PRICE
NO_BID = 0

# A resting order is a list, not an object: building one costs ~60 ns against ~260 ns
# for a slotted class (timeit, Python 3.11), and the book builds one per resting order.
# The same trick as functools.lru_cache's linked list; these names index the fields.
PREV, NEXT, ID, OWNER, SIDE, PRICE, QTY, POST_ONLY, LEVEL = range(9)
_Order = list  # [prev, next, id, owner, side, price, qty (lots, > 0), post_only, level]


class _Level:
    """One price level: a doubly linked FIFO of orders, with its total lots and order count."""

    __slots__ = ("price", "head", "tail", "qty", "count")

    def __init__(self, price: int) -> None:
        self.price = price
        self.head: _Order | None = None  # oldest: next to trade
        self.tail: _Order | None = None
        self.qty = 0
        self.count = 0

    def append(self, order: _Order) -> None:
        """Put ``order`` at the back of the queue. O(1)."""
        tail = self.tail
        order[PREV] = tail
        order[NEXT] = None
        if tail is None:
            self.head = order
        else:
            tail[NEXT] = order
        self.tail = order
        self.qty += order[QTY]
        self.count += 1

    def unlink(self, order: _Order) -> None:
        """Take ``order`` out of the queue wherever it stands. O(1)."""
        prev, nxt = order[PREV], order[NEXT]
        if prev is None:
            self.head = nxt
        else:
            prev[NEXT] = nxt
        if nxt is None:
            self.tail = prev
        else:
            nxt[PREV] = prev
        order[PREV] = order[NEXT] = None
        self.qty -= order[QTY]
        self.count -= 1


class OrderInfo(NamedTuple):
    """A live order as the book sees it."""

    order_id: Hashable
    owner: Hashable
    side: Side
    price: int  #: ticks
    qty: int  #: remaining lots
    post_only: bool


class PyOrderBook:
    """A price-time priority limit order book for one instrument (pure Python).

    Matching rules: a buy crosses resting sells priced <= its limit, a sell crosses resting
    buys priced >= its limit, a market order crosses any price; fills happen at the resting
    price, best price first, oldest first. An incoming order never trades with a resting
    order of the same owner: at the first such match its remainder is cancelled
    (self-trade prevention, cancel-newest). See :meth:`limit`, :meth:`market`,
    :meth:`cancel` and :meth:`modify` for the rest.
    """

    __slots__ = ("_orders", "_used_ids", "_bids", "_asks", "_bid_prices", "_ask_prices",
                 "_best_bid", "_best_ask")

    def __init__(self) -> None:
        self._orders: dict[Hashable, _Order] = {}
        self._used_ids: set[Hashable] = set()  # every accepted id, live or finished
        self._bids: dict[int, _Level] = {}
        self._asks: dict[int, _Level] = {}
        self._bid_prices: SortedList = SortedList()  # ascending; best bid is the last
        self._ask_prices: SortedList = SortedList()  # ascending; best ask is the first
        self._best_bid = NO_BID
        self._best_ask = NO_ASK

    # ------------------------------------------------------------------ requests

    def limit(self, order_id: Hashable, owner: Hashable, side: Side, price: int, qty: int,
              tif: TimeInForce = GTC, post_only: bool = False) -> list[Report]:
        """Submit a limit order of ``qty`` lots at ``price`` ticks.

        GTC: what does not trade rests at the back of its level. IOC: the rest is
        cancelled. FOK: fills completely or is cancelled whole with no trade. Post-only
        (GTC only): rejected ``would_cross`` if it would trade on arrival.
        Checks, in order: ``duplicate_id``; ``invalid`` (side, positive int price and qty below
        ``MAX_PRICE``/``MAX_QTY``,
        tif, post-only with IOC/FOK); ``would_cross``. A rejected order changes nothing and
        leaves its id unused.

        O(1) to rest at an existing level, O(log L) to open one; see the module docstring
        for matching.
        """
        try:
            if order_id in self._used_ids:
                return [Rejected(order_id, owner, DUPLICATE_ID)]
        except TypeError:  # unhashable id
            return [Rejected(order_id, owner, INVALID)]
        if (
            (side is not BUY and side is not SELL)
            or type(price) is not int or not 0 < price < MAX_PRICE
            or type(qty) is not int or not 0 < qty < MAX_QTY
            or (tif is not GTC and tif is not IOC and tif is not FOK)
            or (post_only is not False and (post_only is not True or tif is not GTC))
        ):
            return [Rejected(order_id, owner, INVALID)]
        crosses = price >= self._best_ask if side is BUY else price <= self._best_bid
        if not crosses:
            self._used_ids.add(order_id)
            if tif is GTC:
                self._rest(order_id, owner, side, price, qty, post_only)
                return []
            return [Cancelled(order_id, owner, qty, UNFILLED)]
        if post_only:
            return [Rejected(order_id, owner, WOULD_CROSS)]
        self._used_ids.add(order_id)
        if tif is FOK and self._fillable(owner, side, price, qty) < qty:
            return [Cancelled(order_id, owner, qty, UNFILLED)]
        reports: list[Report] = []
        remaining = self._match(order_id, owner, side, price, qty, reports)
        if remaining:
            if tif is GTC:
                self._rest(order_id, owner, side, price, remaining, False)
            else:
                reports.append(Cancelled(order_id, owner, remaining, UNFILLED))
        return reports

    def market(self, order_id: Hashable, owner: Hashable, side: Side, qty: int) -> list[Report]:
        """Submit a market order of ``qty`` lots: it trades at any price and never rests;
        what does not trade is cancelled. Checks as :meth:`limit`. O(1) per fill plus
        O(log L) per level emptied."""
        try:
            if order_id in self._used_ids:
                return [Rejected(order_id, owner, DUPLICATE_ID)]
        except TypeError:
            return [Rejected(order_id, owner, INVALID)]
        if (side is not BUY and side is not SELL) or type(qty) is not int \
                or not 0 < qty < MAX_QTY:
            return [Rejected(order_id, owner, INVALID)]
        self._used_ids.add(order_id)
        reports: list[Report] = []
        limit = NO_ASK - 1 if side is BUY else NO_BID + 1  # crosses every real price
        remaining = self._match(order_id, owner, side, limit, qty, reports)
        if remaining:
            reports.append(Cancelled(order_id, owner, remaining, UNFILLED))
        return reports

    def cancel(self, order_id: Hashable) -> list[Report]:
        """Cancel a live order; report its remaining qty, or reject ``unknown_id``. O(1),
        plus O(log L) if its level empties."""
        try:
            order = self._orders.pop(order_id, None)
        except TypeError:
            order = None
        if order is None:
            return [Rejected(order_id, None, UNKNOWN_ID)]
        self._remove_resting(order)
        return [_make(Cancelled, (order_id, order[OWNER], order[QTY], REQUEST))]

    def modify(self, order_id: Hashable, qty: int | None = None,
               price: int | None = None) -> list[Report]:
        """Change a live order's remaining ``qty`` (lots) and/or ``price`` (ticks).

        Same price: a lower qty keeps its queue priority, a higher qty sends it to the back,
        an equal qty changes nothing. A new price re-enters it as a GTC limit with the same
        id, owner and post-only flag: it loses priority and may trade as a taker; a
        post-only order whose new price would cross is rejected ``would_cross`` and stays as
        it was. Rejects: ``unknown_id``; ``invalid`` when neither field is given or one is
        not a positive int. Reports a :class:`Modified` first, then any fills.
        O(1) in place, as :meth:`limit` when the price changes.
        """
        try:
            order = self._orders.get(order_id)
        except TypeError:
            order = None
        if order is None:
            return [Rejected(order_id, None, UNKNOWN_ID)]
        owner = order[OWNER]
        if (
            (qty is None and price is None)
            or (qty is not None and (type(qty) is not int or not 0 < qty < MAX_QTY))
            or (price is not None and (type(price) is not int or not 0 < price < MAX_PRICE))
        ):
            return [Rejected(order_id, owner, INVALID)]
        old_qty, old_price, side = order[QTY], order[PRICE], order[SIDE]
        new_qty = old_qty if qty is None else qty
        new_price = old_price if price is None else price
        if new_price == old_price:
            self._requeue(order, new_qty)
            return [Modified(order_id, owner, side, old_price, new_qty, old_price, old_qty)]
        crosses = new_price >= self._best_ask if side is BUY else new_price <= self._best_bid
        if crosses and order[POST_ONLY]:
            return [Rejected(order_id, owner, WOULD_CROSS)]
        del self._orders[order_id]
        self._remove_resting(order)
        reports: list[Report] = [
            Modified(order_id, owner, side, new_price, new_qty, old_price, old_qty)]
        remaining = self._match(order_id, owner, side, new_price, new_qty, reports) \
            if crosses else new_qty
        if remaining:
            self._rest(order_id, owner, side, new_price, remaining, order[POST_ONLY])
        return reports

    # ------------------------------------------------------------------ queries

    def best_bid(self) -> tuple[int, int] | None:
        """(price ticks, total lots) of the best bid, or None. O(1)."""
        if self._best_bid == NO_BID:
            return None
        return self._best_bid, self._bids[self._best_bid].qty

    def best_ask(self) -> tuple[int, int] | None:
        """(price ticks, total lots) of the best ask, or None. O(1)."""
        if self._best_ask == NO_ASK:
            return None
        return self._best_ask, self._asks[self._best_ask].qty

    def top(self) -> tuple[int | None, int, int | None, int]:
        """L1 in one call: (bid ticks or None, bid lots, ask ticks or None, ask lots). O(1)."""
        bid, ask = self._best_bid, self._best_ask
        bids = (None, 0) if bid == NO_BID else (bid, self._bids[bid].qty)
        asks = (None, 0) if ask == NO_ASK else (ask, self._asks[ask].qty)
        return bids + asks

    @property
    def bid_price(self) -> int | None:
        """Best bid in ticks, or None. O(1)."""
        return None if self._best_bid == NO_BID else self._best_bid

    @property
    def ask_price(self) -> int | None:
        """Best ask in ticks, or None. O(1)."""
        return None if self._best_ask == NO_ASK else self._best_ask

    def depth(self, levels: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """L2: ``(bids, asks)``, each up to ``levels`` (price, total lots) pairs, best first.
        O(log L + levels)."""
        levels = max(levels, 0)
        n_bids = len(self._bid_prices)
        bids = [(p, self._bids[p].qty)
                for p in self._bid_prices.islice(max(n_bids - levels, 0), n_bids, reverse=True)]
        asks = [(p, self._asks[p].qty) for p in self._ask_prices.islice(0, levels)]
        return bids, asks

    def queue(self, side: Side, price: int) -> list[tuple[Hashable, int]]:
        """L3: the (order id, remaining lots) queue at ``price`` on ``side``, in priority
        order; empty if there is no such level. O(orders at the level)."""
        level = (self._bids if side is BUY else self._asks).get(price)
        out: list[tuple[Hashable, int]] = []
        order = level.head if level is not None else None
        while order is not None:
            out.append((order[ID], order[QTY]))
            order = order[NEXT]
        return out

    def get(self, order_id: Hashable) -> OrderInfo | None:
        """The live order with this id, or None. O(1)."""
        order = self._orders.get(order_id)
        if order is None:
            return None
        return OrderInfo(*order[ID:LEVEL])

    def remaining(self, order_id: Hashable) -> int:
        """Remaining lots of a live order; 0 if it is not live. O(1)."""
        order = self._orders.get(order_id)
        return 0 if order is None else order[QTY]

    def queue_position(self, order_id: Hashable) -> tuple[int, int] | None:
        """(orders ahead, lots ahead) of a live order in its level, or None if not live.
        O(orders ahead of it)."""
        order = self._orders.get(order_id)
        if order is None:
            return None
        count = qty = 0
        ahead = order[PREV]
        while ahead is not None:
            count += 1
            qty += ahead[QTY]
            ahead = ahead[PREV]
        return count, qty

    def is_used(self, order_id: Hashable) -> bool:
        """Whether an accepted order (live or finished) already has this id. O(1)."""
        return order_id in self._used_ids

    def __len__(self) -> int:
        """Number of resting orders. O(1)."""
        return len(self._orders)

    def level_count(self) -> tuple[int, int]:
        """(bid levels, ask levels). O(1)."""
        return len(self._bids), len(self._asks)

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """The whole book as ``{"bids": [{"price": P, "orders": [[id, qty], ...]}, ...],
        "asks": [...]}``, best level first, orders in priority order (``--book-out``).
        O(resting orders)."""
        return {
            "bids": [{"price": p, "orders": [list(o) for o in self.queue(BUY, p)]}
                     for p in reversed(self._bid_prices)],
            "asks": [{"price": p, "orders": [list(o) for o in self.queue(SELL, p)]}
                     for p in self._ask_prices],
        }

    # ------------------------------------------------------------------ internals

    def _rest(self, order_id: Hashable, owner: Hashable, side: Side, price: int, qty: int,
              post_only: bool) -> None:
        """Put a non-crossing order at the back of its level, opening the level if needed."""
        levels = self._bids if side is BUY else self._asks
        level = levels.get(price)
        if level is None:
            level = levels[price] = _Level(price)
            if side is BUY:
                self._bid_prices.add(price)
                if price > self._best_bid:
                    self._best_bid = price
            else:
                self._ask_prices.add(price)
                if price < self._best_ask:
                    self._best_ask = price
        # inlined _Level.append: this is the hottest path of the book
        tail = level.tail
        order = [tail, None, order_id, owner, side, price, qty, post_only, level]
        self._orders[order_id] = order
        if tail is None:
            level.head = order
        else:
            tail[NEXT] = order
        level.tail = order
        level.qty += qty
        level.count += 1

    def _remove_resting(self, order: _Order) -> None:
        """Unlink an order already popped from ``_orders``; drop its level if now empty."""
        level = order[LEVEL]
        level.unlink(order)
        if level.count == 0:
            self._drop_level(order[SIDE], level.price)

    def _drop_level(self, side: Side, price: int) -> None:
        if side is BUY:
            del self._bids[price]
            prices = self._bid_prices
            prices.remove(price)
            if price == self._best_bid:
                self._best_bid = prices[-1] if prices else NO_BID
        else:
            del self._asks[price]
            prices = self._ask_prices
            prices.remove(price)
            if price == self._best_ask:
                self._best_ask = prices[0] if prices else NO_ASK

    def _requeue(self, order: _Order, new_qty: int) -> None:
        """Same-price modify: shrink in place, or grow and go to the back."""
        level = order[LEVEL]
        if new_qty < order[QTY]:
            level.qty -= order[QTY] - new_qty
            order[QTY] = new_qty
        elif new_qty > order[QTY]:
            level.unlink(order)
            order[QTY] = new_qty
            level.append(order)

    def _fillable(self, owner: Hashable, side: Side, limit: int, wanted: int) -> int:
        """Lots an incoming order could take within ``limit`` before it meets its own
        owner's order, counting only until ``wanted`` is reached. O(orders it would fill)."""
        if side is BUY:
            levels, walk = self._asks, iter(self._ask_prices)
        else:
            levels, walk = self._bids, reversed(self._bid_prices)
        total = 0
        for price in walk:
            if (price > limit) if side is BUY else (price < limit):
                break
            order = levels[price].head
            while order is not None:
                if order[OWNER] == owner:
                    return total
                total += order[QTY]
                if total >= wanted:
                    return total
                order = order[NEXT]
        return total

    def _match(self, taker: Hashable, owner: Hashable, side: Side, limit: int, qty: int,
               reports: list[Report]) -> int:
        """Trade an incoming order against the opposite side within ``limit``; append the
        reports; return the qty left to rest or cancel (0 after self-trade prevention,
        whose cancel it reports itself)."""
        if side is BUY:
            levels, prices, index = self._asks, self._ask_prices, 0
        else:
            levels, prices, index = self._bids, self._bid_prices, -1
        orders = self._orders
        append = reports.append
        remaining = qty
        while remaining and prices:
            price = prices[index]
            if (price > limit) if side is BUY else (price < limit):
                break
            level = levels[price]
            maker = level.head
            while maker is not None:
                if maker[OWNER] == owner:  # self-trade prevention: cancel the newest
                    append(Cancelled(taker, owner, remaining, SELF_TRADE))
                    remaining = 0
                    break
                maker_qty = maker[QTY]
                fill = remaining if remaining < maker_qty else maker_qty
                remaining -= fill
                maker_qty -= fill
                maker[QTY] = maker_qty
                level.qty -= fill
                append(_make(Traded, (price, fill, maker[ID], taker, maker[OWNER], owner, side,
                                      maker_qty)))
                if maker_qty:
                    break  # taker exhausted against a partially filled maker
                del orders[maker[ID]]
                level.count -= 1
                maker = level.head = maker[NEXT]
                if maker is not None:
                    maker[PREV] = None
                if not remaining:
                    break
            if level.head is None:
                level.tail = None
                del levels[price]
                del prices[index]
            else:
                break
        if side is BUY:
            self._best_ask = prices[0] if prices else NO_ASK
        else:
            self._best_bid = prices[-1] if prices else NO_BID
        return remaining

    # ------------------------------------------------------------------ invariants

    def check(self) -> None:
        """Assert every structural invariant; raise :class:`InvariantError` naming the first
        that fails. Tests call it after every step. O(resting orders + levels)."""
        seen = 0
        for side, levels, prices in ((BUY, self._bids, self._bid_prices),
                                     (SELL, self._asks, self._ask_prices)):
            _require(list(prices) == sorted(levels), f"{side.label} price index != levels")
            for price, level in levels.items():
                _require(level.price == price, f"level {price} stores price {level.price}")
                _require(level.count > 0 and level.head is not None, f"empty level {price}")
                count = qty = 0
                prev = None
                order = level.head
                while order is not None:
                    order_id = order[ID]
                    _require(len(order) == 9 and order[PREV] is prev,
                             f"broken link before order {order_id!r}")
                    _require(type(order[QTY]) is int and order[QTY] > 0,
                             f"order {order_id!r} has qty {order[QTY]!r}")
                    _require(order[LEVEL] is level and order[PRICE] == price
                             and order[SIDE] is side, f"order {order_id!r} misfiled")
                    _require(self._orders.get(order_id) is order, f"order {order_id!r} not indexed")
                    _require(order_id in self._used_ids, f"order {order_id!r} id not recorded")
                    count += 1
                    qty += order[QTY]
                    prev, order = order, order[NEXT]
                _require(level.tail is prev, f"level {price} tail is wrong")
                _require((count, qty) == (level.count, level.qty),
                         f"level {price} totals {level.count}/{level.qty} != {count}/{qty}")
                seen += count
        _require(seen == len(self._orders), "order index and levels disagree")
        best_bid = self._bid_prices[-1] if self._bid_prices else NO_BID
        best_ask = self._ask_prices[0] if self._ask_prices else NO_ASK
        _require((self._best_bid, self._best_ask) == (best_bid, best_ask), "stale best prices")
        _require(best_bid < best_ask, f"book crossed at rest: {best_bid} >= {best_ask}")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InvariantError(message)


def _choose() -> tuple[type[PyOrderBook], str]:
    """The compiled book unless ``LOBSIM_PURE_PYTHON`` is set (to anything but ``""``/``0``).

    A missing extension falls back to the Python book rather than failing, so that a
    source checkout without a compiler still works; ``tests/test_book_impl.py`` fails on
    an install where the extension was not built.
    """
    if os.environ.get("LOBSIM_PURE_PYTHON", "") not in ("", "0"):
        return PyOrderBook, "pure"
    try:
        from lobsim.book._cbook import OrderBook as compiled
    except ImportError:
        return PyOrderBook, "pure"
    return compiled, "compiled"


if TYPE_CHECKING:
    OrderBook = PyOrderBook
    IMPLEMENTATION = "pure"
else:
    OrderBook, IMPLEMENTATION = _choose()
