"""Background order flow replayed from a LOBSTER message file.

Each row of the file (see :mod:`lobsim.data.lobster`) becomes an order at its time, shifted so
that ``start`` seconds after midnight is the scenario's time 0 (default: the first row's
time) and scaled by ``speed`` (2.0: twice as fast):

* type 1 (new limit order): a limit order at the row's price (price x 10000 over the
  market's tick size, rounded to the nearest tick), size and direction;
* type 2 (partial cancel): the replayed order's size is reduced (modify, keeping its
  queue place), or it is cancelled if nothing would be left;
* type 3 (delete): the replayed order is cancelled;
* type 4 (execution of a visible order): somebody traded against the resting side, so a
  market order of the opposite direction and the same size is sent; it trades with
  whatever is best in the simulated book, the replayed orders or other agents' quotes.
  Executions of orders from before the file are replayed the same way;
* types 5 (hidden execution), 6 (cross trade) and 7 (halt) leave the visible book as is
  and are skipped.

A real file starts on a book that already holds orders, and an N-level file leaves out
what happens beyond level N. With ``orderbook`` (the file's order-book file) the agent
follows the file as ``lobsim replay --lobster`` does (:mod:`lobsim.data.lobster_sync`): at time
0 it places the first row's book, the first message undone, as *prior liquidity*; after
each message, wherever the file's visible levels disagree with the book the messages
imply, it adds prior liquidity or takes its own orders away (prior liquidity first, then
its newest orders at that price). Cancels of orders from before the file take from the
prior liquidity at their price (without ``orderbook`` there is none, and they are skipped).

The replayed population are many independent traders, so their orders may trade with
each other (``self_trade_prevention = False``). A relative path in ``file`` or
``orderbook`` is taken from the scenario file's folder (from the working directory for a
scenario built in memory). A malformed file is an :class:`~lobsim.errors.InputError`
naming the row, raised when the market is built.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lobsim.sim.agent import Agent
from lobsim.data import lobster
from lobsim.errors import InputError
from lobsim.data.lobster_sync import Adjustment, LobsterBook, orderbook_ticks, row_levels
from lobsim.sim.messages import OrderCancelled, OrderFilled, OrderRejected
from lobsim.book.orders import Side

if TYPE_CHECKING:
    from lobsim.sim.gateway import Session
    from lobsim.sim.messages import OrderReport


@dataclass(frozen=True)
class LobsterReplayParams:
    file: str = field(metadata={
        "path": True, "doc": "LOBSTER message file (CSV), relative to the scenario file"})
    orderbook: str = field(default="", metadata={
        "path": True, "doc": "its LOBSTER order-book file: seeds the starting book and re-syncs "
                             "the replayed liquidity with it; empty: none"})
    start: float = field(default=-1.0, metadata={
        "min": -1.0, "unit": "s", "doc": "seconds after midnight that become time 0; -1: the first row's time"})
    speed: float = field(default=1.0, metadata={
        "min": 1e-3, "max": 1e6,  # a day's file (86,400 s) slowed 1,000 times is within MAX_SECONDS
        "doc": "replay speed: 2.0 is twice as fast"})


class LobsterReplayTrader(Agent):
    """Background order flow replayed from a LOBSTER message file."""

    kind = "lobster_replay"
    Params = LobsterReplayParams
    feeds = ()
    self_trade_prevention = False

    def __init__(self, name: str, params: LobsterReplayParams, session: Session) -> None:
        super().__init__(name, params, session)
        self.params: LobsterReplayParams = params
        self.messages = lobster.read_messages(Path(params.file))
        self.factor = session.tick_size * 10000  # LOBSTER price units per tick
        self.rows = self.messages.columns()
        self.ticks = [self._ticks(p) for p in self.rows[5]]
        start_ns = round(params.start * 1e9) if params.start >= 0 else int(self.messages.time_ns[0])
        self.times_ns = [round((t - start_ns) / params.speed) for t in self.rows[1]]
        if self.times_ns[0] < 0:
            raise InputError(f"{params.file}:{self.rows[0][0]}: time {self.messages[0].time} "
                             f"is before start {params.start}")
        self.book_rows = self._read_orderbook(params.orderbook) if params.orderbook else None
        self.shadow = LobsterBook(params.file)  #: the book the file implies (see the module docstring)
        self.next = 0  #: index of the next row to replay
        self.live: dict[int, list[int]] = {}  #: LOBSTER id -> [exchange id, lots left, side, ticks]
        self.exchange_ids: dict[int, int] = {}  #: exchange id -> LOBSTER id
        self.prior: dict[tuple[int, int], list[list[int]]] = {}  #: (side, ticks) -> [[exchange id, lots]]
        self.prior_at: dict[int, tuple[int, int]] = {}  #: exchange id of prior liquidity -> (side, ticks)
        self.skipped = 0  #: rows that changed nothing here

    def _read_orderbook(self, path: str) -> list[list[int]]:
        """The order-book file's rows, prices in the market's ticks."""
        book = lobster.read_orderbook(Path(path))
        if len(book) != len(self.messages):
            raise InputError(f"{path}: {len(book)} rows but {self.params.file} has "
                             f"{len(self.messages)}: expected one row per message")
        factor = round(self.factor)
        if not math.isclose(factor, self.factor, rel_tol=1e-9):
            raise InputError(f"{path}: the market's tick {self.session.tick_size} is not a multiple of "
                             "0.0001 (LOBSTER prices are price x 10000 integers)")
        return orderbook_ticks(book, factor, path).tolist()

    def on_start(self) -> None:
        if self.book_rows is not None:
            first = (self.rows[2][0], self.rows[4][0], self.ticks[0], self.rows[6][0])
            self._adjust(self.shadow.seed(*row_levels(self.book_rows[0]), self.levels, first))
        self._schedule()

    @property
    def levels(self) -> int:
        return len(self.book_rows[0]) // 4 if self.book_rows else 0

    def _schedule(self) -> None:
        if self.next < len(self.messages):
            self.session.timer(self.times_ns[self.next] - self.session.now, self.next)

    def on_timer(self, tag: Hashable) -> None:
        now = self.session.now
        while self.next < len(self.messages) and self.times_ns[self.next] <= now:
            i = self.next
            row, _, kind, oid, size, _, direction = (column[i] for column in self.rows)
            repairs = self.shadow.apply(kind, oid, size, self.ticks[i], direction, row)
            self._replay(kind, oid, size, self.ticks[i], direction, repairs)
            if self.book_rows is not None:
                self._adjust(self.shadow.follow(*row_levels(self.book_rows[i]), self.levels) or [])
            self.next += 1
        self._schedule()

    def _ticks(self, price: int) -> int:
        return max(1, math.floor(price / self.factor + 0.5))

    def _replay(self, kind: int, oid: int, size: int, ticks: int, direction: int,
                repairs: list[Adjustment]) -> None:
        """Send one row's orders; ``repairs`` are the shadow book's (see
        :meth:`LobsterBook.apply`): stale levels cleared before a new order rests, lots a
        cancel moves besides its own order's, the lots a cancel of a prior order takes."""
        session = self.session
        if kind == lobster.NEW:
            self._adjust(repairs)
            order_id = session.limit(Side(direction), ticks, size)
            self.live[oid] = [order_id, size, direction, ticks]
            self.exchange_ids[order_id] = oid
        elif kind == lobster.EXECUTE:
            # stale better levels go first; at the execution's own price the market order
            # takes ``size`` lots itself, so the shadow's repairs there are not mirrored
            self._adjust([r for r in repairs if r[1] != ticks])
            session.market(Side(-direction), size)
        elif kind in (lobster.PARTIAL_CANCEL, lobster.DELETE) and (oid in self.live or repairs):
            entry = self.live.get(oid)
            if entry is not None:
                self._take([entry], entry[1] if kind == lobster.DELETE else size)
            self._adjust(repairs)
        else:
            self.skipped += 1

    def _adjust(self, changes: list[Adjustment]) -> None:
        """Apply the shadow book's re-sync to this agent's orders."""
        for side, ticks, delta in changes:
            if delta > 0:
                order_id = self.session.limit(Side(side), ticks, delta)
                self.prior.setdefault((side, ticks), []).append([order_id, delta])
                self.prior_at[order_id] = (side, ticks)
            else:
                own = [e for e in self.live.values() if e[2] == side and e[3] == ticks]
                self._take(own + self.prior.get((side, ticks), []), -delta)

    def _take(self, entries: list[list[int]], lots: int) -> None:
        """Take ``lots`` from these orders ([exchange id, lots, ...]), the last first."""
        for entry in reversed(entries[:]):
            if lots <= 0:
                return
            if entry[1] <= lots:
                self.session.cancel(entry[0])
                lots -= entry[1]
                self._forget(entry[0])
            else:
                entry[1] -= lots
                self.session.modify(entry[0], qty=entry[1])
                lots = 0

    def on_report(self, report: OrderReport) -> None:
        kind = type(report)
        if kind is OrderFilled:  # maker or taker: ``left`` is what still rests
            entry = self._entry(report.order_id)
            if entry is not None:
                if report.left:
                    entry[1] = report.left
                else:
                    self._forget(report.order_id)
        elif kind is OrderRejected or (kind is OrderCancelled and report.cause != "request"):
            self._forget(report.order_id)

    def _entry(self, order_id: int) -> list[int] | None:
        lobster_id = self.exchange_ids.get(order_id)
        if lobster_id is not None:
            return self.live[lobster_id]
        level = self.prior.get(self.prior_at.get(order_id, (0, 0)), [])
        return next((e for e in level if e[0] == order_id), None)

    def _forget(self, order_id: int) -> None:
        lobster_id = self.exchange_ids.pop(order_id, None)
        if lobster_id is not None:
            self.live.pop(lobster_id, None)
        at = self.prior_at.pop(order_id, None)
        if at is not None:
            level = [e for e in self.prior[at] if e[0] != order_id]
            if level:
                self.prior[at] = level
            else:
                del self.prior[at]
