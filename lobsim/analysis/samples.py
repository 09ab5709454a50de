"""Samples drawn from run data, one value per event: what the realism distributions and
facts are made of. Every function takes a :class:`~lobsim.data.rundata.RunData` (simulated
or real) and returns a float array; prices in ticks, sizes in lots, times in seconds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lobsim.data.rundata import RunData
from lobsim.data.tape import DELETE, NEW, PARTIAL_CANCEL
from lobsim.units import NS_PER_SECOND as NS


def before(data: RunData) -> tuple[np.ndarray, np.ndarray]:
    """Best bid and ask (ticks) just before each message (``nan`` before the first)."""
    return np.r_[np.nan, data.bid[:-1]], np.r_[np.nan, data.ask[:-1]]


def spread(data: RunData) -> np.ndarray:
    """Ask minus bid (ticks) after each message with both sides quoted."""
    s = data.ask - data.bid
    return s[np.isfinite(s)]


def inter_arrival(data: RunData) -> np.ndarray:
    """Seconds between successive instants with book messages (the messages of one
    incoming order share an instant, so they are one event)."""
    t = np.asarray(data.t)
    instants = t[np.r_[True, t[1:] != t[:-1]]] if len(t) else t  # t is sorted: faster than np.unique
    return np.diff(instants) / NS


def limit_sizes(data: RunData) -> np.ndarray:
    """Lots of each new limit order that rested (type 1)."""
    return data.msg_size[data.msg_type == NEW].astype(np.float64)


def market_sizes(data: RunData) -> np.ndarray:
    """Lots traded by each incoming order that traded."""
    return np.asarray(data.trade_size, dtype=np.float64)


def distance_from_best(data: RunData, types: tuple[int, ...]) -> np.ndarray:
    """Ticks from the same side's best (before the message) to the price of each message
    of ``types``, positive away from the spread (negative: inside it)."""
    bid, ask = before(data)
    pick = np.isin(data.msg_type, types)
    d = behind_best(data.msg_price[pick], data.msg_dir[pick], bid[pick], ask[pick])
    return d[np.isfinite(d)]


def behind_best(price: np.ndarray, side: np.ndarray, bid_before: np.ndarray,
                ask_before: np.ndarray) -> np.ndarray:
    """Ticks from the same side's best (as it stood before each message) to the price of
    each message, positive away from the spread (negative: inside it; ``nan``: that best
    unknown). One value per message."""
    return np.where(side > 0, bid_before - price, price - ask_before)


def lifetimes(data: RunData) -> np.ndarray:
    """Seconds from each order's submission (type 1) to its full cancel (type 3), for the
    orders submitted in the data; O(messages)."""
    born: dict[int, int] = {}
    out = []
    for t, kind, oid in zip(data.t.tolist(), data.msg_type.tolist(), data.msg_id.tolist()):
        if kind == NEW:
            born[oid] = t
        elif kind == DELETE and oid in born:
            out.append(t - born.pop(oid))
    return np.asarray(out, dtype=np.float64) / NS


def depth_at(level: int) -> Callable[[RunData], np.ndarray]:
    """Lots at the ``level``-th price level (1 = best) of either side, per depth snapshot."""
    def samples(data: RunData) -> np.ndarray:
        book = data.book
        if not len(book.get("level", ())):
            return np.zeros(0)
        return np.asarray(book["qty"], dtype=np.float64)[np.asarray(book["level"]) == level - 1]
    return samples


def cancels_at_best(data: RunData) -> tuple[int, int]:
    """Cancels (types 2 and 3) at the same side's best price as it stood just before them,
    and the cancels for which that best is known."""
    bid, ask = before(data)
    pick = np.isin(data.msg_type, (PARTIAL_CANCEL, DELETE))
    best = np.where(data.msg_dir[pick] > 0, bid[pick], ask[pick])
    return int(np.count_nonzero(data.msg_price[pick] == best)), int(np.count_nonzero(np.isfinite(best)))


def impacts(data: RunData) -> np.ndarray:
    """Mid move (ticks) in the direction of each incoming order that traded, from just
    before it to just after it."""
    move = np.asarray(data.trade_sign) * (np.asarray(data.impact_after) - np.asarray(data.impact_before))
    return move[np.isfinite(move)]
