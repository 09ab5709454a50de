"""``lobsim train-sweep SCENARIO --algo dqn|ppo --set KEY=V1,V2 [--seeds K] [--steps N]
[--eval-episodes N] [--address RAY] --out DIR``: parses, calls
:mod:`lobsim.rl.train_sweep` and prints a line per finished cell and the table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lobsim.cli import add_agents_option


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "train-sweep", help="train and evaluate a grid of learner settings times training seeds",
        description="Train every combination of the --set values with each of K training seeds, "
                    "evaluate each trained policy against the baselines on held-out seeds, and "
                    "collect the evaluations into DIR/train_sweep.csv (every seat and baseline), "
                    "train_sweep.json and train_sweep.png (the reward and the learner minus each "
                    "baseline, averaged over seats: mean and 95% interval over training seeds). Cells run in "
                    "local processes, or as Ray tasks with --address or RAY_ADDRESS (needs "
                    "lobsim[ray]); the results are the same. Each cell is kept in DIR/cells/NAME "
                    "as it finishes: the same command again trains only the missing cells.")
    parser.add_argument("scenario", type=Path, help="scenario TOML file with learning seats")
    parser.add_argument("--algo", required=True, help="learner: dqn or ppo (lobsim.learners entry points)")
    parser.add_argument("--set", dest="sets", action="append", required=True, metavar="KEY=V1,V2,...",
                        help="a learner setting (e.g. learning_rate=0.0003,0.001 or mode=shared) or a "
                             "scenario key path (e.g. agents.maker.inventory_coef=0.0005,0.001) and its "
                             "values (repeat for a grid; one value fixes a setting)")
    parser.add_argument("--seeds", type=int, default=1, metavar="K",
                        help="training seeds per combination: --seed, --seed + 1, ... (default 1)")
    parser.add_argument("--seed", type=int, default=1, help="the first training seed (default 1)")
    parser.add_argument("--steps", type=int, help="env steps per training (default: the learner's budget)")
    parser.add_argument("--eval-episodes", type=int, default=20,
                        help="held-out episodes per evaluation (default 20)")
    parser.add_argument("--eval-seed", type=int, default=12345,
                        help="seed of the held-out market seeds, as lobsim evaluate --seed (default 12345)")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--workers", type=int, default=2, help="cells at a time, locally (default 2; 1: serial)")
    parser.add_argument("--address", help="Ray cluster address (default: $RAY_ADDRESS; unset: local processes)")
    parser.add_argument("--no-plot", action="store_true", help="write the tables only")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar or per-cell lines")
    add_agents_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lobsim import fanout
    from lobsim.analysis import sweep
    from lobsim.cli import check_option
    from lobsim.cli.sweep import format_table
    from lobsim.fileio import check_creatable
    from lobsim.rl import train_sweep
    from lobsim.scenario.config import MAX_EPISODES, MAX_SEED, MAX_TRAIN_STEPS, MAX_WORKERS

    check_option("--steps", args.steps, 1, MAX_TRAIN_STEPS)
    check_option("--eval-episodes", args.eval_episodes, 1, MAX_EPISODES)
    check_option("--eval-seed", args.eval_seed, 0, MAX_SEED)
    address = fanout.ray_address(args.address)
    if not address:
        check_option("--workers", args.workers, 1, MAX_WORKERS)
    axes = [sweep.parse_set(text) for text in args.sets]
    plan = train_sweep.plan(args.scenario, args.algo, axes, args.seeds, args.seed, args.steps,
                            args.eval_episodes, args.eval_seed)
    if not args.no_plot:
        from lobsim.analysis.figures import new_figure
        new_figure()  # missing matplotlib: fail before training anything
    check_creatable(args.out)
    bar = None if args.no_progress else _progress(len(plan.cells))
    try:
        rows = train_sweep.run(plan, args.out, args.workers, address, bar,
                               None if args.no_progress else _cell_lines(train_sweep.varying(axes)))
    finally:
        if bar is not None:
            bar.close()
    chosen = train_sweep.default_metrics(rows)
    written = train_sweep.write_tables(rows, plan, args.out, chosen, with_plot=not args.no_plot)
    seeds = len({r["seed"] for r in rows})
    print(f"{len(rows)} cells: mean over {seeds} training seed{'s' * (seeds != 1)} +- the 95% "
          f"interval's half-width (n/a: one seed); {plan.eval_episodes} held-out episodes each")
    print(format_table(rows, train_sweep.varying(axes), chosen, sweep))
    for path in written:
        print(f"wrote {path}")
    return 0


def _cell_lines(axes: list):
    """A callback printing one line on stderr per finished cell: its varying values and
    figures, long before the whole table."""
    from lobsim.rl.train_sweep import default_metrics

    keys = [a.key for a in axes]

    def line(cell, row: dict) -> None:
        shown = ", ".join(f"{k}={cell.values[k]!r}" for k in keys)
        figures = ", ".join(f"{k} {row[k]:+.4f}" for k in default_metrics([row])
                            if isinstance(row[k], float))
        seconds = row.get("time.train_seconds")
        print(f"cell {cell.name} ({shown}): {figures}"
              f"{f'; trained in {seconds:.0f} s' if seconds is not None else ''}", file=sys.stderr)

    return line


def _progress(total: int):
    from lobsim.cli.progress import ProgressBar

    bar = ProgressBar("cells")
    bar(0, total)
    return bar
