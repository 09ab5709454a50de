"""``lobsim sweep SCENARIO --set KEY=V1,V2,... [--set ...] --seeds K [--out DIR] [--address RAY]``."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from lobsim.cli import add_agents_option


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "sweep", help="run a grid of scenario variants times seeds and plot metrics against it",
        description="Run every combination of the --set values, each with K seeds, locally "
                    "(processes) or as Ray tasks (--address or RAY_ADDRESS; needs lobsim[ray]). "
                    "Writes DIR/sweep.parquet (one row per run) and DIR/sweep.png (metrics "
                    "against the first swept key, mean and 95% confidence band over seeds).")
    parser.add_argument("scenario", type=Path, help="scenario TOML file")
    parser.add_argument("--set", dest="sets", action="append", required=True, metavar="KEY=V1,V2,...",
                        help="a key path and its values, e.g. agents.maker.count=1,2,4 or "
                             "market.tick_size=0.01,0.05 (repeat for a grid)")
    parser.add_argument("--seeds", type=int, default=1, metavar="K",
                        help="runs per variant, with seeds s, s+1, ... (s: the scenario's seed)")
    parser.add_argument("--out", type=Path, help="output directory (default: sweeps/<scenario name>)")
    parser.add_argument("--metric", dest="metrics", action="append", metavar="COLUMN",
                        help="a sweep.parquet column to plot (repeatable; default: "
                             "market.mean_spread and each agent group's mean PnL)")
    parser.add_argument("--workers", type=int, default=2, help="local processes (default 2; 1: serial)")
    parser.add_argument("--address", help="Ray cluster address (default: $RAY_ADDRESS; unset: local processes)")
    parser.add_argument("--no-plot", action="store_true", help="write sweep.parquet only")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_agents_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lobsim import fanout
    from lobsim.analysis import sweep
    from lobsim.fileio import claim_output

    axes = [sweep.parse_set(text) for text in args.sets]
    if not args.no_plot:
        from lobsim.analysis.figures import new_figure
        new_figure()  # missing matplotlib: fail before running anything
    out = args.out or Path("sweeps") / args.scenario.stem
    address = fanout.ray_address(args.address)
    jobs = sweep.plan_sweep(args.scenario, axes, args.seeds, args.workers, address)
    claim_output(out)  # before running: refuse a foreign directory, retire the previous sweep
    rows = sweep.run_jobs(jobs, args.workers, address, _progress_bar(args))
    written = sweep.write_sweep(rows, axes, out, args.metrics, with_plot=not args.no_plot)
    chosen = args.metrics or sweep.default_metrics(rows)
    print(format_table(rows, axes, chosen, sweep))
    for path in written:
        print(f"wrote {path}")
    return 0


def format_table(rows: list[dict], axes: list, chosen: list[str], sweep) -> str:  # sweep: the module
    """Mean +- 95% half-width over seeds, one line per variant (``n/a`` below two seeds)."""
    import numpy as np

    keys = [a.key for a in axes]
    lines = ["  ".join([*(f"{k:>16}" for k in keys), *(f"{m:>28}" for m in chosen)])]
    for variant in dict.fromkeys(r["variant"] for r in rows):
        picked = [r for r in rows if r["variant"] == variant]
        cells = [f"{picked[0][k]!s:>16}" for k in keys]
        for m in chosen:
            mean, half = sweep.confidence(np.array([sweep._num(r.get(m)) for r in picked]))
            shown = "n/a" if math.isnan(half) else f"{half:.2g}"
            cells.append(f"{f'{mean:.4g} +- {shown}':>28}")
        lines.append("  ".join(cells))
    return "\n".join(lines)


def _progress_bar(args: argparse.Namespace):
    if args.no_progress:
        return None
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="run", leave=False, disable=None, file=sys.stderr)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update
