"""Poisson noise traders, and the event clock that drives every Poisson-flow agent.

:class:`EventClock` runs a set of competing Poisson streams as one Gillespie process:
the next event comes after an exponential time of the total rate, and which stream it
belongs to is drawn in proportion to the rates. Because exponential waiting times are
memoryless, when a rate changes between events (an own order filled by someone else,
say) the pending draw is simply replaced by a fresh one from the new total: the process
stays exact. :class:`~agents.santa_fe.SantaFeTrader` uses the same clock.

:class:`PoissonTrader` is the simplest liquidity: orders arrive at ``order_rate`` per
second, a ``market_fraction`` of them market orders, the rest limit orders placed a few
ticks behind the same-side touch; each resting order is cancelled at ``cancel_rate``
per second. Sizes are geometric with mean ``mean_size`` lots.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lobsim.sim.agent import Agent
from agents.tracking import LiveOrders, TopOfBook
from lobsim.book.orders import MAX_PRICE, Side
from lobsim.units import seconds_to_ns

if TYPE_CHECKING:
    from lobsim.scenario.config import MarketConfig
    from lobsim.sim.gateway import Session
    from lobsim.sim.messages import MarketData, OrderReport

BUY, SELL = Side.BUY, Side.SELL


class EventClock:
    """The next event of competing Poisson streams, as one pending ``session.timer``.

    Rates are per second. Each :meth:`schedule` draws a new waiting time and makes every
    earlier timer stale (a generation number in the tag: a session timer cannot be
    called off, so a stale one is recognized and ignored when it fires).
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._generation = 0

    #: seconds: a wait this long (127 years of simulated time) or longer, or not a number
    #: (a rate so small that its mean wait overflows to infinity), is never scheduled
    NEVER_S = 4e9

    def schedule(self, total_rate: float) -> None:
        """Draw the next event from now at ``total_rate`` events/s (none if the rate is 0)."""
        self._generation += 1
        if total_rate > 0:
            session = self.session
            wait_s = session.rng.exponential(1.0 / total_rate)
            if not wait_s < self.NEVER_S:
                return
            # At least 1 ns, so a huge rate can never stall simulated time.
            session.timer(max(seconds_to_ns(wait_s), 1), ("event", self._generation))

    def is_due(self, tag: Hashable) -> bool:
        """Whether a fired timer ``tag`` is the pending event (not a stale draw)."""
        return tag == ("event", self._generation)

    def pick(self, rates: Sequence[float], total: float) -> int:
        """Which stream the event belongs to: index i with probability rates[i] / total."""
        u = self.session.rng.random() * total
        for i, rate in enumerate(rates):
            u -= rate
            if u < 0:
                return i
        return len(rates) - 1  # u == total up to rounding


def total_of(rates: Sequence[float]) -> float:
    """The rates' sum, added left to right. Not ``sum()``: Python 3.12 made ``sum`` of
    floats compensated, and a run must not depend on the interpreter it runs on."""
    total = 0.0
    for rate in rates:
        total += rate
    return total


def truncated_geometric(u: float, p: float, top: int) -> int:
    """Inverse-CDF draw k in 0..top with P(k) proportional to (1-p)**k, from uniform ``u``."""
    if p >= 1.0 or top == 0:
        return 0
    q = 1.0 - p
    k = math.floor(math.log1p(-u * (1.0 - q ** (top + 1))) / math.log(q))
    return min(max(k, 0), top)


@dataclass(frozen=True)
class PoissonParams:
    order_rate: float = field(default=1.0, metadata={
        "min": 0.0, "unit": "rate", "doc": "new orders per second (limit and market together)"})
    market_fraction: float = field(default=0.1, metadata={
        "min": 0.0, "max": 1.0, "doc": "fraction of new orders that are market orders"})
    cancel_rate: float = field(default=0.1, metadata={
        "min": 0.0, "unit": "rate", "doc": "cancels per resting order per second"})
    mean_size: float = field(default=1.0, metadata={
        "min": 1.0, "unit": "lots", "doc": "mean order size, lots (geometric on 1, 2, ...)"})
    max_offset: int = field(default=5, metadata={
        "min": 0, "unit": "ticks", "doc": "limit orders rest 0..max_offset ticks behind the same-side touch"})
    placement: str = field(default="uniform", metadata={
        "choices": ("uniform", "geometric"),
        "doc": "offset distribution over 0..max_offset ticks"})
    offset_p: float = field(default=0.5, metadata={
        "gt": 0.0, "max": 1.0,
        "doc": "geometric placement: P(offset = k) proportional to (1 - offset_p)**k"})

    def expected_messages(self, duration_s: float, market: MarketConfig) -> float:
        """Requests in ``duration_s`` seconds: new orders and at most one cancel each."""
        return 2 * self.order_rate * duration_s


