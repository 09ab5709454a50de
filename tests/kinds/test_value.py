"""The fundamental path (shared, reproducible, stochastic volatility and jumps) and the
value traders who follow it; audit and byte-identical reruns in a market."""

from __future__ import annotations

import math

import numpy as np
import pytest
from support.agent_harness import FakeSession, start_flow
from support.flow_harness import run_twice

from agents.fundamental import FundamentalParams, FundamentalPath, ValueParams, ValueTrader
from lobsim.analysis.metrics import autocorrelation, excess_kurtosis
from lobsim.book.orders import Side, TimeInForce


def path(params, seed=1, seconds=2000.0, look_every=None):
    session = FakeSession(seed=seed)
    p = FundamentalPath(params, session.shared_rng("fundamental"), 10_000)
    grid = np.arange(0, seconds, look_every or params.step)
    return np.array([p.at(round(t * 1e9)) for t in grid])


def test_every_follower_sees_the_same_path_whenever_it_looks():
    params = FundamentalParams(volatility=2.0, vol_of_vol=0.5, jump_rate=0.1, step=0.1)
    fine, coarse = path(params, seconds=100.0), path(params, seconds=100.0, look_every=1.0)
    assert np.allclose(fine[::10], coarse)
    assert not np.allclose(path(params, seed=2, seconds=100.0), fine)


def test_without_jumps_or_volatility_noise_it_is_a_brownian_motion():
    params = FundamentalParams(volatility=2.0, step=0.5)
    steps = np.diff(path(params))
    assert abs(steps.std() / (2.0 * math.sqrt(0.5)) - 1) < 0.05
    assert abs(excess_kurtosis(steps)) < 0.4
    assert abs(autocorrelation(np.abs(steps), [1])[0]) < 0.1


def test_jumps_give_heavy_tails_and_stochastic_volatility_clusters():
    jumps = np.diff(path(FundamentalParams(volatility=1.0, jump_rate=0.05, jump_size=20.0,
                                           step=1.0), seconds=20_000.0))
    assert excess_kurtosis(jumps) > 10
    clustered = np.diff(path(FundamentalParams(volatility=1.0, vol_of_vol=0.3, vol_reversion=0.02,
                                               step=1.0), seconds=20_000.0))
    assert np.mean(autocorrelation(np.abs(clustered), range(1, 11))) > 0.1


def start(value_ticks_offset=0.0, **changes):
    params = ValueParams(volatility=0.0, trade_rate=10.0, edge=2.0, order_size=4, **changes)
    session, agent = start_flow(ValueTrader, "value", params, seed=3, quote=None)
    agent.path.value += value_ticks_offset
    return session, agent


def test_buys_below_the_value_sells_above_and_waits_in_between():
    session, _ = start()
    session.quote(9_999, 10_001)  # value 10_000: inside the edge
    session.run_for(10)
    assert session.sent == []
    session.quote(9_990, 9_997)  # the ask is 3 ticks below the value
    session.run_for(5)
    buys = session.ops("limit")
    assert buys and all(s.side is Side.BUY and s.price == 9_998 and s.tif is TimeInForce.IOC
                        and s.qty == 4 for s in buys)
    session.quote(10_003, 10_010)
    mark = len(session.sent)
    session.run_for(5)
    sells = session.ops("limit", mark)
    assert sells and all(s.side is Side.SELL and s.price == 10_002 for s in sells)


def test_looks_come_at_trade_rate():
    session, _ = start()
    session.quote(9_990, 9_995)
    session.run_for(200)
    assert abs(len(session.ops("limit")) - 2000) < 4 * math.sqrt(2000)


@pytest.mark.parametrize("field, value", [("volatility", -1.0), ("step", 0.0), ("trade_rate", 1e9)])
def test_bad_parameters_are_refused(field, value):
    from lobsim.errors import ScenarioError
    from lobsim.scenario import from_dict

    data = {"simulation": {"duration": 1.0}, "agents": [{"name": "v", "kind": "value", field: value}]}
    with pytest.raises(ScenarioError, match=rf"agents\[0\]\.{field}"):
        from_dict(data, "<t>")


def test_in_a_market_it_passes_the_audit_and_reruns_to_the_same_bytes(tmp_path):
    flow = {"name": "qr", "kind": "queue_reactive", "limit_rates": [3.0, 1.5, 1.0],
            "cancel_rates": [0.3, 0.2, 0.1], "market_rate": 0.5, "warm_start": True}
    value = {"name": "value", "kind": "value", "volatility": 2.0, "vol_of_vol": 0.3,
             "jump_rate": 0.05, "jump_size": 10.0, "trade_rate": 2.0, "edge": 1.0}
    twin = dict(value, name="value2")  # a second follower of the same path
    summary = run_twice(tmp_path, [flow, value, twin], duration=30.0)
    assert summary["agents"]["value"]["fills"] > 0


def test_in_a_market_every_follower_sees_one_path_fixed_by_the_seed():
    from lobsim.sim.market import Market
    from lobsim.scenario import from_dict

    def values(seed):
        data = {"simulation": {"duration": 30.0, "seed": seed},
                "agents": [{"name": n, "kind": "value", "volatility": 3.0, "trade_rate": r,
                            "step": 0.5} for n, r in (("slow", 0.2), ("fast", 20.0))]}
        market = Market(from_dict(data, "<t>"))
        market.start()
        market.advance(20_000_000_000)
        slow, fast = market.agents
        return slow.path.at(market.now), fast.path.at(market.now)

    slow, fast = values(1)
    assert slow == fast  # looked at very different times, the same value now
    assert values(1) == (slow, fast) and values(2)[0] != slow
