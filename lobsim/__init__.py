"""lobsim: an event-driven limit-order-book market simulator with learning agents.

The order book API (these names are a contract)::

    from lobsim import OrderBook, Side, TimeInForce
"""

from lobsim.book import (MAX_PRICE, MAX_QTY, CancelCause, Cancelled, Modified, OrderBook,
                         OrderInfo, RejectReason, Rejected, Report, Side, TimeInForce, Traded)

__version__ = "0.1.0"

__all__ = [
    "MAX_PRICE",
    "MAX_QTY",
    "CancelCause",
    "Cancelled",
    "Modified",
    "OrderBook",
    "OrderInfo",
    "RejectReason",
    "Rejected",
    "Report",
    "Side",
    "TimeInForce",
    "Traded",
]
