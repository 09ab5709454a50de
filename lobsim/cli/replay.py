"""``lobsim replay MESSAGES.jsonl [--out EVENTS.jsonl] [--book-out BOOK.json]``."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from lobsim.book import OrderBook
from lobsim.fileio import atomic_write
from lobsim.replay import read_messages, replay


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "replay", help="replay a JSON-lines message file through the order book",
        description="Replay order messages through a fresh order book and print the events "
                    "(trades, cancels, rejects, modifies) as JSON lines.")
    parser.add_argument("messages", type=Path, help="JSON-lines message file")
    parser.add_argument("--out", type=Path, help="write events here instead of stdout")
    parser.add_argument("--book-out", type=Path, help="write the final book as JSON here")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    messages = read_messages(args.messages)  # every line is checked before any output
    book = OrderBook()
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(atomic_write(args.out)) if args.out else sys.stdout
        for event in replay(messages, book):
            out.write(json.dumps(event, separators=(",", ":")))
            out.write("\n")
    if args.book_out:
        with atomic_write(args.book_out) as handle:
            json.dump(book.snapshot(), handle, separators=(",", ":"))
            handle.write("\n")
    return 0
