"""LOBSTER, the interchange format of academic limit-order-book data: export, import, compare.

A LOBSTER *message file* has one row per book event, six comma-separated columns and no
header::

    Time, Type, Order ID, Size, Price, Direction

* Time: seconds after midnight (decimal, ns resolution here);
* Type: 1 new limit order, 2 partial cancel, 3 full delete, 4 execution of a visible
  limit order, 5 execution of a hidden order, 6 cross trade, 7 trading halt;
* Size: shares (lots); Price: dollar price x 10000 (an integer);
* Direction: -1 sell, 1 buy limit order; for an execution, the side of the *resting* order.

The *order-book file* has one row per message: the book after that message, as
``Ask Price 1, Ask Size 1, Bid Price 1, Bid Size 1, ...`` for N levels; an empty level is
written ``9999999999, 0`` (ask) or ``-9999999999, 0`` (bid).

Export (:func:`export_run`) turns a run's ``events.parquet`` into these two files. The
run's time 0 becomes ``start_s`` seconds after midnight (default 34200 s = 9:30, the
NASDAQ open). lobsim's order flow maps onto LOBSTER's events like this: an incoming
order's fills are type 4 executions of the resting orders (a market order leaves no other
trace), and only what rests becomes a type 1 submission; a cancel is type 3 (or 2 when
part of the order stays); a modify down at the same price is type 2, any other modify is
a type 3 delete followed by the order re-entering under the same id.

Import (:func:`read_messages`, :func:`replay`) rebuilds the book from a message file in an
:class:`~lobsim.book.OrderBook`, keeping queue priority. Events on orders that predate the
file are accepted as *hidden prior liquidity*: with an order-book file the first row seeds
the book with it (one order per visible level, at the front of its queue), and whatever
is not visible there is only counted. :func:`compare_orderbook` checks every row.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lobsim.book import OrderBook
from lobsim.errors import InputError
from lobsim.fileio import atomic_write
from lobsim.orders import Side
from lobsim.tape import (DELETE, EXECUTE, NEW, PARTIAL_CANCEL, TYPES, Depth, book_messages,
                         read_run_events, read_summary)

#: Seconds after midnight that a run's time 0 becomes on export (9:30, the NASDAQ open).
DEFAULT_START_S = 34200
EMPTY_ASK = 9999999999  #: price LOBSTER writes for an empty ask level (size 0)
EMPTY_BID = -9999999999  #: price LOBSTER writes for an empty bid level (size 0)


def price_factor(tick_size: float) -> int:
    """LOBSTER price units (1/10000 of a price unit) per tick; the tick must be a multiple
    of 0.0001."""
    if not (isinstance(tick_size, (int, float)) and math.isfinite(tick_size) and tick_size > 0):
        raise InputError(f"tick size must be a positive number, got {tick_size!r}")
    factor = round(tick_size * 10000)
    if factor < 1 or not math.isclose(factor, tick_size * 10000, rel_tol=1e-9):
        raise InputError(f"tick size {tick_size!r} is not a multiple of 0.0001 (LOBSTER prices "
                         "are price x 10000 integers)")
    return factor


# --------------------------------------------------------------------------- export


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


def export_run(run_dir: Path, out_dir: Path, levels: int = 10, start_s: int = DEFAULT_START_S,
               date: str = "2000-01-03") -> tuple[Path, Path, int]:
    """Write the run in ``run_dir`` as LOBSTER files in ``out_dir`` (created if needed),
    named as LOBSTER names them: ``SYMBOL_DATE_STARTms_ENDms_message_N.csv`` and
    ``..._orderbook_N.csv``. Returns (message file, order-book file, rows). Both files are
    written atomically."""
    if levels < 1:
        raise InputError(f"--levels must be at least 1, got {levels}")
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
    depth = Depth()
    rows = 0
    with atomic_write(message_path) as m_handle, atomic_write(book_path) as b_handle:
        m_out, b_out = csv.writer(m_handle, lineterminator="\n"), csv.writer(b_handle, lineterminator="\n")
        for t, kind, oid, size, price, direction, _ in book_messages(run.columns, depth):
            m_out.writerow([_lobster_time(start_s, t), kind, oid, size, price * factor, direction])
            b_out.writerow(_book_row(depth, levels, factor))
            rows += 1
    return message_path, book_path, rows


# --------------------------------------------------------------------------- import


@dataclass(frozen=True)
class LobsterMessage:
    """One parsed message-file row (``row`` is its 1-based line number)."""

    row: int
    time: float  #: seconds after midnight
    type: int
    order_id: int
    size: int  #: lots
    price: int  #: LOBSTER units (price x 10000)
    direction: int


def _int(text: str, what: str, where: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{where}: {what} must be a number, got {text.strip()!r}") from None
    if not value.is_integer():
        raise InputError(f"{where}: {what} must be an integer, got {text.strip()!r}")
    return int(value)


def parse_message_row(fields: list[str], number: int, source: str) -> LobsterMessage:
    """One message row checked: 6 columns, numeric, known type, direction +-1, size > 0."""
    where = f"{source}:{number}"
    if len(fields) != 6:
        raise InputError(f"{where}: expected 6 columns (time, type, order id, size, price, "
                         f"direction), got {len(fields)}")
    try:
        time = float(fields[0])
    except ValueError:
        raise InputError(f"{where}: time must be a number of seconds, got {fields[0].strip()!r}") from None
    if not math.isfinite(time) or time < 0:
        raise InputError(f"{where}: time must be a non-negative number of seconds, got {fields[0].strip()!r}")
    kind = _int(fields[1], "type", where)
    if kind not in TYPES:
        raise InputError(f"{where}: type must be one of 1-7, got {kind}")
    oid, size = _int(fields[2], "order id", where), _int(fields[3], "size", where)
    price, direction = _int(fields[4], "price", where), _int(fields[5], "direction", where)
    if direction not in (1, -1):
        raise InputError(f"{where}: direction must be 1 (buy) or -1 (sell), got {direction}")
    if kind in (NEW, PARTIAL_CANCEL, DELETE, EXECUTE) and (size <= 0 or price <= 0):
        raise InputError(f"{where}: size and price must be positive for type {kind}, got "
                         f"size {size}, price {price}")
    return LobsterMessage(number, time, kind, oid, size, price, direction)


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    try:
        handle = open(path, encoding="utf-8", newline="")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        try:
            for number, fields in enumerate(csv.reader(handle), start=1):
                if fields and any(f.strip() for f in fields):
                    yield number, fields
        except (UnicodeDecodeError, csv.Error) as exc:
            raise InputError(f"{path}: not a CSV text file ({exc})") from None


def read_messages(path: Path) -> list[LobsterMessage]:
    """Parse a whole message file; :class:`InputError` names the first bad row."""
    messages = [parse_message_row(fields, number, str(path)) for number, fields in _rows(Path(path))]
    for previous, message in itertools.pairwise(messages):
        if message.time < previous.time:
            raise InputError(f"{path}:{message.row}: time {message.time} goes back before "
                             f"{previous.time} (row {previous.row})")
    return messages


def read_orderbook(path: Path, levels: int | None = None) -> np.ndarray:
    """An order-book file as an int64 array (rows x 4N); the row width fixes N."""
    rows = []
    for number, fields in _rows(Path(path)):
        if len(fields) % 4 or (levels is not None and len(fields) != 4 * levels):
            raise InputError(f"{path}:{number}: expected 4 columns per level"
                             f"{'' if levels is None else f' ({4 * levels})'}, got {len(fields)}")
        levels = len(fields) // 4
        rows.append([_int(f, f"column {i + 1}", f"{path}:{number}") for i, f in enumerate(fields)])
    return np.asarray(rows, dtype=np.int64).reshape(len(rows), 4 * (levels or 0))


@dataclass
class ReplayResult:
    """What :func:`replay` did: the rebuilt book, counts, and the comparison if any."""

    book: OrderBook
    messages: int = 0
    by_type: dict[int, int] = field(default_factory=dict)
    prior_events: int = 0  #: events on orders that predate the file
    prior_lots_seeded: int = 0  #: lots of them found in the seeded first row
    prior_lots_hidden: int = 0  #: lots of them not visible anywhere (only counted)
    rows_compared: int = 0
    level_matches: list[int] = field(default_factory=list)  #: rows matching, per level
    mismatches: list[str] = field(default_factory=list)  #: the first few, described

    def match_rates(self) -> list[float]:
        return [m / self.rows_compared if self.rows_compared else 1.0 for m in self.level_matches]

    @property
    def all_match(self) -> bool:
        return all(m == self.rows_compared for m in self.level_matches)

    def as_dict(self) -> dict[str, Any]:
        return {"messages": self.messages, "by_type": {str(k): v for k, v in sorted(self.by_type.items())},
                "prior_events": self.prior_events, "prior_lots_seeded": self.prior_lots_seeded,
                "prior_lots_hidden": self.prior_lots_hidden, "rows_compared": self.rows_compared,
                "match_rate_per_level": self.match_rates(), "first_mismatches": self.mismatches}


class _Rebuilder:
    """Applies LOBSTER events to an :class:`OrderBook` keyed by internal ids."""

    def __init__(self, factor: int, source: str, result: ReplayResult) -> None:
        self.factor, self.source, self.result = factor, source, result
        self.book = result.book
        # Book ids: the LOBSTER id, or (id, n) when the id comes back after a delete; seeded
        # prior liquidity is ("prior", side, ticks).
        self.ids: dict[int, Any] = {}  # LOBSTER id -> live book id
        self.prior: dict[tuple[int, int], Any] = {}  # (side, ticks) -> book id of seeded prior liquidity
        self.reuses: dict[int, int] = {}

    def ticks(self, message: LobsterMessage) -> int:
        ticks, rest = divmod(message.price, self.factor)
        if rest:
            raise InputError(f"{self.source}:{message.row}: price {message.price} is not a multiple "
                             f"of the tick size ({self.factor} LOBSTER units); see --tick-size")
        return ticks

    def _new(self, book_id: Any, side: int, ticks: int, size: int, owner: str) -> Any:
        reports = self.book.limit(book_id, owner, Side(side), ticks, size, post_only=True)
        return None if reports else book_id

    def seed(self, side: int, ticks: int, size: int) -> None:
        internal = self._new(("prior", side, ticks), side, ticks, size, "prior")
        if internal is not None:
            self.prior[(side, ticks)] = internal

    def apply(self, m: LobsterMessage) -> None:
        r = self.result
        r.messages += 1
        r.by_type[m.type] = r.by_type.get(m.type, 0) + 1
        if m.type not in (NEW, PARTIAL_CANCEL, DELETE, EXECUTE):
            return  # hidden executions, cross trades and halts leave the visible book as is
        ticks = self.ticks(m)
        if m.type == NEW:
            if m.order_id in self.ids:
                raise InputError(f"{self.source}:{m.row}: order id {m.order_id} is already live")
            book_id: Any = m.order_id
            if self.book.is_used(book_id):
                self.reuses[m.order_id] = self.reuses.get(m.order_id, 0) + 1
                book_id = (m.order_id, self.reuses[m.order_id])
            internal = self._new(book_id, m.direction, ticks, m.size, "lobster")
            if internal is None:
                raise InputError(f"{self.source}:{m.row}: new order at price {m.price} crosses the book")
            self.ids[m.order_id] = internal
            return
        internal = self.ids.get(m.order_id)
        if internal is None:  # an order from before the file: hidden prior liquidity
            r.prior_events += 1
            internal = self.prior.get((m.direction, ticks))
            left = self.book.remaining(internal) if internal is not None else 0
            taken = min(left, m.size)
            r.prior_lots_seeded += taken
            r.prior_lots_hidden += m.size - taken
            if taken:
                self._reduce(internal, left, taken)
            return
        left = self.book.remaining(internal)
        if m.type == DELETE or m.size >= left:
            self.book.cancel(internal)
            del self.ids[m.order_id]
        else:
            self.book.modify(internal, qty=left - m.size)

    def _reduce(self, internal: Any, left: int, size: int) -> None:
        if size >= left:
            self.book.cancel(internal)
        else:
            self.book.modify(internal, qty=left - size)


def _levels_of(book: OrderBook, levels: int, factor: int) -> np.ndarray:
    bids, asks = book.depth(levels)
    row = np.empty(4 * levels, dtype=np.int64)
    for i in range(levels):
        row[4 * i:4 * i + 2] = (asks[i][0] * factor, asks[i][1]) if i < len(asks) else (EMPTY_ASK, 0)
        row[4 * i + 2:4 * i + 4] = (bids[i][0] * factor, bids[i][1]) if i < len(bids) else (EMPTY_BID, 0)
    return row


def _seed_from_first_row(rebuilder: _Rebuilder, first: np.ndarray, message: LobsterMessage) -> None:
    """Seed prior liquidity: the first order-book row with the first message undone."""
    levels: dict[tuple[int, int], int] = {}
    for i in range(len(first) // 4):
        ask_p, ask_q, bid_p, bid_q = first[4 * i:4 * i + 4]
        if ask_q > 0:
            levels[(-1, int(ask_p))] = int(ask_q)
        if bid_q > 0:
            levels[(1, int(bid_p))] = int(bid_q)
    if message.type in (NEW, PARTIAL_CANCEL, DELETE, EXECUTE):
        key = (message.direction, message.price)
        change = -message.size if message.type == NEW else message.size
        levels[key] = levels.get(key, 0) + change
    for (side, price), size in sorted(levels.items()):
        if size > 0:
            ticks, rest = divmod(price, rebuilder.factor)
            if rest:
                raise InputError(f"{rebuilder.source}: first order-book row has price {price}, not a "
                                 "multiple of the tick size; see --tick-size")
            rebuilder.seed(side, ticks, size)


def replay(messages: list[LobsterMessage], tick_size: float = 0.01, orderbook: np.ndarray | None = None,
           source: str = "messages", max_mismatches: int = 5) -> ReplayResult:
    """Rebuild the book from ``messages``; with ``orderbook`` (from :func:`read_orderbook`,
    one row per message), seed prior liquidity from its first row and compare every row."""
    factor = price_factor(tick_size)
    result = ReplayResult(OrderBook())
    rebuilder = _Rebuilder(factor, source, result)
    levels = 0
    if orderbook is not None:
        if len(orderbook) != len(messages):
            raise InputError(f"order-book file has {len(orderbook)} rows but the message file has "
                             f"{len(messages)}: expected one row per message")
        levels = orderbook.shape[1] // 4
        result.level_matches = [0] * levels
        if len(messages):
            _seed_from_first_row(rebuilder, orderbook[0], messages[0])
    for i, message in enumerate(messages):
        rebuilder.apply(message)
        if orderbook is not None:
            _compare_row(result, _levels_of(result.book, levels, factor), orderbook[i], message.row, max_mismatches)
    return result


def _compare_row(result: ReplayResult, got: np.ndarray, expected: np.ndarray, row: int, keep: int) -> None:
    result.rows_compared += 1
    same = (got == expected).reshape(-1, 4).all(axis=1)
    for level, ok in enumerate(same):
        if ok:
            result.level_matches[level] += 1
        elif len(result.mismatches) < keep:
            e, g = expected[4 * level:4 * level + 4], got[4 * level:4 * level + 4]
            result.mismatches.append(
                f"row {row} level {level + 1}: expected ask {e[0]}x{e[1]} bid {e[2]}x{e[3]}, "
                f"rebuilt ask {g[0]}x{g[1]} bid {g[2]}x{g[3]}")
