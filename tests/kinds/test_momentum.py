"""MomentumTrader: buys after a rise, sells after a fall, nothing on a flat or one-sided
book; audit and byte-identical reruns in a market."""

from __future__ import annotations

import pytest
from support.agent_harness import start_flow
from support.flow_harness import run_twice

from agents.momentum import MomentumParams, MomentumTrader
from lobsim.book.orders import Side

PARAMS = MomentumParams(trade_rate=20.0, short_window=1.0, long_window=10.0, threshold=2.0,
                        order_size=2)


def start():
    return start_flow(MomentumTrader, "mom", PARAMS, seed=4, quote=(9_999, 10_001))


def walk(session, step_ticks, seconds):
    """Move the quotes by ``step_ticks`` every second."""
    for _ in range(seconds):
        bid = session.agent.top.bid + step_ticks
        session.quote(bid, bid + 2)
        session.run_for(1)


def test_flat_prices_send_nothing():
    session, _ = start()
    session.run_for(30)
    assert session.sent == []


def test_a_rise_buys_and_a_fall_sells():
    session, _ = start()
    walk(session, +2, 10)
    ups = session.ops("market")
    assert ups and all(s.side is Side.BUY and s.qty == 2 for s in ups)
    mark = len(session.sent)
    walk(session, -3, 15)
    downs = session.ops("market", mark)
    assert [s for s in downs if s.side is Side.SELL]


def test_one_sided_book_trades_nothing():
    session, _ = start()
    session.quote(None, 10_100)
    session.run_for(10)
    assert session.sent == []


def test_windows_must_be_ordered():
    with pytest.raises(ValueError, match="short_window"):
        MomentumParams(short_window=10.0, long_window=5.0)


def test_in_a_market_it_passes_the_audit_and_reruns_to_the_same_bytes(tmp_path):
    flow = {"name": "qr", "kind": "hawkes", "limit_rates": [3.0, 1.5, 1.0],
            "cancel_rates": [0.3, 0.2, 0.1], "market_rate": 1.0, "warm_start": True}
    trend = {"name": "meta", "kind": "metaorder", "parent_rate": 0.3, "child_rate": 3.0,
             "size_exponent": 1.3, "child_sizes": [2, 5], "child_size_weights": [1.0, 1.0]}  # moves the price for it to chase
    mom = {"name": "mom", "kind": "momentum", "trade_rate": 4.0, "short_window": 0.5,
           "long_window": 5.0, "threshold": 0.05}
    summary = run_twice(tmp_path, [flow, trend, mom], duration=60.0)
    assert summary["agents"]["mom"]["fills"] > 0
