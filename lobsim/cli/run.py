"""``lobsim run SCENARIO.toml [--seed N] [--out DIR] [--policy TRAIN_DIR]``: run a scenario
and write its results.

Learner seats (agents of kind ``learner``) are driven by the environment, so a plain run
leaves them idle and says so; ``--policy`` lets a ``lobsim train`` directory's makers
drive them (greedy, one decision per ``decision_interval``, through
:class:`lobsim.rl.env.MarketEnv`), so that a trained market is recorded, audited and
reported like any other run. The market seed is the scenario's (or ``--seed``), so the
same run without the policy differs only in what the seats do.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lobsim.cli import add_agents_option


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "run", help="run a scenario file and write events, book, agents and a summary",
        description="Run a scenario once. Writes DIR/events.parquet, book.parquet, "
                    "agents.parquet, summary.json and scenario.resolved.toml.")
    parser.add_argument("scenario", type=Path, help="scenario TOML file")
    parser.add_argument("--seed", type=int, help="override the scenario's seed")
    parser.add_argument("--out", type=Path,
                        help="output directory (default: runs/<scenario name>-seed<seed>)")
    parser.add_argument("--policy", type=Path, metavar="TRAIN_DIR",
                        help="a `lobsim train` directory (or its policy.pt) whose makers drive "
                             "the scenario's learner seats")
    parser.add_argument("--engine", choices=("auto", "python", "compiled"), default="auto",
                        help="auto (default): the compiled engine when every agent has a "
                             "compiled twin, else SimPy; the results are the same bytes")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_agents_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lobsim.scenario import loader as scenario_module
    from lobsim.errors import AuditError, InputError
    from lobsim.sim.market import Market
    from lobsim.sim.output import write_run

    scenario = scenario_module.load(args.scenario)
    if args.seed is not None:
        if args.seed < 0:
            raise InputError(f"--seed: expected a non-negative integer, got {args.seed}")
        scenario = scenario.with_seed(args.seed)
    out = args.out or Path("runs") / f"{args.scenario.stem}-seed{scenario.simulation.seed}"
    from lobsim.rl.seat import seat_classes

    seats = list(seat_classes(scenario))
    if args.policy is not None and not seats:
        raise InputError(f"--policy: {args.scenario} has no learner seats (agents of kind \"learner\" "
                         "or \"executor\")")
    if args.policy is None and seats:
        print(f"lobsim run: learner seats {', '.join(seats)} stay idle; give --policy TRAIN_DIR "
              "to let trained makers drive them", file=sys.stderr)
    if args.policy is not None and args.engine == "compiled":
        raise InputError("--engine compiled: learner seats run on the Python engine only")
    market = None
    try:
        if args.policy is not None:
            result = run_with_policy(scenario, args.policy, _progress_bar(args))
        else:
            market = Market(scenario, engine=args.engine)
            result = market.run(progress=_progress_bar(args))
        failed = None
    except AuditError as exc:
        result, failed = exc.result, exc
    write_run(result, out, scenario_module.to_toml(scenario))
    print(format_summary(result.summary))
    print(f"engine: {market.ran_on if market is not None else 'python'}; wrote {out}/")
    if failed is not None:
        print(f"lobsim run: AUDIT FAILED: {failed}", file=sys.stderr)
        return 1
    return 0


def run_with_policy(scenario: Any, policy_dir: Path,
                    progress: Callable[[int, int], None] | None = None) -> Any:
    """One run of ``scenario`` with its learner seats driven by the greedy policy of
    ``policy_dir``; returns the market's :class:`~lobsim.sim.market.RunResult`.
    Raises :class:`~lobsim.errors.CheckpointError` if the policy does not fit the seats."""
    from lobsim.rl.checkpoint import check_matches, check_payload
    from lobsim.rl.evaluation import load_policy, play
    from lobsim.rl.env import MarketEnv

    policy, payload = load_policy(policy_dir)
    env = MarketEnv(scenario)
    check_matches(check_payload(payload, None, str(policy_dir)), env, str(policy_dir))
    for _ in play(env, policy, scenario.simulation.seed):
        if progress is not None:
            progress(env.market.now, env.duration_ns)
    return env.result


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
