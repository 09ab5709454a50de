"""PPO on the analytic model: a short seeded run learns, never beats the optimum, repeats exactly.

The full claim (>= 97% of the closed-form optimum on cj2015) is measured by
``lobsim validate ppo-cj``; here a 200-step version of cj2015 trains for a few seconds.
"""

from __future__ import annotations

import torch

from agents.rl import ppo_continuous as ppo
from lobsim.models.baselines import CJOptimalPolicy
from lobsim.models.closed_form import solve
from lobsim.models.vecenv import cj2015_config
from lobsim.models.rollout import paired_difference, run_episodes

MODEL = cj2015_config(n_steps=200)


def test_short_training_learns_most_of_the_optimum() -> None:
    args = ppo.Args(seed=0, iterations=12, num_envs=32, model=MODEL)
    agent, history = ppo.train(args)
    paths, seed = 4000, 99  # held out: training draws from other streams
    initial = ppo.evaluate(ppo._untrained(args), MODEL, paths, seed)
    trained = ppo.evaluate(agent, MODEL, paths, seed)
    optimal = run_episodes(MODEL, CJOptimalPolicy(MODEL), paths, seed)
    h00 = solve(MODEL).value(0, 0)
    assert trained.value - initial.value > 10 * (trained.value_stderr + initial.value_stderr)
    assert trained.value > 0.9 * h00
    assert history[-1] > history[0]
    excess, se = paired_difference(trained, optimal)
    assert excess < 4 * se  # never better than the optimal policy beyond noise


def test_training_is_a_pure_function_of_the_seed() -> None:
    def weights(seed: int) -> list[torch.Tensor]:
        args = ppo.Args(seed=seed, iterations=2, num_envs=8, model=MODEL.with_(n_steps=50))
        agent, _ = ppo.train(args)
        return [p.detach().clone() for p in agent.parameters()]

    first, again, other = weights(5), weights(5), weights(6)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not all(torch.equal(a, b) for a, b in zip(first, other))


def test_training_restores_global_torch_settings() -> None:
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    ppo.train(ppo.Args(seed=1, iterations=1, num_envs=4, threads=1, model=MODEL.with_(n_steps=10)))
    assert torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == deterministic
