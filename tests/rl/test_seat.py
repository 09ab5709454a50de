"""lobsim.rl.seat: the learner's orders through the gateway, and the reward terms."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from support.scenarios import short_scenario

from lobsim.scenario.config import AgentConfig, LatencyConfig, MarketConfig, Scenario, SimulationConfig
from lobsim.rl.env import MarketEnv
from lobsim.book.orders import Side
from lobsim.rl.seat import OBS_FIELDS, LearnerParams, LearnerSeat, RewardMeter, action_count


def fake_market(capture2=0, inventory=0, mid2=20000, tick=0.01, cash=0):
    ledger = SimpleNamespace(spread_capture2=[capture2], inventory=[inventory], cash=[cash], fees=[0])
    venue = SimpleNamespace(mid2=mid2)
    return SimpleNamespace(scenario=SimpleNamespace(market=SimpleNamespace(tick_size=tick, symbol="XYZ")),
                           ledger=ledger, exchange=SimpleNamespace(venues={"XYZ": venue}))


def _book(market, *, capture2, inventory, cash, mid2):
    market.ledger.spread_capture2[0], market.ledger.inventory[0] = capture2, inventory
    market.ledger.cash[0] = cash
    market.exchange.venues["XYZ"].mid2 = mid2


def test_reward_terms_quadratic_with_mark_to_market_and_terminal():
    p = LearnerParams(inventory_penalty="quadratic", inventory_coef=0.5, mark_to_market=True,
                      terminal_coef=0.25)
    meter = RewardMeter(p, 0)
    market = fake_market()
    meter.reset(market)
    # the step: bought 2 lots at 99.99 with the mid at 100.00 (2 ticks of capture), then
    # the mid went up 1 tick: long 2, cash -2 x 9999 ticks
    _book(market, capture2=4, inventory=2, cash=-19998, mid2=20002)
    t = meter.terms(market, dt=0.1, last=False)
    assert t["spread_capture"] == pytest.approx(0.02)
    assert t["inventory_penalty"] == pytest.approx(-0.5 * 4 * 0.1)
    assert t["mark_to_market"] == pytest.approx(2 * 0.01)
    assert t["terminal"] == 0.0
    assert t["reward"] == pytest.approx(0.02 - 0.2 + 0.02)
    # next step: the mid rises another tick while still long 2, then both lots are sold
    # at the mid (no capture): flat at the end, yet the inventory earned 2 ticks on the way
    _book(market, capture2=4, inventory=0, cash=-19998 + 2 * 10002, mid2=20004)
    t = meter.terms(market, dt=0.1, last=False)
    assert t["spread_capture"] == 0.0 and t["inventory_penalty"] == 0.0
    assert t["mark_to_market"] == pytest.approx(2 * 0.01)
    # last step: nothing happens, but it is the last one
    _book(market, capture2=4, inventory=-1, cash=-19998 + 3 * 10002, mid2=20004)
    t = meter.terms(market, dt=0.1, last=True)
    assert t["spread_capture"] == 0.0 and t["mark_to_market"] == 0.0
    assert t["terminal"] == pytest.approx(-0.25 * 1)


def test_reward_terms_linear_without_mark_to_market():
    meter = RewardMeter(LearnerParams(inventory_penalty="linear", inventory_coef=0.1,
                                      mark_to_market=False, terminal_coef=0.0), 0)
    market = fake_market(capture2=10)
    meter.reset(market)
    market.ledger.spread_capture2[0], market.ledger.inventory[0] = 7, -3  # lost 3 half-ticks
    market.exchange.venues["XYZ"].mid2 = 19990
    t = meter.terms(market, dt=0.5, last=True)
    assert t["spread_capture"] == pytest.approx(-0.015)
    assert t["inventory_penalty"] == pytest.approx(-0.1 * 3 * 0.5)
    assert t["mark_to_market"] == 0.0 and t["terminal"] == 0.0


def _alone(duration=1.0, count=1, **params):
    """``count`` learner seats alone in an empty book (mid = initial price 100.00)."""
    latency = LatencyConfig(inbound_ns=1_000, outbound_ns=1_000)
    agents = (AgentConfig("maker", "learner", LearnerParams(**params), count=count, latency=latency),)
    return Scenario(SimulationConfig(duration=duration, snapshot_interval=0.5), MarketConfig(), agents)


def _resting(env):
    book = env.market.exchange.venues["XYZ"].book
    bids, asks = book.depth(10)
    return bids, asks


def test_grid_action_posts_moves_and_cancels_quotes_through_the_gateway():
    env = MarketEnv(_alone(grid=(1, 2, 3)))
    env.reset(seed=1)
    n = 4  # grid choices incl. "no quote"
    env.step({"maker": 1 * n + 2})  # bid 1 tick, ask 2 ticks from mid 10000
    assert _resting(env) == ([(9999, 1)], [(10002, 1)])
    seat = env.seats["maker"]
    ids = {side: seat.quotes[side][0] for side in (Side.BUY, Side.SELL)}
    # the mid is now its own quotes' (10000.5): a bid 3 ticks away rounds up to 9998
    env.step({"maker": 3 * n + 2})  # the bid moves (a modify: same order id)
    assert _resting(env) == ([(9998, 1)], [(10002, 1)])
    assert seat.quotes[Side.BUY][0] == ids[Side.BUY]
    env.step({"maker": 0 * n + 2})  # no bid: cancelled
    assert _resting(env) == ([], [(10002, 1)])
    assert seat.quotes[Side.BUY] is None
    env.step({"maker": 0})
    assert _resting(env) == ([], [])
    assert env.market.exchange.venues["XYZ"].book.get(ids[Side.SELL]) is None


def test_observation_describes_the_spread_and_the_seat_s_own_quotes():
    env = MarketEnv(_alone(grid=(1, 2, 3)))
    env.reset(seed=1)
    o = dict(zip(OBS_FIELDS, env.step({"maker": 1 * 4 + 2})[0]["maker"]))
    # the seat alone: bid 9999, ask 10002 are the book (spread 3, mid 10000.5)
    assert o["spread"] == pytest.approx(0.3)
    assert [o[f"spread_is_{k}"] for k in range(1, 6)] == [0, 0, 1, 0, 0]
    assert o["bid_lots"] == o["ask_lots"] == pytest.approx(0.2)
    assert o["bid_quoted"] == o["ask_quoted"] == 1.0
    assert o["bid_distance"] == pytest.approx(1.5 / 5) and o["ask_distance"] == pytest.approx(1.5 / 5)
    assert o["bid_behind"] == o["ask_behind"] == o["bid_ahead"] == o["ask_ahead"] == 0.0
    # no bid: its features are all zero, and the book is one-sided
    o = dict(zip(OBS_FIELDS, env.step({"maker": 0 * 4 + 2})[0]["maker"]))
    assert [o[f"bid_{w}"] for w in ("quoted", "distance", "behind", "ahead")] == [0, 0, 0, 0]
    assert o["spread"] == 1.0 and sum(o[f"spread_is_{k}"] for k in range(1, 6)) == 0


def test_observation_shows_a_quote_behind_the_best_and_the_lots_ahead_of_it():
    env = MarketEnv(_alone(count=2, grid=(1, 2, 3)))
    env.reset(seed=1)
    n = 4
    # maker_0 quotes 1 tick away first; maker_1 then joins the bid 1 tick and rests 2
    # ticks behind on the ask: behind maker_0's lot at the bid, one tick behind the ask
    env.step({"maker_0": 1 * n + 1, "maker_1": 0})
    obs = env.step({"maker_0": 1 * n + 1, "maker_1": 1 * n + 2})[0]
    o0, o1 = (dict(zip(OBS_FIELDS, obs[m])) for m in ("maker_0", "maker_1"))
    assert o1["bid_behind"] == 0.0 and o1["bid_ahead"] == pytest.approx(0.1)
    assert o1["ask_behind"] == pytest.approx(1 / 5) and o1["ask_ahead"] == 0.0
    assert o0["bid_ahead"] == 0.0 and o0["bid_behind"] == 0.0


def test_three_action_space():
    env = MarketEnv(_alone(action_space="three"))
    env.reset(seed=1)
    assert action_count(env.params["maker"]) == 3
    env.step({"maker": 1})  # empty book: a bid one tick under the mid
    env.step({"maker": 2})
    env.step({"maker": 0})
    assert _resting(env) == ([(9999, 1)], [(10001, 1)])


def test_max_inventory_stops_quoting_the_side_that_would_exceed_it():
    env = MarketEnv(_alone(max_inventory=2, quote_size=3))
    env.reset(seed=1)
    env.step({"maker": 6})  # both sides at 1 tick, but a fill of 3 lots would exceed 2
    assert _resting(env) == ([], [])


def test_team_mode_gives_every_learner_the_sum():
    env = MarketEnv(short_scenario(duration=3.0, team=True))
    env.reset(seed=2)
    seen = False
    while env.agents:
        _, rewards, _, _, infos = env.step({"maker_0": 6, "maker_1": 18})
        own = [infos[a]["own_reward"] for a in ("maker_0", "maker_1")]
        assert rewards["maker_0"] == rewards["maker_1"] == pytest.approx(sum(own))
        seen |= own[0] != own[1]
    assert seen


def test_individual_rewards_are_the_seat_s_own():
    env = MarketEnv(short_scenario(duration=3.0))
    env.reset(seed=2)
    total_capture = 0.0
    while env.agents:
        _, rewards, _, _, infos = env.step({"maker_0": 6, "maker_1": 6})
        for a in rewards:
            assert rewards[a] == pytest.approx(infos[a]["reward"])
        total_capture += infos["maker_0"]["spread_capture"]
    assert total_capture == pytest.approx(env.result.summary["agents"]["maker_0"]["spread_capture"])


def test_seat_duck_types_an_agent():
    for attr in ("on_start", "on_market_data", "on_report", "on_timer", "on_end"):
        assert callable(getattr(LearnerSeat, attr))
    assert LearnerSeat.Params is LearnerParams
    assert set(LearnerSeat.feeds) <= {"trades", "l1", "l2"}


def test_refused_modify_is_resent_on_the_next_decision():
    from lobsim.sim.messages import CancelRejected

    calls = []
    session = SimpleNamespace(
        initial_price=100.0, index=0,
        limit=lambda *a, **k: calls.append(("limit", a, k)) or 7,
        modify=lambda *a, **k: calls.append(("modify", a, k)),
        cancel=lambda *a, **k: calls.append(("cancel", a, k)))
    seat = LearnerSeat("maker", LearnerParams(), session)
    seat._set(Side.BUY, 9998)
    seat._set(Side.BUY, 9999)  # a move: one modify
    assert [c[0] for c in calls] == ["limit", "modify"]
    seat._set(Side.BUY, 9999)  # believed there already: nothing sent
    assert len(calls) == 2
    # the exchange refuses the modify (post-only would cross): the quote did not move
    seat.on_report(CancelRejected(7, "XYZ", "modify", "would_cross", 0, 0))
    seat._set(Side.BUY, 9999)  # the same target again must send a fresh modify
    assert [c[0] for c in calls] == ["limit", "modify", "modify"]
    assert calls[-1][2]["price"] == 9999 and seat.quotes[Side.BUY][1] == 9999
    # a refused cancel does not touch the believed price
    seat.on_report(CancelRejected(7, "XYZ", "cancel", "unknown_order", 0, 0))
    seat._set(Side.BUY, 9999)
    assert len(calls) == 3
