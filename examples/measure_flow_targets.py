"""Issue 16's targets: a real LOBSTER file against simulated runs, as a Markdown table.

    python examples/measure_flow_targets.py MSG.csv [--orderbook OB.csv] RUN_DIR [RUN_DIR ...]

Every run is read through its LOBSTER export, the same path as the real file
(:mod:`lobsim.analysis.flowstats`). The first run is the one the targets are checked on;
the others are shown beside it (more seeds, or santa_fe/default for comparison).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lobsim.data import lobster
from lobsim.analysis.flow import order_flow
from lobsim.analysis.flowstats import run_flow, statistics, targets


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("messages", type=Path)
    parser.add_argument("--orderbook", type=Path)
    parser.add_argument("runs", type=Path, nargs="+")
    args = parser.parse_args()
    book = lobster.read_orderbook(args.orderbook) if args.orderbook else None
    real = statistics(order_flow(lobster.read_messages(args.messages), book))
    sims = [statistics(run_flow(run)) for run in args.runs]
    print("| statistic | real | " + " | ".join(run.name for run in args.runs) + " |")
    print("|---" * (2 + len(sims)) + "|")
    for name, stat in real.items():
        print(f"| {name} | {stat.show()} | " + " | ".join(s[name].show() for s in sims) + " |")
    print()
    print("| target | " + " | ".join(run.name for run in args.runs) + " |")
    print("|---" * (1 + len(sims)) + "|")
    verdicts = [targets(real, s) for s in sims]
    word = {True: "met", False: "**not met**", None: "too short"}
    for name in verdicts[0]:
        print(f"| {name} | " + " | ".join(word[v[name]] for v in verdicts) + " |")


if __name__ == "__main__":
    main()