class PoissonFlow(Agent):
    """Base of agents whose every action is an event of competing Poisson streams.

    A subclass gives the streams' current rates (:meth:`rates`, per second; the last one
    must be the cancel stream, ``cancel_rate`` x own live orders) and what to do when a
    stream fires (:meth:`act`). The base keeps the live orders, the top of book and one
    pending :class:`EventClock` draw, redrawn whenever the number of live orders changes.
    """

    feeds = ("l1",)
    self_trade_prevention = False  # a population of independent traders

    def __init__(self, name: str, params: object, session: Session) -> None:
        super().__init__(name, params, session)
        self.orders = LiveOrders()  # own resting and in-flight limit orders
        self.top = TopOfBook(session.symbol, session.initial_price)
        self.clock = EventClock(session)

    def rates(self) -> tuple[float, ...]:
        """Current rate of each stream, events per second."""
        raise NotImplementedError

    def act(self, stream: int) -> None:
        """Carry out one event of ``stream`` (an index into :meth:`rates`)."""
        raise NotImplementedError

    def on_start(self) -> None:
        self._schedule()

    def on_market_data(self, data: MarketData) -> None:
        self.top.update(data)

    def on_report(self, report: OrderReport) -> None:
        before = len(self.orders)
        self.orders.apply(report)
        if len(self.orders) != before and self.params.cancel_rate > 0:
            self._schedule()  # the cancel rate changed: redraw (memoryless, still exact)

    def on_timer(self, tag: Hashable) -> None:
        if not self.clock.is_due(tag):
            return
        rates = self.rates()
        self.act(self.clock.pick(rates, total_of(rates)))
        self._schedule()

    def _schedule(self) -> None:
        self.clock.schedule(total_of(self.rates()))

    def _cancel_one(self) -> None:
        if self.orders:
            session = self.session  # typed where compiled (poisson.pxd): C calls
            order = self.orders.choice(session.rng)
            session.cancel(order.order_id)
            self.orders.remove(order.order_id)


class PoissonTrader(PoissonFlow):
    """A population of Poisson noise traders: limit, market and cancel events at constant rates.

    Buy and sell are equally likely. A limit buy goes ``k`` ticks below the best bid
    (``k`` = 0 joins it), a sell ``k`` above the best ask; an empty side uses its last
    known quote, else one tick off ``initial_price``; a limit never crosses the known
    opposite quote. Orders of the population may trade with each other.
    """

    kind = "poisson"
    Params = PoissonParams
    compiled = "agents._cflow:PoissonTrader"

    def __init__(self, name: str, params: PoissonParams, session: Session) -> None:
        super().__init__(name, params, session)
        self.params: PoissonParams = params

    def rates(self) -> tuple[float, float]:
        """(new orders, cancels) per second."""
        return self.params.order_rate, self.params.cancel_rate * len(self.orders)

    def act(self, stream: int) -> None:
        if stream == 0:
            self._new_order()
        else:
            self._cancel_one()

    # ------------------------------------------------------------------ events

    def _new_order(self) -> None:
        p, session = self.params, self.session  # session typed where compiled (poisson.pxd)
        rng = session.rng
        side = BUY if rng.random() < 0.5 else SELL
        market = rng.random() < p.market_fraction
        qty = int(rng.geometric(1.0 / p.mean_size))  # support 1, 2, ...; mean mean_size
        if market:
            session.market(side, qty)
            return
        price = self._limit_price(side, self._offset())
        if price is not None:
            self.orders.add(session.limit(side, price, qty), side, price, qty)

    def _offset(self) -> int:
        """Ticks behind the touch, 0..max_offset."""
        p, rng = self.params, self.session.rng
        if p.placement == "geometric":
            return truncated_geometric(rng.random(), p.offset_p, p.max_offset)
        return int(rng.integers(p.max_offset + 1))

    def _limit_price(self, side: Side, offset: int) -> int | None:
        """Ticks: ``offset`` behind the same-side touch, never crossing; None if not positive,
        or not below the book's ``MAX_PRICE`` (a huge ``max_offset``: the book would refuse it)."""
        top, initial = self.top, self.session.initial_price
        if side is BUY:
            touch = top.bid if top.bid is not None else top.last_bid
            price = (touch if touch is not None else initial - 1) - offset
            if top.ask is not None:
                price = min(price, top.ask - 1)
            return price if price >= 1 else None
        touch = top.ask if top.ask is not None else top.last_ask
        price = (touch if touch is not None else initial + 1) + offset
        if top.bid is not None:
            price = max(price, top.bid + 1)
        return price if price < MAX_PRICE else None
