"""``lobsim train SCENARIO --algo dqn|ppo [--steps N] [--seed S] [--set KEY=VALUE] --out DIR
[--resume DIR | --init-from DIR]``.

Trains the scenario's ``learner`` seats with a learner found by name in the
``lobsim.learners`` entry-point group; writes DIR/policy.pt (state dicts and the config
that built them), DIR/learning_curve.csv, DIR/learning_curve.png and DIR/train_summary.json.
Ctrl-C stops the learner at the next step boundary; it saves a resumable checkpoint, and
the command says where in one line and exits 130.
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
    parser.add_argument("--steps", type=int,
                        help="env steps to train (default: the learner's budget); dqn rounds up to a "
                             "multiple of --envs, ppo down to whole rollouts (128 decisions x --envs) "
                             "and refuses fewer than one")
    parser.add_argument("--seed", type=int, help="root seed (default 1; with --resume: the checkpoint's)")
    parser.add_argument("--out", type=Path, help="output directory (required unless --resume)")
    parser.add_argument("--resume", type=Path, metavar="DIR",
                        help="continue training from DIR/policy.pt (writes to --out, default DIR)")
    parser.add_argument("--init-from", type=Path, metavar="POLICY_DIR",
                        help="warm-start the networks from a policy trained on another scenario "
                             "(same seat spaces and network settings; a fresh run otherwise)")
    parser.add_argument("--workers", type=int, help="simulation processes (default: DQN 1, PPO 2; 0: none)")
    parser.add_argument("--envs", type=int, help="parallel simulations (default: the learner's)")
    parser.add_argument("--mode", choices=("independent", "shared", "ippo", "mappo"),
                        help="how seats share networks: dqn independent (default) or shared; "
                             "ppo ippo (default), shared or mappo")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="a learner setting (repeatable), e.g. start_epsilon=0.1 for a warm start "
                             "that explores less; the settings are the fields of the learner's Args "
                             "(docs/learning.md); not with --resume")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_agents_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lobsim import registry
    from lobsim.cli import check_option
    from lobsim.rl.env import load_scenario, require_learners
    from lobsim.scenario.config import MAX_SEED, MAX_TRAIN_STEPS, MAX_WORKERS
    from lobsim.errors import InputError
    from lobsim.fileio import check_creatable, claim_output

    if args.out is None and args.resume is None:
        raise InputError("--out DIR is required (or --resume DIR)")
    check_option("--steps", args.steps, 1, MAX_TRAIN_STEPS)
    check_option("--seed", args.seed, 0, MAX_SEED)
    check_option("--workers", args.workers, 0, MAX_WORKERS)
    check_option("--envs", args.envs, 1, MAX_WORKERS)
    if args.resume is not None:
        check_creatable(args.resume)  # before the training, not after it
    if args.init_from is not None and args.resume is not None:
        raise InputError("--init-from starts a new run from another policy's weights; "
                         "--resume continues one: give only one")
    learner = registry.load("lobsim.learners", args.algo)
    settings = _settings(args.sets, learner, args.resume is not None)
    scenario = load_scenario(args.scenario)
    require_learners(scenario, "to train")
    if args.resume is None:  # every input checked: refuse a foreign directory, retire the last training
        claim_output(args.out)
    overrides = {**settings, "workers": args.workers, "num_envs": args.envs, "mode": args.mode}
    bar = _progress_bar(args)
    try:
        summary = learner.train(scenario, steps=args.steps, seed=args.seed, out=args.out or args.resume,
                                resume=args.resume, progress=bar,
                                **({"init_from": args.init_from} if args.init_from is not None else {}),
                                **overrides)
    finally:
        if bar is not None:
            bar.close()
    print("\n".join(format_summary(summary)))
    with open(Path(summary["out"]) / "train_summary.json", "w") as handle:
        json.dump(summary, handle, indent=2)
    if summary.get("interrupted"):  # Ctrl-C: the learner stopped at a step boundary and saved
        print(f"lobsim train: interrupted at env step {summary['total_steps']:,}; saved a resumable "
              f"checkpoint to {summary['out']}/policy.pt (continue: lobsim train {args.scenario} "
              f"--algo {args.algo} --resume {summary['out']} --steps {summary['steps_left']})",
              file=sys.stderr)
        return 130
    return 0


#: learner settings that have options of their own
OWN_OPTIONS = {"seed": "--seed", "total_steps": "--steps", "workers": "--workers",
               "num_envs": "--envs", "mode": "--mode"}


def _settings(texts: list[str], learner, resuming: bool) -> dict:
    """The ``--set KEY=VALUE`` options as learner settings, each checked against the
    learner's ``Args`` (type and range) in one line naming the option."""
    from lobsim.analysis.sweep import parse_set
    from lobsim.errors import InputError

    if texts and resuming:
        raise InputError("--set: a resumed run keeps its checkpoint's settings")
    settings: dict = {}
    for text in texts:
        axis = parse_set(text)
        if len(axis.values) != 1:
            raise InputError(f"--set {text!r}: one value (lobsim train-sweep trains several)")
        if axis.key in OWN_OPTIONS:
            raise InputError(f"--set {axis.key}: use {OWN_OPTIONS[axis.key]}")
        if axis.key in settings:
            raise InputError(f"--set {axis.key}: given twice")
        check = getattr(learner, "check_settings", None)
        if check is None:
            raise InputError(f"--set {axis.key}: learner {learner!r} does not list its settings")
        check({axis.key: axis.values[0]}, f"--set {text}")
        settings[axis.key] = axis.values[0]
    return settings


def format_summary(summary: dict) -> list[str]:
    """What a learner's summary says, as lines: this session's steps (and the run's, after
    --resume), the validations behind the saved policy, and the files."""
    rate, running = summary.get("steps_per_second"), summary.get("running_reward")
    total = summary.get("total_steps", summary["steps"])
    lines = [f"trained {summary['algo']} for {summary['steps']:,} env steps"
             f"{f' ({total:,} in all)' if total != summary['steps'] else ''} in {summary['seconds']:.0f} s "
             f"({'n/a' if rate is None else f'{rate:,.0f}'} env steps/s), {summary['episodes']} episodes "
             f"in all, running reward {'n/a' if running is None else f'{running:.4f}'}"]
    validation = summary.get("validation")
    if validation and validation["history"]:
        lines.append(f"policy: the greedy network of step {validation['best_step']:,}, best of "
                     f"{len(validation['history'])} validations ({len(validation['seeds'])} episodes "
                     f"each; {validation['seconds']:.0f} s of this session's validating): reward "
                     f"{validation['best_score']:.4f} per seat")
    lines.append(f"wrote {summary['out']}/policy.pt, learning_curve.csv, learning_curve.png")
    return lines


def _progress_bar(args: argparse.Namespace):
    if args.no_progress:
        return None
    from tqdm import tqdm

    bar = None

    def close() -> None:
        if bar is not None:
            bar.close()

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

    update.close = close  # type: ignore[attr-defined]
    return update
