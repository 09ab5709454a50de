"""``lobsim report RUN_DIR [--interval SECONDS] [--against MESSAGES.csv [--orderbook ORDERBOOK.csv]]``:
figures, stylized facts and an HTML page (with a real-against-simulated section)."""

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
    parser.add_argument("--against", type=Path, metavar="MESSAGES.csv",
                        help="add a real-against-simulated section: a LOBSTER message file (or "
                             "another run directory) compared as `lobsim realism` does")
    parser.add_argument("--orderbook", type=Path, metavar="ORDERBOOK.csv",
                        help="with --against: its LOBSTER order-book file")
    parser.add_argument("--tick-size", type=float, default=0.01,
                        help="with --against: price units per tick of the LOBSTER file (default 0.01)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lobsim.errors import InputError
    from lobsim.analysis.report import write_report

    if args.orderbook is not None and args.against is None:
        raise InputError("--orderbook needs --against")
    page = write_report(args.run_dir, args.interval, args.against, args.orderbook, args.tick_size)
    facts = __import__("json").loads((page.parent / "facts.json").read_text())
    for fact in facts:
        print(f"{fact['name']:<36}{fact['verdict']:<20}{fact['value']}")
    if args.against is not None:
        realism = __import__("json").loads((page.parent / "realism.json").read_text())
        score = realism["score"]
        print(f"realism score against {args.against}: {'n/a' if score is None else f'{score:.3g}'}")
    print(f"wrote {page}")
    return 0
