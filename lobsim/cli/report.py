"""``lobsim report RUN_DIR [--interval SECONDS]``: figures, stylized facts and an HTML page."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "report", help="write figures, stylized facts and report.html for a run",
        description="Write RUN_DIR/report/: PNG figures (mid price and trades, spread, depth, "
                    "imbalance, agents, learning curves, stylized facts) and a self-contained "
                    "report.html. Needs the plots extra (pip install lobsim[plots]).")
    parser.add_argument("run_dir", type=Path, help="a run directory written by `lobsim run` or `lobsim train`")
    parser.add_argument("--interval", type=float, default=10.0, metavar="SECONDS",
                        help="sampling interval of the returns whose autocorrelations are "
                             "tested (default 10 s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lobsim.analysis.report import write_report

    page = write_report(args.run_dir, args.interval)
    facts = __import__("json").loads((page.parent / "facts.json").read_text())
    for fact in facts:
        print(f"{fact['name']:<36}{fact['verdict']:<20}{fact['value']}")
    print(f"wrote {page}")
    return 0
