"""The calibration's flow on small hand-made LOBSTER flows: executions grouped into market
orders, and distances from the best before each message."""

from __future__ import annotations

import numpy as np

from lobsim.analysis.flow import INSIDE, UNKNOWN, order_flow
from lobsim.data.lobster import LobsterMessage

TICK = 100  # LOBSTER units per tick (0.01)
NS = 1_000_000_000


def msg(row, seconds, kind, oid, size, ticks, direction):
    return LobsterMessage(row, round(seconds * NS), kind, oid, size, ticks * TICK, direction)


def book_row(bid, ask, bid_qty=10, ask_qty=10):
    return [ask * TICK, ask_qty, bid * TICK, bid_qty]


def test_executions_at_one_time_and_side_are_one_market_order():
    messages = [msg(1, 1.0, 1, 1, 5, 100, 1), msg(2, 1.0, 1, 2, 5, 99, 1),
                msg(3, 2.0, 4, 1, 5, 100, 1), msg(4, 2.0, 4, 2, 3, 99, 1),  # one sell of 8
                msg(5, 3.0, 1, 3, 4, 101, -1), msg(6, 4.0, 4, 3, 4, 101, -1)]  # a buy of 4
    times, signs, sizes, first = order_flow(messages).market_orders()
    assert list(times) == [2.0, 4.0] and list(signs) == [-1.0, 1.0]
    assert list(sizes) == [8.0, 4.0] and list(first) == [2, 5]


def test_distances_from_the_best_before_each_message():
    messages = [msg(1, 0.0, 1, 1, 1, 100, 1), msg(2, 1.0, 1, 2, 1, 98, 1),
                msg(3, 3.0, 1, 3, 1, 101, 1), msg(4, 4.0, 3, 3, 1, 101, 1),
                msg(5, 5.0, 1, 4, 1, 105, -1)]
    rows = np.array([book_row(100, 104), book_row(100, 104), book_row(101, 104),
                     book_row(100, 104), book_row(100, 104)])
    flow = order_flow(messages, rows)
    # no book before the first; 2 behind the bid; improving it; a cancel at the best;
    # an ask one tick behind the best ask
    assert list(flow.distance) == [UNKNOWN, 2, INSIDE, 0, 1]
    assert list(flow.known) == [True] * 5
