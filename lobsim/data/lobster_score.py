"""Replay a LOBSTER message file, optionally against its order-book file, and score it.

The score is *one-step prediction*: the book before a row (the file's previous row, after
any re-sync) plus that row's message gives the predicted visible levels, compared with the
file's row level by level. A level is compared only where the prediction is determined by
what the file showed: after a level leaves an N-level window, whatever scrolls into view
at the bottom came from beyond the file's depth and is not predictable from it, so that
position is not scored on that row (the ``rows_compared`` of a level says how many rows
were). The first row is not scored either: the book is seeded from it. The stricter
all-rows rate (:meth:`ReplayResult.all_rows_rates`) scores every row anyway, predicting
such a level from what the book remembers of it.

``strict`` keeps the exact contract for files lobsim wrote itself (``lobsim export
--levels 0``): no re-sync, every row and level compared, stop at the first difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lobsim.book import OrderBook
from lobsim.errors import InputError
from lobsim.data.lobster import BOOK_TYPES, Messages, price_factor
from lobsim.data.lobster_sync import Level, LobsterBook, orderbook_ticks, row_levels


@dataclass
class ReplayResult:
    """What :func:`replay` did: the rebuilt book, counts, and the per-level score."""

    book: OrderBook
    factor: int  #: LOBSTER price units per tick used
    rows: int = 0  #: message rows replayed
    by_type: dict[int, int] = field(default_factory=dict)
    resyncs: int = 0  #: rows after which the window was set from the order-book file
    oddities: dict[str, int] = field(default_factory=dict)
    compared: list[int] = field(default_factory=list)  #: rows scored, per level
    matched: list[int] = field(default_factory=list)  #: rows predicted exactly, per level
    rows_scored: int = 0  #: rows scored (all but the first, which seeds the book; strict: all)
    matched_all: list[int] = field(default_factory=list)  #: rows whose level matched, every row counted
    mismatches: list[str] = field(default_factory=list)  #: the first few, described
    first_difference: int | None = None  #: strict: the row it stopped at

    def match_rates(self) -> list[float | None]:
        """Matched / compared per level (None where no row was compared)."""
        return [m / n if n else None for m, n in zip(self.matched, self.compared)]

    def all_rows_rates(self) -> list[float | None]:
        """Per level, the share of every scored row predicted exactly, counting a level
        that came from beyond the file's depth as predicted from what the book remembers
        (the stricter figure; equal to :meth:`match_rates` when nothing scrolls in)."""
        return [m / self.rows_scored if self.rows_scored else None for m in self.matched_all]

    @property
    def all_match(self) -> bool:
        return self.matched == self.compared

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` report: rows, resyncs, oddities and, per level (1-based), the
        match rate and the rows compared."""
        report: dict[str, Any] = {
            "rows": self.rows, "resyncs": self.resyncs, "oddities": dict(self.oddities),
            "levels": {str(i + 1): {"match_rate": rate, "rows_compared": n}
                       for i, (rate, n) in enumerate(zip(self.match_rates(), self.compared))}}
        if self.first_difference is not None:
            report["first_difference"] = self.first_difference
        return report


def tick_factor(messages: Messages, orderbook: np.ndarray | None, tick_size: float | None) -> int:
    """LOBSTER units per tick: from ``tick_size``, or else the largest divisor of 100 (a
    cent) that divides every book price of the files (sub-penny files get a finer tick)."""
    if tick_size is not None:
        return price_factor(tick_size)
    prices = [messages.price[np.isin(messages.type, BOOK_TYPES)]]
    if orderbook is not None:
        prices.append(orderbook[:, 0::2][orderbook[:, 1::2] > 0])
    return math.gcd(100, *(int(np.gcd.reduce(p)) for p in prices if len(p)))


