"""lobsim.rl.env: PettingZoo / Gymnasium conformance on a short scenario, seeding, episodes."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test
from pettingzoo.utils.conversions import parallel_to_aec

from lobsim.rl.env import MarketEnv, SingleMakerEnv, load_scenario
from lobsim.errors import InputError
from support.scenarios import scenario_dict, short_scenario
from lobsim.scenario.loader import from_dict


def test_parallel_api():
    parallel_api_test(MarketEnv(short_scenario()), num_cycles=100)


def test_parallel_seed():
    parallel_seed_test(lambda: MarketEnv(short_scenario()), num_cycles=100)


def test_aec_api():
    api_test(parallel_to_aec(MarketEnv(short_scenario(duration=1.0))), num_cycles=50)


def test_single_maker_gymnasium():
    env = SingleMakerEnv(short_scenario(duration=1.0, count=1))
    check_env(env, skip_render_check=True)


def test_three_action_space_conforms():
    env = MarketEnv(short_scenario(duration=1.0, action_space="three"))
    assert env.action_space("maker_0").n == 3
    parallel_api_test(env, num_cycles=20)


def test_episode_length_and_termination():
    env = MarketEnv(short_scenario(duration=2.0))
    obs, infos = env.reset(seed=5)
    assert set(obs) == {"maker_0", "maker_1"}
    assert all(o.dtype == np.float32 and env.observation_space(a).contains(o) for a, o in obs.items())
    steps = 0
    while env.agents:
        _, rewards, terms, truncs, infos = env.step({a: 6 for a in env.agents})
        steps += 1
        for name in rewards:
            keys = {"spread_capture", "inventory_penalty", "mark_to_market", "terminal", "reward"}
            assert keys <= set(infos[name])
            assert rewards[name] == pytest.approx(infos[name]["reward"])
    assert steps == 20 and all(terms.values()) and not any(truncs.values())
    assert env.result.summary["audit"]["ok"]


def test_reset_seeds_episodes_reproducibly():
    def rollout(env, **reset):
        obs, _ = env.reset(**reset)
        out = [obs["maker_0"]]
        while env.agents:
            obs, rew, *_ = env.step({a: 12 for a in env.agents})
            out.append(obs["maker_0"])
        return np.stack(out), env.market_seed

    env = MarketEnv(short_scenario(duration=1.0))
    a1, s1 = rollout(env, seed=11)
    a2, s2 = rollout(env)  # the next episode of the same sequence differs
    b1, t1 = rollout(MarketEnv(short_scenario(duration=1.0)), seed=11)
    assert s1 == t1 and np.array_equal(a1, b1)
    assert s1 != s2
    c, u = rollout(env, options={"market_seed": s2})
    assert u == s2 and np.array_equal(c, a2)


def test_env_needs_learners():
    data = scenario_dict()
    data["agents"] = data["agents"][:1]
    with pytest.raises(InputError, match="learner"):
        MarketEnv(from_dict(data, "<test>"))


def test_shipped_scenarios_load():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "scenarios"
    duel = MarketEnv(root / "mm_duel.toml")
    team = MarketEnv(root / "mm_team.toml")
    seed = MarketEnv(root / "seed_dqn.toml")
    assert duel.possible_agents == team.possible_agents == seed.possible_agents == ["maker_0", "maker_1"]
    assert not duel.team and team.team
    assert seed.action_space("maker_0").n == 3 and duel.action_space("maker_0").n == 25
    assert load_scenario(root / "mm_duel.toml").source.endswith("mm_duel.toml")


@pytest.mark.parametrize("bad", [25, -1, 1.0, "3", None, True, np.float32(2)])
def test_invalid_actions_are_one_line_input_errors(bad):
    env = MarketEnv(short_scenario(duration=0.5))
    env.reset(seed=1)
    with pytest.raises(InputError, match="maker_1") as info:
        env.step({"maker_0": 6, "maker_1": bad})
    assert "\n" not in str(info.value)
    env.step({"maker_0": np.int64(6), "maker_1": np.array(24)})  # numpy integers are fine


def test_short_last_step_penalizes_inventory_for_its_actual_length(monkeypatch):
    from lobsim.rl.seat import RewardMeter

    seen = []
    real = RewardMeter.terms
    monkeypatch.setattr(RewardMeter, "terms", lambda self, market, dt, last: (
        seen.append((market.env.now, dt)), real(self, market, dt, last))[1])
    env = MarketEnv(short_scenario(duration=0.25, count=1))  # decision_interval 0.1
    env.reset(seed=1)
    while env.agents:
        env.step({a: 6 for a in env.agents})
    assert env.max_steps == 3
    assert [now for now, _ in seen] == [100_000_000, 200_000_000, 250_000_000]
    assert [dt for _, dt in seen] == pytest.approx([0.1, 0.1, 0.05])
