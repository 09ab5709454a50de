"""Flow statistics on small hand-made LOBSTER flows: grouping of executions into market
orders, the time-weighted spread, 'too short' below the sample floor, and the targets."""

from __future__ import annotations

import math

import numpy as np

from lobsim.analysis.flow import INSIDE, order_flow
from lobsim.analysis.flowstats import MIN_SAMPLES, Stat, mean_spread, statistics, targets
from lobsim.data.lobster import LobsterMessage

TICK = 100  # LOBSTER units per tick (0.01)


def msg(row, time, kind, oid, size, ticks, direction):
    return LobsterMessage(row, time, kind, oid, size, ticks * TICK, direction)


def book_row(bid, ask, bid_qty=10, ask_qty=10):
    return [ask * TICK, ask_qty, bid * TICK, bid_qty]


def test_executions_at_one_time_and_side_are_one_market_order():
    messages = [msg(1, 1.0, 1, 1, 5, 100, 1), msg(2, 1.0, 1, 2, 5, 99, 1),
                msg(3, 2.0, 4, 1, 5, 100, 1), msg(4, 2.0, 4, 2, 3, 99, 1),  # one sell of 8
                msg(5, 3.0, 1, 3, 4, 101, -1), msg(6, 4.0, 4, 3, 4, 101, -1)]  # a buy of 4
    times, signs, sizes, first = order_flow(messages).market_orders()
    assert list(times) == [2.0, 4.0] and list(signs) == [-1.0, 1.0]
    assert list(sizes) == [8.0, 4.0] and list(first) == [2, 5]


def test_distances_and_the_time_weighted_spread_from_the_book_file():
    messages = [msg(1, 0.0, 1, 1, 1, 100, 1), msg(2, 1.0, 1, 2, 1, 98, 1),
                msg(3, 3.0, 1, 3, 1, 101, 1), msg(4, 4.0, 3, 3, 1, 101, 1)]
    rows = np.array([book_row(100, 104), book_row(100, 104), book_row(101, 104),
                     book_row(100, 104)])
    flow = order_flow(messages, rows)
    assert list(flow.distance[1:3]) == [2, INSIDE]  # 2 behind the bid; improving it
    # spread 4 ticks for 3 s, 3 ticks for 1 s
    assert mean_spread(flow).n < MIN_SAMPLES and math.isnan(mean_spread(flow).value)
    assert "too short (n=3)" == mean_spread(flow).show()


def test_statistics_of_a_long_regular_flow():
    messages, rows = [], []
    for i in range(400):  # a new order every 0.5 s, alternately at two sizes and prices
        messages.append(msg(i + 1, 0.5 * i, 1, i + 1, 100 if i % 2 else 10, 90 + i % 2, 1))
        rows.append(book_row(100, 102))
    stats = statistics(order_flow(messages, np.array(rows)))
    assert stats["mean_spread_ticks"].value == 2.0
    assert stats["limit_size_mean"].value == 55.0
    assert abs(stats["limit_size_cv"].value - 45 / 55) < 1e-9
    assert stats["interarrival_cv"].value == 0.0  # perfectly regular
    assert stats["sign_acf_1"].show() == "too short (n=0)"


def test_targets_are_met_missed_or_too_short():
    real = {k: Stat(v, 1000) for k, v in {
        "mean_spread_ticks": 10.0, "limit_size_mean": 50.0, "market_size_mean": 70.0,
        "limit_size_cv": 1.5, "interarrival_cv": 3.0, "sign_acf_1": 0.5, "sign_acf_10": 0.1,
        "cancels_per_market_at_best": 2.0, "ofi_r2_10s": 0.6, "kurtosis_1s": 10.0,
        "acf1_1s": 0.0, "abs_acf_1s": 0.05, "abs_acf_band": 0.03}.items()}
    sim = dict(real, mean_spread_ticks=Stat(14.0, 1000), interarrival_cv=Stat(1.5, 1000),
               ofi_r2_10s=Stat(math.nan, 5))
    verdicts = targets(real, sim)
    assert verdicts["mean spread within 30%"] is False
    assert verdicts["inter-arrival CV >= 2"] is False
    assert verdicts["OFI R^2 at 10 s in [0.3, 0.8]"] is None
    assert verdicts["sign ACF lag 1 >= 0.3"] is True
    assert verdicts["cancels per market order at best within x2"] is True
