"""PoissonTrader on a fake session: rates, sizes, placement behind the touch; EventClock."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from support.agent_harness import FakeSession, start_flow, within

from agents.poisson import EventClock, PoissonParams, PoissonTrader, truncated_geometric
from lobsim.book.orders import Side

BUY, SELL = Side.BUY, Side.SELL


def start(params, seed=5, quote=(9_990, 10_010)):
    return start_flow(PoissonTrader, "noise", params, seed=seed, quote=quote)


def test_rates_and_market_fraction():
    params = PoissonParams(order_rate=20.0, market_fraction=0.25, cancel_rate=0.5,
                           mean_size=3.0, max_offset=4)
    session, agent = start(params)
    seconds = 300
    session.run_for(seconds)
    limits, markets = session.ops("limit"), session.ops("market")
    assert within(len(limits), 15 * seconds) and within(len(markets), 5 * seconds)
    sides = Counter(s.side for s in limits + markets)
    assert within(sides[BUY], 10 * seconds) and within(sides[SELL], 10 * seconds)
    assert within(len(session.ops("cancel")), 0.5 * session.resting_ns / 1e9)
    sizes = np.array([s.qty for s in limits + markets])
    assert sizes.min() >= 1
    # geometric, mean 3: sd sqrt(1 - p) / p = sqrt(6)
    assert abs(sizes.mean() - 3.0) < 4 * math.sqrt(6) / math.sqrt(len(sizes))
    assert not session.refused and len(agent.orders) == len(session.resting)


def test_uniform_placement_behind_the_same_side_touch():
    params = PoissonParams(order_rate=50.0, market_fraction=0.0, cancel_rate=0.0, max_offset=3)
    session, _ = start(params)
    session.run_for(40)
    buys = Counter(s.price for s in session.ops("limit") if s.side is BUY)
    sells = Counter(s.price for s in session.ops("limit") if s.side is SELL)
    assert set(buys) == {9_990, 9_989, 9_988, 9_987}
    assert set(sells) == {10_010, 10_011, 10_012, 10_013}
    mean = sum(buys.values()) / 4
    assert all(abs(c - mean) < 5 * math.sqrt(mean) for c in buys.values())


def test_geometric_placement_decays_and_stays_in_range():
    params = PoissonParams(order_rate=50.0, market_fraction=0.0, cancel_rate=0.0, max_offset=6,
                           placement="geometric", offset_p=0.5)
    session, _ = start(params)
    session.run_for(60)
    offsets = Counter(9_990 - s.price for s in session.ops("limit") if s.side is BUY)
    assert set(offsets) <= set(range(7)) and offsets[0] > offsets[1] > offsets[2] > offsets[3]
    n = sum(offsets.values())
    assert abs(offsets[0] / n - 0.5 / (1 - 0.5 ** 7)) < 0.04


def test_empty_book_uses_initial_price_and_never_crosses():
    params = PoissonParams(order_rate=50.0, market_fraction=0.0, cancel_rate=0.0, max_offset=2)
    session, _ = start(params, quote=None)
    session.run_for(5)
    assert {s.price for s in session.ops("limit") if s.side is BUY} <= {9_997, 9_998, 9_999}
    assert {s.price for s in session.ops("limit") if s.side is SELL} <= {10_001, 10_002, 10_003}
    session.quote(None, 9_950)  # bids gone, the ask fell below the last bid: buys stay below it
    mark = len(session.sent)
    session.run_for(5)
    assert all(s.price <= 9_949 for s in session.ops("limit", mark) if s.side is BUY)


@pytest.mark.parametrize("p, top", [(0.3, 5), (0.9, 3), (1.0, 4), (0.5, 0)])
def test_truncated_geometric_matches_its_pmf(p, top):
    rng = np.random.default_rng(0)
    draws = Counter(truncated_geometric(u, p, top) for u in rng.random(20_000))
    weights = [(1 - p) ** k for k in range(top + 1)]
    for k, w in enumerate(weights):
        assert abs(draws[k] / 20_000 - w / sum(weights)) < 0.015
    assert set(draws) <= set(range(top + 1))


def test_event_clock_ignores_stale_draws():
    session = FakeSession(seed=1)
    clock = EventClock(session)
    clock.schedule(10.0)
    clock.schedule(10.0)
    tags = [tag for *_, tag in sorted(session._queue, key=lambda item: item[1])]
    assert [clock.is_due(tag) for tag in tags] == [False, True]  # only the latest draw
    clock.schedule(0.0)  # no rate: nothing pending is due
    assert not any(clock.is_due(tag) for tag in tags)
