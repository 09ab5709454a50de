"""Metaorder traders: large parent orders split into small market orders over time.

The model (Lillo, Mike & Farmer 2005). Parent orders (metaorders) start at
``parent_rate`` per second, buy or sell with equal probability. A parent's length ``L`` (its
number of child orders) follows a truncated power law, ``P(L >= l) = l ** -alpha`` for
``l = 1 .. max_children`` (``alpha`` = ``size_exponent``), drawn by inversion. While it
lives, each parent sends one child market order at ``child_rate`` per second, all of its
sign, with sizes (lots) from the empirical table ``child_sizes``/``child_size_weights``.

Why: the signs of successive market orders stay correlated for as long as the parents
that sent them live, and with power-law lengths the sign autocorrelation decays as a power
law, ``C(l) ~ l ** -(alpha - 1)`` (long memory for ``1 < alpha < 2``): the order flow of a
real market (lag-1 sign autocorrelation 0.5-0.6) rather than Poisson signs. The fewer
parents live at once (``parent_rate x mean length / child_rate``), the stronger the lag-1
correlation.

One agent is the whole population, as :class:`~agents.santa_fe.SantaFeTrader` is: one
:class:`~agents.poisson.EventClock` over two streams (new parents at ``parent_rate``;
children at ``child_rate x live parents``, the parent picked uniformly), exact because
the rate changes only at events. It needs no market data. Per event: O(1) (a live parent
ends by swap-removal).
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lobsim.sim.agent import Agent
from agents.poisson import EventClock, total_of
from agents.queue_reactive import MAX_RATE, MAX_SIZE, MAX_WEIGHT, SizeTable, check_size_table
from lobsim.book.orders import Side

if TYPE_CHECKING:
    from lobsim.sim.gateway import Session

BUY, SELL = Side.BUY, Side.SELL
NEW_PARENT, CHILD = 0, 1


def power_law_length(u: float, alpha: float, top: int) -> int:
    """Inverse-CDF draw of ``L`` in 1..top with ``P(L >= l) = l ** -alpha`` (the mass
    beyond ``top`` is put on ``top``), from uniform ``u`` in [0, 1)."""
    return min(int((1.0 - u) ** (-1.0 / alpha)), top)


@dataclass(frozen=True)
class MetaorderParams:
    parent_rate: float = field(default=0.05, metadata={
        "min": 0.0, "max": MAX_RATE, "doc": "new parent orders per second"})
    size_exponent: float = field(default=1.5, metadata={
        "gt": 1.0, "max": 5.0, "doc": "alpha: P(parent has >= l children) = l**-alpha; "
                                      "trade signs then decay as lag**-(alpha - 1)"})
    max_children: int = field(default=10_000, metadata={
        "min": 1, "max": 10**7, "doc": "child orders of the longest parent (truncation)"})
    child_rate: float = field(default=1.0, metadata={
        "gt": 0.0, "max": MAX_RATE, "doc": "child market orders per second of each live parent"})
    child_sizes: tuple[int, ...] = field(default=(1,), metadata={
        "min": 1, "max": MAX_SIZE, "doc": "lots: the sizes a child order can have"})
    child_size_weights: tuple[float, ...] = field(default=(1.0,), metadata={
        "min": 0.0, "max": MAX_WEIGHT, "doc": "relative frequency of each of child_sizes"})

    def __post_init__(self) -> None:
        check_size_table(self.child_sizes, self.child_size_weights, "child")

    def mean_length(self) -> float:
        """Mean children per parent, E[L] = sum over l of P(L >= l). O(max_children)."""
        return math.fsum(l ** -self.size_exponent for l in range(1, self.max_children + 1))


class MetaorderTrader(Agent):
    """A population of metaorder traders as one agent (module docstring)."""

    kind = "metaorder"
    Params = MetaorderParams
    feeds = ()
    self_trade_prevention = False  # independent traders

    def __init__(self, name: str, params: MetaorderParams, session: Session) -> None:
        super().__init__(name, params, session)
        self.params: MetaorderParams = params
        self.clock = EventClock(session)
        self.sizes = SizeTable(params.child_sizes, params.child_size_weights)
        #: live parents as [sign, children left]
        self.parents: list[list[int]] = []

    def rates(self) -> tuple[float, float]:
        """(new parents, children) per second."""
        return self.params.parent_rate, self.params.child_rate * len(self.parents)

    def on_start(self) -> None:
        self.clock.schedule(total_of(self.rates()))

    def on_timer(self, tag: Hashable) -> None:
        if not self.clock.is_due(tag):
            return
        rates = self.rates()
        if self.clock.pick(rates, total_of(rates)) == NEW_PARENT:
            self._new_parent()
        else:
            self._child()
        self.clock.schedule(total_of(self.rates()))

    def _new_parent(self) -> None:
        rng, p = self.session.rng, self.params
        sign = 1 if rng.random() < 0.5 else -1
        self.parents.append([sign, power_law_length(rng.random(), p.size_exponent, p.max_children)])

    def _child(self) -> None:
        rng, parents = self.session.rng, self.parents
        i = int(rng.integers(len(parents)))
        parent = parents[i]
        self.session.market(BUY if parent[0] > 0 else SELL, self.sizes.draw(rng.random()))
        parent[1] -= 1
        if parent[1] == 0:
            parents[i] = parents[-1]
            parents.pop()
