"""The exchange gateway as an agent sees it: one :class:`Session` per agent.

A session turns the agent's calls into requests that reach the exchange after the
agent's inbound latency, and delivers the exchange's reports and market data back to
the agent's callbacks after its outbound latency. It assigns exchange order ids at send
time (one global counter), so agents can never collide and can cancel an order that is
still in flight. Nothing an agent passes can raise here: malformed values travel to the
exchange and come back as rejects.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

import numpy as np

from lobsim import seeding
from lobsim.errors import LivelockError
from lobsim.sim.latency import Leg
from lobsim.sim.messages import (CancelRejected, OrderAccepted, OrderCancelled, OrderFilled,
                                 OrderModified, OrderRejected)
from lobsim.sim.requests import Request, new_request
from lobsim.book.orders import Side, TimeInForce
from lobsim.sim.scheduler import Scheduler
from lobsim.sim.streams import BatchedRandom
from lobsim.units import price_to_ticks, seconds_to_ns

if TYPE_CHECKING:
    from lobsim.sim.exchange import Exchange

#: Types delivered to ``on_report``; everything else goes to ``on_market_data``.
REPORT_TYPES = frozenset({OrderAccepted, OrderRejected, OrderFilled, OrderCancelled,
                          OrderModified, CancelRejected})


def _plain(value: Any) -> Any:
    """numpy integers -> int, so that an agent computing prices with numpy is not rejected."""
    if type(value) is int:
        return value
    return int(value) if isinstance(value, np.integer) else value


class Session:
    """An agent's connection to the exchange.

    Attributes an agent may rely on: ``name``, ``symbol`` (default symbol), ``tick_size``
    (price units per tick), ``initial_price`` (ticks), ``rng`` (the agent's own seeded
    stream), ``now`` (ns); and :meth:`shared_rng` for a stream shared between agents.
    """

    def __init__(self, name: str, index: int, exchange: Exchange, scheduler: Scheduler,
                 inbound: Leg, outbound: Leg, rng: np.random.Generator, *,
                 self_trade_prevention: bool = True, rate_limit: int = 0,
                 seed_root: np.random.SeedSequence | None = None) -> None:
        self.name = name
        self.index = index  #: position in the market's agent list (ledger row)
        self.exchange = exchange
        self.scheduler = scheduler
        self.inbound = inbound
        self.outbound = outbound
        self.rng = rng
        self.seed_root = seed_root  #: the scenario's root seed sequence (see shared_rng)
        self.self_trade_prevention = self_trade_prevention
        self.rate_limit = rate_limit  #: messages per second; 0: unlimited
        self.on_report: Callable[[Any], None] = _ignore
        self.on_market_data: Callable[[Any], None] = _ignore
        self.on_timer: Callable[[Hashable], None] = _ignore
        market = exchange.market
        self.symbol = market.symbol
        self.tick_size = market.tick_size
        self.initial_price = exchange.initial_price
        self._timers_ns = -1  #: the instant of the last timer set, and how many were set then
        self._timers = 0
        # bound once: the hot path schedules them for every request and delivery
        self._to_exchange = exchange.receive
        self._to_agent = self._receive

    def attach(self, agent: Any) -> None:
        """Route deliveries to ``agent``'s callbacks."""
        self.on_report = agent.on_report
        self.on_market_data = agent.on_market_data
        self.on_timer = agent.on_timer

    # ------------------------------------------------------------------ time and units

    @property
    def now(self) -> int:
        """Simulated time, ns."""
        return self.scheduler.now

    @property
    def env(self) -> Any:
        """The market's SimPy environment (its clock is :attr:`now`), for an agent written
        as SimPy processes: ``self.session.env.process(...)``."""
        return self.scheduler.env

    def ticks(self, price: float) -> int:
        """Price units -> the nearest tick."""
        return price_to_ticks(price, self.tick_size)

    @staticmethod
    def ns(seconds: float) -> int:
        """Seconds of simulated time -> ns."""
        return seconds_to_ns(seconds)

    def shared_rng(self, name: str) -> BatchedRandom:
        """A new generator on the scenario's stream ``shared/NAME``: every agent that asks
        for the same name draws the same sequence, so that agents can share a random path
        (a fundamental value) reproducibly, whoever draws first. ValueError without a root."""
        if self.seed_root is None:
            raise ValueError(f"session {self.name!r} has no seed root for shared streams")
        return BatchedRandom(seeding.generator(self.seed_root, f"shared/{name}"))

    def timer(self, delay_ns: int, tag: Hashable = None) -> None:
        """Call ``agent.on_timer(tag)`` after ``delay_ns`` ns (no latency applies).

        :class:`~lobsim.errors.LivelockError` when this agent sets more timers at one
        instant than the exchange takes messages from it (``Exchange.max_burst``): a timer
        of 0 ns set again from ``on_timer`` would stop simulated time, silently."""
        now = self.scheduler.now
        if now != self._timers_ns:
            self._timers_ns, self._timers = now, 1
        else:
            self._timers += 1
            if self._timers > self.exchange.max_burst:
                raise LivelockError.timers(self.name, self._timers, now)
        self.scheduler.call_later(max(int(delay_ns), 0), self.on_timer, tag)

    # ------------------------------------------------------------------ requests

    def limit(self, side: Side, price: int, qty: int, tif: TimeInForce = TimeInForce.GTC,
              post_only: bool = False, symbol: str | None = None) -> int:
        """Send a limit order (price ticks, qty lots); return its exchange order id."""
        order_id = self.exchange.new_order_id()
        self._send(new_request(self, "limit", order_id, symbol or self.symbol, side, _plain(price),
                               _plain(qty), tif, post_only))
        return order_id

    def market(self, side: Side, qty: int, symbol: str | None = None) -> int:
        """Send a market order (qty lots); return its exchange order id."""
        order_id = self.exchange.new_order_id()
        self._send(new_request(self, "market", order_id, symbol or self.symbol, side, None,
                               _plain(qty), TimeInForce.GTC, False))
        return order_id

    def cancel(self, order_id: int) -> None:
        """Ask to cancel one of this agent's orders."""
        self._send(new_request(self, "cancel", order_id))

    def modify(self, order_id: int, qty: int | None = None, price: int | None = None) -> None:
        """Ask to change one of this agent's orders (qty lots and/or price ticks)."""
        self._send(new_request(self, "modify", order_id, qty=_plain(qty), price=_plain(price)))

    def _send(self, request: Request) -> None:
        now = self.scheduler.now
        self.scheduler.call_later(self.inbound.arrival(now) - now, self._to_exchange, request)

    # ------------------------------------------------------------------ deliveries

    def deliver(self, arrival_ns: int, items: list) -> None:
        """Called by the exchange: hand ``items`` (stamped ``local_ns=arrival_ns``, taken
        from ``self.outbound.arrival``) to the agent's callbacks at ``arrival_ns``."""
        self.scheduler.call_later(arrival_ns - self.scheduler.now, self._to_agent, items)

    def _receive(self, items: list) -> None:
        on_report, on_market_data = self.on_report, self.on_market_data
        for item in items:
            if type(item) in REPORT_TYPES:
                on_report(item)
            else:
                on_market_data(item)


def _ignore(_: Any) -> None:
    """Default callback before an agent is attached."""
