"""``lobsim export RUN_DIR --lobster DIR [--levels N] [--start S]``: a run as LOBSTER files
(see :mod:`lobsim.data.lobster_export`)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "export", help="export a run as LOBSTER message and order-book files",
        description="Write a run's events as a LOBSTER message file (time, type 1-5, order id, "
                    "size, price x 10000, direction) and order-book file (ask price, ask size, "
                    "bid price, bid size per level, after each message).")
    parser.add_argument("run_dir", type=Path, help="a run directory written by `lobsim run`")
    parser.add_argument("--lobster", type=Path, required=True, metavar="DIR",
                        help="directory to write the two CSV files into")
    parser.add_argument("--levels", type=int, default=10,
                        help="order-book levels per side (default 10); as LOBSTER does, only the "
                             "events that touched them are written. 0: every event, with rows as "
                             "deep as the book gets")
    parser.add_argument("--start", type=int, default=34200, metavar="SECONDS",
                        help="seconds after midnight that the run's time 0 becomes "
                             "(default 34200 = 9:30)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lobsim.cli import check_option
    from lobsim.data.lobster_export import export_run
    from lobsim.scenario.config import MAX_DEPTH_LEVELS

    check_option("--levels", args.levels, 0, MAX_DEPTH_LEVELS)  # 0: every event; columns per row: 4 x levels
    check_option("--start", args.start, 0, 86_400)  # seconds after midnight

    messages, orderbook, rows = export_run(args.run_dir, args.lobster, args.levels, args.start)
    print(f"wrote {messages}")
    print(f"wrote {orderbook}")
    print(f"{rows:,} messages, {args.levels or 'every event and all'} levels")
    return 0
