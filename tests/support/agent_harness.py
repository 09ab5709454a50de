"""A fake :class:`~lobsim.sim.gateway.Session` for testing agents without a market.

It has the session API agents code against (``limit``, ``market``, ``cancel``,
``modify``, ``timer``, ``ticks``, ``ns``, ``rng``, ``now`` ...), records every request in
``sent``, and runs timers and deliveries on its own small event queue in time order
(FIFO among equal times), never re-entering an agent from inside one of its own calls.
The test plays the exchange: it feeds quotes and reports (:meth:`quote`, :meth:`fill`,
...). With ``auto_ack=True`` a minimal exchange answers by itself after ``latency_ns``:
limits are accepted and rest (nothing ever matches), market orders are accepted and their
whole qty cancelled as unfilled, cancels and modifies of resting orders succeed, others
get CancelRejected ``unknown_id``. ``resting_ns`` integrates the number of resting orders
over time (lots of order-seconds, ns), for rate tests.
"""

from __future__ import annotations

import math

import heapq
import zlib
import itertools
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lobsim.sim.gateway import Session
from lobsim.sim.messages import (CancelRejected, OrderAccepted, OrderCancelled, OrderFilled,
                             OrderModified, OrderRejected, Quote)
from lobsim.book.orders import Side, TimeInForce
from lobsim.sim.streams import BatchedRandom
from lobsim.units import seconds_to_ns

REPORTS = (OrderAccepted, OrderRejected, OrderFilled, OrderCancelled, OrderModified,
           CancelRejected)


@dataclass
class Sent:
    """One request an agent made."""

    op: str  #: "limit", "market", "cancel" or "modify"
    order_id: int
    at: int  #: ns
    side: Side | None = None
    price: int | None = None
    qty: int | None = None
    tif: TimeInForce | None = None
    post_only: bool = False
    symbol: str | None = None


