"""``lobsim evaluate SCENARIO --policy DIR [--episodes K] [--seed S] [--json]``: parses,
calls :func:`lobsim.rl.evaluation.evaluate` and prints its report as tables."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from lobsim.rl.evaluation import BASELINES, EXEC_BASELINES
from lobsim.cli import add_agents_option


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "evaluate", help="compare trained makers and executors with their baselines",
        description="Run the trained seats, then the makers' seats filled by the fixed_spread and "
                    "avellaneda_stoikov makers and the executors' by twap and almgren_chriss (and "
                    "idle: the market without the executors), on the same held-out seeds; print a "
                    "table per seat.")
    parser.add_argument("scenario", type=Path, help="scenario TOML file the policy was trained on")
    parser.add_argument("--policy", type=Path, required=True, metavar="DIR", help="directory with policy.pt")
    parser.add_argument("--episodes", type=int, default=20, help="held-out episodes (default 20)")
    parser.add_argument("--seed", type=int, default=12345,
                        help="seed of the held-out market seeds (default 12345)")
    parser.add_argument("--set", action="append", default=[], metavar="KIND.KEY=VALUE",
                        help="a baseline parameter, e.g. fixed_spread.half_spread=2 (repeatable; "
                             "VALUE is TOML)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_agents_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lobsim.cli import check_option
    from lobsim.cli.progress import ProgressBar
    from lobsim.rl.env import load_scenario, require_learners
    from lobsim.rl.evaluation import evaluate, load_policy
    from lobsim.scenario.config import MAX_EPISODES, MAX_SEED

    check_option("--episodes", args.episodes, 1, MAX_EPISODES)
    check_option("--seed", args.seed, 0, MAX_SEED)
    scenario = load_scenario(args.scenario)
    require_learners(scenario, "for the policy to drive (evaluate needs the scenario it was trained on)")
    policy, payload = load_policy(args.policy)
    bar = None if args.no_progress else ProgressBar("evaluate")
    try:
        report = evaluate(scenario, policy, payload, args.episodes, args.seed, _settings(args.set),
                          str(args.policy), progress=bar)
    finally:
        if bar is not None:
            bar.close()
    report["policy"] = str(args.policy)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))
    return 0


def _settings(items: list[str]) -> dict[str, dict[str, Any]]:
    """``KIND.KEY=VALUE`` options -> {kind: {key: value}} (VALUE parsed as TOML)."""
    import tomllib

    from lobsim.errors import InputError

    out: dict[str, dict[str, Any]] = {}
    for item in items:
        head, sep, value = item.partition("=")
        kind, dot, key = head.strip().partition(".")
        kinds = BASELINES + EXEC_BASELINES
        if not (sep and dot and kind in kinds and key):
            raise InputError(f"--set: expected KIND.KEY=VALUE with KIND in {', '.join(kinds)}, got {item!r}")
        try:
            out.setdefault(kind, {})[key] = tomllib.loads(f"v = {value.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            out.setdefault(kind, {})[key] = value.strip()
    return out


def format_report(report: dict) -> str:
    """One table per seat, then the market's figures per controller."""
    lines = [f"{report['scenario']}: {report['episodes']} held-out episodes"
             f"{' (team reward)' if report['team'] else ''}"]
    head = (f"  {'controller':<20}{'reward':>10}{'95% interval':>22}{'pnl':>10}"
            f"{'spread cap.':>13}{'|inventory|':>13}{'fills':>9}")
    for seat, rows in report["seats"].items():
        lines += ["", f"seat {seat}", head]
        executor = "shortfall_mean" in next(iter(rows.values()))
        lines[-1] = EXEC_HEAD if executor else head
        for kind, s in rows.items():
            lines.append(f"  {kind:<20}{s['reward_mean']:>10.4f}{_interval(s['reward_ci95'], '.4f'):>22}"
                         + (f"{s['shortfall_mean']:>11.4f}{_interval(s['shortfall_ci95'], '.4f'):>22}"
                            f"{s['executed_mean']:>10.1f}{s['fills_mean']:>9.1f}" if executor else
                            f"{s['pnl_mean']:>10.4f}{s['spread_capture_mean']:>13.4f}"
                            f"{s['abs_inventory_mean']:>13.2f}{s['fills_mean']:>9.1f}"))
        for kind, d in report.get("paired", {}).get(seat, {}).items():
            line = (f"  learner - {kind}, paired by seed: reward {d['diff_mean']:+.4f} "
                    f"{_interval(d['diff_ci95'], '+.4f')}")
            if "shortfall_diff_mean" in d:
                line += (f", shortfall {d['shortfall_diff_mean']:+.4f} "
                         f"{_interval(d['shortfall_diff_ci95'], '+.4f')}")
            lines.append(line)
    lines += ["", f"  {'market with':<20}{'mean spread':>14}{'mid volatility':>17}"]
    for kind, m in report["market"].items():
        spread, vol = m["mean_spread_mean"], m["mid_volatility_mean"]
        lines.append(f"  {kind:<20}{'n/a' if spread is None else f'{spread:.4f}':>14}"
                     f"{'n/a' if vol is None else f'{vol:.4f}':>17}")
    for kind, why in report.get("unavailable", {}).items():
        lines.append(f"  {kind}: not evaluated ({why})")
    return "\n".join(lines)


#: the table head of an executor's seat (shortfall: price units, lower is better)
EXEC_HEAD = (f"  {'controller':<20}{'reward':>10}{'95% interval':>22}{'shortfall':>11}"
             f"{'95% interval':>22}{'executed':>10}{'fills':>9}")


def _interval(bounds: list[float] | None, spec: str) -> str:
    """``[lo, hi]`` formatted with ``spec``, or ``n/a`` (fewer than two values)."""
    return "n/a (one value)" if bounds is None else f"[{bounds[0]:{spec}}, {bounds[1]:{spec}}]"
