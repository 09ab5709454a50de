"""lobsim.rl.evaluation: the baselines' parameters and scenarios, and their episodes stepped
on either engine to the same figures."""

from __future__ import annotations

import pytest


def test_baseline_short_last_step_uses_its_actual_length(monkeypatch):
    from support.scenarios import short_scenario

    from lobsim.rl import evaluation as evaluate
    from lobsim.rl.episodes import run_episode
    from lobsim.rl.env import MarketEnv
    from lobsim.rl.seat import RewardMeter

    seen = []
    real = RewardMeter.terms
    monkeypatch.setattr(RewardMeter, "terms", lambda self, market, dt, last: (
        seen.append(dt), real(self, market, dt, last))[1])
    env = MarketEnv(short_scenario(duration=0.25, count=1))  # decision_interval 0.1
    scenario, _ = evaluate.baseline_scenario(env, "fixed_spread",
                                              evaluate.baseline_params(env, "fixed_spread", {}, None))
    run_episode(env, scenario, None, 7)
    assert seen == pytest.approx([0.1, 0.1, 0.05])


def test_avellaneda_stoikov_inventory_term_is_half_a_tick_over_the_episode():
    from support.scenarios import short_scenario

    from lobsim.rl import evaluation as evaluate
    from lobsim.rl.episodes import run_episode
    from lobsim.rl.env import MarketEnv

    env = MarketEnv(short_scenario(duration=2.0, count=1))
    runs = {"fixed_spread": [{"market": {"mid_volatility": v}} for v in (0.004, 0.006)]}
    params = evaluate.baseline_params(env, "avellaneda_stoikov", runs, None)
    tick = env.scenario.market.tick_size
    assert params["sigma"] == 0.005 and params["horizon"] == 2.0
    assert params["gamma"] * 0.005 ** 2 * 2.0 == pytest.approx(tick / 2, rel=1e-3)
    # measured nowhere: sigma 0.01; a --set value wins over the rule
    assert evaluate.baseline_params(env, "avellaneda_stoikov", {}, None)["gamma"] == \
        pytest.approx(tick / (2 * 0.01 ** 2 * 2.0), rel=1e-3)
    settings = {"avellaneda_stoikov": {"gamma": 3.0}}
    assert evaluate.baseline_params(env, "avellaneda_stoikov", runs, settings)["gamma"] == 3.0
    assert evaluate.as_gamma(0.01, 0.0043, 60.0) == 4.507  # mm_duel's 60 s episodes, 4 digits


@pytest.mark.parametrize("kind", ["fixed_spread", "avellaneda_stoikov"])
def test_baseline_episodes_step_the_compiled_engine_to_the_same_figures(monkeypatch, kind):
    """Baseline makers in the seats: every agent has a compiled twin, so the episode steps
    the compiled engine; rewards, inventories and the summary match the Python engine's."""
    from support.scenarios import short_scenario

    from lobsim.rl import evaluation as evaluate
    from lobsim.rl.episodes import run_episode
    from lobsim.rl.env import MarketEnv
    from lobsim.sim.market import Market

    env = MarketEnv(short_scenario(duration=3.0, count=2))
    scenario, _ = evaluate.baseline_scenario(env, kind, evaluate.baseline_params(env, kind, {}, None))
    ran, finish = [], Market.finish
    monkeypatch.setattr(Market, "finish", lambda self: (ran.append(self.ran_on), finish(self))[1])
    compiled = run_episode(env, scenario, None, 7)
    monkeypatch.setenv("LOBSIM_PURE_PYTHON", "1")
    python = run_episode(env, scenario, None, 7)
    assert ran == ["twins", "python"]
    assert compiled == python and compiled["seats"]["maker_0"]["fills"] > 0
