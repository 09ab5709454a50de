"""``lobsim realism RUN_DIR --against MESSAGES.csv [--orderbook ORDERBOOK.csv] [--json]``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lobsim.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "realism", help="compare a run with real (LOBSTER) data: distributions, distances, facts",
        description="Compute the same statistics on a run and on a real LOBSTER message file "
                    "(spread, inter-arrival times, order sizes, placement and cancel distances, "
                    "lifetimes, depth; return, sign and order-flow facts), print them side by side "
                    "with a normalised Wasserstein-1 distance per distribution and one realism "
                    "score (0 = the same distributions).")
    parser.add_argument("run_dir", type=Path, help="a run directory written by `lobsim run`")
    parser.add_argument("--against", type=Path, required=True, metavar="MESSAGES.csv",
                        help="a LOBSTER message file (or another run directory)")
    parser.add_argument("--orderbook", type=Path, metavar="ORDERBOOK.csv",
                        help="its LOBSTER order-book file (quotes and depth; without it they are "
                             "rebuilt by replaying the messages)")
    parser.add_argument("--tick-size", type=float, default=0.01,
                        help="price units per tick of the LOBSTER file (default 0.01)")
    parser.add_argument("--json", action="store_true", help="print the comparison as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lobsim.analysis.realism import as_dict, compare, format_table
    from lobsim.data.rundata import load, load_run

    if not args.run_dir.is_dir():
        raise InputError(f"{args.run_dir}: no such run directory")
    comparison = compare(load_run(args.run_dir), load(args.against, args.orderbook, args.tick_size))
    print(json.dumps(as_dict(comparison), indent=2) if args.json else format_table(comparison))
    return 0
