"""Run data: one structure for a simulated run and for real LOBSTER files.

:func:`load` turns either a run directory (``events.parquet``, ``book.parquet``,
``summary.json``: what ``lobsim run`` writes) or a LOBSTER message file (with an optional
order-book file) into a :class:`RunData`, which the report and the realism analysis read.
Both sides are the same stream of book messages in LOBSTER's vocabulary (types 1-7), with
the best quotes after each message, the incoming orders that traded, and depth snapshots.

Units: times in integer ns from the start of the run or of the message file; prices in
ticks (float for LOBSTER, whose hidden executions may fall between ticks); sizes in lots
(a LOBSTER share counts as one lot). Cost: O(messages) Python steps to load.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from lobsim.data import lobster
from lobsim.data.lobster_sync import LobsterBook
from lobsim.book import OrderBook
from lobsim.errors import InputError
from lobsim.data.tape import (DELETE, EXECUTE, EXECUTE_HIDDEN, NEW, PARTIAL_CANCEL, Depth, book_messages,
                              read_run_events, read_summary, read_table)
from lobsim.units import NS_PER_SECOND as NS

#: Depth snapshots of LOBSTER data are taken this often (s), like a run's snapshot_interval.
SNAPSHOT_S = 1.0
#: Levels per side kept in LOBSTER depth snapshots rebuilt without an order-book file.
SNAPSHOT_LEVELS = 10
#: Message types whose prices are book prices (on the tick grid).
#: The longest run an analysis reads: its facts sample the mid every second, and a longer
#: run (over 1e7 s, 116 days) would need gigabytes for them, so it is refused in one line.
MAX_SECONDS = 10**7

BOOK_TYPES = (NEW, PARTIAL_CANCEL, DELETE, EXECUTE)


@dataclass
class RunData:
    """What the report and the realism analysis read, as numpy arrays.

    Entry ``i`` of ``t``, ``bid`` ... ``ask_qty`` and of the ``msg_*`` columns is book
    message ``i`` and the best quotes just after it (``nan`` price: that side is empty)."""

    tick_size: float
    duration_ns: int
    summary: dict[str, Any]
    t: np.ndarray  #: time of each book message (ns)
    bid: np.ndarray  #: best bid after it (ticks; nan: empty)
    ask: np.ndarray
    bid_qty: np.ndarray  #: lots at the best bid after it
    ask_qty: np.ndarray
    trade_t: np.ndarray  #: one entry per incoming (taker) order that traded
    trade_sign: np.ndarray  #: +1 buyer-initiated, -1 seller-initiated
    trade_size: np.ndarray  #: lots
    trade_price: np.ndarray  #: volume-weighted ticks
    impact_before: np.ndarray  #: mid (ticks) just before the order
    impact_after: np.ndarray  #: mid (ticks) just after it
    book: dict[str, np.ndarray] = field(default_factory=dict)  #: book.parquet columns
    agents: dict[str, np.ndarray] = field(default_factory=dict)  #: agents.parquet columns
    learning: dict[str, np.ndarray] | None = None  #: learning_curve.csv columns
    msg_type: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  #: LOBSTER type 1-7
    msg_id: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  #: order id
    msg_size: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  #: lots
    msg_price: np.ndarray = field(default_factory=lambda: np.zeros(0))  #: ticks
    msg_dir: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  #: +1 buy, -1 sell side
    source: str = ""  #: what was read, for labels
    notes: list[str] = field(default_factory=list)  #: what could not be rebuilt, and why

    @property
    def mid(self) -> np.ndarray:
        return (self.bid + self.ask) / 2


def load(path: Path, orderbook: Path | None = None, tick_size: float = 0.01) -> RunData:
    """A run directory, or a LOBSTER message file (``orderbook``: its order-book file;
    ``tick_size``: price units per tick of the file), as :class:`RunData`."""
    path = Path(path)
    if path.is_dir():
        if orderbook is not None:
            raise InputError(f"{orderbook}: an order-book file goes with a LOBSTER message file, "
                             f"not with the run directory {path}")
        return load_run(path)
    return load_lobster(path, orderbook, tick_size)


# ----------------------------------------------------------------------- a simulated run


def load_run(run_dir: Path) -> RunData:
    """Read a run directory: its event log as book messages, the quotes after each, the
    taker orders, and ``book.parquet`` / ``agents.parquet`` / ``learning_curve.csv``."""
    run_dir = Path(run_dir)
    summary = read_summary(run_dir / "summary.json")
    events = read_run_events(run_dir)
    depth = Depth()
    messages, best = [], []
    for message in book_messages(events.columns, depth):
        messages.append(message)
        best.append(depth.best())
    m = np.array(messages, dtype=np.int64).reshape(-1, 7)
    quotes = np.array([[np.nan if b is None else b, bq, np.nan if a is None else a, aq]
                       for b, bq, a, aq in best], dtype=np.float64).reshape(-1, 4)
    data = RunData(events.tick_size, round(summary.get("duration_s", 0) * NS), summary,
                   m[:, 0], quotes[:, 0], quotes[:, 2], quotes[:, 1], quotes[:, 3],
                   *_taker_orders(events.columns, m[:, 6], (quotes[:, 0] + quotes[:, 2]) / 2),
                   msg_type=m[:, 1], msg_id=m[:, 2], msg_size=m[:, 3], msg_price=m[:, 4].astype(np.float64),
                   msg_dir=m[:, 5], source=str(run_dir))
    from lobsim.sim.output import AGENTS_SCHEMA, BOOK_SCHEMA

    data.book = _columns(run_dir / "book.parquet", BOOK_SCHEMA, "a lobsim book file")
    data.agents = _columns(run_dir / "agents.parquet", AGENTS_SCHEMA, "a lobsim agents file")
    data.learning = learning_curve(run_dir / "learning_curve.csv")
    if not data.duration_ns and len(data.t):
        data.duration_ns = int(data.t[-1])
    if data.duration_ns / NS > MAX_SECONDS:  # the facts sample the mid on a 1 s grid
        raise InputError(f"{run_dir / 'summary.json'}: duration_s: an analysis samples the mid "
                         f"every second, at most {MAX_SECONDS:,} times; got {data.duration_ns / NS:.6g} s")
    return data


def _taker_orders(events: dict[str, list], groups: np.ndarray, mid: np.ndarray) -> list[np.ndarray]:
    """Per incoming order that traded: time, sign, lots, vwap, mid before and after."""
    seq = np.asarray(events["seq"], dtype=np.int64)
    kind = np.asarray(events["kind"], dtype=object)
    is_request = np.isin(kind, ["limit", "market", "cancel", "modify"])
    request = np.maximum.accumulate(np.where(is_request, seq, -1)) if len(seq) else seq
    taker = np.flatnonzero((kind == "fill") & (np.asarray(events["flag"], dtype=object) == "taker"))
    orders: dict[tuple[int, int], list] = {}
    for i in taker:
        key = (int(request[i]), int(events["order_id"][i]))
        qty, price = events["qty"][i], events["price"][i]
        entry = orders.setdefault(key, [events["time_ns"][i], events["side"][i], 0, 0])
        entry[2] += qty
        entry[3] += qty * price
    keys = list(orders)
    first = np.searchsorted(groups, [k[0] for k in keys], side="left")
    last = np.searchsorted(groups, [k[0] for k in keys], side="right") - 1
    before = np.where(first > 0, mid[np.maximum(first - 1, 0)], np.nan) if keys else np.zeros(0)
    after = mid[np.maximum(last, 0)] if keys else np.zeros(0)
    values = np.array([orders[k] for k in keys], dtype=np.float64).reshape(-1, 4)
    return [values[:, 0].astype(np.int64), values[:, 1], values[:, 2], values[:, 3] / np.maximum(values[:, 2], 1),
            before, after]


def _columns(path: Path, schema: pa.Schema, what: str) -> dict[str, np.ndarray]:
    """The columns of ``schema`` in the Parquet file at ``path`` (checked by name and type)."""
    table = read_table(path, schema, what)
    return {name: np.asarray(table.column(name).to_pylist()) for name in schema.names}


def learning_curve(path: Path) -> dict[str, np.ndarray] | None:
    """``learning_curve.csv`` as float columns (text columns left out); None if absent."""
    if not path.exists():
        return None
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            names = [name for name in (reader.fieldnames or ()) if name]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read the learning curve: {exc}") from None
    columns: dict[str, np.ndarray] = {}
    for name in names:
        try:
            columns[name] = np.array([float(r[name]) if r.get(name) not in ("", None) else np.nan
                                      for r in rows])
        except (TypeError, ValueError):
            continue  # a text column: not plotted
    if "step" not in columns:
        raise InputError(f"{path}: expected a 'step' column")
    return columns


# ----------------------------------------------------------------------- LOBSTER files


def load_lobster(messages_path: Path, orderbook_path: Path | None = None, tick_size: float = 0.01) -> RunData:
    """Read a LOBSTER message file through :mod:`lobsim.data.lobster`. Quotes and depth come
    from the order-book file when given (one row per message), else from replaying the
    messages (orders from before the file are then invisible; if the replay refuses the
    file, quotes and depth are left empty and ``notes`` says why). Executions (types 4 and 5)
    at one instant against one side are one incoming order; its sign is minus the side of
    the resting orders. Time 0 is the first message."""
    factor = lobster.price_factor(tick_size)
    messages = lobster.read_messages(messages_path)
    if not len(messages):
        raise InputError(f"{messages_path}: no messages")
    rows = [(m.time, m.type, m.order_id, m.size, m.price, m.direction, m.row) for m in messages]
    seconds = np.array([r[0] for r in rows], dtype=np.float64)
    m = np.array([r[1:] for r in rows], dtype=np.int64)
    off_grid = np.flatnonzero(np.isin(m[:, 0], BOOK_TYPES) & (m[:, 3] % factor != 0))
    if len(off_grid):  # a wrong --tick-size, not a file to work around
        first = off_grid[0]
        raise InputError(f"{messages_path}:{m[first, 5]}: price {m[first, 3]} is not a multiple of the "
                         f"tick size ({factor} LOBSTER units); see --tick-size")
    t = np.round((seconds - seconds[0]) * NS).astype(np.int64)
    notes = []
    if orderbook_path is not None:
        quotes, book = _orderbook_quotes(Path(orderbook_path), len(messages), t, factor)
    else:
        try:
            quotes, book = _replayed_quotes(messages, t, tick_size, str(messages_path))
        except InputError as exc:  # message statistics need no book: keep them, say what is missing
            quotes, book = np.full((len(t), 4), np.nan), {}
            notes.append(f"no quotes or depth (give --orderbook): the replay stopped: {exc}")
    data = RunData(tick_size, int(t[-1]), {"source": str(messages_path), "messages": len(messages)}, t,
                   quotes[:, 0], quotes[:, 2], quotes[:, 1], quotes[:, 3],
                   *_lobster_trades(t, m, factor, (quotes[:, 0] + quotes[:, 2]) / 2),
                   book=book, msg_type=m[:, 0], msg_id=m[:, 1], msg_size=m[:, 2],
                   msg_price=m[:, 3] / factor, msg_dir=m[:, 4], source=str(messages_path), notes=notes)
    return data


def _lobster_trades(t: np.ndarray, m: np.ndarray, factor: int, mid: np.ndarray) -> list[np.ndarray]:
    """Group consecutive executions with one time and one resting side into incoming orders:
    time, sign, lots, vwap (ticks), mid before the first and after the last."""
    rows, new = execution_groups(t, m[:, 0], m[:, 4])
    if not len(rows):
        return [np.zeros(0, np.int64)] + [np.zeros(0)] * 5
    group = np.cumsum(new) - 1
    first, last = rows[new], rows[np.append(np.flatnonzero(new)[1:] - 1, len(rows) - 1)]
    size = np.bincount(group, weights=m[rows, 2]).astype(np.float64)
    value = np.bincount(group, weights=m[rows, 2] * (m[rows, 3] / factor))
    before = np.where(first > 0, mid[np.maximum(first - 1, 0)], np.nan)
    return [t[first], -m[first, 4].astype(np.float64), size, value / size, before, mid[last]]


def execution_groups(times: np.ndarray, types: np.ndarray, directions: np.ndarray,
                     kinds: tuple[int, ...] = (EXECUTE, EXECUTE_HIDDEN)) -> tuple[np.ndarray, np.ndarray]:
    """The rows of the executions of ``kinds``, and for each whether it starts an incoming
    order: consecutive execution rows with one time and one resting side are one order
    (its sign is minus that side). O(messages)."""
    rows = np.flatnonzero(np.isin(types, kinds))
    new = np.ones(len(rows), dtype=bool)
    new[1:] = ((rows[1:] != rows[:-1] + 1) | (times[rows[1:]] != times[rows[:-1]])
               | (directions[rows[1:]] != directions[rows[:-1]]))
    return rows, new


def _orderbook_quotes(path: Path, n: int, t: np.ndarray, factor: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Best quotes after each message and 1 s depth snapshots from an order-book file."""
    rows = lobster.read_orderbook(path)
    if len(rows) != n:
        raise InputError(f"{path}: {len(rows)} order-book rows for {n} messages (expected one per message)")
    if rows.shape[1] == 0:
        raise InputError(f"{path}: no levels")
    levels = rows.shape[1] // 4
    price, qty = orderbook_levels(rows, factor)
    quotes = np.stack([price[:, 0, 0], qty[:, 0, 0], price[:, 0, 1], qty[:, 0, 1]], axis=1)
    grid = np.arange(round(SNAPSHOT_S * NS), int(t[-1]) + 1, round(SNAPSHOT_S * NS), dtype=np.int64)
    index = np.searchsorted(t, grid, side="right") - 1
    snaps = [(g, side, level, price[i, level, k], qty[i, level, k]) for g, i in zip(grid, index)
             for k, side in ((0, 1), (1, -1)) for level in range(levels) if qty[i, level, k] > 0]
    return quotes, _snapshot_columns(snaps)


