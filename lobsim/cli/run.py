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
    parser.add_argument("--engine", choices=("auto", "python", "compiled", "twins"), default="auto",
                        help="auto (default): the twins when every agent has a compiled twin, "
                             "else the compiled engine, else the interpreted one (python); "
                             "the results are the same bytes (docs/market.md)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_agents_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lobsim.cli import check_option
    from lobsim.errors import AuditError, InputError, LivelockError
    from lobsim.fileio import claim_output
    from lobsim.scenario import loader as scenario_module
    from lobsim.scenario.config import MAX_SEED
    from lobsim.sim.output import write_run

    scenario = scenario_module.load(args.scenario)
    check_option("--seed", args.seed, 0, MAX_SEED)
    if args.seed is not None:
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
    if args.policy is not None and args.engine == "twins":
        raise InputError("--engine twins: learner seats have no compiled twins; use --engine "
                         "compiled or python")
    seated = seat_policy(scenario, args.policy) if args.policy is not None else None
    claim_output(out)  # every input checked: refuse a foreign directory, retire the previous run
    market = None
    failed = None
    if seated is not None:
        try:
            result = run_with_policy(*seated, str(args.policy), _progress_bar(args))
        except (AuditError, LivelockError) as exc:
            if not hasattr(exc, "result"):  # a livelock is kept only with its run
                raise
            result, failed = exc.result, exc
        write_run(result, out, scenario_module.to_toml(scenario))
    else:
        market, result, failed = _streamed(scenario, args.engine, out,
                                           scenario_module.to_toml(scenario), _progress_bar(args),
                                           idle_seats=seats)
    print(format_summary(result.summary))
    print(f"engine: {market.ran_on if market is not None else 'python'}; wrote {out}/")
    if isinstance(failed, LivelockError):  # a runaway: the run up to the stop, for diagnosis
        print(f"lobsim run: error: {failed} (the run up to the stop is in {out}/)", file=sys.stderr)
        return 2
    if failed is not None:
        print(f"lobsim run: AUDIT FAILED: {failed}", file=sys.stderr)
        return 1
    return 0


def _streamed(scenario: Any, engine: str, out: Path, resolved_toml: str,
              progress: Callable[[int, int], None] | None,
              idle_seats: list[str]) -> tuple[Any, Any, Exception | None]:
    """Run ``scenario`` streaming its files into ``out`` (see
    :func:`lobsim.sim.output.run_directory`); a run whose audit fails, or that a runaway
    stopped, is kept with its summary, which says that nobody drove the learner seats
    ``idle_seats``. Returns (market, result, the AuditError/LivelockError or None)."""
    from lobsim.errors import AuditError, LivelockError
    from lobsim.sim.market import Market
    from lobsim.sim.output import run_directory

    failed = None
    with run_directory(out, scenario, resolved_toml) as files:
        market = Market(scenario, engine=engine, sink=files)
        try:
            result = market.run(progress=progress)
        except (AuditError, LivelockError) as exc:
            if not hasattr(exc, "result"):  # a livelock is kept only with its run
                raise
            result, failed = exc.result, exc  # type: ignore[attr-defined]
        if idle_seats:
            result.summary["learners"] = {"seats": idle_seats, "policy": None, "algo": None}
        files.summary = result.summary
    return market, result, failed


def seat_policy(scenario: Any, policy_dir: Path) -> tuple[Any, Any, dict]:
    """(env, policy, payload): ``scenario``'s environment and the greedy policy of
    ``policy_dir``, checked to fit its learner seats (:class:`~lobsim.errors.CheckpointError`
    if not)."""
    from lobsim.rl.checkpoint import check_matches, check_payload
    from lobsim.rl.env import MarketEnv
    from lobsim.rl.evaluation import load_policy

    policy, payload = load_policy(policy_dir)
    env = MarketEnv(scenario)
    check_matches(check_payload(payload, None, str(policy_dir)), env, str(policy_dir))
    return env, policy, payload


def run_with_policy(env: Any, policy: Any, payload: dict, where: str,
                    progress: Callable[[int, int], None] | None = None) -> Any:
    """One run of ``env``'s scenario with its learner seats driven by ``policy`` (from
    :func:`seat_policy`, read from ``where``); returns the market's
    :class:`~lobsim.sim.market.RunResult`, whose summary says which policy drove the seats."""
    from lobsim.rl.evaluation import play

    for _ in play(env, policy, env.scenario.simulation.seed):
        if progress is not None:
            progress(env.market.now, env.duration_ns)
    env.result.summary["learners"] = {"seats": list(env.possible_agents), "policy": where,
                                      "algo": payload["algo"]}
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
    """A short table with units: market figures, who drove the learner seats (if any),
    then one row per agent. Prices are in price units (tick size x ticks)."""
    market = summary["market"]
    spread = market["mean_spread"]
    vol = market["mid_volatility"]
    lines = [
        f"{summary['duration_s']:g} s simulated   messages {summary['messages']:,}   "
        f"trades {summary['trades']:,}   volume {summary['volume']:,} lots",
        f"mean spread {'n/a' if spread is None else f'{spread:.4f}'} (price units)   "
        f"mid volatility {'n/a' if vol is None else f'{vol:.4f}'} (price units / sqrt(s))   "
        f"audit {'ok' if summary['audit']['ok'] else 'FAILED'}",
    ]
    if "learners" in summary:
        from lobsim.analysis.tables import learners_text

        lines.append(f"learner seats: {learners_text(summary['learners'])}")
    lines += ["", f"{'agent':<24}{'pnl':>14}{'inventory':>11}{'spread capture':>16}{'fills':>9}",
              f"{'':<24}{'(price units)':>14}{'(lots)':>11}{'(price units)':>16}".rstrip()]
    for name, a in summary["agents"].items():
        lines.append(f"{name:<24}{a['pnl']:>14.2f}{a['inventory']:>11}{a['spread_capture']:>16.2f}{a['fills']:>9}")
    return "\n".join(lines)
