"""``lobsim study collusion [--base SCENARIO] --out DIR [--budget N] [--seeds K] ...``:
parses, calls :func:`lobsim.rl.studies.collusion_table.write_study` and prints the table."""

from __future__ import annotations

import argparse
import dataclasses
import math
from pathlib import Path

from lobsim.cli import add_agents_option
from lobsim.errors import LobsimError

STUDIES = ("collusion",)
DEFAULT_BASE = Path("scenarios/collusion.toml")  # relative to the current directory


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "study", help="studies of learning agents across many markets (collusion)",
        description="collusion: train N = 1, 2 and 4 DQN market makers, each rewarded alone "
                    "(individual) or with the makers' summed reward (team), at the base "
                    "scenario's tick size and 5 times it, over K training seeds; evaluate each "
                    "policy on held-out seeds against a competitive benchmark (fixed_spread "
                    "makers at the grid's smallest offset in the same seats). Writes "
                    "DIR/collusion.csv, DIR/collusion.png, DIR/runs.json and DIR/policies/, "
                    "all at once at the end.")
    parser.add_argument("study", choices=STUDIES, help="the study to run")
    parser.add_argument("--base", type=Path, default=DEFAULT_BASE,
                        help="base scenario with one [[agents]] table of kind learner "
                             f"(default {DEFAULT_BASE}, from a checkout of lobsim)")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--budget", type=int, help="env steps per training (default 30000)")
    parser.add_argument("--seeds", type=int, help="training seeds K per cell (default 3)")
    parser.add_argument("--seed", type=int, help="first training seed (default 1)")
    parser.add_argument("--episodes", type=int, help="held-out episodes per policy (default 10)")
    parser.add_argument("--eval-seed", type=int, help="root of the held-out market seeds (default 12345)")
    parser.add_argument("--duration", type=float, help="episode length in seconds (default: the base's)")
    parser.add_argument("--workers", type=int, help="simulation processes per training (default 0)")
    parser.add_argument("--quick", action="store_true",
                        help="a pipeline check in seconds: N = 1 and 2, budget 800, 2 seeds, 2 "
                             "episodes of 3 s (options given as well override it)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_agents_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lobsim.cli.progress import ProgressBar
    from lobsim.rl.env import load_scenario
    from lobsim.rl.studies.collusion import QUICK, StudyOptions, learner_table
    from lobsim.rl.studies.collusion_table import format_table, write_study

    options = _options(args, QUICK if args.quick else StudyOptions())
    if args.base == DEFAULT_BASE and not DEFAULT_BASE.is_file():
        raise LobsimError(f"{DEFAULT_BASE}: no such file here (the default base is the "
                          "checkout's: run from lobsim's folder, or pass --base)")
    base = load_scenario(args.base)
    learner_table(base)
    bar = None if args.no_progress else ProgressBar("collusion study")
    try:
        rows = write_study(base, options, args.out, bar)
    finally:
        if bar is not None:
            bar.close()
    print(format_table(rows))
    print(f"wrote {args.out}/collusion.csv, collusion.png, runs.json, policies/")
    return 0


def _options(args: argparse.Namespace, default):
    """The study's options: ``default`` with the options given, each checked."""
    from lobsim.cli import check_option
    from lobsim.errors import InputError
    from lobsim.scenario.config import MAX_EPISODES, MAX_SEED, MAX_TRAIN_STEPS, MAX_WORKERS

    check_option("--budget", args.budget, 1, MAX_TRAIN_STEPS)
    check_option("--seeds", args.seeds, 1, 1_000)
    check_option("--seed", args.seed, 0, MAX_SEED - 1_000)
    check_option("--episodes", args.episodes, 1, MAX_EPISODES)
    check_option("--eval-seed", args.eval_seed, 0, MAX_SEED)
    check_option("--workers", args.workers, 0, MAX_WORKERS)
    if args.duration is not None and not (math.isfinite(args.duration) and args.duration > 0):
        raise InputError(f"--duration: expected a positive number of seconds, got {args.duration}")
    given = {"budget": args.budget, "seeds": args.seeds, "seed": args.seed, "episodes": args.episodes,
             "eval_seed": args.eval_seed, "duration": args.duration, "workers": args.workers}
    return dataclasses.replace(default, **{k: v for k, v in given.items() if v is not None})