def orderbook_levels(rows: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Prices (ticks; ``nan`` where a level is empty) and lots of an order-book array
    (:func:`lobsim.data.lobster.read_orderbook`, ``factor`` LOBSTER units per tick), each of
    shape (rows, levels, 2): ``[..., 0]`` the bid side, ``[..., 1]`` the ask side, best first.
    LOBSTER's empty levels (sentinel prices) have 0 lots, so they are ``nan`` too."""
    n, levels = len(rows), rows.shape[1] // 4
    price = rows.reshape(n, levels, 4)[:, :, [2, 0]].astype(np.float64) / factor
    qty = rows.reshape(n, levels, 4)[:, :, [3, 1]].astype(np.float64)
    price[qty <= 0] = np.nan
    return price, qty


def lobster_rebuilder(tick_size: float, source: str) -> tuple[OrderBook, Callable[[Any], None]]:
    """The book that follows a LOBSTER file (:class:`~lobsim.data.lobster_sync.LobsterBook`)
    and the function applying one message to it: the quotes are needed after every message."""
    follower = LobsterBook(source)
    factor = lobster.price_factor(tick_size)
    return follower.book, lambda m: follower.apply(m.type, m.order_id, m.size, m.price // factor,
                                                   m.direction, m.row)


def _replayed_quotes(messages: Any, t: np.ndarray, tick_size: float,
                     source: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Best quotes after each message and 1 s depth snapshots, from a replay of the
    messages one at a time (:func:`lobster_rebuilder`). O(messages) book operations."""
    book, apply = lobster_rebuilder(tick_size, source)
    step = round(SNAPSHOT_S * NS)
    quotes = np.empty((len(t), 4))
    snaps: list[tuple] = []
    next_snap = step
    for i, message in enumerate(messages):
        while t[i] > next_snap:  # the book as it stood at next_snap
            _snapshot(snaps, book, next_snap)
            next_snap += step
        apply(message)
        b, bq, a, aq = book.top()
        quotes[i] = (np.nan if b is None else b, bq, np.nan if a is None else a, aq)
    while next_snap <= t[-1]:
        _snapshot(snaps, book, next_snap)
        next_snap += step
    return quotes, _snapshot_columns(snaps)


def _snapshot(snaps: list[tuple], book: Any, time_ns: int) -> None:
    bids, asks = book.depth(SNAPSHOT_LEVELS)
    for side, levels in ((1, bids), (-1, asks)):
        snaps.extend((time_ns, side, level, price, qty) for level, (price, qty) in enumerate(levels))


def _snapshot_columns(snaps: list[tuple]) -> dict[str, np.ndarray]:
    """Depth snapshots in ``book.parquet``'s columns (level 0 = best; prices rounded to ticks)."""
    a = np.array(snaps, dtype=np.float64).reshape(-1, 5)
    return {"time_ns": a[:, 0].astype(np.int64), "side": a[:, 1].astype(np.int8),
            "level": a[:, 2].astype(np.int16), "price": np.rint(a[:, 3]).astype(np.int64),
            "qty": a[:, 4].astype(np.int64)}
