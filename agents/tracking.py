"""An agent's own-order bookkeeping, kept from reports only.

Agents never see the book, and an order is live from the moment it is sent: its id
comes back from ``session.limit`` at once, but its reports arrive a round trip later.
:class:`LiveOrders` holds every live order of one agent, in flight or resting, with its
remaining lots, and the agent's net position (lots) from its fills; it also offers a
uniform random choice among the live orders in O(1), for zero-intelligence cancels.
:class:`QuotePair` keeps a market maker's one quote per side on target, moving a live
quote with ``modify`` rather than cancel + new. :func:`quote_ticks` turns a maker's
desired prices into safe ticks. :class:`TopOfBook` keeps what the L1 feed said.

Report semantics relied on (see :mod:`lobsim.sim.messages`): reports of one order arrive in
exchange order; ``OrderFilled.left`` is what the order still has (0: done); every
``OrderCancelled`` ends an order (a qty decrease by modify is an ``OrderModified``);
``OrderRejected`` ends an order that never lived; a ``CancelRejected`` changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from lobsim.sim.messages import (CancelRejected, OrderAccepted, OrderCancelled, OrderFilled,
                             OrderModified, OrderRejected, Quote)
from lobsim.book.orders import MAX_PRICE, Side

if TYPE_CHECKING:
    from lobsim.sim.gateway import Session
    from lobsim.sim.messages import MarketData, OrderReport

# Floats that should be whole ticks (e.g. 99.99999999997) must not round a whole tick
# the wrong way; 1e-9 tick is far below any meaningful price difference.
_EPS = 1e-9


class LiveOrder:
    """One of the agent's own live orders, as far as its reports tell. (A plain class,
    not a dataclass: one is built per order sent, and compiled its fields are typed.)"""

    def __init__(self, order_id: int, side: Side, price: int, qty: int) -> None:
        self.order_id = order_id
        self.side = side
        self.price = price  #: ticks, as sent or as last confirmed by OrderModified
        self.qty = qty  #: remaining lots (as sent until a report says otherwise)
        self.accepted = False  #: OrderAccepted arrived (False: still in flight)
        self.pending_modifies = 0  #: modifies sent and not yet answered
        self.pending_price = 0  #: ticks: the price of the last modify sent

    def __repr__(self) -> str:
        return (f"LiveOrder(order_id={self.order_id!r}, side={self.side!r}, price={self.price!r}, "
                f"qty={self.qty!r}, accepted={self.accepted!r}, "
                f"pending_modifies={self.pending_modifies!r}, pending_price={self.pending_price!r})")

    @property
    def target_price(self) -> int:
        """The price this order will have once the modifies in flight are applied, ticks."""
        return self.pending_price if self.pending_modifies else self.price


class LiveOrders:
    """The live orders of one agent: O(1) add, get, remove and uniform random choice.

    A list of orders plus an id -> index dict; removal swaps the last order into the hole
    (so the list stays dense and ``choice`` is one index draw). ``position`` is the net
    lots bought (+) or sold (-) over every fill reported, tracked orders or not (market
    orders are usually not tracked: they never rest).

    An order cancelled by the agent should be :meth:`remove` d when the cancel is *sent*:
    it no longer counts as live for the agent, a fill that beats the cancel still counts
    in ``position``, and the CancelRejected that then follows is ignored.
    """

    def __init__(self) -> None:
        self._orders: list[LiveOrder] = []
        self._index: dict[int, int] = {}  # order id -> position in _orders
        self.position = 0  #: lots, + long / - short

    def __len__(self) -> int:
        return len(self._orders)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._index

    def __iter__(self) -> Iterator[LiveOrder]:
        """The live orders, in no particular order (a copy: safe to remove while iterating)."""
        return iter(list(self._orders))

    def add(self, order_id: int, side: Side, price: int, qty: int) -> LiveOrder:
        """Track an order just sent: ``price`` ticks, ``qty`` lots. O(1)."""
        order = LiveOrder(order_id, side, price, qty)
        self._index[order_id] = len(self._orders)
        self._orders.append(order)
        return order

    def get(self, order_id: int | None) -> LiveOrder | None:
        """The live order with this id, or None. O(1)."""
        i = self._index.get(order_id)  # type: ignore[arg-type]
        return None if i is None else self._orders[i]

    def remove(self, order_id: int) -> LiveOrder | None:
        """Stop tracking an order (None if it was not tracked). O(1): swap-remove."""
        i = self._index.pop(order_id, None)
        if i is None:
            return None
        orders = self._orders
        order = orders[i]
        last = orders.pop()
        if last is not order:
            orders[i] = last
            self._index[last.order_id] = i
        return order

    def pop_all(self) -> list[LiveOrder]:
        """Stop tracking every order and return them (e.g. to cancel them all). O(n)."""
        orders, self._orders = self._orders, []
        self._index.clear()
        return orders

    def choice(self, rng: np.random.Generator) -> LiveOrder:
        """A live order drawn uniformly with ``rng``. O(1); IndexError if there is none."""
        if not self._orders:
            raise IndexError("no live orders")
        return self._orders[int(rng.integers(len(self._orders)))]

    def apply(self, report: OrderReport) -> LiveOrder | None:
        """Update from one report; return the tracked order it concerns (None if untracked).

        The returned order may just have been removed (filled, cancelled or rejected).
        """
        kind = type(report)
        if kind is OrderFilled:
            self.position += int(report.side) * report.qty  # Side is +1 buy / -1 sell
        order = self.get(report.order_id)
        if order is None:
            return None
        if kind is OrderFilled:
            order.accepted = True
            order.qty = report.left
            if report.left <= 0:
                self.remove(order.order_id)
        elif kind is OrderAccepted:
            order.accepted = True
        elif kind is OrderCancelled or kind is OrderRejected:
            self.remove(order.order_id)
        elif kind is OrderModified:
            order.price, order.qty = report.price, report.qty
            order.pending_modifies = max(order.pending_modifies - 1, 0)
        elif kind is CancelRejected and report.request == "modify":
            # e.g. a post-only quote whose new price would cross: it stays where it was.
            order.pending_modifies = max(order.pending_modifies - 1, 0)
        return order


class QuotePair:
    """A market maker's quotes: at most one own order per side, kept at a target price.

    :meth:`update` posts a missing quote (a post-only GTC limit by default, so a stale
    price is rejected rather than taking liquidity), moves a live one whose target changed
    with one ``modify`` (price and, since it loses priority anyway, qty back to the quote
    size), and cancels a side whose target is None. Repeated calls with the same targets
    send nothing. All reports must go through ``orders.apply``.
    """

    def __init__(self, session: Session, orders: LiveOrders, post_only: bool = True) -> None:
        self.session = session
        self.orders = orders
        self.post_only = post_only
        self._ids: dict[Side, int | None] = {Side.BUY: None, Side.SELL: None}

    def order(self, side: Side) -> LiveOrder | None:
        """The live quote on ``side``, or None (never sent, or filled/cancelled/rejected)."""
        order = self.orders.get(self._ids[side])
        if order is None:
            self._ids[side] = None
        return order

    def update(self, bid: int | None, ask: int | None, qty: int) -> None:
        """Quote ``bid``/``ask`` (ticks; None: no quote on that side) for ``qty`` lots."""
        bid_order = self.order(Side.BUY)
        # Move the side that goes away from the other first, so that with FIFO delivery
        # the two own quotes never meet (a post-only modify into the other would be refused).
        if bid is not None and bid_order is not None and bid > bid_order.target_price:
            self._set(Side.SELL, ask, qty)
            self._set(Side.BUY, bid, qty)
        else:
            self._set(Side.BUY, bid, qty)
            self._set(Side.SELL, ask, qty)

    def cancel_all(self) -> None:
        """Cancel both quotes."""
        self._set(Side.BUY, None, 0)
        self._set(Side.SELL, None, 0)

    def _set(self, side: Side, price: int | None, qty: int) -> None:
        order = self.order(side)
        session = self.session
        if price is None:
            if order is not None:
                session.cancel(order.order_id)
                self.orders.remove(order.order_id)
                self._ids[side] = None
        elif order is None:
            order_id = session.limit(side, price, qty, post_only=self.post_only)
            self.orders.add(order_id, side, price, qty)
            self._ids[side] = order_id
        elif order.target_price != price:
            session.modify(order.order_id, qty=qty, price=price)
            order.pending_modifies += 1
            order.pending_price = price


def quote_ticks(mid: float, bid: float, ask: float, best_bid: int | None,
                best_ask: int | None) -> tuple[int | None, int | None]:
    """Safe quote prices in ticks from desired ``bid``/``ask`` (float ticks).

    Rounds outward (bid down, ask up: never narrower than asked), then keeps each quote
    strictly on its own side of ``mid`` (ticks; a whole tick away when the mid is on the
    grid, half a tick when the spread is odd) and strictly off the opposite best quote
    when that side is known (``mid`` may be stale when one side of the book is empty).
    Returns ``(bid, ask)``; a side is None when its price would not be positive, or when
    it is at or past the book's ``MAX_PRICE`` either way or not a number (a model gone to
    infinity): both engines then quote nothing there (docs/engine-edges.md).
    """
    bid_ticks = ask_ticks = None
    if -MAX_PRICE < bid < MAX_PRICE:  # False for NaN
        bid_ticks = min(math.floor(bid + _EPS), math.ceil(mid - _EPS) - 1)
        if best_ask is not None:
            bid_ticks = min(bid_ticks, best_ask - 1)
        if bid_ticks < 1:
            bid_ticks = None
    if -MAX_PRICE < ask < MAX_PRICE:
        ask_ticks = max(math.ceil(ask - _EPS), math.floor(mid + _EPS) + 1)
        if best_bid is not None:
            ask_ticks = max(ask_ticks, best_bid + 1)
        if ask_ticks >= MAX_PRICE:
            ask_ticks = None
    return bid_ticks, ask_ticks


class TopOfBook:
    """What an agent knows of the best quotes of one symbol from its ``l1`` feed (ticks).

    ``bid``/``ask``: the latest quote (None: that side is empty). ``last_bid``/``last_ask``:
    the latest non-empty value of each side (None: never seen). ``mid``: the latest
    two-sided mid (float ticks), ``initial_price`` until the book has had both sides.
    """

    def __init__(self, symbol: str, initial_price: int) -> None:
        self.symbol = symbol
        self.bid: int | None = None
        self.ask: int | None = None
        self.last_bid: int | None = None
        self.last_ask: int | None = None
        self.mid = float(initial_price)

    def update(self, data: MarketData) -> bool:
        """Take in one market-data message; True if it was a Quote of this symbol."""
        if type(data) is not Quote or data.symbol != self.symbol:
            return False
        bid, ask = data.bid, data.ask
        self.bid, self.ask = bid, ask
        if bid is not None:
            self.last_bid = bid
        if ask is not None:
            self.last_ask = ask
            if bid is not None:
                self.mid = (bid + ask) / 2
        return True
