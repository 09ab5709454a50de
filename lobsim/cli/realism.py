"""``lobsim realism RUN_DIR --against MESSAGES.csv [--orderbook ORDERBOOK.csv] [--json]
[--targets [--baseline RUN_DIR ...]]``."""

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
    parser.add_argument("--targets", action="store_true",
                        help="add issue 16's targets for a market calibrated from the real file: "
                             "met, not met or too short")
    parser.add_argument("--baseline", type=Path, action="append", default=[], metavar="RUN_DIR",
                        help="with --targets: a run (e.g. santa_fe, default) whose realism score "
                             "against the same file the run's must halve (repeatable)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lobsim.analysis.realism import as_dict, compare, format_table
    from lobsim.analysis.realism_targets import as_dicts, format_targets, targets
    from lobsim.data.rundata import load, load_run

    if args.baseline and not args.targets:
        raise InputError("--baseline needs --targets")
    for folder in (args.run_dir, *args.baseline):
        if not folder.is_dir():
            raise InputError(f"{folder}: no such run directory")
    real, simulated = load(args.against, args.orderbook, args.tick_size), load_run(args.run_dir)
    if not args.targets:
        comparison = compare(simulated, real)
        print(json.dumps(as_dict(comparison), indent=2) if args.json else format_table(comparison))
        return 0
    comparison, rows = targets(real, simulated, [load_run(b) for b in args.baseline])
    if args.json:
        print(json.dumps({**as_dict(comparison), "targets": as_dicts(rows)}, indent=2))
    else:
        print(format_table(comparison) + "\n\n" + format_targets(rows))
    return 0
