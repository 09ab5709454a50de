"""The exchange and gateway end to end: latency and ordering, the order lifecycle,
ownership, rate limits, fees and accounting."""

from __future__ import annotations

import pytest
from support.market_harness import KINDS, Probe, probe, run, scenario

from lobsim import Side, TimeInForce
from lobsim.errors import AuditError, LivelockError
from lobsim.sim.market import Market
from lobsim.sim.output import write_run
from lobsim.sim.messages import (CancelRejected, OrderAccepted, OrderCancelled, OrderFilled,
                             OrderModified, Quote, TradePrint)

BUY, SELL = Side.BUY, Side.SELL


def limit(t, side, price, qty, **kwargs):
    return (t, "limit", (side, price, qty), kwargs)


def agent(market, name):
    return next(a for a in market.agents if a.name == name)


def kinds(received):
    return [type(item).__name__ for _, item in received]


def test_latency_each_leg_and_two_timestamps():
    market, _ = run(probe("a", [limit(1_000, SELL, 10_001, 5)], inbound_ns=100, outbound_ns=200),
                    probe("b", [limit(5_000, BUY, 10_001, 3)], inbound_ns=50, outbound_ns=70,
                          feeds=("l1", "trades")))
    a, b = agent(market, "a"), agent(market, "b")
    assert a.received[0] == (1_300, OrderAccepted(1, "XYZ", SELL, 10_001, 5, 1_100, 1_300))
    assert a.received[1] == (5_250, OrderFilled(1, "XYZ", SELL, 10_001, 3, 2, True, 5_050, 5_250))
    assert b.received[0] == (1_170, Quote("XYZ", None, 0, 10_001, 5, 1_100, 1_170))
    assert [item for _, item in b.received[1:]] == [
        OrderAccepted(2, "XYZ", BUY, 10_001, 3, 5_050, 5_120),
        OrderFilled(2, "XYZ", BUY, 10_001, 3, 0, False, 5_050, 5_120),
        TradePrint("XYZ", 10_001, 3, BUY, 5_050, 5_120),
        Quote("XYZ", None, 0, 10_001, 2, 5_050, 5_120),
    ]


def test_lower_latency_wins_the_race_to_the_queue():
    # both send at the same time; the faster one reaches the book first and trades first
    market, result = run(probe("slow", [limit(1_000, SELL, 10_001, 1)], inbound_ns=900),
                         probe("fast", [limit(1_000, SELL, 10_001, 1)], inbound_ns=100),
                         probe("taker", [limit(10_000, BUY, 10_001, 1)]))
    fills = [e for e in result.events if e[2] == "fill" and e[8] == "maker"]
    assert [e[3] for e in fills] == ["fast"]


def test_equal_times_are_ordered_by_scheduling_not_by_name():
    # identical latency and send time: the agent that sent first (earlier in the scenario,
    # so it started first) arrives first, whatever the names
    market, result = run(probe("zz", [limit(1_000, SELL, 10_001, 1)]),
                         probe("aa", [limit(1_000, SELL, 10_001, 1)]))
    assert [e[3] for e in result.events if e[2] == "limit"] == ["zz", "aa"]


def test_jittered_latency_never_reorders_one_agents_messages():
    # sent 10 us apart with a 50 us mean jitter: without the ordering rule many would overtake
    sends = [1_000 + 10_000 * i for i in range(200)]
    script = [limit(t, BUY, 9_000 + i, 1) for i, t in enumerate(sends)]
    market, result = run(probe("a", script, inbound_ns=1_000, jitter="exponential", jitter_ns=50_000))
    arrivals = [e for e in result.events if e[2] == "limit"]
    assert [e[4] for e in arrivals] == list(range(1, 201))  # sent order kept
    delays = [e[1] - t for e, t in zip(arrivals, sends)]
    assert min(delays) >= 1_000 and len(set(delays)) > 100  # floor kept, delays really vary


