"""An informed trader: it knows a value the market does not, and trades on the difference.

The model (in the spirit of Glosten & Milgrom 1985 and Kyle 1985, in continuous time).
The instrument has a fundamental value ``V`` that only this trader sees. ``V`` starts at
the market's ``initial_price`` and is a compound Poisson random walk: at rate
``jump_rate`` per second it moves ``jump`` price units up or down with equal
probability. The trader looks at the book at rate ``trade_rate`` per second; at a look,
if the best ask is at least ``edge`` below ``V`` it buys ``order_size`` lots with a market
order, if the best bid is at least ``edge`` above ``V`` it sells, otherwise it does
nothing. So it trades only while the book misprices the instrument, and its market
orders push the book towards ``V``: after a jump, a burst of same-side market orders
walks the price to the new value.

This is the adverse selection a market maker faces: a quote filled by the informed
trader is filled just before the mid moves against it. Its market orders are one-sided
and come in bursts, so the recent signed trade flow and the book's imbalance carry
information about the next mid moves that a maker quoting symmetrically around the mid
(fixed spread, Avellaneda-Stoikov) ignores and a learner can use.

Units: ``jump`` and ``edge`` are price units (converted to whole ticks, at least one);
rates are per second of simulated time; ``order_size`` is lots. ``V`` is kept in integer
ticks. The trader sees the book through the ``l1`` feed, after its latency; an empty side
of the book is never traded against.

One :class:`~agents.poisson.EventClock` drives both streams (jumps and looks) with a
constant total rate: a look that finds no mispricing is a thinned event, so the
process of market orders is exactly Poisson at ``trade_rate`` while the book is
mispriced (the rate depends only on the state at the look, which the trader knows).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lobsim.sim.agent import Agent
from agents.poisson import EventClock
from agents.tracking import TopOfBook
from lobsim.book.orders import Side

if TYPE_CHECKING:
    from lobsim.scenario.config import MarketConfig
    from lobsim.sim.gateway import Session
    from lobsim.sim.messages import MarketData

BUY, SELL = Side.BUY, Side.SELL

# Indices of the event streams passed to EventClock.pick.
JUMP_UP, JUMP_DOWN, LOOK = range(3)


@dataclass(frozen=True)
class InformedParams:
    jump_rate: float = field(default=0.2, metadata={
        "min": 0.0, "unit": "rate", "doc": "jumps of the fundamental value per second (up or down, 50/50)"})
    jump: float = field(default=0.05, metadata={
        "gt": 0.0, "unit": "price", "doc": "price units per jump of the value (whole ticks, at least one)"})
    trade_rate: float = field(default=2.0, metadata={
        "min": 0.0, "unit": "rate", "doc": "looks at the book per second; each look trades if mispriced"})
    edge: float = field(default=0.01, metadata={
        "gt": 0.0, "unit": "price", "doc": "price units: buy when the ask is this far below the value "
                          "(sell when the bid is this far above; whole ticks, at least one)"})
    order_size: int = field(default=1, metadata={
        "min": 1, "unit": "lots", "doc": "lots per market order"})

    def expected_messages(self, duration_s: float, market: MarketConfig) -> float:
        """Requests in ``duration_s`` seconds: at most one market order per look."""
        return self.trade_rate * duration_s


class InformedTrader(Agent):
    """An informed trader: it knows a value the market does not, and trades on the difference."""

    kind = "informed"
    Params = InformedParams
    compiled = "agents._cflow:InformedTrader"
    feeds = ("l1",)

    def __init__(self, name: str, params: InformedParams, session: Session) -> None:
        super().__init__(name, params, session)
        self.params: InformedParams = params
        self.top = TopOfBook(session.symbol, session.initial_price)
        self.clock = EventClock(session)
        #: ticks: the fundamental value only this trader knows
        self.value = session.initial_price
        self.jump_ticks = max(1, session.ticks(params.jump))
        self.edge_ticks = max(1, session.ticks(params.edge))
        half = params.jump_rate / 2
        self._rates = (half, half, params.trade_rate)
        self._total = params.jump_rate + params.trade_rate

    def on_start(self) -> None:
        self.clock.schedule(self._total)

    def on_market_data(self, data: MarketData) -> None:
        self.top.update(data)

    def on_timer(self, tag: Hashable) -> None:
        if not self.clock.is_due(tag):
            return
        stream = self.clock.pick(self._rates, self._total)
        if stream == JUMP_UP:
            self.value += self.jump_ticks
        elif stream == JUMP_DOWN:
            self.value = max(self.value - self.jump_ticks, 1)
        else:
            self.look()
        self.clock.schedule(self._total)

    def look(self) -> None:
        """Trade ``order_size`` lots against a mispriced best quote, if there is one."""
        top, value, edge = self.top, self.value, self.edge_ticks
        if top.ask is not None and top.ask <= value - edge:
            self.session.market(BUY, self.params.order_size)
        elif top.bid is not None and top.bid >= value + edge:
            self.session.market(SELL, self.params.order_size)
