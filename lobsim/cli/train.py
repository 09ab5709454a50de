"""``lobsim train SCENARIO --algo dqn|ppo [--steps N] [--seed S] --out DIR [--resume DIR]``.

Trains the scenario's ``learner`` seats with a learner found by name in the
``lobsim.learners`` entry-point group; writes DIR/policy.pt (state dicts and the config
that built them), DIR/learning_curve.csv and DIR/learning_curve.png.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lobsim.cli import add_agents_option


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "train", help="train the scenario's learning market makers",
        description="Train the scenario's agents of kind 'learner' with DQN or PPO on parallel "
                    "simulations. Writes DIR/policy.pt, learning_curve.csv and learning_curve.png.")
    parser.add_argument("scenario", type=Path, help="scenario TOML file with [[agents]] of kind 'learner'")
    parser.add_argument("--algo", required=True, help="learner: dqn or ppo (lobsim.learners entry points)")
    parser.add_argument("--steps", type=int, help="env steps to train (default: the learner's budget)")
    parser.add_argument("--seed", type=int, help="root seed (default 1; with --resume: the checkpoint's)")
    parser.add_argument("--out", type=Path, help="output directory (required unless --resume)")
    parser.add_argument("--resume", type=Path, metavar="DIR",
                        help="continue training from DIR/policy.pt (writes to --out, default DIR)")
    parser.add_argument("--init-from", type=Path, metavar="POLICY_DIR",
                        help="warm-start the networks from a policy trained on another scenario "
                             "(same seat spaces and network settings; a fresh run otherwise)")
    parser.add_argument("--workers", type=int, help="simulation processes (default 2; 0: none)")
    parser.add_argument("--envs", type=int, help="parallel simulations (default: the learner's)")
    parser.add_argument("--mode", choices=("independent", "shared", "ippo", "mappo"),
                        help="how seats share networks: dqn independent (default) or shared; "
                             "ppo ippo (default), shared or mappo")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_agents_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lobsim import registry
    from lobsim.rl.env import load_scenario
    from lobsim.errors import InputError

    if args.out is None and args.resume is None:
        raise InputError("--out DIR is required (or --resume DIR)")
    if args.steps is not None and args.steps <= 0:
        raise InputError(f"--steps: expected a positive integer, got {args.steps}")
    if args.seed is not None and args.seed < 0:
        raise InputError(f"--seed: expected a non-negative integer, got {args.seed}")
    if args.workers is not None and args.workers < 0:
        raise InputError(f"--workers: expected a non-negative integer, got {args.workers}")
    if args.envs is not None and args.envs <= 0:
        raise InputError(f"--envs: expected a positive integer, got {args.envs}")
    if args.init_from is not None and args.resume is not None:
        raise InputError("--init-from starts a new run from another policy's weights; "
                         "--resume continues one: give only one")
    learner = registry.load("lobsim.learners", args.algo)
    scenario = load_scenario(args.scenario)
    overrides = {"workers": args.workers, "num_envs": args.envs, "mode": args.mode}
    summary = learner.train(scenario, steps=args.steps, seed=args.seed, out=args.out or args.resume,
                            resume=args.resume, progress=_progress_bar(args),
                            **({"init_from": args.init_from} if args.init_from is not None else {}),
                            **overrides)
    rate = summary.get("steps_per_second")
    running = summary.get("running_reward")
    print(f"trained {summary['algo']} for {summary['steps']:,} env steps in {summary['seconds']:.0f} s "
          f"({rate:,.0f} env steps/s), {summary['episodes']} episodes, running reward "
          f"{'n/a' if running is None else f'{running:.4f}'}")
    validation = summary.get("validation")
    if validation and validation["history"]:
        print(f"policy: the greedy network of step {validation['best_step']:,}, best of "
              f"{len(validation['history'])} validations ({len(validation['seeds'])} episodes each, "
              f"{validation['seconds']:.0f} s of the total): reward {validation['best_score']:.4f} per seat")
    print(f"wrote {summary['out']}/policy.pt, learning_curve.csv, learning_curve.png")
    with open(Path(summary["out"]) / "train_summary.json", "w") as handle:
        json.dump(summary, handle, indent=2)
    return 0


def _progress_bar(args: argparse.Namespace):
    if args.no_progress:
        return None
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int, running: float | None) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="step", leave=False, disable=None, file=sys.stderr,
                       dynamic_ncols=True, mininterval=0.5)
        bar.update(done - bar.n)
        if running is not None:
            bar.set_postfix_str(f"reward {running:.4f}", refresh=False)
        if done >= total:
            bar.close()

    return update