def test_lifecycle_partial_fill_modify_cancel_and_cancel_reject():
    market, result = run(
        probe("mm", [limit(1_000, SELL, 10_010, 10), (2_000, "modify", (1,), {"qty": 6}),
                     (5_000, "cancel", (1,), {}), (6_000, "cancel", (1,), {})]),
        probe("t", [(3_000, "market", (BUY, 2), {})]))
    mm = agent(market, "mm")
    assert [item for _, item in mm.received] == [
        OrderAccepted(1, "XYZ", SELL, 10_010, 10, 1_000, 1_000),
        OrderModified(1, "XYZ", 10_010, 6, 2_000, 2_000),
        OrderFilled(1, "XYZ", SELL, 10_010, 2, 4, True, 3_000, 3_000),
        OrderCancelled(1, "XYZ", 4, "request", 5_000, 5_000),
        CancelRejected(1, "XYZ", "cancel", "unknown_id", 6_000, 6_000),
    ]
    assert result.summary["audit"]["ok"]


def test_ioc_remainder_and_self_trade_prevention_are_reported_as_cancels():
    market, _ = run(probe("a", [limit(1_000, SELL, 10_001, 2), limit(2_000, BUY, 10_001, 5),
                                limit(3_000, BUY, 9_999, 4, tif=TimeInForce.IOC)]))
    cancels = [item for _, item in agent(market, "a").received if type(item) is OrderCancelled]
    assert [(c.order_id, c.qty, c.cause) for c in cancels] == [(2, 5, "self_trade"), (3, 4, "unfilled")]


def test_population_agents_trade_with_themselves():
    market, result = run(probe("pop", [limit(1_000, SELL, 10_001, 2), limit(2_000, BUY, 10_001, 2)],
                               kind="population_probe"))
    assert result.summary["trades"] == 1 and result.summary["agents"]["pop"]["inventory"] == 0


def test_ownership_an_agent_cannot_cancel_or_modify_anothers_order():
    market, result = run(probe("owner", [limit(1_000, SELL, 10_001, 5)]),
                         probe("thief", [(2_000, "cancel", (1,), {}),
                                         (3_000, "modify", (1,), {"qty": 1}),
                                         (4_000, "cancel", (99,), {})]))
    thief = agent(market, "thief")
    assert [item for _, item in thief.received] == [
        CancelRejected(1, "XYZ", "cancel", "not_owner", 2_000, 2_000),
        CancelRejected(1, "XYZ", "modify", "not_owner", 3_000, 3_000),
        CancelRejected(99, "XYZ", "cancel", "unknown_id", 4_000, 4_000),
    ]
    assert market.exchange.venues["XYZ"].book.remaining(1) == 5


def test_a_finished_order_keeps_its_owner_and_nothing_else():
    """Order 1 is filled whole, order 2 cancelled whole: their records go, and later
    cancels and modifies of them get the answers they always got."""
    market, result = run(
        probe("owner", [limit(1_000, SELL, 10_001, 2), limit(1_500, SELL, 10_002, 3),
                        (2_500, "cancel", (2,), {}), (3_000, "cancel", (1,), {}),
                        (3_100, "modify", (2,), {"qty": 1}), (3_200, "cancel", (True,), {})]),
        probe("taker", [(2_000, "market", (BUY, 2), {}), (4_000, "cancel", (1,), {}),
                        (4_100, "modify", (2,), {"price": 10_003}), (4_200, "cancel", (4,), {}),
                        (4_300, "cancel", (3,), {})]))
    refused = [(item.order_id, item.request, item.reason)
               for name in ("owner", "taker") for _, item in agent(market, name).received
               if type(item) is CancelRejected]
    assert refused == [(1, "cancel", "unknown_id"), (2, "modify", "unknown_id"),
                       (True, "cancel", "unknown_id"),
                       (1, "cancel", "not_owner"), (2, "modify", "not_owner"),
                       (4, "cancel", "unknown_id"), (3, "cancel", "unknown_id")]
    exchange = market.exchange
    assert exchange.orders == {}  # both left the book; the taker's market order too
    assert (exchange.orders_retired, exchange.unconserved) == (3, [])
    assert result.summary["audit"]["orders_checked"] == 3 and result.summary["audit"]["ok"]


def test_an_order_that_leaves_the_book_unconserved_is_found_then():
    market = Market(scenario(probe("a", [limit(1_000, SELL, 10_001, 2)]),
                             probe("b", [(5_000, "market", (BUY, 2), {})])),
                    resolve_kind=KINDS.__getitem__)
    market.start()
    market.advance(2_000)
    market.exchange.orders[1].submitted += 1  # submitted: a lot that appears from nowhere
    market.advance(10_000)
    assert market.exchange.unconserved == [1] and 1 not in market.exchange.orders
    with pytest.raises(AuditError) as failed:
        market.finish()
    assert failed.value.result.summary["audit"]["orders_not_conserved"] == [1]


