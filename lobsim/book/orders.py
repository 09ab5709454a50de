"""Order vocabulary shared by the book, the gateway and the agents.

Prices are integer ticks, quantities integer lots. Enum members are compared by
identity in the book's hot paths, so pass the members themselves, not their values.
"""

from __future__ import annotations

from enum import Enum, IntEnum


class Side(IntEnum):
    """Order side; the value is the sign of the inventory change of a fill (+1 buy, -1 sell)."""

    BUY = 1
    SELL = -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY

    @property
    def label(self) -> str:
        """``"buy"`` or ``"sell"``, as written in message files and event logs."""
        return "buy" if self is Side.BUY else "sell"

    @classmethod
    def parse(cls, value: object) -> object:
        """``"buy"``/``"sell"`` (any case) -> member; anything else is returned unchanged
        so that the book rejects it as ``invalid``."""
        if isinstance(value, str):
            return _SIDE_LABELS.get(value.lower(), value)
        return value


_SIDE_LABELS = {"buy": Side.BUY, "sell": Side.SELL}


class TimeInForce(Enum):
    """How long the unfilled part of a limit order lives."""

    GTC = "gtc"  #: good till cancelled: the rest rests
    IOC = "ioc"  #: immediate or cancel: the rest is cancelled
    FOK = "fok"  #: fill or kill: fills completely at once or not at all

    @classmethod
    def parse(cls, value: object) -> object:
        """``"gtc"``/``"ioc"``/``"fok"`` (any case) -> member; anything else unchanged."""
        if isinstance(value, str):
            return _TIF_LABELS.get(value.lower(), value)
        return value


_TIF_LABELS = {tif.value: tif for tif in TimeInForce}


class RejectReason(str, Enum):
    """Why an order, cancel or modify was refused; the value is the wire/log spelling."""

    INVALID = "invalid"  #: malformed: bad side, price, qty, tif or flag combination
    UNKNOWN_ID = "unknown_id"  #: no live order has that id
    DUPLICATE_ID = "duplicate_id"  #: the id was already used by an accepted order
    WOULD_CROSS = "would_cross"  #: post-only order that would trade on arrival
    NOT_OWNER = "not_owner"  #: gateway: the order belongs to someone else
    RATE_LIMITED = "rate_limited"  #: gateway: the sender exceeded its message-rate limit
    UNKNOWN_SYMBOL = "unknown_symbol"  #: gateway: no book for that symbol


class CancelCause(str, Enum):
    """Why quantity left the book without trading; the value is the log spelling."""

    REQUEST = "request"  #: the owner asked
    UNFILLED = "unfilled"  #: an IOC, FOK or market order's untraded rest
    SELF_TRADE = "self_trade"  #: self-trade prevention stopped the incoming order


#: Largest price in ticks the book accepts (exclusive); above it the book's sentinels live.
MAX_PRICE = 1 << 62
#: Largest quantity in lots the book accepts (exclusive): event logs store lots as int64.
MAX_QTY = 1 << 62
