"""Learner environment throughput: MarketEnv steps per second with random actions.

Steps ``lobsim.rl.env.MarketEnv`` on a learners' scenario (default scenarios/mm_duel.toml,
two learning makers and Santa Fe flow) in one process, every seat taking a uniformly random
action, episodes reset as they end. Prints env steps per second of wall time (one step:
every seat acts once and the market runs one decision interval) on the chosen engine, and
on the interpreted build for a tenth of the steps, for the ratio of the two in the same run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from lobsim.bench import progress_of
from lobsim.errors import InputError

#: steps a bench may ask for: past this it is a typo, and would run for hours
MAX_STEPS = 10_000_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", type=Path, default=Path("scenarios/mm_duel.toml"),
                        help="a scenario with learner seats (default scenarios/mm_duel.toml)")
    parser.add_argument("--steps", type=int, default=20_000, help="env steps to time (default 20000)")
    parser.add_argument("--engine", choices=("auto", "compiled", "python"), default="auto",
                        help="which engine steps the market (default auto)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes; the best is kept")


def steps_per_second(scenario: object, engine: str, steps: int, seed: int) -> tuple[float, str]:
    """Random-action env steps per wall second over ``steps`` steps, and the engine that ran."""
    from lobsim.rl.env import MarketEnv

    env = MarketEnv(scenario, seed=seed, engine=engine)
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    sizes = {agent: env.action_space(agent).n for agent in env.possible_agents}
    start = time.perf_counter()
    for _ in range(steps):
        if not env.agents:
            env.reset()
        env.step({agent: int(rng.integers(sizes[agent])) for agent in env.agents})
    return steps / (time.perf_counter() - start), env.market.ran_on


def run(args: argparse.Namespace) -> list[str]:
    from lobsim.rl.env import load_scenario

    if not 10 <= args.steps <= MAX_STEPS:
        raise InputError(f"--steps must be in [10, {MAX_STEPS:,}]")
    if not 1 <= args.repeat <= 100:
        raise InputError("--repeat must be in [1, 100]")
    scenario = load_scenario(args.scenario)
    progress = progress_of(args)
    rate = 0.0
    for done in range(args.repeat):
        progress(done, args.repeat + 1, "passes")
        best, engine = steps_per_second(scenario, args.engine, args.steps, args.seed)
        rate = max(rate, best)
    progress(args.repeat, args.repeat + 1, "passes")
    reference, _ = steps_per_second(scenario, "python", args.steps // 10, args.seed)
    progress(args.repeat + 1, args.repeat + 1, "passes")
    return [f"scenario: {args.scenario}, random actions, {args.steps:,} env steps; {engine} engine",
            f"{rate:,.0f} env steps/s (best of {args.repeat})",
            f"interpreted build (--engine python, {args.steps // 10:,} steps): {reference:,.0f} "
            f"env steps/s; {engine} / interpreted: {rate / reference:.1f}x"]
