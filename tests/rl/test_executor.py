"""lobsim.rl.executor: the executor seat beside makers (spaces, API conformance), its
actions, and its reward as the implementation shortfall against the arrival mid."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test, parallel_seed_test
from support.scenarios import exec_scenario

from lobsim.errors import LobsimError
from lobsim.rl.env import MarketEnv
from lobsim.rl.executor import EXEC_OBS_SIZE, OWN_FIELDS
from lobsim.rl.seat import OBS_SIZE

WAIT, CROSS_1, JOIN_2, DEEPER_4 = 0, 1, 5, 9  # 1 + 3 * size index + aggressiveness


def test_makers_and_executor_have_their_own_spaces_and_conform():
    env = MarketEnv(exec_scenario())
    assert env.possible_agents == ["maker_0", "maker_1", "exec"]
    assert env.observation_space("exec").shape == (EXEC_OBS_SIZE,) != (OBS_SIZE,)
    assert env.observation_space("maker_0").shape == (OBS_SIZE,)
    assert env.action_space("exec").n == 10 and env.action_space("maker_0").n == 25
    assert EXEC_OBS_SIZE == 17 + len(OWN_FIELDS)
    parallel_api_test(env, num_cycles=40)
    parallel_seed_test(lambda: MarketEnv(exec_scenario()), num_cycles=40)


def _episode(env, action, seed=11):
    obs, _ = env.reset(options={"market_seed": seed})
    totals, seen = {"execution": 0.0, "unfilled": 0.0}, []
    while env.agents:
        obs, rewards, _, _, infos = env.step({"maker_0": 6, "maker_1": 6, "exec": action})
        seen.append(obs["exec"])
        for key in totals:
            totals[key] += infos["exec"][key]
        assert rewards["exec"] == pytest.approx(infos["exec"]["execution"] + infos["exec"]["unfilled"])
    return totals, seen


def test_reward_is_minus_the_shortfall_against_the_arrival_mid_from_the_ledger():
    env = MarketEnv(exec_scenario())
    totals, _ = _episode(env, CROSS_1)
    seat, ledger = env.seats["exec"], env.market.ledger
    i, tick = seat.session.index, env.scenario.market.tick_size
    # no trade before the arrival: cash and inventory start at 0
    arrival2 = seat.meter.arrival2
    value2 = 2 * ledger.cash[i] + ledger.inventory[i] * arrival2
    assert totals["execution"] == pytest.approx(value2 * tick / 2)
    executed = ledger.inventory[i]
    assert 0 < executed <= 6  # IOCs never work more than what is left
    assert totals["unfilled"] == pytest.approx(-0.05 * (6 - executed))
    assert env.result.summary["audit"]["ok"]


def test_waiting_sends_nothing_and_pays_the_penalty_on_the_whole_parent():
    env = MarketEnv(exec_scenario())
    totals, _ = _episode(env, WAIT)
    assert env.seats["exec"].sent == 0
    assert totals == {"execution": 0.0, "unfilled": pytest.approx(-0.05 * 6)}


def test_nothing_is_sent_before_the_start_and_resting_children_go_at_the_horizon():
    env = MarketEnv(exec_scenario(duration=3.0))
    env.reset(options={"market_seed": 5})
    seat = env.seats["exec"]
    for _ in range(5):  # 0.0 .. 0.4 s: before start = 0.5 s
        env.step({"maker_0": 6, "maker_1": 6, "exec": JOIN_2})
    assert seat.sent == 0 and seat.meter.arrival2 is not None  # the arrival is taken at 0.5 s
    while env.market.now < 2.5e9:
        env.step({"maker_0": 0, "maker_1": 0, "exec": DEEPER_4})
    assert seat.sent > 0
    env.step({"maker_0": 0, "maker_1": 0, "exec": DEEPER_4})
    assert seat.child is None  # cancelled at the first decision after the horizon
    book = env.market.exchange.venues["XYZ"].book
    env.step({"maker_0": 0, "maker_1": 0, "exec": DEEPER_4})
    assert all(book.get(oid) is None for oid in seat.working)


def test_observation_tracks_what_is_left_and_the_horizon():
    env = MarketEnv(exec_scenario())
    _, seen = _episode(env, CROSS_1)
    k = 17  # after the market features and the flow
    remaining, horizon_left = [o[k] for o in seen], [o[k + 1] for o in seen]
    assert remaining[0] == 1.0 and remaining[-1] < 1.0
    assert all(b <= a for a, b in zip(remaining, remaining[1:]))
    assert horizon_left[0] == 1.0 and horizon_left[-1] == 0.0
    assert all(b <= a for a, b in zip(horizon_left, horizon_left[1:]))


def test_same_seed_same_episode():
    a = _episode(MarketEnv(exec_scenario()), JOIN_2)
    b = _episode(MarketEnv(exec_scenario()), JOIN_2)
    assert a[0] == b[0] and all(np.array_equal(x, y) for x, y in zip(a[1], b[1]))


def test_executor_and_team_makers_are_refused_in_one_line():
    from support.scenarios import exec_scenario_dict

    from lobsim.scenario.loader import from_dict

    data = exec_scenario_dict()
    data["agents"][1]["team"] = True
    with pytest.raises(LobsimError, match="share decision_interval and team"):
        MarketEnv(from_dict(data, "<test>"))



def _shaped_episode(action, gamma, seed=11, potential="remaining"):
    """Per step: (reward, terms, lots executed, whether the horizon has been reached)."""
    env = MarketEnv(exec_scenario(shaping=True, shaping_discount=gamma, shaping_potential=potential))
    env.reset(options={"market_seed": seed})
    meter, steps = env.seats["exec"].meter, []
    while env.agents:
        _, rewards, _, _, infos = env.step({"maker_0": 6, "maker_1": 6, "exec": action})
        steps.append((rewards["exec"], infos["exec"], meter.executed(env.market.ledger), meter.done))
    return steps


@pytest.mark.parametrize("action", [WAIT, CROSS_1, JOIN_2])
@pytest.mark.parametrize("gamma", [0.9, 1.0])
@pytest.mark.parametrize("potential", ["remaining", "schedule"])
def test_shaping_adds_a_potential_difference_whose_discounted_sum_is_the_same_for_every_policy(
        action, gamma, potential):
    steps = _shaped_episode(action, gamma, potential=potential)
    for reward, terms, _, _ in steps:
        assert reward == pytest.approx(terms["execution"] + terms["unfilled"] + terms["shaping"])
    # sum_t gamma^t (gamma Phi(s_t+1) - Phi(s_t)) = gamma^T Phi(s_T) - Phi(s_0): 0.05 x 6 lots
    # missing at the start, none behind the line
    discounted = sum(gamma ** t * terms["shaping"] for t, (_, terms, _, _) in enumerate(steps))
    assert discounted == pytest.approx(0.05 * 6 if potential == "remaining" else 0.0)


def test_shaping_pays_the_penalty_lot_by_lot_as_lots_fill():
    steps = _shaped_episode(JOIN_2, 1.0)
    executed = [0] + [e for _, _, e, _ in steps]
    horizon = next(t for t, s in enumerate(steps) if s[3])
    before = [(terms["shaping"], executed[t + 1] - executed[t])
              for t, (_, terms, _, _) in enumerate(steps[:horizon])]
    assert 0 < sum(lots for _, lots in before) < 6  # some lots filled before the horizon, not all
    # with gamma 1: exactly the penalty on each lot filled in the step, nothing otherwise
    assert all(shaping == pytest.approx(0.05 * lots) for shaping, lots in before)
    # at the horizon the potential returns to 0: the shaping refunds what the penalty charges
    terms = steps[horizon][1]
    assert terms["unfilled"] < 0 and terms["shaping"] == pytest.approx(-terms["unfilled"])
    assert all(s[1]["shaping"] == 0.0 for s in steps[horizon + 1:])


def test_unshaped_scenario_is_the_task_and_unchanged_when_nothing_shapes():
    from lobsim.rl.executor import without_shaping

    shaped = exec_scenario(shaping=True)
    plain = without_shaping(shaped)
    assert plain == exec_scenario() and plain.source == shaped.source
    assert without_shaping(plain) is plain


def test_catch_up_is_one_more_action_that_crosses_what_trails_a_straight_line():
    env = MarketEnv(exec_scenario(catch_up=True))
    assert env.action_space("exec").n == 11
    catch_up = 10
    env.reset(options={"market_seed": 11})
    seat = env.seats["exec"]
    start, end = seat.meter.start_ns, seat.meter.end_ns
    while env.agents:
        now = env.market.now
        due = -(-6 * min(max(now - start, 0), end - start) // (end - start))
        env.step({"maker_0": 6, "maker_1": 6, "exec": catch_up})
        executed = seat.meter.executed(env.market.ledger)
        assert executed <= due or now >= end  # never ahead of the line as it was at the decision
        assert seat.child is None  # crosses only: nothing rests
    assert executed == 6 and seat.sent > 0
    assert env.result.summary["audit"]["ok"]


def test_schedule_shaping_charges_falling_behind_the_line_as_it_happens():
    steps = _shaped_episode(WAIT, 1.0, potential="schedule")
    horizon = next(t for t, s in enumerate(steps) if s[3])
    # waiting from 0.5 s to 2.5 s: 6 lots over 20 decisions fall behind, 0.3 lot a decision
    during = [terms["shaping"] for _, terms, _, _ in steps[5:horizon]]
    assert during and all(x == pytest.approx(-0.05 * 0.3) for x in during)
    assert steps[horizon][1]["shaping"] == pytest.approx(0.05 * 6 * 19 / 20)


def test_last_trade_is_the_sign_of_the_last_print_and_survives_quiet_steps():
    from lobsim.book.orders import Side
    from lobsim.sim.messages import TradePrint

    env = MarketEnv(exec_scenario())
    obs, _ = env.reset(options={"market_seed": 3})
    k_flow, k_last = 16, 17 + OWN_FIELDS.index("last_trade")
    assert OWN_FIELDS[-1] == "last_trade" and obs["exec"][k_last] == 0.0  # no trade yet
    seat, market = env.seats["exec"], env.market
    seat.on_market_data(TradePrint("XYZ", 10_000, 2, Side.SELL, 0, 0))
    first = seat.observe(market, 1.0)
    assert first[k_last] == -1.0 and first[k_flow] == pytest.approx(-0.2)
    quiet = seat.observe(market, 1.0)  # no print since: the flow is 0, the sign stays
    assert quiet[k_flow] == 0.0 and quiet[k_last] == -1.0
    seat.on_market_data(TradePrint("XYZ", 10_001, 1, Side.BUY, 0, 0))
    seat.on_market_data(TradePrint("XYZ", 10_000, 3, Side.SELL, 0, 0))
    assert seat.observe(market, 1.0)[k_last] == -1.0  # the last one counts, not the sum
    seat.on_market_data(TradePrint("XYZ", 10_001, 1, Side.BUY, 0, 0))
    assert seat.observe(market, 1.0)[k_last] == 1.0


def test_last_trade_follows_the_market_through_an_episode():
    env = MarketEnv(exec_scenario())
    _, seen = _episode(env, JOIN_2)
    k_last = 17 + OWN_FIELDS.index("last_trade")
    signs = {float(o[k_last]) for o in seen}
    assert signs == {-1.0, 1.0} or signs == {-1.0, 0.0, 1.0}  # both sides traded; never another value
    assert seen[-1][k_last] != 0.0