class FakeSession(Session):
    """See the module docstring. A :class:`Session` subclass, as the compiled kinds' clocks
    hold a typed session; it overrides the whole API and never calls ``Session.__init__``."""

    now = 0  # a plain attribute here, not the session's clock property

    def __init__(self, *, seed: int = 0, name: str = "agent", symbol: str = "XYZ",
                 tick_size: float = 0.01, initial_price: int = 10_000, auto_ack: bool = False,
                 latency_ns: int = 0) -> None:
        self.name, self.symbol = name, symbol
        self.tick_size, self.initial_price = tick_size, initial_price
        self.rng = BatchedRandom(np.random.default_rng(seed))
        self.seed = seed
        self.now = 0
        self.auto_ack, self.latency_ns = auto_ack, latency_ns
        self.sent: list[Sent] = []
        self.orders: dict[int, Sent] = {}  # every order sent, by id
        self.resting: dict[int, int] = {}  # auto_ack: order id -> lots resting at the fake exchange
        self.resting_price: dict[int, int] = {}  # auto_ack: order id -> current price, ticks
        self.resting_ns = 0  # integral of len(resting) over time, order-ns
        self.refused: list[CancelRejected] = []  # auto_ack: cancels/modifies it refused
        self.agent: Any = None
        self._queue: list[tuple[int, int, Callable[[Any], None], Any]] = []
        self._seq = itertools.count()
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------ the session API

    def ticks(self, price: float) -> int:
        return round(price / self.tick_size)

    @staticmethod
    def ns(seconds: float) -> int:
        return seconds_to_ns(seconds)

    def shared_rng(self, name: str) -> Any:
        """The same sequence for every call with one ``name`` (and seed)."""
        return np.random.default_rng([self.seed, zlib.crc32(name.encode())])

    def timer(self, delay_ns: int, tag: Hashable = None) -> None:
        assert isinstance(delay_ns, int) and delay_ns >= 0, delay_ns
        self._at(self.now + delay_ns, lambda t: self.agent.on_timer(t), tag)

    def limit(self, side: Side, price: int, qty: int, tif: TimeInForce = TimeInForce.GTC,
              post_only: bool = False, symbol: str | None = None) -> int:
        return self._new("limit", side, price, qty, tif, post_only, symbol)

    def market(self, side: Side, qty: int, symbol: str | None = None) -> int:
        return self._new("market", side, None, qty, None, False, symbol)

    def cancel(self, order_id: int) -> None:
        self.sent.append(Sent("cancel", order_id, self.now))
        if self.auto_ack:
            self._later(self._ack_cancel, order_id)

    def modify(self, order_id: int, qty: int | None = None, price: int | None = None) -> None:
        self.sent.append(Sent("modify", order_id, self.now, price=price, qty=qty))
        if self.auto_ack:
            self._later(self._ack_modify, (order_id, qty, price))

    # ------------------------------------------------------------------ driving the agent

    def start(self, agent: Any) -> Any:
        """Attach ``agent``, call its ``on_start`` and run what is due now."""
        self.agent = agent
        agent.on_start()
        self.flush()
        return agent

    def run_until(self, t_ns: int) -> None:
        """Process every event due at or before ``t_ns``; then ``now = t_ns``."""
        while self._queue and self._queue[0][0] <= t_ns:
            time, _, fn, arg = heapq.heappop(self._queue)
            self._advance(time)
            fn(arg)
        self._advance(t_ns)

    def run_for(self, seconds: float) -> None:
        self.run_until(self.now + self.ns(seconds))

    def flush(self) -> None:
        """Process the events due now (zero-latency replies and zero-delay timers)."""
        self.run_until(self.now)

    def quote(self, bid: int | None, ask: int | None, bid_qty: int = 1, ask_qty: int = 1,
              symbol: str | None = None) -> None:
        """Deliver an L1 quote now."""
        bid_qty = bid_qty if bid is not None else 0
        ask_qty = ask_qty if ask is not None else 0
        self.agent.on_market_data(Quote(symbol or self.symbol, bid, bid_qty, ask, ask_qty,
                                        self.now, self.now))
        self.flush()

    def report(self, report: Any) -> None:
        """Deliver one report now."""
        self.agent.on_report(report)
        self.flush()

    def accept(self, order_id: int) -> None:
        o = self.orders[order_id]
        self.report(OrderAccepted(order_id, o.symbol, o.side, o.price, o.qty, self.now, self.now))

    def fill(self, order_id: int, qty: int, left: int, price: int | None = None,
             maker: bool = True) -> None:
        o = self.orders[order_id]
        if self.auto_ack:
            self._set_resting(order_id, left)
        self.report(OrderFilled(order_id, o.symbol, o.side, o.price if price is None else price,
                                qty, left, maker, self.now, self.now))

    def cancelled(self, order_id: int, qty: int, cause: str = "request") -> None:
        self.report(OrderCancelled(order_id, self.orders[order_id].symbol, qty, cause,
                                   self.now, self.now))

    def rejected(self, order_id: int, reason: str = "would_cross") -> None:
        self.report(OrderRejected(order_id, self.orders[order_id].symbol, reason, self.now,
                                  self.now))

    def modified(self, order_id: int, price: int, qty: int) -> None:
        self.report(OrderModified(order_id, self.symbol, price, qty, self.now, self.now))

    def cancel_rejected(self, order_id: int, request: str = "cancel",
                        reason: str = "unknown_id") -> None:
        self.report(CancelRejected(order_id, self.symbol, request, reason, self.now, self.now))

    # ------------------------------------------------------------------ queries

    def ops(self, op: str, since: int = 0) -> list[Sent]:
        """Requests of kind ``op`` sent at or after index ``since`` of ``sent``."""
        return [s for s in self.sent[since:] if s.op == op]

    # ------------------------------------------------------------------ internals

    def _new(self, op: str, side: Side, price: int | None, qty: int, tif: TimeInForce | None,
             post_only: bool, symbol: str | None) -> int:
        assert price is None or type(price) is int, f"price must be int ticks, got {price!r}"
        assert type(qty) is int, f"qty must be int lots, got {qty!r}"
        order_id = next(self._ids)
        sent = Sent(op, order_id, self.now, side, price, qty, tif, post_only,
                    symbol or self.symbol)
        self.sent.append(sent)
        self.orders[order_id] = sent
        if self.auto_ack:
            self._later(self._ack_new, sent)
        return order_id

    def _at(self, time: int, fn: Callable[[Any], None], arg: Any) -> None:
        heapq.heappush(self._queue, (time, next(self._seq), fn, arg))

    def _later(self, fn: Callable[[Any], None], arg: Any) -> None:
        self._at(self.now + self.latency_ns, fn, arg)

    def _advance(self, time: int) -> None:
        assert time >= self.now
        self.resting_ns += len(self.resting) * (time - self.now)
        self.now = time

    def _set_resting(self, order_id: int, left: int) -> None:
        if left > 0:
            self.resting[order_id] = left
        else:
            self.resting.pop(order_id, None)
            self.resting_price.pop(order_id, None)

    def _ack_new(self, o: Sent) -> None:
        self.agent.on_report(OrderAccepted(o.order_id, o.symbol, o.side, o.price, o.qty,
                                           self.now, self.now))
        if o.op == "limit":
            self.resting[o.order_id] = o.qty
            self.resting_price[o.order_id] = o.price
        else:
            self.agent.on_report(OrderCancelled(o.order_id, o.symbol, o.qty, "unfilled",
                                                self.now, self.now))

    def _ack_cancel(self, order_id: int) -> None:
        qty = self.resting.pop(order_id, None)
        self.resting_price.pop(order_id, None)
        if qty is None:
            self._refuse(order_id, "cancel")
        else:
            self.agent.on_report(OrderCancelled(order_id, self.symbol, qty, "request",
                                                self.now, self.now))

    def _ack_modify(self, arg: tuple[int, int | None, int | None]) -> None:
        order_id, qty, price = arg
        if order_id not in self.resting:
            self._refuse(order_id, "modify")
            return
        if price is not None:
            self.resting_price[order_id] = price
        if qty is not None:
            self.resting[order_id] = qty
        self.agent.on_report(OrderModified(order_id, self.symbol, self.resting_price[order_id],
                                           self.resting[order_id], self.now, self.now))

    def _refuse(self, order_id: int, request: str) -> None:
        report = CancelRejected(order_id, self.symbol, request, "unknown_id", self.now, self.now)
        self.refused.append(report)
        self.agent.on_report(report)


def start_flow(kind: type, name: str, params: Any, *, seed: int, latency_ns: int = 0,
               quote: tuple[int, int] | None = (9_990, 10_010)) -> tuple[FakeSession, Any]:
    """A Poisson-flow agent on an auto-acknowledging fake session, with a first quote."""
    session = FakeSession(seed=seed, auto_ack=True, latency_ns=latency_ns)
    agent = kind(name, params, session)
    session.agent = agent
    if quote is not None:
        session.quote(*quote)
    session.start(agent)
    return session, agent


def within(count: float, expected: float, sds: float = 4.0) -> bool:
    """A Poisson count within ``sds`` standard errors of its mean."""
    return abs(count - expected) < sds * math.sqrt(expected)
