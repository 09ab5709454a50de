"""A trader that follows a fixed schedule: shocks, metaorders, liquidity droughts.

Each :class:`ScheduledOrder` is sent at ``at`` seconds of simulated time (plus the
agent's inbound latency to reach the exchange), ``repeat`` times ``every`` seconds
apart: a metaorder of 10 000 lots is ``repeat = 100, qty = 100, every = 1.0``. The
``cancel_all`` entry cancels every live limit order the trader has placed, e.g. to pull
the liquidity it provided and start a drought. In a scenario file::

    [[agents]]
    name = "shock"
    kind = "scripted"
    schedule = [
      { at = 60.0, type = "market", side = "sell", qty = 500 },
      { at = 120, type = "limit", side = "buy", qty = 10, price = 99.5, repeat = 20, every = 0.5 },
      { at = 300.0, type = "cancel_all" },
    ]
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lobsim.sim.agent import Agent
from agents.tracking import LiveOrders
from lobsim.scenario.config import MAX_MESSAGES, MAX_SECONDS, MarketConfig
from lobsim.book.orders import Side
from lobsim.units import ns_or_never

if TYPE_CHECKING:
    from lobsim.sim.gateway import Session
    from lobsim.sim.messages import OrderReport

ORDER_TYPES = ("market", "limit", "cancel_all")


@dataclass(frozen=True)
class ScheduledOrder:
    """One line of a schedule; ``repeat`` copies go out ``every`` seconds apart."""

    at: float = field(metadata={
        "min": 0.0, "unit": "s", "doc": "seconds of simulated time of the first send"})
    type: str = field(default="market", metadata={
        "choices": ORDER_TYPES, "doc": "market order, GTC limit order, or cancel every live order"})
    side: str = field(default="buy", metadata={
        "choices": ("buy", "sell"), "doc": "ignored by cancel_all"})
    qty: int = field(default=1, metadata={"min": 1, "unit": "lots", "doc": "lots per order"})
    price: float | None = field(default=None, metadata={
        "gt": 0.0, "unit": "price", "doc": "limit price, price units (limit only)"})
    repeat: int = field(default=1, metadata={
        "min": 1, "max": MAX_MESSAGES, "doc": "number of sends"})
    every: float = field(default=0.0, metadata={
        "min": 0.0, "unit": "s", "doc": "seconds between sends"})

    def __post_init__(self) -> None:
        if self.type not in ORDER_TYPES:
            raise ValueError(f"type: expected one of {', '.join(ORDER_TYPES)}, got {self.type!r}")
        if self.side not in ("buy", "sell"):
            raise ValueError(f"side: expected buy or sell, got {self.side!r}")
        if self.type == "limit" and self.price is None:
            raise ValueError("a limit order needs a price")
        if self.type != "limit" and self.price is not None:
            raise ValueError(f"price is only for limit orders, not {self.type}")
        if not self.send_time(self.repeat - 1) <= MAX_SECONDS:  # its ns would pass int64
            raise ValueError(f"every: the last send (at + (repeat - 1) x every = "
                             f"{self.send_time(self.repeat - 1):.6g} s) is beyond {MAX_SECONDS:.6g} s")

    def send_time(self, n: int) -> float:
        """Seconds: when the ``n``-th send (0-based) is due."""
        return self.at + n * self.every

    def sends_before(self, duration_s: float) -> int:
        """How many of the ``repeat`` sends are due before ``duration_s`` seconds. O(1)."""
        if self.at >= duration_s:
            return 0
        gaps = (duration_s - self.at) / self.every if self.every else math.inf  # inf: all at once
        return self.repeat if gaps >= self.repeat else math.floor(gaps) + 1


@dataclass(frozen=True)
class ScriptedParams:
    schedule: tuple[ScheduledOrder, ...] = field(default=(), metadata={
        "doc": "orders to send, each at its time (see ScheduledOrder)"})

    def expected_messages(self, duration_s: float, market: MarketConfig) -> float:
        """Sends due in ``duration_s`` seconds (a cancel_all counts once: what it cancels
        was sent before, and counted then)."""
        return float(sum(line.sends_before(duration_s) for line in self.schedule))


class ScriptedTrader(Agent):
    """A trader that follows a fixed schedule: shocks, metaorders, liquidity droughts.

    Times are kept absolute (``at + n * every``, converted to ns once per send), so long
    repeat chains do not drift. Only the next send of each line is pending at a time.
    """

    kind = "scripted"
    Params = ScriptedParams
    compiled = "agents._cflow:ScriptedTrader"

    def __init__(self, name: str, params: ScriptedParams, session: Session) -> None:
        super().__init__(name, params, session)
        self.params: ScriptedParams = params
        self.orders = LiveOrders()  # own live limit orders, for cancel_all

    def on_start(self) -> None:
        for line in range(len(self.params.schedule)):
            self._arm(line, 0)

    def on_report(self, report: OrderReport) -> None:
        self.orders.apply(report)

    def on_timer(self, tag: Hashable) -> None:
        line, n = tag  # type: ignore[misc]
        entry = self.params.schedule[line]
        self._send(entry)
        if n + 1 < entry.repeat:
            self._arm(line, n + 1)

    def _arm(self, line: int, n: int) -> None:
        """Set the timer for send ``n`` of schedule line ``line``; none for a send due
        past the int64-ns horizon (after any run's end: it never comes)."""
        due_ns = ns_or_never(self.params.schedule[line].send_time(n))
        if due_ns is not None:
            self.session.timer(max(due_ns - self.session.now, 0), (line, n))

    def _send(self, entry: ScheduledOrder) -> None:
        session = self.session
        if entry.type == "cancel_all":
            for order in self.orders.pop_all():
                session.cancel(order.order_id)
            return
        side = Side.BUY if entry.side == "buy" else Side.SELL
        if entry.type == "market":
            session.market(side, entry.qty)
        else:
            price = session.ticks(entry.price)  # type: ignore[arg-type]
            self.orders.add(session.limit(side, price, entry.qty), side, price, entry.qty)
