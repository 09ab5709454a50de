"""Trajectory-steps per second of the vectorized analytic market-making environment.

Times ``MarketMakingVecEnv.step`` on the cj2015 model for both fill semantics, with a
fixed symmetric quote (environment alone) and with the closed-form optimal policy
looked up each step (environment + policy).
"""

from __future__ import annotations

import argparse
import time

import torch

from lobsim.errors import InputError
from lobsim.models.baselines import CJOptimalPolicy, FixedDepthPolicy
from lobsim.models.vecenv import MarketMakingVecEnv, cj2015_config
from lobsim.models.rollout import torch_threads


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--envs", type=int, default=10_000, help="trajectories N (default 10000)")
    parser.add_argument("--steps", type=int, default=1000, help="timed steps (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="timings per case; best is shown")
    # the spelling of earlier versions, kept working but not advertised
    parser.add_argument("--repeats", dest="repeat", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")


def measure(fill: str, envs: int, steps: int, with_policy: bool, repeats: int = 3) -> float:
    """Best of ``repeats`` timings, in trajectory-steps per second."""
    config = cj2015_config(fill=fill, n_steps=steps)
    env = MarketMakingVecEnv(config, envs, seed=0)
    policy = CJOptimalPolicy(config) if with_policy else None
    fixed = FixedDepthPolicy(1.0 / config.kappa)(torch.zeros(envs, 2))
    best = float("inf")
    for _ in range(repeats):
        obs, _ = env.reset()
        start = time.perf_counter()
        for _ in range(steps):
            obs, *_ = env.step(policy(obs) if policy is not None else fixed)
        best = min(best, time.perf_counter() - start)
    return envs * steps / best


def run(args: argparse.Namespace) -> list[str]:
    if args.envs < 1 or args.steps < 1 or args.repeat < 1 or args.threads < 1:
        raise InputError("--envs, --steps, --repeat and --threads must be >= 1")
    lines = [
        f"models: cj2015 environment, N={args.envs} trajectories x {args.steps} steps, "
        f"{args.threads} torch thread(s), best of {args.repeat}"
    ]
    with torch_threads(args.threads):
        for fill in ("bernoulli", "poisson"):
            for with_policy, label in ((False, "fixed quote"), (True, "closed-form policy")):
                rate = measure(fill, args.envs, args.steps, with_policy, args.repeat)
                lines.append(f"  {fill:<9}  {label:<18}  {rate:>14,.0f} traj-steps/s")
    return lines
