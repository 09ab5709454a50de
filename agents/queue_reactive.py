"""Queue-reactive order flow: rates by distance from the best quote, sizes from a table.

The model (after Cont, Stoikov & Talreja 2010 and Huang, Lehalle & Rosenbaum 2015, in
their simplest form: rates depend on the distance from the best quote, not on the queue
sizes). Independent Poisson streams, one agent for the whole population:

* limit orders arrive at ``limit_rates[k]`` per second on each side, ``k`` ticks behind
  the same-side best quote (``k = 0`` joins the best queue); at ``inside_rate`` per second
  per side a limit order improves the best by one tick, when the spread is wider than one
  tick (else that event places nothing: the rate is per second of a wide spread);
* each resting order is cancelled at ``cancel_rates[d]`` per second, ``d`` its distance in
  ticks behind its side's best quote when the cancel is drawn (the last rate applies to
  every distance beyond the table): *cancels per resting order*, as in real books where
  deep orders live long and orders at the best churn;
* market orders arrive at ``market_rate`` per second, buys and sells equally likely;
* every size, in lots, is drawn from an empirical table (``*_sizes`` with ``*_size_weights``),
  so round lots (100, 200, 500 shares) keep their real weight.

Exactness. The cancel stream's rate is the sum over the agent's live orders of their
distance's rate, kept by price level (O(own levels) to evaluate); it changes when an order
comes or goes and when a best quote moves, and each time the pending draw is replaced by
a fresh one (memoryless, so exact, as in :class:`~agents.poisson.PoissonFlow`). A cancel
picks a level in proportion to orders x rate, then one of its orders uniformly.

Units: rates per second of simulated time, distances in ticks, sizes in lots. Prices are
computed from the ``l1`` feed as :class:`~agents.poisson.PoissonTrader` does (an empty side
uses its last known quote, else one tick off ``initial_price``; a limit never crosses the
known opposite quote). Cost per event: O(1) plus O(log K) for a distance drawn from K
distances and O(log S) for a size drawn from S sizes.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agents.poisson import PoissonTrader
from lobsim.book.orders import Side

if TYPE_CHECKING:
    from agents.tracking import LiveOrder
    from lobsim.sim.gateway import Session
    from lobsim.sim.messages import MarketData, OrderReport

BUY, SELL = Side.BUY, Side.SELL

#: events per second: a larger rate would not end in any useful time, so it is refused
MAX_RATE = 1e6
#: lots: the largest size a size table may hold
MAX_SIZE = 10**9
#: entries: the longest distance or size table
MAX_TABLE = 1000
#: the largest relative weight in a size table (counts of a day's orders fit)
MAX_WEIGHT = 1e12
#: orders: the most a warm start places at one price level
MAX_WARM = 1000


def _rates(doc: str) -> dict:
    return {"min": 0.0, "max": MAX_RATE, "doc": doc}


def check_size_table(sizes: tuple[int, ...], weights: tuple[float, ...], what: str) -> None:
    """ValueError (one line, for the scenario loader) unless ``sizes``/``weights`` make a
    distribution: as many weights as sizes, at most :data:`MAX_TABLE`, a positive sum."""
    if len(sizes) != len(weights):
        raise ValueError(f"{what}_sizes and {what}_size_weights must have the same length, "
                         f"got {len(sizes)} and {len(weights)}")
    if not 1 <= len(sizes) <= MAX_TABLE or sum(weights) <= 0:
        raise ValueError(f"{what}_sizes: expected 1 to {MAX_TABLE} sizes with a positive "
                         f"total weight, got {len(sizes)} with total {sum(weights)!r}")


class SizeTable:
    """Draws sizes (lots) with probabilities proportional to weights. O(log n) per draw."""

    __slots__ = ("sizes", "_cumulative", "_total")

    def __init__(self, sizes: tuple[int, ...], weights: tuple[float, ...]) -> None:
        self.sizes = tuple(sizes)
        self._cumulative = list(itertools.accumulate(weights))
        self._total = self._cumulative[-1]

    def draw(self, u: float) -> int:
        """The size for a uniform ``u`` in [0, 1) (inverse CDF)."""
        i = bisect.bisect_right(self._cumulative, u * self._total)
        return self.sizes[min(i, len(self.sizes) - 1)]

    def mean(self) -> float:
        """Mean size, lots."""
        weights = [b - a for a, b in zip([0.0, *self._cumulative], self._cumulative)]
        return sum(s * w for s, w in zip(self.sizes, weights)) / self._total


@dataclass(frozen=True)
class QueueReactiveParams:
    limit_rates: tuple[float, ...] = field(default=(1.0, 0.6, 0.4, 0.3, 0.2), metadata=_rates(
        "limit orders per second per side, by distance k = 0, 1, ... ticks behind the "
        "same-side best quote (k = 0 joins the best)"))
    inside_rate: float = field(default=0.2, metadata=_rates(
        "limit orders per second per side one tick inside the spread, while the spread "
        "is wider than one tick"))
    inside_fraction: float = field(default=0.0, metadata={
        "min": 0.0, "lt": 1.0,
        "doc": "mean share of the room inside the spread (spread - 2 ticks) that an inside "
               "order improves by beyond its first tick (0: always one tick)"})
    cancel_rates: tuple[float, ...] = field(default=(0.3, 0.2, 0.1), metadata=_rates(
        "cancels per resting order per second, by its distance in ticks behind its side's "
        "best quote (the last rate applies to every distance beyond)"))
    market_rate: float = field(default=0.5, metadata=_rates(
        "market orders per second, buys and sells together (50/50)"))
    limit_sizes: tuple[int, ...] = field(default=(1,), metadata={
        "min": 1, "max": MAX_SIZE, "doc": "lots: the sizes a limit order can have"})
    limit_size_weights: tuple[float, ...] = field(default=(1.0,), metadata={
        "min": 0.0, "max": MAX_WEIGHT, "doc": "relative frequency of each of limit_sizes"})
    market_sizes: tuple[int, ...] = field(default=(1,), metadata={
        "min": 1, "max": MAX_SIZE, "doc": "lots: the sizes a market order can have"})
    market_size_weights: tuple[float, ...] = field(default=(1.0,), metadata={
        "min": 0.0, "max": MAX_WEIGHT, "doc": "relative frequency of each of market_sizes"})
    warm_start: bool = field(default=False, metadata={
        "doc": "at time 0, fill the book around initial_price to the stationary depth: "
               "Poisson(limit_rates[k] / cancel_rates[k]) orders k ticks behind a one-tick "
               f"half-spread on each side (at most {MAX_WARM} per level; none where the "
               "cancel rate is 0)"})

    def __post_init__(self) -> None:
        for name in ("limit_rates", "cancel_rates"):
            if not 1 <= len(getattr(self, name)) <= MAX_TABLE:
                raise ValueError(f"{name}: expected 1 to {MAX_TABLE} rates, "
                                 f"got {len(getattr(self, name))}")
        check_size_table(self.limit_sizes, self.limit_size_weights, "limit")
        check_size_table(self.market_sizes, self.market_size_weights, "market")


class QueueReactiveTrader(PoissonTrader):
    """The queue-reactive population as one agent (see the module docstring).

    Streams, in :meth:`rates` order: limit buy, limit sell (each at the summed rate of
    all distances; the distance is then drawn in proportion to ``limit_rates``, O(log K)),
    inside buy, inside sell, market buy, market sell, cancel.
    """

    kind = "queue_reactive"
    Params = QueueReactiveParams

    def __init__(self, name: str, params: QueueReactiveParams, session: Session) -> None:
        super().__init__(name, params, session)
        self.params: QueueReactiveParams = params  # type: ignore[assignment]
        limit, half_market = sum(params.limit_rates), params.market_rate / 2
        self._fixed_rates = (limit, limit, params.inside_rate, params.inside_rate,
                             half_market, half_market)
        #: distance k drawn like a size: k with probability limit_rates[k] / their sum
        self.distances = SizeTable(tuple(range(len(params.limit_rates))),
                                   params.limit_rates) if limit > 0 else None
        self.limit_sizes = SizeTable(params.limit_sizes, params.limit_size_weights)
        self.market_sizes = SizeTable(params.market_sizes, params.market_size_weights)
        #: own live orders by (side, price ticks): their ids, for the exact cancel rate
        self.levels: dict[tuple[Side, int], dict[int, None]] = {}

    def on_start(self) -> None:
        if self.params.warm_start:
            self._warm_start()
        super().on_start()

    def _warm_start(self) -> None:
        """Each level's stationary number of orders (an M/M/infinity queue: arrivals at
        the limit rate, each order leaving at its cancel rate), drawn Poisson."""
        p, rng, initial = self.params, self.session.rng, self.session.initial_price
        for k, rate in enumerate(p.limit_rates):
            cancel = p.cancel_rates[min(k, len(p.cancel_rates) - 1)]
            if rate <= 0 or cancel <= 0:
                continue
            for side in (BUY, SELL):
                price = initial - side * (1 + k)
                if price < 1:
                    continue
                for _ in range(min(int(rng.poisson(rate / cancel)), MAX_WARM)):
                    self._send(side, price)

    def rates(self) -> tuple[float, ...]:  # type: ignore[override]
        """Events per second of each stream (class docstring), the exact cancel rate last."""
        return (*self._fixed_rates, self.cancel_total())

    def cancel_total(self) -> float:
        """Cancels per second now: the sum over own live orders of their distance's rate.
        O(own price levels)."""
        rates, last, bests = self.params.cancel_rates, len(self.params.cancel_rates) - 1, \
            (self.best(BUY), self.best(SELL))
        total = 0.0
        for (side, price), ids in self.levels.items():
            best = bests[0] if side is BUY else bests[1]
            total += len(ids) * rates[min(max((best - price) * side, 0), last)
                                      if best is not None else 0]
        return total

    def on_report(self, report: OrderReport) -> None:
        order = self.orders.get(report.order_id)
        self.orders.apply(report)
        if order is not None and report.order_id not in self.orders:
            self._untrack(order.order_id, order.side, order.price)
            self._schedule()  # the cancel rate changed: redraw (memoryless, still exact)

    def on_market_data(self, data: MarketData) -> None:
        top = self.top
        before = (top.bid, top.ask)
        if top.update(data) and (top.bid, top.ask) != before and self.levels:
            self._schedule()  # distances, hence the cancel rate, changed: redraw

    def act(self, stream: int) -> None:
        rng = self.session.rng
        if stream < 2:
            self._limit(BUY if stream == 0 else SELL, self.distances.draw(rng.random()))
        elif stream < 4:
            self._inside(BUY if stream == 2 else SELL)
        elif stream < 6:
            self.session.market(BUY if stream == 4 else SELL, self.market_sizes.draw(rng.random()))
        else:
            self._cancel()

    # ------------------------------------------------------------------ events

    def _limit(self, side: Side, offset: int) -> None:
        price = self._limit_price(side, offset)
        if price is not None:
            self._send(side, price)

    def _inside(self, side: Side) -> None:
        """Better than the best by 1 + floor(v (spread - 2)) ticks, v = U ** shape with
        mean ``inside_fraction`` (so always strictly inside), only while the spread is wider
        than a tick."""
        bid, ask = self.top.bid, self.top.ask
        if bid is None or ask is None or ask - bid < 2:
            return
        improve = 1
        fraction = self.params.inside_fraction
        if fraction > 0:
            v = self.session.rng.random() ** (1.0 / fraction - 1.0)
            improve += int(v * (ask - bid - 2))
        self._send(side, bid + improve if side is BUY else ask - improve)

    def _send(self, side: Side, price: int) -> None:
        qty = self.limit_sizes.draw(self.session.rng.random())
        order_id = self.session.limit(side, price, qty)
        self.orders.add(order_id, side, price, qty)
        self.levels.setdefault((side, price), {})[order_id] = None

    def _untrack(self, order_id: int, side: Side, price: int) -> None:
        level = self.levels[(side, price)]
        del level[order_id]
        if not level:
            del self.levels[(side, price)]

    def best(self, side: Side) -> int | None:
        """Ticks: ``side``'s best quote, else its last known one, else None."""
        top = self.top
        if side is BUY:
            return top.bid if top.bid is not None else top.last_bid
        return top.ask if top.ask is not None else top.last_ask

    def distance(self, order: LiveOrder) -> int:
        """Ticks behind its side's best quote (0 at or better than the best, or unknown)."""
        best = self.best(order.side)
        return max((best - order.price) * order.side, 0) if best is not None else 0

    def _cancel(self) -> None:
        """Cancel one live order, drawn in proportion to its distance's cancel rate: a
        level by its orders x rate, then an order of it uniformly. O(own price levels)."""
        total = self.cancel_total()
        if total <= 0:
            return
        rng, rates = self.session.rng, self.params.cancel_rates
        u = rng.random() * total
        for (side, price), ids in self.levels.items():
            best = self.best(side)
            u -= len(ids) * rates[min(max((best - price) * side, 0), len(rates) - 1)
                                  if best is not None else 0]
            if u < 0:
                break
        order_id = list(ids)[int(rng.integers(len(ids)))]
        self.session.cancel(order_id)
        self.orders.remove(order_id)
        self._untrack(order_id, side, price)
