"""Fill mechanics, accounting and conventions of the vectorized market-making env."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lobsim.errors import InputError
from lobsim.models.vecenv import MarketMakingVecEnv, ModelConfig, as2008_config, cj2015_config
from lobsim.models.rollout import torch_threads


@pytest.fixture(autouse=True)
def _one_thread():
    with torch_threads(1):  # as the env is meant to run (see MarketMakingVecEnv)
        yield


def _spread_income(config: ModelConfig, depth: float, paths: int, seed: int) -> torch.Tensor:
    """Total spread earned per path quoting ``depth`` on both sides (no mid PnL, no penalty)."""
    config = config.with_(phi=0.0, alpha=0.0, q_max=None, mid_pnl_in_reward=False)
    env = MarketMakingVecEnv(config, paths, seed=seed)
    env.reset()
    actions = torch.full((paths, 2), depth)
    total = torch.zeros(paths, dtype=torch.float64)
    for _ in range(config.n_steps):
        _, reward, *_ = env.step(actions)
        total += reward
    return total


@pytest.mark.parametrize("fill", ["bernoulli", "poisson"])
@pytest.mark.parametrize("depth", [0.3, 1.0])
def test_fixed_symmetric_depth_earns_the_closed_form_expectation(fill: str, depth: float) -> None:
    config = as2008_config(fill=fill)
    income = _spread_income(config, depth, paths=4000, seed=11)
    expected = 2 * config.lam * config.T * depth * math.exp(-config.kappa * depth)
    stderr = float(income.std()) / math.sqrt(len(income))
    assert abs(float(income.mean()) - expected) < 4 * stderr


def test_poisson_fills_have_poisson_variance_and_bernoulli_do_not() -> None:
    # one step with a large rate: lam*dt = 0.7 at depth 0; ask not quoted, so q = bid fills
    config = ModelConfig(lam=140.0, n_steps=200, T=1.0)
    counts = {}
    for fill in ("bernoulli", "poisson"):
        env = MarketMakingVecEnv(config.with_(fill=fill), 40_000, seed=3)
        env.reset()
        env.step(torch.tensor([[0.0, math.inf]]).expand(40_000, 2))
        counts[fill] = env.inventory
    rate = 0.7
    se_mean = math.sqrt(rate / 40_000)
    assert abs(float(counts["poisson"].mean()) - rate) < 4 * se_mean
    assert abs(float(counts["poisson"].var()) - rate) < 0.03  # SE of the variance ~0.006
    assert abs(float(counts["bernoulli"].mean()) - rate) < 4 * se_mean
    assert abs(float(counts["bernoulli"].var()) - rate * (1 - rate)) < 0.02
    assert float(counts["bernoulli"].max()) == 1.0


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    fill=st.sampled_from(["bernoulli", "poisson"]),
    mid=st.sampled_from(["brownian", "binomial"]),
    phi=st.floats(0.0, 1.0),
    alpha=st.floats(0.0, 1.0),
    q_max=st.one_of(st.none(), st.integers(1, 5)),
    depths=st.lists(st.floats(-2.0, 3.0), min_size=2, max_size=2),
)
def test_rewards_sum_to_marked_profit_minus_penalties(seed, fill, mid, phi, alpha, q_max, depths):
    config = ModelConfig(n_steps=20, phi=phi, alpha=alpha, q_max=q_max, fill=fill, mid=mid)
    env = MarketMakingVecEnv(config, 64, seed=seed)
    env.reset()
    total = torch.zeros(64, dtype=torch.float64)
    running = torch.zeros(64, dtype=torch.float64)
    actions = torch.tensor([depths]).expand(64, 2)
    for n in range(config.n_steps):
        _, reward, terminated, truncated, info = env.step(actions)
        q = env.inventory
        running += phi * q**2 * config.dt
        total += reward
        if q_max is not None:
            assert float(q.abs().max()) <= q_max
        assert bool(terminated.all()) == (n == config.n_steps - 1)
        assert not bool(truncated.any())
    expected = info["wealth_change"] - running - alpha * info["inventory"] ** 2
    torch.testing.assert_close(total, expected, rtol=0, atol=1e-9)


def test_binomial_walk_moves_exactly_sigma_sqrt_dt() -> None:
    config = as2008_config()
    env = MarketMakingVecEnv(config, 1000, seed=5)
    env.reset()
    before = env.mid
    env.step(torch.full((1000, 2), math.inf))
    step = (env.mid - before).abs()
    torch.testing.assert_close(step, torch.full_like(step, config.sigma * math.sqrt(config.dt)))


def test_same_seed_same_market_whatever_the_actions() -> None:
    config = cj2015_config(n_steps=50)
    mids = []
    for depth in (0.1, 2.0):
        env = MarketMakingVecEnv(config, 100, seed=9)
        env.reset()
        for _ in range(50):
            env.step(torch.full((100, 2), depth))
        mids.append(env.mid)
    torch.testing.assert_close(mids[0], mids[1], rtol=0, atol=0)


def test_reset_seed_reproduces_rewards() -> None:
    config = cj2015_config(n_steps=30, fill="poisson")
    env = MarketMakingVecEnv(config, 200)
    runs = []
    for _ in range(2):
        env.reset(seed=123)
        rewards = [env.step(torch.full((200, 2), 0.5))[1] for _ in range(30)]
        runs.append(torch.stack(rewards))
    torch.testing.assert_close(runs[0], runs[1], rtol=0, atol=0)


def test_observations_follow_the_shared_convention() -> None:
    config = cj2015_config(n_steps=4, q_max=10)
    env = MarketMakingVecEnv(config, 8, seed=0)
    obs, info = env.reset()
    assert obs.dtype == torch.float32 and obs.shape == (8, 2) and info == {}
    torch.testing.assert_close(obs, torch.tensor([[0.0, 1.0]]).expand(8, 2))
    for n in range(1, 5):
        obs, *_ = env.step(torch.full((8, 2), -5.0))  # deep in the market: fills often
        torch.testing.assert_close(obs[:, 0], (env.inventory / 10).float())
        assert float(obs[0, 1]) == pytest.approx(1 - n / 4)
    with pytest.raises(InputError):
        env.step(torch.zeros(8, 2))
    assert env.single_observation_space.shape == (2,)
    assert env.single_action_space.shape == (2,)
    assert env.action_space.shape == (8, 2)


def test_unquoted_sides_never_fill() -> None:
    env = MarketMakingVecEnv(cj2015_config(n_steps=100), 500, seed=1)
    env.reset()
    for _ in range(100):
        _, reward, *_ = env.step(torch.tensor([[math.inf, math.nan]]).expand(500, 2))
    assert float(env.inventory.abs().max()) == 0.0
    assert float(env.cash.abs().max()) == 0.0


@pytest.mark.parametrize(
    "changes",
    [{"sigma": -1.0}, {"kappa": 0.0}, {"n_steps": 0}, {"phi": -0.1}, {"q_max": 0},
     {"fill": "exact"}, {"mid": "levy"}, {"q0": 5, "q_max": 2}, {"lam": float("nan")}],
)
def test_bad_config_is_an_input_error(changes: dict) -> None:
    with pytest.raises(InputError):
        ModelConfig().with_(**changes)


def test_numpy_actions_are_accepted() -> None:
    env = MarketMakingVecEnv(cj2015_config(n_steps=2), 3, seed=0)
    env.reset()
    obs, reward, *_ = env.step(np.full((3, 2), 0.7, dtype=np.float32))
    assert reward.shape == (3,)


def test_wrong_action_shape_is_an_input_error() -> None:
    env = MarketMakingVecEnv(cj2015_config(n_steps=2), 3, seed=0)
    env.reset()
    with pytest.raises(InputError):
        env.step(torch.zeros(3, 3))
