"""TWAP and the scheduled-execution base: slicing, catch-up, timing, a market run."""

from __future__ import annotations

import pytest
from support.agent_harness import FakeSession

from agents.execution import ScheduleParams, slice_lots
from agents.twap import TwapExecutor
from lobsim.book.orders import Side
from lobsim.scenario.loader import from_dict
from lobsim.sim.market import Market

S = 1_000_000_000


@pytest.mark.parametrize("parent,slices", [(10, 3), (7, 7), (3, 5), (1000, 9)])
def test_slices_sum_to_the_parent_and_stay_within_a_lot_of_even(parent, slices):
    lots = TwapExecutor("t", ScheduleParams(parent_qty=parent, slices=slices), FakeSession()).lots
    assert len(lots) == slices and sum(lots) == parent
    assert max(lots) - min(lots) <= 1


def test_slice_lots_rounds_the_cumulative_target():
    assert slice_lots(10, [1.0, 2 / 3, 1 / 3, 0.0]) == [3, 4, 3]
    assert slice_lots(4, [1.0, 0.0]) == [4]


def test_one_market_order_per_slice_at_its_time_and_catch_up_of_what_found_no_liquidity():
    session = FakeSession(auto_ack=True, latency_ns=1_000)  # market orders: all cancelled unfilled
    agent = TwapExecutor("t", ScheduleParams(side="sell", parent_qty=10, start=5.0, horizon=30.0,
                                             slices=3), session)
    session.start(agent)
    session.run_for(40)
    orders = session.ops("market")
    assert [o.at for o in orders] == [5 * S, 15 * S, 25 * S]
    assert all(o.side is Side.SELL for o in orders)
    assert [o.qty for o in orders] == [3, 7, 10]  # nothing filled: each slice catches up


def _market(kind, **params):
    data = {
        "simulation": {"duration": 40.0, "seed": 4},
        "market": {"tick_size": 0.01, "initial_price": 100.0},
        "agents": [
            {"name": "flow", "kind": "santa_fe", "limit_rate": 50.0, "market_rate": 4.0,
             "cancel_rate": 0.2, "window": 0.2},
            {"name": "exec", "kind": kind, "side": "buy", "parent_qty": 12, "start": 5.0,
             "horizon": 30.0, "slices": 6, **params},
        ],
    }
    return Market(from_dict(data, "<test>"), engine="python").run()


def test_a_market_run_executes_the_parent_passes_its_audit_and_reruns_identically():
    a, b = _market("twap"), _market("twap")
    assert a.summary["audit"]["ok"] and a.summary == b.summary
    assert a.summary["agents"]["exec"]["inventory"] == 12
