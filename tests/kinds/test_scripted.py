"""ScriptedTrader on a fake session: timing, metaorder slices, cancel_all, validation."""

from __future__ import annotations

import tomllib

import pytest
from support.agent_harness import FakeSession

from agents.scripted import ScheduledOrder, ScriptedParams, ScriptedTrader
from lobsim.book.orders import Side, TimeInForce
from lobsim.scenario.loader import from_dict

BUY, SELL = Side.BUY, Side.SELL
S = 1_000_000_000  # ns per second


def start(*schedule):
    session = FakeSession(tick_size=0.01)
    agent = ScriptedTrader("script", ScriptedParams(schedule=tuple(schedule)), session)
    return session, session.start(agent)


def test_each_order_goes_out_at_its_time():
    session, _ = start(ScheduledOrder(at=2.5, type="market", side="sell", qty=7),
                       ScheduledOrder(at=1.0, type="limit", side="buy", qty=3, price=99.57))
    session.run_for(1.0 - 1e-9)
    assert session.sent == []
    session.run_for(10)
    got = [(s.at, s.op, s.side, s.price, s.qty) for s in session.sent]
    assert got == [(1 * S, "limit", BUY, 9_957, 3), (2_500_000_000, "market", SELL, None, 7)]
    assert session.sent[0].tif is TimeInForce.GTC


def test_a_metaorder_is_sliced_every_interval_without_drift():
    session, _ = start(ScheduledOrder(at=10.0, type="market", side="buy", qty=100, repeat=1000,
                                      every=0.1))
    session.run_for(200)
    times = [s.at for s in session.ops("market")]
    assert len(times) == 1000 and all(s.qty == 100 for s in session.ops("market"))
    assert times[0] == 10 * S and times[-1] == 10 * S + 999 * 100_000_000
    assert times == [round((10.0 + n * 0.1) * S) for n in range(1000)]


def test_repeat_with_zero_interval_sends_all_at_once():
    session, _ = start(ScheduledOrder(at=1.0, type="market", side="buy", qty=1, repeat=3))
    session.run_for(2)
    assert [s.at for s in session.sent] == [S, S, S]


def test_cancel_all_cancels_only_orders_still_live():
    session, _ = start(
        ScheduledOrder(at=1.0, type="limit", side="buy", qty=5, price=99.0, repeat=3, every=1.0),
        ScheduledOrder(at=1.5, type="market", side="sell", qty=1),
        ScheduledOrder(at=10.0, type="cancel_all"))
    session.run_for(5)
    first, second, third = (s.order_id for s in session.ops("limit"))
    for order_id in (first, second, third):
        session.accept(order_id)
    session.fill(second, 5, 0)  # gone already
    session.fill(third, 2, 3)  # partly: still live
    session.run_for(10)
    assert sorted(s.order_id for s in session.ops("cancel")) == [first, third]
    session.cancel_rejected(first)  # e.g. it filled meanwhile: tolerated
    session.cancelled(third, 3)


def test_schedule_lines_are_validated():
    with pytest.raises(ValueError, match="needs a price"):
        ScheduledOrder(at=1.0, type="limit", side="buy", qty=1)
    with pytest.raises(ValueError, match="only for limit"):
        ScheduledOrder(at=1.0, type="market", side="buy", qty=1, price=100.0)
    with pytest.raises(ValueError, match="type"):
        ScheduledOrder(at=1.0, type="stop")


def test_the_docstring_example_loads_through_the_scenario_loader():
    import agents.scripted as module
    example = module.__doc__.split("::", 1)[1]
    table = tomllib.loads("\n".join(line[4:] for line in example.strip("\n").splitlines()))
    scenario = from_dict({"simulation": {"duration": 400.0}, **table}, "<doc>",
                         resolve_kind=lambda name: ScriptedTrader)
    schedule = scenario.agents[0].params.schedule
    assert schedule[1] == ScheduledOrder(at=120.0, type="limit", side="buy", qty=10, price=99.5,
                                         repeat=20, every=0.5)
    assert schedule[2].type == "cancel_all"
    with pytest.raises(Exception, match="needs a price"):
        from_dict({"simulation": {"duration": 1.0}, "agents": [
            {"name": "s", "kind": "scripted", "schedule": [{"at": 1.0, "type": "limit"}]}]},
            "<doc>", resolve_kind=lambda name: ScriptedTrader)