def _message_ticks(messages: Messages, factor: int) -> list[int]:
    book = np.isin(messages.type, BOOK_TYPES)
    off = book & (messages.price % factor != 0)
    if off.any():
        i = int(np.argmax(off))
        raise InputError(f"{messages.source}:{messages.rows[i]}: price {messages.price[i]} is not a "
                         f"multiple of the tick size ({factor} LOBSTER units); see --tick-size")
    return np.where(book, messages.price // factor, 0).tolist()


def _known(predicted: list[Level], previous: list[Level], levels: int, side: int) -> int:
    """How many of the predicted levels the previous row determines: all on a side it
    showed whole, else those at or better than its last level."""
    if len(previous) < levels:
        return levels
    horizon = previous[-1][0]
    count = 0
    for price, _ in predicted:
        if (price < horizon) if side == 1 else (price > horizon):
            break
        count += 1
    return min(count, levels)


def replay(messages: Messages, tick_size: float | None = None, orderbook: np.ndarray | None = None,
           strict: bool = False, orderbook_source: str = "order-book file", keep: int = 5) -> ReplayResult:
    """Rebuild the book from ``messages`` (from :func:`lobsim.data.lobster.read_messages`); with
    ``orderbook`` (from :func:`~lobsim.data.lobster.read_orderbook`, one row per message) seed it
    from the first row, score every row and re-sync (see the module docstring). O(rows x
    levels) plus the book's work."""
    factor = tick_factor(messages, orderbook, tick_size)
    ticks = _message_ticks(messages, factor)
    lob = LobsterBook(messages.source, strict)
    lob.oddities["extra_columns"] = messages.extra_columns
    result = ReplayResult(lob.book, factor)
    columns = messages.columns()
    if orderbook is None:
        for row, _, kind, oid, size, _, direction in zip(*columns):
            lob.apply(kind, oid, size, ticks[result.rows], direction, row)
            result.rows += 1
    else:
        _replay_against(lob, result, columns, ticks, orderbook, orderbook_source, keep)
    result.oddities = dict(lob.oddities)
    types = np.bincount(messages.type[:result.rows], minlength=8)  # types are 1-7 (read_messages)
    result.by_type = {k: int(types[k]) for k in range(1, 8) if types[k]}
    return result


def _replay_against(lob: LobsterBook, result: ReplayResult, columns: tuple[list[int], ...],
                    ticks: list[int], orderbook: np.ndarray, source: str, keep: int) -> None:
    if len(orderbook) != len(ticks):
        raise InputError(f"order-book file has {len(orderbook)} rows but the message file has "
                         f"{len(ticks)}: expected one row per message")
    levels = orderbook.shape[1] // 4
    result.compared, result.matched, result.matched_all = [0] * levels, [0] * levels, [0] * levels
    book_rows = orderbook_ticks(orderbook, result.factor, source)
    previous = row_levels(book_rows[0].tolist())
    lob.seed(*previous, levels, (columns[2][0], columns[4][0], ticks[0], columns[6][0]))
    for i, (row, _, kind, oid, size, _, direction) in enumerate(zip(*columns)):
        lob.apply(kind, oid, size, ticks[i], direction, row)
        result.rows += 1
        bids, asks = lob.book.depth(levels)
        expected = row_levels(book_rows[i].tolist()) if i else previous
        if lob.strict:
            known = levels
        else:  # the first row seeded the book: it predicts nothing
            known = i and min(_known(bids, previous[0], levels, 1), _known(asks, previous[1], levels, -1))
        same = _score(result, (bids, asks), expected, known, lob.strict or i > 0, row, keep)
        if not same and lob.strict:
            result.first_difference = row
            return
        if not same:
            result.resyncs += 1
            lob.follow(*expected, levels)
        previous = expected


def _score(result: ReplayResult, got: tuple[list[Level], list[Level]],
           expected: tuple[list[Level], list[Level]], known: int, scored: bool, row: int, keep: int) -> bool:
    """Score one row: the first ``known`` levels for the match rate, every level for the
    all-rows rate (if ``scored``). True if the whole window equals the file's."""
    same = got == expected
    if not scored:
        return same
    result.rows_scored += 1
    for level in range(len(result.compared)):
        if same:
            ok = True
        else:
            g = tuple(side[level] if level < len(side) else None for side in got)
            e = tuple(side[level] if level < len(side) else None for side in expected)
            ok = g == e
        result.matched_all[level] += ok
        if level < known:
            result.compared[level] += 1
            result.matched[level] += ok
            if not ok and len(result.mismatches) < keep:
                result.mismatches.append(f"row {row} level {level + 1}: expected bid {e[0]} ask {e[1]}, "
                                         f"predicted bid {g[0]} ask {g[1]} (ticks, lots)")
    return same
