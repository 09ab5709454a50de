"""``lobsim run SCENARIO.toml [--seed N] [--out DIR]``: run a scenario and write its results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "run", help="run a scenario file and write events, book, agents and a summary",
        description="Run a scenario once. Writes DIR/events.parquet, book.parquet, "
                    "agents.parquet, summary.json and scenario.resolved.toml.")
    parser.add_argument("scenario", type=Path, help="scenario TOML file")
    parser.add_argument("--seed", type=int, help="override the scenario's seed")
    parser.add_argument("--out", type=Path,
                        help="output directory (default: runs/<scenario name>-seed<seed>)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lobsim import scenario as scenario_module
    from lobsim.errors import AuditError, InputError
    from lobsim.market import Market
    from lobsim.output import write_run

    scenario = scenario_module.load(args.scenario)
    if args.seed is not None:
        if args.seed < 0:
            raise InputError(f"--seed: expected a non-negative integer, got {args.seed}")
        scenario = scenario.with_seed(args.seed)
    out = args.out or Path("runs") / f"{args.scenario.stem}-seed{scenario.simulation.seed}"
    market = Market(scenario)
    try:
        result = market.run(progress=_progress_bar(args))
        failed = None
    except AuditError as exc:
        result, failed = exc.result, exc
    write_run(result, out, scenario_module.to_toml(scenario))
    print(format_summary(result.summary))
    print(f"wrote {out}/")
    if failed is not None:
        print(f"lobsim run: AUDIT FAILED: {failed}", file=sys.stderr)
        return 1
    return 0


def _progress_bar(args: argparse.Namespace):
    if args.no_progress:
        return None
    from tqdm import tqdm

    bar = None

    def update(done_ns: int, total_ns: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=round(total_ns / 1e9, 3), unit="sim s", leave=False, disable=None,
                       file=sys.stderr, bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} sim s [{elapsed}<{remaining}]")
        bar.update(round(done_ns / 1e9, 3) - bar.n)
        if done_ns >= total_ns:
            bar.close()

    return update


def format_summary(summary: dict) -> str:
    """A short table: market figures, then one row per agent."""
    market = summary["market"]
    spread = market["mean_spread"]
    vol = market["mid_volatility"]
    lines = [
        f"messages {summary['messages']:,}   trades {summary['trades']:,}   volume {summary['volume']:,} lots",
        f"mean spread {'n/a' if spread is None else f'{spread:.4f}'}   "
        f"mid volatility {'n/a' if vol is None else f'{vol:.4f}'} /sqrt(s)   "
        f"audit {'ok' if summary['audit']['ok'] else 'FAILED'}",
        "",
        f"{'agent':<24}{'pnl':>14}{'inventory':>11}{'spread capture':>16}{'fills':>9}",
    ]
    for name, a in summary["agents"].items():
        lines.append(f"{name:<24}{a['pnl']:>14.2f}{a['inventory']:>11}{a['spread_capture']:>16.2f}{a['fills']:>9}")
    return "\n".join(lines)
