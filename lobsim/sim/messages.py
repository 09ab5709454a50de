"""What the exchange sends back through the gateway: order reports and market data.

(Requests on their way to the exchange are :class:`lobsim.sim.requests.Request` records,
which no agent sees.)

Every message carries two timestamps, integer nanoseconds of simulated time:
``exchange_ns`` (when the exchange did it) and ``local_ns`` (when the agent receives
it, ``exchange_ns`` + the agent's outbound latency). Their difference is latency.
Prices are ticks, quantities lots. ``NamedTuple`` s for the same reason as
:mod:`lobsim.book.reports`: the hot path builds one per delivery.
"""

from __future__ import annotations

from typing import NamedTuple

from lobsim.book.orders import Side


class OrderAccepted(NamedTuple):
    """A new order passed the gateway and the book's checks; it may trade or rest."""

    order_id: int
    symbol: str
    side: Side
    price: int | None  #: ticks; None for a market order
    qty: int  #: lots
    exchange_ns: int
    local_ns: int


class OrderRejected(NamedTuple):
    """A new order was refused whole (``reason``: a :class:`~lobsim.book.orders.RejectReason` value)."""

    order_id: int
    symbol: str
    reason: str
    exchange_ns: int
    local_ns: int


class OrderFilled(NamedTuple):
    """Part or all of an order traded. ``left`` is what still rests (0: done)."""

    order_id: int
    symbol: str
    side: Side
    price: int  #: ticks
    qty: int  #: lots
    left: int  #: lots still resting; a taker's unfilled rest is reported by OrderCancelled
    maker: bool  #: True if this order was resting (provided liquidity)
    exchange_ns: int
    local_ns: int


class OrderCancelled(NamedTuple):
    """Quantity taken off the book: by request, or an IOC/FOK/market remainder, or
    self-trade prevention (``cause``: "request", "unfilled", "self_trade")."""

    order_id: int
    symbol: str
    qty: int  #: lots removed
    cause: str
    exchange_ns: int
    local_ns: int


class OrderModified(NamedTuple):
    """A modify was applied: the order now has ``price`` and ``qty`` (before any fills
    it caused, which follow as OrderFilled)."""

    order_id: int
    symbol: str
    price: int
    qty: int
    exchange_ns: int
    local_ns: int


class CancelRejected(NamedTuple):
    """A cancel or modify was refused (``request``: "cancel" or "modify")."""

    order_id: int
    symbol: str
    request: str
    reason: str
    exchange_ns: int
    local_ns: int


class TradePrint(NamedTuple):
    """Market data: a trade happened (``trades`` feed)."""

    symbol: str
    price: int
    qty: int
    aggressor: Side
    exchange_ns: int
    local_ns: int


class Quote(NamedTuple):
    """Market data: the best bid and ask changed (``l1`` feed). None for an empty side."""

    symbol: str
    bid: int | None
    bid_qty: int
    ask: int | None
    ask_qty: int
    exchange_ns: int
    local_ns: int


class Depth(NamedTuple):
    """Market data: an L2 snapshot, (price, lots) pairs best first (``l2`` feed)."""

    symbol: str
    bids: tuple[tuple[int, int], ...]
    asks: tuple[tuple[int, int], ...]
    exchange_ns: int
    local_ns: int


OrderReport = OrderAccepted | OrderRejected | OrderFilled | OrderCancelled | OrderModified | CancelRejected
MarketData = TradePrint | Quote | Depth

#: Feeds an agent can subscribe to.
FEEDS = ("trades", "l1", "l2")
