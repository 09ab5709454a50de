"""``lobsim replay MESSAGES.jsonl [--out EVENTS.jsonl] [--book-out BOOK.json]``, and
``lobsim replay --lobster MESSAGES.csv [--orderbook ORDERBOOK.csv] [--json] [--strict]
[--tick-size X]`` (see :mod:`lobsim.data.lobster_score`)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lobsim.book.orderbook import OrderBook
from lobsim.errors import InputError
from lobsim.fileio import atomic_write
from lobsim.book.replay import read_messages, replay

if TYPE_CHECKING:
    from lobsim.data.lobster_score import ReplayResult


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "replay", help="replay a JSON-lines message file (or a LOBSTER file) through the order book",
        description="Replay order messages through a fresh order book and print the events "
                    "(trades, cancels, rejects, modifies) as JSON lines. With --lobster, rebuild "
                    "the book from a LOBSTER message file instead (exit 0 when read to the end) "
                    "and, with --orderbook, score one-step prediction of its rows per level.")
    parser.add_argument("messages", type=Path, nargs="?", help="JSON-lines message file")
    parser.add_argument("--out", type=Path, help="write events (JSONL) here instead of stdout; "
                                                 "with --lobster, also write the JSON report here")
    parser.add_argument("--book-out", type=Path, help="write the final book as JSON here")
    parser.add_argument("--lobster", type=Path, metavar="MESSAGES.csv",
                        help="a LOBSTER message file to rebuild the book from (read to the end "
                             "whatever it holds; oddities are counted)")
    parser.add_argument("--orderbook", type=Path, metavar="ORDERBOOK.csv",
                        help="with --lobster: its order-book file: seeds the book from the first "
                             "row, scores one-step prediction per level and re-syncs the visible "
                             "window wherever it disagrees")
    parser.add_argument("--json", action="store_true",
                        help="with --lobster: print the report as one JSON object")
    parser.add_argument("--strict", action="store_true",
                        help="with --lobster: for files lobsim wrote (export --levels 0): no "
                             "re-sync, a crossing order or reused id is an error, exit 1 at the "
                             "first row that differs")
    parser.add_argument("--tick-size", type=float, default=None,
                        help="with --lobster: price units per tick (default: the largest divisor "
                             "of 0.01 that fits every price; LOBSTER prices are price x 10000)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.lobster is not None:
        if args.messages is not None:
            raise InputError("give either a JSON-lines message file or --lobster, not both")
        return run_lobster(args)
    if args.messages is None:
        raise InputError("expected a JSON-lines message file or --lobster MESSAGES.csv")
    for given, option in ((args.orderbook is not None, "--orderbook"), (args.json, "--json"),
                          (args.strict, "--strict"), (args.tick_size is not None, "--tick-size")):
        if given:
            raise InputError(f"{option} needs --lobster")
    # One line at a time. Every line is checked before the first event goes to stdout;
    # a file written with --out is discarded on a bad line, so it needs no first pass.
    messages = read_messages(args.messages, check_first=args.out is None)
    book = OrderBook()
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(atomic_write(args.out)) if args.out else sys.stdout
        for event in replay(messages, book):
            out.write(json.dumps(event, separators=(",", ":"), allow_nan=False))
            out.write("\n")
    if args.book_out:
        with atomic_write(args.book_out) as handle:
            json.dump(book.snapshot(), handle, separators=(",", ":"), allow_nan=False)
            handle.write("\n")
    return 0


def run_lobster(args: argparse.Namespace) -> int:
    from lobsim.data import lobster
    from lobsim.data.lobster_score import replay as replay_lobster

    messages = lobster.read_messages(args.lobster)
    orderbook = lobster.read_orderbook(args.orderbook) if args.orderbook is not None else None
    result = replay_lobster(messages, args.tick_size, orderbook, strict=args.strict,
                            orderbook_source=str(args.orderbook))
    report = result.as_dict()
    if args.out:
        with atomic_write(args.out) as handle:
            json.dump(report, handle, indent=2)
            handle.write("\n")
    if args.book_out:
        with atomic_write(args.book_out) as handle:
            json.dump(result.book.snapshot(), handle, separators=(",", ":"))
            handle.write("\n")
    print(json.dumps(report) if args.json else format_lobster_report(result))
    return 1 if result.first_difference is not None else 0


def format_lobster_report(result: ReplayResult) -> str:
    """The human-readable report of ``replay --lobster``."""
    types = ", ".join(f"type {k}: {v:,}" for k, v in sorted(result.by_type.items()))
    lines = [f"{result.rows:,} rows ({types or 'none'}); tick = {result.factor} LOBSTER units"]
    odd = ", ".join(f"{k} {v:,}" for k, v in result.oddities.items() if v)
    lines.append(f"oddities: {odd or 'none'}")
    bid, ask = result.book.best_bid(), result.book.best_ask()
    lines.append(f"final best bid {bid[0] if bid else '-'} x {bid[1] if bid else 0}, best ask "
                 f"{ask[0] if ask else '-'} x {ask[1] if ask else 0} (ticks x lots)")
    if result.compared:
        rates = "  ".join(f"L{i + 1} {_percent(rate)} ({n:,})"
                          for i, (rate, n) in enumerate(zip(result.match_rates(), result.compared)))
        lines.append(f"one-step prediction per level (rows compared): {rates}")
        every = "  ".join(f"L{i + 1} {_percent(rate)}" for i, rate in enumerate(result.all_rows_rates()))
        lines.append(f"counting all {result.rows_scored:,} rows, levels from beyond the depth "
                     f"included: {every}")
        lines += [f"  mismatch: {m}" for m in result.mismatches]
        if result.first_difference is not None:
            lines.append(f"strict: stopped at row {result.first_difference}, the first that differs")
        elif result.resyncs:
            lines.append(f"re-synced the visible window from the order-book file after "
                         f"{result.resyncs:,} rows")
        elif result.all_match:
            lines.append("every row matches")
    return "\n".join(lines)


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.2%}"
