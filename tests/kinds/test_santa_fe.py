"""SantaFeTrader on a fake session: event rates, prices beyond the opposite quote, cancels."""

from __future__ import annotations

import math
from collections import Counter

from support.agent_harness import start_flow, within

from agents.poisson import total_of
from agents.santa_fe import SantaFeParams, SantaFeTrader
from lobsim.book.orders import Side

BUY, SELL = Side.BUY, Side.SELL

# tick 0.01, window 0.05 -> 5 price ticks; per side 200 * 0.05 / 2 = 5 limit orders/s;
# market orders 8 / 2 = 4/s in all; steady state ~ 10 / 0.25 = 40 resting orders.
PARAMS = SantaFeParams(limit_rate=200.0, market_rate=8.0, cancel_rate=0.25, window=0.05,
                       order_size=2)


def start(params=PARAMS, seed=7, latency_ns=0, quote=(9_990, 10_010)):
    return start_flow(SantaFeTrader, "zi", params, seed=seed, latency_ns=latency_ns, quote=quote)


def test_event_counts_match_the_model_rates():
    session, agent = start()
    seconds = 400
    session.run_for(seconds)
    limits = Counter(s.side for s in session.ops("limit"))
    markets = Counter(s.side for s in session.ops("market"))
    assert within(limits[BUY], 5 * seconds) and within(limits[SELL], 5 * seconds)
    assert within(markets[BUY], 2 * seconds) and within(markets[SELL], 2 * seconds)
    # Cancels: a Poisson count with compensator delta * (integral of resting orders dt).
    expected_cancels = 0.25 * session.resting_ns / 1e9
    assert within(len(session.ops("cancel")), expected_cancels)
    assert 30 < session.resting_ns / 1e9 / seconds < 50  # steady state around 40
    assert all(s.qty == 2 for s in session.ops("limit") + session.ops("market"))
    assert not session.refused
    assert len(agent.orders) == len(session.resting)


def test_limit_prices_are_uniform_strictly_beyond_the_opposite_quote():
    session, _ = start()
    session.run_for(200)
    buys = Counter(s.price for s in session.ops("limit") if s.side is BUY)
    sells = Counter(s.price for s in session.ops("limit") if s.side is SELL)
    assert set(buys) == {10_005, 10_006, 10_007, 10_008, 10_009}  # 10_010 - 1..5
    assert set(sells) == {9_991, 9_992, 9_993, 9_994, 9_995}  # 9_990 + 1..5
    for counts in (buys, sells):
        mean = sum(counts.values()) / 5
        assert all(abs(c - mean) < 5 * math.sqrt(mean) for c in counts.values())
    assert all(type(s.price) is int for s in session.ops("limit"))


def test_prices_follow_quotes_and_remember_an_empty_side():
    session, _ = start(quote=None)
    session.run_for(20)  # no quote yet: initial_price is the reference
    first = session.ops("limit")
    assert {s.price for s in first if s.side is BUY} <= set(range(9_995, 10_000))
    assert {s.price for s in first if s.side is SELL} <= set(range(10_001, 10_006))
    session.quote(10_100, 10_120)
    session.quote(10_100, None)  # the ask side empties: buys use the last known ask
    mark = len(session.sent)
    session.run_for(20)
    later = session.ops("limit", mark)
    assert {s.price for s in later if s.side is BUY} <= set(range(10_115, 10_120))
    assert {s.price for s in later if s.side is SELL} <= set(range(10_101, 10_106))


def test_cancels_only_own_live_orders_even_when_fills_race_them():
    session, agent = start(latency_ns=2_000_000)  # 2 ms each way at the fake exchange
    rng = session.rng
    for _ in range(300):
        session.run_for(0.5)
        if session.resting:  # someone else takes one of its resting orders whole
            order_id = sorted(session.resting)[int(rng.integers(len(session.resting)))]
            session.fill(order_id, session.resting[order_id], 0)
    limits = {s.order_id for s in session.ops("limit")}
    cancels = [s.order_id for s in session.ops("cancel")]
    assert set(cancels) <= limits
    assert len(cancels) == len(set(cancels))  # never twice
    # Only a cancel racing a fill may be refused, and the agent shrugs it off.
    assert len(session.refused) <= 5
    session.run_for(1)
    assert {o.order_id for o in agent.orders} == set(session.resting)


def test_a_fill_redraws_the_next_event_at_the_new_rate():
    session, agent = start()
    session.run_for(50)
    before = total_of(agent.rates())
    order_id = next(iter(session.resting))
    session.fill(order_id, session.resting[order_id], 0)
    assert math.isclose(total_of(agent.rates()), before - 0.25)
    assert order_id not in agent.orders


def test_same_seed_same_orders():
    runs = []
    for _ in range(2):
        session, _ = start(seed=3)
        session.run_for(30)
        runs.append([(s.op, s.at, s.side, s.price) for s in session.sent])
    assert runs[0] == runs[1]
    other, _ = start(seed=4)
    other.run_for(30)
    assert [(s.op, s.at, s.side, s.price) for s in other.sent] != runs[0]


def test_zero_rates_send_nothing():
    params = SantaFeParams(limit_rate=0.0, market_rate=0.0, cancel_rate=1.0, window=0.05)
    session, _ = start(params)
    session.run_for(100)
    assert session.sent == []
