"""A run's events as LOBSTER files, written as LOBSTER writes them for N levels.

:func:`export_run` turns a run's ``events.parquet`` into a message file and an order-book
file (format: :mod:`lobsim.data.lobster`). The run's time 0 becomes ``start_s`` seconds after
midnight (default 34200 s = 9:30, the NASDAQ open). lobsim's order flow maps onto
LOBSTER's events like this: an incoming order's fills are type 4 executions of the resting
orders (a market order leaves no other trace), and only what rests becomes a type 1
submission; a cancel is type 3 (or 2 when part of the order stays); a modify down at the
same price is type 2, any other modify is a type 3 delete followed by the order
re-entering under the same id.

With ``levels`` N > 0 only the events that touched the visible N levels are written (those
after which the N-level row differs from the one before), as in a real N-level file, so
an export reads like one. ``levels`` 0 keeps every event, with order-book rows as deep as
the run's book ever gets (nothing is beyond view: ``lobsim replay --strict`` holds).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from lobsim.errors import InputError
from lobsim.fileio import atomic_write
from lobsim.data.lobster import DEFAULT_START_S, EMPTY_ASK, EMPTY_BID, price_factor
from lobsim.data.tape import Depth, Message, RunEvents, book_messages, read_run_events, read_summary


def _lobster_time(start_s: int, time_ns: int) -> str:
    seconds, ns = divmod(time_ns, 1_000_000_000)
    return f"{start_s + seconds}.{ns:09d}"


def _book_row(depth: Depth, levels: int, factor: int) -> list[int]:
    bids, asks = depth.top(levels)
    row: list[int] = []
    for i in range(levels):
        ask = (asks[i][0] * factor, asks[i][1]) if i < len(asks) else (EMPTY_ASK, 0)
        bid = (bids[i][0] * factor, bids[i][1]) if i < len(bids) else (EMPTY_BID, 0)
        row += [ask[0], ask[1], bid[0], bid[1]]
    return row


def _deepest(run: RunEvents) -> int:
    """The most levels either side of the run's book ever holds (at least 1). O(events)."""
    depth, deepest = Depth(), 1
    for _ in book_messages(run.columns, depth):
        deepest = max(deepest, len(depth.sides[1]), len(depth.sides[-1]))
    return deepest


def lobster_rows(run: RunEvents, levels: int, factor: int) -> Iterator[tuple[Message, list[int]]]:
    """(message, order-book row) pairs as an N-level LOBSTER file has them: only the
    messages after which the ``levels``-level row changed (every one for 0, with rows of
    the run's full depth). Prices stay in ticks in the message, LOBSTER units in the row."""
    width = levels or _deepest(run)
    depth = Depth()
    previous = _book_row(depth, width, factor)
    for message in book_messages(run.columns, depth):
        row = _book_row(depth, width, factor)
        if levels == 0 or row != previous:
            yield message, row
        previous = row


def export_run(run_dir: Path, out_dir: Path, levels: int = 10, start_s: int = DEFAULT_START_S,
               date: str = "2000-01-03") -> tuple[Path, Path, int]:
    """Write the run in ``run_dir`` as LOBSTER files in ``out_dir`` (created if needed),
    named as LOBSTER names them: ``SYMBOL_DATE_STARTms_ENDms_message_N.csv`` and
    ``..._orderbook_N.csv`` (N = ``levels``; see the module docstring for 0). Returns
    (message file, order-book file, rows). Both files are written atomically."""
    if levels < 0:
        raise InputError(f"--levels must be 0 (every event) or more, got {levels}")
    run = read_run_events(run_dir)
    factor = price_factor(run.tick_size)
    duration_ns = max(run.columns["time_ns"], default=0)
    if (Path(run_dir) / "summary.json").exists():  # checked: a bad one is an InputError
        duration_ns = round(read_summary(Path(run_dir) / "summary.json").get("duration_s", 0) * 1e9)
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {out_dir}: {exc.strerror or exc}") from None
    stem = f"{run.symbol}_{date}_{start_s * 1000}_{start_s * 1000 + duration_ns // 1_000_000}"
    message_path = out_dir / f"{stem}_message_{levels}.csv"
    book_path = out_dir / f"{stem}_orderbook_{levels}.csv"
    rows = 0
    with atomic_write(message_path) as m_handle, atomic_write(book_path) as b_handle:
        m_out, b_out = csv.writer(m_handle, lineterminator="\n"), csv.writer(b_handle, lineterminator="\n")
        for (t, kind, oid, size, price, direction, _), row in lobster_rows(run, levels, factor):
            m_out.writerow([_lobster_time(start_s, t), kind, oid, size, price * factor, direction])
            b_out.writerow(row)
            rows += 1
    return message_path, book_path, rows
