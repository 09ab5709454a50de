"""A small, obviously correct order book to check :class:`lobsim.OrderBook` against.

Lists and linear scans, no cleverness: every rule of the matching contract is written
out once, in the most direct way. Priority is an arrival counter, renewed whenever an
order loses its place. Ids and owners compare with ``==``, as dict keys do.

:data:`IMPLEMENTATIONS` names the books under test: the compiled book and the pure
Python one must both behave as this model does.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from itertools import count

from lobsim import (
    MAX_PRICE,
    MAX_QTY,
    CancelCause,
    Cancelled,
    Modified,
    Rejected,
    RejectReason,
    Side,
    TimeInForce,
    Traded,
)

#: name -> (module, class) of every order book implementation the book tests run on
IMPLEMENTATIONS = {"compiled": ("lobsim.book._cbook", "OrderBook"), "pure": ("lobsim.book.orderbook", "PyOrderBook")}


def book_class(name: str) -> type:
    """The implementation called ``name``. Importing the compiled one raises if the
    extension was not built, so its tests fail rather than skip."""
    module, attr = IMPLEMENTATIONS[name]
    return getattr(importlib.import_module(module), attr)


def _hashable(x: object) -> bool:
    try:
        hash(x)
    except TypeError:
        return False
    return True


@dataclass
class ModelOrder:
    id: object
    owner: object
    side: Side
    price: int
    qty: int
    post_only: bool
    arrival: int


def _positive_int(x: object) -> bool:
    return type(x) is int and 0 < x


def _price_ok(x: object) -> bool:
    return _positive_int(x) and x < MAX_PRICE


def _qty_ok(x: object) -> bool:
    return _positive_int(x) and x < MAX_QTY


class ModelBook:
    def __init__(self) -> None:
        self.resting: list[ModelOrder] = []
        self.used: list[object] = []
        self._clock = count()

    # -- helpers
    def _find(self, order_id):
        for o in self.resting:
            if o.id == order_id:
                return o
        return None

    def is_used(self, order_id) -> bool:
        return any(u == order_id for u in self.used)

    def _opposite_in_priority(self, side, limit):
        """Resting orders an incoming order of ``side`` with ``limit`` (None: market) may hit."""
        if side is Side.BUY:
            hits = [o for o in self.resting if o.side is Side.SELL and (limit is None or o.price <= limit)]
            return sorted(hits, key=lambda o: (o.price, o.arrival))
        hits = [o for o in self.resting if o.side is Side.BUY and (limit is None or o.price >= limit)]
        return sorted(hits, key=lambda o: (-o.price, o.arrival))

    def _match(self, taker, owner, side, limit, qty, reports):
        remaining = qty
        for maker in self._opposite_in_priority(side, limit):
            if remaining == 0:
                break
            if maker.owner == owner:
                reports.append(Cancelled(taker, owner, remaining, CancelCause.SELF_TRADE))
                return 0
            fill = min(remaining, maker.qty)
            remaining -= fill
            maker.qty -= fill
            reports.append(Traded(maker.price, fill, maker.id, taker, maker.owner, owner, side, maker.qty))
            if maker.qty == 0:
                self.resting.remove(maker)
        return remaining

    def _rest(self, order_id, owner, side, price, qty, post_only):
        self.resting.append(ModelOrder(order_id, owner, side, price, qty, post_only, next(self._clock)))

    def _would_cross(self, side, price):
        return bool(self._opposite_in_priority(side, price))

    # -- requests
    def limit(self, order_id, owner, side, price, qty, tif=TimeInForce.GTC, post_only=False):
        if not _hashable(order_id):
            return [Rejected(order_id, owner, RejectReason.INVALID)]
        if self.is_used(order_id):
            return [Rejected(order_id, owner, RejectReason.DUPLICATE_ID)]
        valid = (side in (Side.BUY, Side.SELL) and isinstance(side, Side) and _price_ok(price)
                 and _qty_ok(qty) and isinstance(tif, TimeInForce)
                 and type(post_only) is bool and not (post_only and tif is not TimeInForce.GTC))
        if not valid:
            return [Rejected(order_id, owner, RejectReason.INVALID)]
        if post_only and self._would_cross(side, price):
            return [Rejected(order_id, owner, RejectReason.WOULD_CROSS)]
        self.used.append(order_id)
        if tif is TimeInForce.FOK:
            available = 0
            for maker in self._opposite_in_priority(side, price):
                if maker.owner == owner:
                    break
                available += maker.qty
            if available < qty:
                return [Cancelled(order_id, owner, qty, CancelCause.UNFILLED)]
        reports = []
        remaining = self._match(order_id, owner, side, price, qty, reports)
        if remaining:
            if tif is TimeInForce.GTC:
                self._rest(order_id, owner, side, price, remaining, post_only)
            else:
                reports.append(Cancelled(order_id, owner, remaining, CancelCause.UNFILLED))
        return reports

    def market(self, order_id, owner, side, qty):
        if not _hashable(order_id):
            return [Rejected(order_id, owner, RejectReason.INVALID)]
        if self.is_used(order_id):
            return [Rejected(order_id, owner, RejectReason.DUPLICATE_ID)]
        if not (isinstance(side, Side) and _qty_ok(qty)):
            return [Rejected(order_id, owner, RejectReason.INVALID)]
        self.used.append(order_id)
        reports = []
        remaining = self._match(order_id, owner, side, None, qty, reports)
        if remaining:
            reports.append(Cancelled(order_id, owner, remaining, CancelCause.UNFILLED))
        return reports

    def cancel(self, order_id):
        order = self._find(order_id)
        if order is None:
            return [Rejected(order_id, None, RejectReason.UNKNOWN_ID)]
        self.resting.remove(order)
        return [Cancelled(order_id, order.owner, order.qty, CancelCause.REQUEST)]

    def modify(self, order_id, qty=None, price=None):
        order = self._find(order_id)
        if order is None:
            return [Rejected(order_id, None, RejectReason.UNKNOWN_ID)]
        if (qty is None and price is None) or (qty is not None and not _qty_ok(qty)) \
                or (price is not None and not _price_ok(price)):
            return [Rejected(order_id, order.owner, RejectReason.INVALID)]
        new_qty = order.qty if qty is None else qty
        new_price = order.price if price is None else price
        done = Modified(order_id, order.owner, order.side, new_price, new_qty, order.price, order.qty)
        if new_price == order.price:
            if new_qty > order.qty:
                order.arrival = next(self._clock)
            order.qty = new_qty
            return [done]
        if order.post_only and self._would_cross(order.side, new_price):
            return [Rejected(order_id, order.owner, RejectReason.WOULD_CROSS)]
        self.resting.remove(order)
        reports = [done]
        remaining = self._match(order_id, order.owner, order.side, new_price, new_qty, reports)
        if remaining:
            self._rest(order_id, order.owner, order.side, new_price, remaining, order.post_only)
        return reports

    # -- state
    def snapshot(self):
        def side_levels(side, best_first):
            prices = sorted({o.price for o in self.resting if o.side is side}, reverse=best_first)
            return [{"price": p,
                     "orders": [[o.id, o.qty] for o in sorted(
                         (o for o in self.resting if o.side is side and o.price == p),
                         key=lambda o: o.arrival)]}
                    for p in prices]
        return {"bids": side_levels(Side.BUY, True), "asks": side_levels(Side.SELL, False)}
