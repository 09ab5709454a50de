"""AvellanedaStoikovMaker on a fake session: the 2008 formulas, ticks, horizon, timer, caps."""

from __future__ import annotations

import math

import pytest
from support.agent_harness import FakeSession

from agents.avellaneda_stoikov import AvellanedaStoikovMaker, AvellanedaStoikovParams
from lobsim.book.orders import Side

BUY, SELL = Side.BUY, Side.SELL

# Price 100.00 with tick 0.01. With tau = 60 s: gamma * sigma^2 * tau = 0.24 price units
# per lot of inventory, and the spread is 0.24 + 0.2 * ln(1.1) = 0.25906 price units.
BASE = dict(gamma=10.0, sigma=0.02, kappa=100.0, horizon=60.0, horizon_mode="rolling",
            requote_interval=0.5)


def start(**overrides):
    session = FakeSession(initial_price=10_000, tick_size=0.01)
    agent = AvellanedaStoikovMaker("as", AvellanedaStoikovParams(**{**BASE, **overrides}),
                                   session)
    session.start(agent)
    return session, agent


def prices(session, since=0):
    return [(s.op, s.side, s.price) for s in session.sent[since:]]


def test_flat_inventory_quotes_the_optimal_spread_around_the_mid():
    session, agent = start()
    assert math.isclose(agent.reservation_price(), 100.0)
    assert math.isclose(agent.spread(), 0.24 + 0.2 * math.log(1.1))
    # 100 -/+ 0.12953, rounded outward to ticks
    assert prices(session) == [("limit", BUY, 9_987), ("limit", SELL, 10_013)]
    assert all(s.post_only and s.qty == 1 for s in session.sent)


def test_inventory_shifts_the_reservation_price_and_clamps_at_the_mid():
    session, agent = start()
    bid, ask = (s.order_id for s in session.sent)
    session.fill(bid, 1, 0)  # long 1: r = 100 - 0.24 = 99.76; bid 99.63047, ask 99.88953
    assert math.isclose(agent.reservation_price(), 99.76)
    assert agent.targets() == (9_963, 10_001)  # the ask may not reach the mid
    session.fill(ask, 1, 0)
    assert agent.inventory == 0
    assert agent.targets() == (9_987, 10_013)


def test_short_inventory_raises_both_quotes():
    session, agent = start()
    session.fill(session.sent[1].order_id, 1, 0)  # sold 1
    assert math.isclose(agent.reservation_price(), 100.24)
    assert agent.targets() == (9_999, 10_037)


def test_quotes_move_only_on_the_timer_and_by_modify():
    session, agent = start()
    bid, ask = (s.order_id for s in session.sent)
    session.accept(bid)
    session.accept(ask)
    session.quote(10_050, 10_060)  # mid 100.55
    assert len(session.sent) == 2
    session.run_for(0.5)
    # 100.55 -/+ 0.12953: the mid moved up, so the ask moves first
    assert prices(session, 2) == [("modify", None, 10_068), ("modify", None, 10_042)]
    assert [s.order_id for s in session.sent[2:]] == [ask, bid]
    session.run_for(0.5)  # nothing changed: nothing sent
    assert len(session.sent) == 4


def test_cyclic_horizon_shrinks_to_the_end_of_each_episode():
    session, agent = start(horizon_mode="cyclic")
    assert math.isclose(agent.time_left(), 60.0)
    session.run_until(45 * 10**9)
    assert math.isclose(agent.time_left(), 15.0)
    assert math.isclose(agent.spread(), 0.06 + 0.2 * math.log(1.1))
    session.run_until(60 * 10**9)
    assert math.isclose(agent.time_left(), 60.0)
    rolling_session, rolling = start(horizon_mode="rolling")
    rolling_session.run_until(45 * 10**9)
    assert math.isclose(rolling.time_left(), 60.0)


def test_inventory_cap_cancels_the_side_that_would_exceed_it():
    session, agent = start(max_inventory=1)
    bid, ask = (s.order_id for s in session.sent)
    session.accept(bid)
    session.fill(bid, 1, 0)
    session.run_for(0.5)
    assert agent.targets()[0] is None
    assert all(s.side is not BUY for s in session.ops("limit", 2))
    assert not session.ops("cancel")  # the bid had filled: nothing to cancel
    session.run_for(0.5)
    assert len(session.ops("limit")) == 2


def test_tolerates_cancel_rejected_and_reposts_after_fill():
    session, agent = start()
    bid, ask = (s.order_id for s in session.sent)
    session.accept(bid)
    session.quote(10_050, 10_060)
    session.run_for(0.5)  # modifies in flight
    session.fill(bid, 1, 0)
    session.cancel_rejected(bid, "modify", "unknown_id")
    mark = len(session.sent)
    session.run_for(0.5)
    assert [(s.op, s.side) for s in session.ops("limit", mark)] == [("limit", BUY)]
    assert agent.quotes.order(BUY).order_id == session.ops("limit", mark)[0].order_id
    assert agent.inventory == 1


@pytest.mark.parametrize("gamma, sigma, kappa", [(0.1, 2.0, 1.5), (1.0, 0.5, 10.0)])
def test_targets_follow_the_closed_form(gamma, sigma, kappa):
    session, agent = start(gamma=gamma, sigma=sigma, kappa=kappa, horizon=1.0,
                           max_inventory=10**6)
    session.fill(session.sent[0].order_id, 3, 0)
    tau, q, s = 1.0, 3, 100.0
    r = s - q * gamma * sigma**2 * tau
    delta = gamma * sigma**2 * tau + 2 / gamma * math.log(1 + gamma / kappa)
    bid, ask = agent.targets()
    assert bid == min(math.floor((r - delta / 2) / 0.01 + 1e-9), 9_999)
    assert ask == max(math.ceil((r + delta / 2) / 0.01 - 1e-9), 10_001)
