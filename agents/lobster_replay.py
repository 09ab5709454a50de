"""Background order flow replayed from a LOBSTER message file.

Each row of the file (see :mod:`lobsim.lobster`) becomes an order at its time, shifted so
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
  and are skipped; so are cancels of orders from before the file or already gone.

The replayed population are many independent traders, so their orders may trade with
each other (``self_trade_prevention = False``). A relative path in ``file`` is taken from the
scenario file's folder (from the working directory for a scenario built in memory). A malformed file is an :class:`~lobsim.errors.InputError` naming the
row, raised when the market is built.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from agents.base import Agent
from lobsim import lobster
from lobsim.errors import InputError
from lobsim.messages import OrderCancelled, OrderFilled, OrderRejected
from lobsim.orders import Side

if TYPE_CHECKING:
    from lobsim.gateway import Session
    from lobsim.messages import OrderReport


@dataclass(frozen=True)
class LobsterReplayParams:
    file: str = field(metadata={"path": True, "doc": "LOBSTER message file (CSV), relative to the scenario file"})
    start: float = field(default=-1.0, metadata={
        "min": -1.0, "unit": "s", "doc": "seconds after midnight that become time 0; -1: the first row's time"})
    speed: float = field(default=1.0, metadata={
        "min": 1e-3, "max": 1e6,  # a day's file (86,400 s) slowed 1,000 times is within MAX_SECONDS
        "doc": "replay speed: 2.0 is twice as fast"})


class LobsterReplayTrader(Agent):
    """Replays a LOBSTER message file as order flow (see the module docstring)."""

    kind = "lobster_replay"
    Params = LobsterReplayParams
    feeds = ()
    self_trade_prevention = False

    def __init__(self, name: str, params: LobsterReplayParams, session: Session) -> None:
        super().__init__(name, params, session)
        self.params: LobsterReplayParams = params
        self.messages = lobster.read_messages(Path(params.file))
        self.factor = session.tick_size * 10000  # LOBSTER price units per tick
        start = params.start if params.start >= 0 else (self.messages[0].time if self.messages else 0.0)
        self.times_ns = [round((m.time - start) / params.speed * 1e9) for m in self.messages]
        if self.times_ns and self.times_ns[0] < 0:
            raise InputError(f"{params.file}:{self.messages[0].row}: time {self.messages[0].time} "
                             f"is before start {params.start}")
        self.next = 0  #: index of the next row to replay
        self.live: dict[int, list[int]] = {}  #: LOBSTER id -> [exchange id, lots left]
        self.exchange_ids: dict[int, int] = {}  #: exchange id -> LOBSTER id
        self.skipped = 0  #: rows that changed nothing here

    def on_start(self) -> None:
        self._schedule()

    def _schedule(self) -> None:
        if self.next < len(self.messages):
            self.session.timer(self.times_ns[self.next] - self.session.now, self.next)

    def on_timer(self, tag: Hashable) -> None:
        now = self.session.now
        while self.next < len(self.messages) and self.times_ns[self.next] <= now:
            self._replay(self.messages[self.next])
            self.next += 1
        self._schedule()

    def _ticks(self, price: int) -> int:
        return max(1, math.floor(price / self.factor + 0.5))

    def _replay(self, m: lobster.LobsterMessage) -> None:
        session = self.session
        if m.type == lobster.NEW:
            order_id = session.limit(Side(m.direction), self._ticks(m.price), m.size)
            self.live[m.order_id] = [order_id, m.size]
            self.exchange_ids[order_id] = m.order_id
        elif m.type == lobster.EXECUTE:
            session.market(Side(-m.direction), m.size)
        elif m.type in (lobster.PARTIAL_CANCEL, lobster.DELETE) and m.order_id in self.live:
            order_id, left = self.live[m.order_id]
            if m.type == lobster.DELETE or m.size >= left:
                session.cancel(order_id)
                self._forget(order_id)
            else:
                session.modify(order_id, qty=left - m.size)
                self.live[m.order_id][1] = left - m.size
        else:
            self.skipped += 1

    def on_report(self, report: OrderReport) -> None:
        kind = type(report)
        if kind is OrderFilled:  # maker or taker: ``left`` is what still rests
            lobster_id = self.exchange_ids.get(report.order_id)
            if lobster_id is not None:
                if report.left:
                    self.live[lobster_id][1] = report.left
                else:
                    self._forget(report.order_id)
        elif kind is OrderRejected or (kind is OrderCancelled and report.cause != "request"):
            self._forget(report.order_id)

    def _forget(self, order_id: int) -> None:
        lobster_id = self.exchange_ids.pop(order_id, None)
        if lobster_id is not None:
            self.live.pop(lobster_id, None)
