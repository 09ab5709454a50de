"""InformedTrader: a private compound-Poisson value, market orders only against mispricing."""

from __future__ import annotations

import numpy as np
from support.agent_harness import start_flow, within

from agents.informed import InformedParams, InformedTrader
from lobsim.sim.market import Market
from lobsim.book.orders import Side
from lobsim.scenario.loader import from_dict

BUY, SELL = Side.BUY, Side.SELL


def start(params, seed=7, quote=(9_990, 10_010)):
    return start_flow(InformedTrader, "insider", params, seed=seed, quote=quote)


def test_no_trade_while_the_value_is_inside_the_quotes():
    session, agent = start(InformedParams(jump_rate=0.0, trade_rate=5.0))
    session.run_for(100)
    assert agent.value == 10_000
    assert session.sent == []


def test_buys_at_trade_rate_while_the_ask_is_below_the_value_and_sells_below_the_bid():
    params = InformedParams(jump_rate=0.0, trade_rate=5.0, order_size=3)
    session, agent = start(params)
    agent.value = 10_020  # the ask (10_010) is 10 ticks below the value
    session.run_for(200)
    buys = session.ops("market")
    assert within(len(buys), 5.0 * 200) and {(s.side, s.qty) for s in buys} == {(BUY, 3)}
    agent.value = 9_980  # now the bid (9_990) is 10 ticks above it
    mark = len(session.sent)
    session.run_for(200)
    sells = session.ops("market", mark)
    assert within(len(sells), 5.0 * 200) and {(s.side, s.qty) for s in sells} == {(SELL, 3)}


def test_edge_is_the_least_mispricing_it_trades_on():
    params = InformedParams(jump_rate=0.0, trade_rate=5.0, edge=0.03)  # 3 ticks
    session, agent = start(params)
    agent.value = 10_012  # ask 10_010: 2 ticks of edge, not enough
    session.run_for(50)
    assert session.sent == []
    agent.value = 10_013
    session.run_for(50)
    assert session.ops("market") and all(s.side is BUY for s in session.ops("market"))


def test_an_empty_side_is_never_traded_against():
    session, agent = start(InformedParams(jump_rate=0.0, trade_rate=5.0), quote=(9_990, 10_010))
    session.quote(9_990, None)
    agent.value = 20_000
    session.run_for(50)
    assert session.sent == []


def test_the_value_is_a_symmetric_walk_of_whole_jumps_at_jump_rate():
    params = InformedParams(jump_rate=4.0, jump=0.03, trade_rate=0.0)  # 3-tick jumps
    session, agent = start(params, quote=None)
    path = [agent.value]
    for _ in range(50_000):  # 500 s in 10 ms looks: two jumps in one look are rare
        session.run_for(0.01)
        path.append(agent.value)
    steps = np.diff(path)
    assert np.all(steps % 3 == 0)  # whole jumps of 3 ticks
    assert within(int(np.abs(steps).sum()) // 3, 4.0 * 500)
    assert within(int((steps > 0).sum()), int((steps != 0).sum()) / 2)  # up and down alike
    assert session.sent == []


def test_same_seed_same_orders():
    params = InformedParams(jump_rate=2.0, jump=0.05, trade_rate=3.0)
    runs = []
    for seed in (3, 3, 4):
        session, _ = start(params, seed=seed)
        session.run_for(60)
        runs.append([(s.op, s.at, s.side) for s in session.sent])
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_in_a_market_its_orders_walk_the_mid_to_its_value():
    data = {
        "simulation": {"duration": 120.0, "seed": 5, "snapshot_interval": 1.0},
        "market": {"symbol": "XYZ", "tick_size": 0.01, "initial_price": 100.0},
        "agents": [
            {"name": "flow", "kind": "santa_fe", "limit_rate": 50.0, "market_rate": 4.0,
             "cancel_rate": 0.2, "window": 0.2},
            {"name": "insider", "kind": "informed", "jump_rate": 0.2, "jump": 0.1,
             "trade_rate": 4.0},
        ],
    }
    market = Market(from_dict(data, "<test>"))
    market.start()
    insider = next(a for a in market.agents if a.name == "insider")
    venue = market.exchange.venues["XYZ"]
    mids, values = [], []
    for second in range(1, 121):
        market.advance(second * 1_000_000_000)
        mids.append(venue.mid2 / 2)
        values.append(insider.value)
    result = market.finish()  # raises AuditError if conservation fails
    values, mids = np.array(values), np.array(mids)
    assert np.ptp(values) >= 30  # the value went somewhere (several 10-tick jumps)
    # the mid follows, with a lag: it is mostly less than one jump away from the value
    assert np.corrcoef(mids, values)[0, 1] > 0.9
    assert float(np.median(np.abs(mids - values))) < 10
    assert result.summary["agents"]["insider"]["fills"] > 0
