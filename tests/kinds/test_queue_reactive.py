"""QueueReactiveTrader: rates by distance, cancels per resting order by distance, sizes
from a table; in a market: the audit and byte-identical reruns."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from support.agent_harness import start_flow, within
from support.flow_harness import run_twice

from agents.queue_reactive import QueueReactiveParams, QueueReactiveTrader, SizeTable
from lobsim.errors import ScenarioError
from lobsim.book.orders import Side
from lobsim.scenario import from_dict

BUY, SELL = Side.BUY, Side.SELL


def start(params, seed=5, quote=(9_990, 10_010)):
    return start_flow(QueueReactiveTrader, "qr", params, seed=seed, quote=quote)


def test_limit_orders_arrive_at_their_rate_at_each_distance():
    params = QueueReactiveParams(limit_rates=(4.0, 2.0, 1.0), inside_rate=3.0,
                                 cancel_rates=(0.0,), market_rate=2.0)
    session, _ = start(params)
    seconds = 300
    session.run_for(seconds)
    buys = Counter(9_990 - s.price for s in session.ops("limit") if s.side is BUY)
    sells = Counter(s.price - 10_010 for s in session.ops("limit") if s.side is SELL)
    for counts in (buys, sells):
        assert within(counts[0], 4 * seconds) and within(counts[1], 2 * seconds)
        assert within(counts[2], 1 * seconds)
        assert within(counts[-1], 3 * seconds)  # one tick inside the 20-tick spread
        assert set(counts) == {-1, 0, 1, 2}
    markets = Counter(s.side for s in session.ops("market"))
    assert within(markets[BUY], seconds) and within(markets[SELL], seconds)
    assert session.ops("cancel") == []


def test_no_inside_order_when_the_spread_is_one_tick():
    params = QueueReactiveParams(limit_rates=(0.0,), inside_rate=10.0, cancel_rates=(0.0,),
                                 market_rate=0.0)
    session, _ = start(params, quote=(9_999, 10_000))
    session.run_for(50)
    assert session.sent == []


def test_cancels_per_resting_order_depend_on_distance():
    # Orders at the best are cancelled at 2/s, one tick behind at 0.5/s, deeper never.
    params = QueueReactiveParams(limit_rates=(3.0, 3.0, 3.0), inside_rate=0.0,
                                 cancel_rates=(2.0, 0.5, 0.0), market_rate=0.0)
    session, agent = start(params)
    session.run_for(400)
    price = {s.order_id: s.price for s in session.ops("limit")}
    cancelled = Counter(9_990 - price[s.order_id] if price[s.order_id] <= 9_990
                        else price[s.order_id] - 10_010 for s in session.ops("cancel"))
    assert cancelled[2] == 0 and cancelled[0] > 0 and cancelled[1] > 0
    # steady state at the best: 3/s arrivals per side / 2/s -> 1.5 orders; 1 tick: 6 orders
    # -> cancels there ~ arrivals there (2 sides x 3/s x 400 s each), deep ones pile up
    assert within(cancelled[0], 2 * 3 * 400, sds=5) and within(cancelled[1], 2 * 3 * 400, sds=5)
    deep = sum(1 for o in agent.orders if agent.distance(o) == 2)
    assert deep == sum(1 for s in session.ops("limit")
                       if s.price in (9_988, 10_012))  # never cancelled: all still live


def test_distance_is_measured_from_the_current_best():
    params = QueueReactiveParams(limit_rates=(1.0,), cancel_rates=(1.0,), market_rate=0.0)
    session, agent = start(params)
    session.run_for(5)
    order = next(iter(agent.orders))
    assert agent.distance(order) == 0
    session.quote(9_993, 10_007)  # both bests improve by 3 ticks
    assert agent.distance(order) == 3


def test_sizes_follow_the_table_round_lots_included():
    params = QueueReactiveParams(limit_rates=(20.0,), cancel_rates=(0.0,), market_rate=5.0,
                                 limit_sizes=(1, 100, 200), limit_size_weights=(2.0, 1.0, 1.0),
                                 market_sizes=(3,), market_size_weights=(1.0,))
    session, _ = start(params)
    session.run_for(100)
    sizes = Counter(s.qty for s in session.ops("limit"))
    n = sum(sizes.values())
    assert set(sizes) == {1, 100, 200}
    assert abs(sizes[1] / n - 0.5) < 0.05 and abs(sizes[100] / n - 0.25) < 0.05
    assert {s.qty for s in session.ops("market")} == {3}


def test_size_table_inverse_cdf_and_mean():
    table = SizeTable((1, 5, 100), (1.0, 0.0, 3.0))
    assert table.draw(0.0) == 1 and table.draw(0.2499) == 1 and table.draw(0.25) == 100
    assert table.draw(0.999999) == 100
    assert table.mean() == pytest.approx(75.25)
    draws = [table.draw(u) for u in np.random.default_rng(1).random(4000)]
    assert 5 not in draws


def test_same_seed_same_orders():
    runs = []
    for seed in (3, 3, 4):
        session, _ = start(QueueReactiveParams(), seed=seed)
        session.run_for(30)
        runs.append([(s.op, s.at, s.side, s.price, s.qty) for s in session.sent])
    assert runs[0] == runs[1] != runs[2]


@pytest.mark.parametrize("table, where", [
    ({"limit_sizes": [1, 2], "limit_size_weights": [1.0]}, "same length"),
    ({"limit_size_weights": [0.0]}, "positive total weight"),
    ({"cancel_rates": []}, "cancel_rates"),
    ({"market_rate": 1e9}, "agents[0].market_rate"),
    ({"limit_rates": [1.0, -1.0]}, "agents[0].limit_rates[1]"),
])
def test_bad_parameters_are_one_line_scenario_errors(table, where):
    data = {"simulation": {"duration": 1.0}, "agents": [{"name": "qr", "kind": "queue_reactive",
                                                          **table}]}
    with pytest.raises(ScenarioError, match=r"^<t>: .*" + where.replace("[", r"\[")) as info:
        from_dict(data, "<t>")
    assert "\n" not in str(info.value)


def test_in_a_market_it_passes_the_audit_and_reruns_to_the_same_bytes(tmp_path):
    agent = {"name": "qr", "kind": "queue_reactive", "limit_rates": [3.0, 1.5, 1.0],
             "inside_rate": 1.0, "cancel_rates": [0.6, 0.3, 0.1], "market_rate": 2.0,
             "limit_sizes": [1, 2, 10], "limit_size_weights": [3.0, 2.0, 1.0]}
    summary = run_twice(tmp_path, [agent])
    assert summary["agents"]["qr"]["fills"] > 0


def test_the_cancel_rate_follows_the_quotes_exactly():
    # Orders at the best are cancelled at 5/s, deeper ones never: once the quotes move
    # away from them, nothing more is cancelled, and cancel_total says so at once.
    params = QueueReactiveParams(limit_rates=(5.0,), inside_rate=0.0, cancel_rates=(5.0, 0.0),
                                 market_rate=0.0)
    session, agent = start(params)
    session.run_for(2)
    assert agent.cancel_total() == pytest.approx(5.0 * len(agent.orders))
    session.quote(9_995, 10_005)  # every live order is now 5 ticks behind its best
    assert agent.cancel_total() == 0.0
    mark = len(session.sent)
    live = {o.order_id for o in agent.orders}
    session.run_for(5)
    assert not {s.order_id for s in session.ops("cancel", mark)} & live


def test_inside_orders_use_the_room_in_the_spread_as_calibrated():
    params = QueueReactiveParams(limit_rates=(0.0,), inside_rate=20.0, cancel_rates=(0.0,),
                                 market_rate=0.0, inside_fraction=0.25)
    session, _ = start(params, quote=(9_900, 10_101))  # 201 ticks: room of 199 inside
    session.run_for(100)
    improve = np.array([s.price - 9_900 if s.side is BUY else 10_101 - s.price
                        for s in session.ops("limit")])
    assert improve.min() >= 1 and improve.max() <= 200
    assert abs((improve - 1).mean() / 199 - 0.25) < 0.03
