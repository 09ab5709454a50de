"""The order book: price-time matching on integer ticks and lots, and nothing else.

It knows nothing of time, agents or I/O (see :mod:`lobsim.sim` for those). Its vocabulary
is in :mod:`~lobsim.book.orders` (sides, time in force, reject reasons) and
:mod:`~lobsim.book.reports` (what an operation did, in the past tense); the book itself
(compiled, with the Python reference beside it) is :mod:`~lobsim.book.orderbook`, and
:mod:`~lobsim.book.replay` replays a JSONL file of operations through it.
"""

from lobsim.book.orderbook import IMPLEMENTATION, OrderBook, OrderInfo, PyOrderBook
from lobsim.book.orders import MAX_PRICE, MAX_QTY, CancelCause, RejectReason, Side, TimeInForce
from lobsim.book.reports import Cancelled, Modified, Rejected, Report, Traded

__all__ = [
    "IMPLEMENTATION", "MAX_PRICE", "MAX_QTY", "CancelCause", "Cancelled", "Modified",
    "OrderBook", "OrderInfo", "PyOrderBook", "RejectReason", "Rejected", "Report", "Side",
    "TimeInForce", "Traded",
]
