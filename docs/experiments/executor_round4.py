"""The power calculation of issue 19, part 2, round four (docs/results.md, "Round four"):
how many evaluation episodes separate intervals need, from a diagnostic evaluation only.

Not library code: the measurement behind the docs, kept so that it can be rerun. It reads
reports of ``lobsim evaluate --json`` (or ``lobsim train-sweep``'s ``evaluation.json``)
on the diagnostic seeds, and for the executor's seat backs the episode-to-episode standard
deviations of the learner's and TWAP's reward, and of their paired difference, out of the
95% intervals (``half-width = t95(n - 1) sd / sqrt(n)``, exact), then asks
:func:`lobsim.stats.episodes_to_separate` for the episodes that separate intervals need at
that edge and those spreads.

    python docs/experiments/executor_round4.py power runs/exec4/undiscounted/cells/*/evaluation.json
    python docs/experiments/executor_round4.py power diag.json --edge 0.15
    python docs/experiments/executor_round4.py timing SCENARIO POLICY_DIR [POLICY_DIR ...] --seed 777

``timing``: when the order is bought: per policy, TWAP beside its makers, then its trained
executor beside the same makers: the mean lots executed
and the mid's mean move from the arrival (ticks) at 5, 10, 20 and 30 s after the arrival,
and the reward, on the ``--seed`` episodes (reuses round three's episode loop).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from lobsim.stats import episodes_to_separate, t95

SEAT = "exec"


def spread(interval: list[float], n: int) -> float:
    """The standard deviation behind a 95% Student-t interval of a mean of ``n`` values."""
    return (interval[1] - interval[0]) / 2 * math.sqrt(n) / t95(n - 1)


def figures(report: dict) -> tuple[float, float, float, float]:
    """(edge, sd learner, sd TWAP, sd of the paired difference) of one report's executor seat."""
    n, rows = report["episodes"], report["seats"][SEAT]
    paired = report["paired"][SEAT]["twap"]
    return (paired["diff_mean"], spread(rows["learner"]["reward_ci95"], n),
            spread(rows["twap"]["reward_ci95"], n), spread(paired["diff_ci95"], n))


def power(paths: list[Path], edge: float | None) -> None:
    rows = []
    for path in paths:
        row = figures(json.loads(path.read_text()))
        rows.append(row)
        print(f"{str(path):60s} edge {row[0]:+.4f}  sd learner {row[1]:.4f}  TWAP {row[2]:.4f}  "
              f"paired {row[3]:.4f}")
    mean = np.mean(rows, axis=0)
    print(f"{'mean of the ' + str(len(rows)):60s} edge {mean[0]:+.4f}  sd learner {mean[1]:.4f}  "
          f"TWAP {mean[2]:.4f}  paired {mean[3]:.4f}")
    edges = [edge] if edge is not None else sorted({round(float(mean[0]), 4), *(round(r[0], 4) for r in rows)})
    for e in edges:
        if e <= 0:
            print(f"edge {e:+.4f}: no number of episodes separates intervals")
            continue
        ns = [episodes_to_separate(e, mean[1], mean[2], mean[3], p) for p in (0.5, 0.8, 0.9)]
        print(f"edge {e:+.4f}: episodes for separate intervals with probability 0.5 / 0.8 / 0.9: "
              f"{ns[0]} / {ns[1]} / {ns[2]}")


def timing(scenario_path: str, policies: list[Path], seed: int, n: int) -> None:
    from executor_round3 import episodes  # the same folder: run this file as a script

    from lobsim.rl.env import MarketEnv, load_scenario
    from lobsim.rl.evaluation import baseline_params, baseline_scenario, held_out_seeds, load_policy
    from lobsim.rl.executor import without_shaping

    seeds = held_out_seeds(seed, n)
    env = MarketEnv(without_shaping(load_scenario(scenario_path)))
    twap, _ = baseline_scenario(env, "twap", baseline_params(env, "twap", {}, None), "executor")
    runs = []
    for path in policies:
        policy = load_policy(path)[0]
        runs += [(f"TWAP beside {path.name}'s makers", twap, policy), (str(path), env.scenario, policy)]
    steps = [10, 20, 40, 60]  # decisions of 0.5 s after the arrival: 5, 10, 20, 30 s
    for name, scenario, controller in runs:
        lots, moves = [], []

        def record(e, meter, o):
            if meter.arrival2 is not None:
                lots[-1].append(meter.executed(e.market.ledger))
                moves[-1].append((e.market.exchange.venues[e.scenario.market.symbol].mid2 - meter.arrival2) / 2)

        rewards = []
        for s in seeds:
            lots.append([])
            moves.append([])
            rewards += episodes(env, scenario, controller, [s], record)
        at = ", ".join(f"{np.mean([ep[k] for ep in lots]):5.1f} lots {np.mean([ep[k] for ep in moves]):+5.2f} ticks"
                       for k in steps)
        print(f"{name:48s} at 5/10/20/30 s: {at}; reward {np.mean(rewards):+.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("power", "timing"))
    parser.add_argument("paths", nargs="+", help="power: evaluation reports (JSON) on diagnostic seeds; "
                                                 "timing: SCENARIO POLICY_DIR [POLICY_DIR ...]")
    parser.add_argument("--edge", type=float, help="power: the edge to plan for (default: each report's and their mean)")
    parser.add_argument("--seed", type=int, default=777, help="timing: the held-out seeds' seed")
    parser.add_argument("--episodes", type=int, default=20)
    args = parser.parse_args()
    if args.what == "power":
        power([Path(p) for p in args.paths], args.edge)
    else:
        timing(args.paths[0], [Path(p) for p in args.paths[1:]], args.seed, args.episodes)


if __name__ == "__main__":
    main()
