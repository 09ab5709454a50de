"""``lobsim replay MESSAGES.jsonl [--out EVENTS.jsonl] [--book-out BOOK.json]``, and
``lobsim replay --lobster MESSAGES.csv [--orderbook ORDERBOOK.csv] [--tick-size X]``."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from lobsim.book import OrderBook
from lobsim.errors import InputError
from lobsim.fileio import atomic_write
from lobsim.replay import read_messages, replay


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "replay", help="replay a JSON-lines message file (or a LOBSTER file) through the order book",
        description="Replay order messages through a fresh order book and print the events "
                    "(trades, cancels, rejects, modifies) as JSON lines. With --lobster, rebuild "
                    "the book from a LOBSTER message file instead and, with --orderbook, compare "
                    "it with every row of a LOBSTER order-book file (exit 1 on any mismatch).")
    parser.add_argument("messages", type=Path, nargs="?", help="JSON-lines message file")
    parser.add_argument("--out", type=Path, help="write events (JSONL) or, with --lobster, the "
                                                 "replay report (JSON) here instead of stdout")
    parser.add_argument("--book-out", type=Path, help="write the final book as JSON here")
    parser.add_argument("--lobster", type=Path, metavar="MESSAGES.csv",
                        help="a LOBSTER message file to rebuild the book from")
    parser.add_argument("--orderbook", type=Path, metavar="ORDERBOOK.csv",
                        help="with --lobster: the LOBSTER order-book file to compare against")
    parser.add_argument("--tick-size", type=float, default=0.01,
                        help="with --lobster: price units per tick (default 0.01; LOBSTER prices "
                             "are price x 10000)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.lobster is not None:
        if args.messages is not None:
            raise InputError("give either a JSON-lines message file or --lobster, not both")
        return run_lobster(args)
    if args.messages is None:
        raise InputError("expected a JSON-lines message file or --lobster MESSAGES.csv")
    if args.orderbook is not None:
        raise InputError("--orderbook needs --lobster")
    messages = read_messages(args.messages)  # every line is checked before any output
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
    from lobsim import lobster

    messages = lobster.read_messages(args.lobster)
    orderbook = lobster.read_orderbook(args.orderbook) if args.orderbook is not None else None
    result = lobster.replay(messages, args.tick_size, orderbook, source=str(args.lobster))
    report = result.as_dict()
    if args.out:
        with atomic_write(args.out) as handle:
            json.dump(report, handle, indent=2)
            handle.write("\n")
    if args.book_out:
        with atomic_write(args.book_out) as handle:
            json.dump(result.book.snapshot(), handle, separators=(",", ":"))
            handle.write("\n")
    print(format_lobster_report(result))
    return 0 if result.all_match else 1


def format_lobster_report(result) -> str:  # a lobster.ReplayResult (imported lazily)
    types = ", ".join(f"type {k}: {v:,}" for k, v in sorted(result.by_type.items()))
    lines = [f"{result.messages:,} messages ({types or 'none'})"]
    if result.prior_events:
        lines.append(f"{result.prior_events:,} events on orders that predate the file (hidden prior "
                     f"liquidity): {result.prior_lots_seeded:,} lots seeded from the first "
                     f"order-book row, {result.prior_lots_hidden:,} lots not visible")
    bid, ask = result.book.best_bid(), result.book.best_ask()
    lines.append(f"final best bid {bid[0] if bid else '-'} x {bid[1] if bid else 0}, best ask "
                 f"{ask[0] if ask else '-'} x {ask[1] if ask else 0} (ticks x lots)")
    if result.rows_compared:
        rates = "  ".join(f"L{i + 1} {rate:.2%}" for i, rate in enumerate(result.match_rates()))
        lines.append(f"compared {result.rows_compared:,} order-book rows; match rate per level: {rates}")
        lines += [f"  mismatch: {m}" for m in result.mismatches]
        if result.all_match:
            lines.append("every row matches")
    return "\n".join(lines)