def test_bad_orders_become_rejects_never_exceptions(tmp_path):
    script = [limit(1_000, "buy", 100, 1), limit(1_001, BUY, 100.5, 1), limit(1_002, BUY, -1, 1),
              limit(1_003, BUY, 100, 0), (1_004, "market", (SELL, None), {}),
              limit(1_005, BUY, 100, 1, symbol="NOPE"), (1_006, "modify", ([1],), {"qty": 1}),
              (1_007, "cancel", ("x",), {}), limit(1_008, BUY, 100, 1, tif="day")]
    market, result = run(probe("a", script))
    write_run(result, tmp_path / "run", "")  # malformed ids and values cannot break the log
    reasons = [(type(i).__name__, i.reason) for _, i in agent(market, "a").received]
    assert reasons == [("OrderRejected", "invalid")] * 5 + [("OrderRejected", "unknown_symbol"),
                       ("CancelRejected", "unknown_id"), ("CancelRejected", "unknown_id"),
                       ("OrderRejected", "invalid")]
    assert result.summary["audit"]["ok"]


def test_numpy_integers_are_accepted():
    import numpy as np
    market, _ = run(probe("a", [limit(1_000, SELL, np.int64(10_001), np.int32(5))]))
    assert kinds(agent(market, "a").received) == ["OrderAccepted"]


def test_rate_limit_rejects_messages_beyond_the_window():
    script = [limit(1_000 + i, BUY, 9_000 + i, 1) for i in range(5)]
    script += [limit(1_000_001_000, BUY, 8_000, 1)]  # one second later: allowed again
    market, _ = run(probe("a", script, rate_limit=3), duration=2.0)
    got = [(type(i).__name__, getattr(i, "reason", None)) for _, i in agent(market, "a").received]
    assert got == [("OrderAccepted", None)] * 3 + [("OrderRejected", "rate_limited")] * 2 + [
        ("OrderAccepted", None)]


def test_fees_and_spread_capture_accounting():
    market, result = run(probe("mm", [limit(1_000, BUY, 9_990, 4), limit(1_000, SELL, 10_010, 4)]),
                         probe("t", [(2_000, "market", (SELL, 4), {})]),
                         maker_fee=-1, taker_fee=2)
    mm, t = result.summary["agents"]["mm"], result.summary["agents"]["t"]
    # mid before the trade = (9990 + 10010) / 2 = 10000 ticks; bought 4 at 9990: 10 ticks x 4
    assert mm["spread_capture"] == 0.4 and t["spread_capture"] == -0.4
    assert mm["fees"] == -0.04 and t["fees"] == 0.08
    assert mm["inventory"] == 4 and t["inventory"] == -4
    assert result.summary["audit"]["ok"] and result.summary["audit"]["cash_plus_fees_sum"] == 0


def test_market_data_only_for_subscribed_feeds():
    market, _ = run(probe("a", [limit(1_000, SELL, 10_001, 5)]),
                    probe("quiet", []), probe("trades_only", [], feeds=("trades",)))
    assert agent(market, "quiet").received == [] and agent(market, "trades_only").received == []


def test_l2_snapshots_delivered_at_interval_with_latency():
    market, _ = run(probe("a", [limit(1_000, SELL, 10_001, 5)]),
                    probe("l2", [], outbound_ns=10, feeds=("l2",)), duration=0.35)
    times = [t for t, _ in agent(market, "l2").received]
    assert times == [10, 100_000_010, 200_000_010, 300_000_010]
    last = agent(market, "l2").received[-1][1]
    assert last.asks == ((10_001, 5),) and last.bids == ()


class Echo(Probe):
    """Answers every report of its own with another order at the same instant: a
    zero-latency feedback loop that would freeze simulated time."""

    def on_report(self, report):
        self.session.limit(BUY, 9_000, 1)


@pytest.mark.parametrize("engine", ["python", "compiled"])
def test_zero_latency_feedback_loop_stops_with_a_clear_error(engine):
    market = Market(scenario(probe("echo", [limit(1_000, BUY, 9_000, 1)])),
                    resolve_kind={"probe": Echo}.__getitem__, engine=engine)
    market.exchange.max_burst = 500
    with pytest.raises(LivelockError, match="'echo' sent 501 messages at t=0.000001000 s"):
        market.run()
