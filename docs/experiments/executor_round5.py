"""The selection and power calculation of issue 19, part 2, round five (docs/results.md,
"Round five"): pick the run, correct its edge for the pick, and plan N, from the diagnostic
seeds only.

Not library code: the measurement behind the docs, kept so that it can be rerun. It reads
reports of ``lobsim evaluate --json`` (or ``lobsim train-sweep``'s ``evaluation.json``) on
the same diagnostic episodes, one per candidate run; selects the highest paired learner -
TWAP reward in the executor's seat; shrinks that edge toward the candidates' mean
(:func:`lobsim.stats.shrink_to_pool`, standard errors backed out of the paired intervals);
and asks :func:`lobsim.stats.episodes_to_separate`, with the selected run's spreads, for N,
capped at what ``--minutes`` of evaluation allow at ``--seconds`` per evaluated episode
(the six controllers of ``lobsim evaluate`` together, measured beforehand).

    python docs/experiments/executor_round5.py r4-a.json r4-b.json ... --seconds 0.9 --minutes 45
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from executor_round4 import figures, spread  # the same folder: run this file as a script

from lobsim.stats import episodes_to_separate, separation_power, shrink_to_pool


def select(paths: list[Path], seconds: float, minutes: float) -> None:
    reports = [json.loads(p.read_text()) for p in paths]
    ns = {r["episodes"] for r in reports}
    if len(ns) != 1:
        raise SystemExit(f"executor_round5.py: reports of different episode counts {sorted(ns)}")
    n = ns.pop()
    edges, errors = [], []
    for path, report in zip(paths, reports):
        paired = report["paired"]["exec"]["twap"]
        se = spread(paired["diff_ci95"], n) / math.sqrt(n)
        edges.append(paired["diff_mean"])
        errors.append(se)
        lo, hi = paired["diff_ci95"]
        print(f"{str(path):62s} learner - TWAP {paired['diff_mean']:+.4f} [{lo:+.4f}, {hi:+.4f}]  se {se:.4f}")
    best = max(range(len(edges)), key=edges.__getitem__)
    mean = sum(edges) / len(edges)
    corrected = shrink_to_pool(edges, errors, best)
    print(f"selected: {paths[best]} ({edges[best]:+.4f}); mean of the {len(edges)} {mean:+.4f}; "
          f"selection-corrected edge {corrected:+.4f}")
    _, s_l, s_t, s_d = figures(reports[best])
    print(f"spreads of the selected run ({n} episodes): learner {s_l:.4f}  TWAP {s_t:.4f}  paired {s_d:.4f}")
    cap = int(minutes * 60 / seconds)
    print(f"cap: {minutes:g} min at {seconds:g} s an episode = {cap} episodes")
    for edge, name in ((corrected, "corrected"), (mean, "candidates' mean"), (edges[best], "selected, raw")):
        if edge <= 0:
            print(f"{name} edge {edge:+.4f}: no number of episodes separates intervals")
            continue
        need = [episodes_to_separate(edge, s_l, s_t, s_d, p) for p in (0.5, 0.8, 0.9)]
        print(f"{name} edge {edge:+.4f}: N for separate intervals with probability 0.5 / 0.8 / 0.9: "
              f"{need[0]} / {need[1]} / {need[2]}; power at the cap {separation_power(edge, s_l, s_t, s_d, cap):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path, help="evaluation reports (JSON), same diagnostic episodes")
    parser.add_argument("--seconds", type=float, required=True, help="measured seconds per evaluated episode")
    parser.add_argument("--minutes", type=float, default=45.0, help="evaluation time allowed (default 45)")
    args = parser.parse_args()
    select(args.reports, args.seconds, args.minutes)


if __name__ == "__main__":
    main()
