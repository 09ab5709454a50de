"""The Santa Fe zero-intelligence order flow (Smith, Farmer, Gillemot & Krishnamurthy 2003).

The model. Order flow is a set of independent Poisson processes with no strategy at all:

* limit orders arrive at rate ``limit_rate`` (alpha) shares per unit price per unit time
  on each side, with prices uniform over a band of width ``window`` beyond the opposite
  best quote: buys strictly below the best ask, sells strictly above the best bid, so a
  limit order never crosses (it may improve the same-side best or land deep in the book);
* market orders arrive at ``market_rate`` (mu) shares per unit time, half buys, half sells;
* each resting order is cancelled at ``cancel_rate`` (delta) per unit time.

All orders have ``order_size`` (sigma) lots, so the order rates are shares / order_size:
limit orders ``limit_rate * window / order_size`` per second on each side, market orders
``market_rate / order_size`` per second in all.

Units: the unit of time is the second of simulated time, ``window`` is in price units
(``limit_rate`` is per price unit, so per-side limit flow is ``limit_rate * window``
shares/s), ``order_size`` in lots (shares). Prices sent are ticks: a buy goes at
``best_ask - k`` ticks with ``k`` uniform in ``1..K``, ``K = round(window / tick_size)``
(at least 1), and a sell at ``best_bid + k``. When the opposite side is empty the last
known quote of that side is used, else ``initial_price``.

Why one agent. The model's traders are anonymous and memoryless: the superposition of
any number of independent Poisson traders is one Poisson process with the summed rate,
and a uniformly chosen resting order being cancelled at rate ``delta * n`` is the same
as each of ``n`` orders being cancelled at ``delta``. One agent therefore reproduces the
whole population exactly, with one event per order instead of one simulated trader per
order, and it must let its own orders trade with each other
(``self_trade_prevention = False``). It runs as one Gillespie process
(:class:`~agents.poisson.EventClock`, through :class:`~agents.poisson.PoissonFlow`): after each event the next comes after an
exponential time of the total rate ``2 * limit + market + delta * live orders``, and
the event is picked in proportion to the rates; when a fill or reject changes the number
of live orders between events, the pending draw is redrawn (exact, by memorylessness).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agents.poisson import PoissonFlow
from lobsim.book.orders import Side

if TYPE_CHECKING:
    from lobsim.scenario.config import MarketConfig
    from lobsim.sim.gateway import Session

BUY, SELL = Side.BUY, Side.SELL

# Indices of the event streams passed to EventClock.pick.
LIMIT_BUY, LIMIT_SELL, MARKET_BUY, MARKET_SELL, CANCEL = range(5)


@dataclass(frozen=True)
class SantaFeParams:
    limit_rate: float = field(metadata={
        "min": 0.0, "unit": "rate", "doc": "alpha: limit-order shares per price unit per second, per side"})
    market_rate: float = field(metadata={
        "min": 0.0, "unit": "rate", "doc": "mu: market-order shares per second, both sides together"})
    cancel_rate: float = field(metadata={
        "min": 0.0, "unit": "rate", "doc": "delta: cancels per resting order per second"})
    window: float = field(metadata={
        "gt": 0.0, "unit": "price", "doc": "price units: limit prices are uniform over this band beyond "
                          "the opposite best quote"})
    order_size: int = field(default=1, metadata={
        "min": 1, "unit": "lots", "doc": "sigma: lots per order"})

    def expected_messages(self, duration_s: float, market: MarketConfig) -> float:
        """Requests in ``duration_s`` seconds: limit and market orders, and at most one
        cancel per limit order."""
        limit = self.limit_rate * self.window / self.order_size  # orders/s per side
        return (4 * limit + self.market_rate / self.order_size) * duration_s


class SantaFeTrader(PoissonFlow):
    """The Santa Fe zero-intelligence order flow (Smith, Farmer, Gillemot & Krishnamurthy 2003), the whole population as one agent."""

    kind = "santa_fe"
    Params = SantaFeParams
    compiled = "agents._cflow:SantaFeTrader"

    def __init__(self, name: str, params: SantaFeParams, session: Session) -> None:
        super().__init__(name, params, session)
        self.params: SantaFeParams = params
        #: ticks: limit prices are 1..band ticks beyond the opposite best quote
        self.band = max(1, session.ticks(params.window))
        limit = params.limit_rate * params.window / params.order_size  # orders/s per side
        market = params.market_rate / params.order_size / 2  # orders/s per side
        self._fixed_rates = (limit, limit, market, market)

    def rates(self) -> tuple[float, ...]:
        """(limit buy, limit sell, market buy, market sell, cancel) events per second."""
        return self._fixed_rates + (self.params.cancel_rate * len(self.orders),)

    def act(self, stream: int) -> None:
        if stream == LIMIT_BUY:
            self._limit(BUY)
        elif stream == LIMIT_SELL:
            self._limit(SELL)
        elif stream == MARKET_BUY:
            self.session.market(BUY, self.params.order_size)
        elif stream == MARKET_SELL:
            self.session.market(SELL, self.params.order_size)
        else:
            self._cancel_one()

    # ------------------------------------------------------------------ events

    def reference(self, side: Side) -> int:
        """Ticks: the opposite best quote a new ``side`` limit order is priced from."""
        top = self.top
        if side is BUY:
            ref = top.ask if top.ask is not None else top.last_ask
        else:
            ref = top.bid if top.bid is not None else top.last_bid
        return ref if ref is not None else self.session.initial_price

    def _limit(self, side: Side) -> None:
        session = self.session  # typed where compiled (santa_fe.pxd): C calls
        k = int(session.rng.integers(1, self.band + 1))
        price = self.reference(side) - side * k  # buys below the ask, sells above the bid
        if price < 1:
            return  # no valid price that far below: the order is not placed
        qty = self.params.order_size
        self.orders.add(session.limit(side, price, qty), side, price, qty)
