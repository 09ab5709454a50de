"""Reading and replaying LOBSTER files: ``lobsim bench lobster MESSAGES.csv [--orderbook OB.csv]``.

Times :func:`lobsim.data.lobster.read_messages` (and :func:`~lobsim.data.lobster.read_orderbook`),
then :func:`lobsim.data.lobster_score.replay` on what was read, ``--repeat`` times each in one
process, and prints the best and the median with rows per second. The first read of a
process also pays for importing Arrow; it is printed apart and not in the figures.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lobsim.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("messages", type=Path, help="a LOBSTER message file")
    parser.add_argument("--orderbook", type=Path, help="its order-book file (replay is then scored)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each step (default 5)")


def _timed(call: Callable[[], Any], repeat: int) -> tuple[Any, list[float]]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return result, times


def _line(what: str, times: list[float], rows: int) -> str:
    best, median = min(times), statistics.median(times)
    return (f"{what:<8} best {best * 1e3:8.1f} ms  median {median * 1e3:8.1f} ms  "
            f"{rows / best:12,.0f} rows/s")


def run(args: argparse.Namespace) -> list[str]:
    from lobsim.data import lobster
    from lobsim.data.lobster_score import replay

    if not 1 <= args.repeat <= 1000:
        raise InputError(f"--repeat must be between 1 and 1000, got {args.repeat}")

    def read() -> tuple[lobster.Messages, Any]:
        book = lobster.read_orderbook(args.orderbook) if args.orderbook is not None else None
        return lobster.read_messages(args.messages), book

    start = time.perf_counter()
    read()  # imports Arrow: not a figure
    first = time.perf_counter() - start
    (messages, book), read_times = _timed(read, args.repeat)
    result, replay_times = _timed(lambda: replay(messages, None, book), args.repeat)
    rows = len(messages)
    return [f"{args.messages}: {rows:,} rows" + (f", {book.shape[1] // 4} levels" if book is not None else ""),
            f"first read of the process (imports Arrow): {first * 1e3:.1f} ms",
            _line("read", read_times, rows), _line("replay", replay_times, rows),
            f"resyncs {result.resyncs:,}; match rate per level: "
            + (" ".join(f"{r:.2%}" if r is not None else "-" for r in result.match_rates()) or "-")]
