"""An agent's request on its way to the exchange: one record for the four operations.

A :class:`Request` carries the sending session and what the agent passed, unchecked: the
exchange checks it and answers a bad one with a reject (a price of ``"x"`` or ``-1``
travels as it is). One class for ``limit``, ``market``, ``cancel`` and ``modify`` (a
field an operation does not have is None), built by :func:`new_request` without an
``__init__`` frame: where the engine is compiled it is a C struct with a freelist
(``requests.pxd``), read field by field in C by the session, the exchange and the
recorder, and never seen by an agent. O(1) to build and to read.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any


class Request:
    """``op``: "limit", "market", "cancel" or "modify"; ``order_id``: the id the session
    assigned (a new order) or the one the agent names (cancel, modify); ``symbol``,
    ``side``, ``price`` (ticks; None for a market order or an unchanged price), ``qty``
    (lots; None for a cancel or an unchanged size), ``tif`` and ``post_only`` (new orders
    only) as the agent passed them."""

    def is_new_order(self) -> bool:
        """Whether it asks for a new order (``limit`` or ``market``), not a change to one."""
        return self.op == "limit" or self.op == "market"

    def __repr__(self) -> str:
        fields = ("op", "order_id", "symbol", "side", "price", "qty", "tif", "post_only")
        return f"Request({', '.join(f'{name}={getattr(self, name)!r}' for name in fields)})"


def new_request(session: Any, op: str, order_id: Hashable, symbol: Any = None, side: Any = None,
            price: Any = None, qty: Any = None, tif: Any = None, post_only: Any = False) -> Request:
    """A new :class:`Request` from ``session`` (fields as in the class docstring)."""
    made = Request.__new__(Request)
    made.session = session
    made.op = op
    made.order_id = order_id
    made.symbol = symbol
    made.side = side
    made.price = price
    made.qty = qty
    made.tif = tif
    made.post_only = post_only
    return made
