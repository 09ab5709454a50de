"""Baseline policies: formulas, the closed-form lookup, and Monte Carlo against h(0, 0)."""

from __future__ import annotations

import math

import pytest
import torch

from lobsim.errors import InputError
from lobsim.models.baselines import (
    AvellanedaStoikovPolicy,
    CJOptimalPolicy,
    FixedDepthPolicy,
    tabulate,
)
from lobsim.models.closed_form import solve
from lobsim.models.vecenv import MarketMakingVecEnv, as2008_config, cj2015_config
from lobsim.models.rollout import paired_difference, run_episodes


def test_avellaneda_stoikov_quotes() -> None:
    config = as2008_config()
    gamma, tau, q = 0.1, 0.6, 3.0
    obs = torch.tensor([[q, tau]], dtype=torch.float32)  # q_max None: inventory unscaled
    bid, ask = AvellanedaStoikovPolicy(config, gamma)(obs)[0].tolist()
    spread = gamma * config.sigma**2 * tau + 2 / gamma * math.log(1 + gamma / config.kappa)
    reservation_offset = -q * gamma * config.sigma**2 * tau  # r - S
    assert bid + ask == pytest.approx(spread)
    assert (ask - bid) / 2 == pytest.approx(reservation_offset)
    sym_bid, sym_ask = AvellanedaStoikovPolicy(config, gamma, symmetric=True)(obs)[0].tolist()
    assert sym_bid == sym_ask == pytest.approx(spread / 2)
    with pytest.raises(InputError):
        AvellanedaStoikovPolicy(config, 0.0)


def test_cj_policy_looks_up_the_next_steps_optimal_depths() -> None:
    config = cj2015_config(n_steps=50, q_max=10)
    solution = solve(config)
    bid, ask = solution.depths()
    policy = CJOptimalPolicy(config, solution)
    for step, q in [(0, 0), (7, 3), (20, -10), (49, 10)]:
        obs = torch.tensor([[q / 10, 1 - step / 50]], dtype=torch.float32)
        got = policy(obs)[0].tolist()
        assert got == [bid[step + 1, q + 10], ask[step + 1, q + 10]]


def test_fixed_depth_policy() -> None:
    actions = FixedDepthPolicy(0.4)(torch.zeros(5, 2))
    assert actions.shape == (5, 2) and bool((actions == 0.4).all())


def test_closed_form_policy_attains_h00_and_beats_fixed_depths() -> None:
    config = cj2015_config()
    h00 = solve(config).value(0, 0)
    paths = 6000
    optimal = run_episodes(config, CJOptimalPolicy(config), paths, seed=21)
    # per-step fills make the discrete model differ from the continuous one by O(dt);
    # measured with 10^6 paths it is +0.012 +- 0.007 (bernoulli), far inside 4 SE here
    assert abs(optimal.value - h00) < 4 * optimal.value_stderr
    for depth in (0.5, 1.0):  # (at 1/kappa the gain, ~0.2, needs ~10x the paths)
        fixed = run_episodes(config, FixedDepthPolicy(depth), paths, seed=21)
        gain, se = paired_difference(optimal, fixed)
        assert gain > 3 * se


def test_tabulated_policy_acts_exactly_like_the_original_in_the_env() -> None:
    config = cj2015_config(n_steps=40, q_max=5)
    original = AvellanedaStoikovPolicy(config, 0.5)
    table = tabulate(config, original)
    env = MarketMakingVecEnv(config, 300, seed=4)
    obs, _ = env.reset()
    for _ in range(40):
        actions = original(obs)
        assert torch.equal(table(obs), actions)
        obs, *_ = env.step(actions)
