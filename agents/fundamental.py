"""A fundamental value with stochastic volatility and jumps, and the value traders who
follow it (the reference-market family of ABIDES: Byrd, Hybinette & Balch 2020).

The path. The value ``V`` (float ticks) starts at the market's ``initial_price`` and moves
on a grid of ``step`` seconds::

    h   <- h exp(-kappa dt) + xi sqrt((1 - exp(-2 kappa dt)) / (2 kappa)) Z1    (exact OU)
    V   <- V + sigma exp(h) sqrt(dt) Z2 + (sum of N ~ Poisson(lambda dt) jumps ~ N(0, J^2))

``sigma`` = ``volatility`` (ticks per sqrt(s)), ``xi`` = ``vol_of_vol`` (per sqrt(s)),
``kappa`` = ``vol_reversion`` (per s), ``lambda`` = ``jump_rate`` (per s), ``J`` =
``jump_size`` (ticks). Log-volatility ``h`` mean-reverts, so volatility comes in clusters;
jumps give heavy tails. The path is drawn from the scenario's shared stream
``shared/fundamental`` (:meth:`~lobsim.sim.gateway.Session.shared_rng`), one grid step at a
time from time 0: every agent that follows it sees the same values at the same times, and
the path does not depend on when or how often an agent looks. O(1) per grid step.

The traders. A population of value traders (one agent) looks at rate ``trade_rate`` per
second. At a look each sees ``V`` plus Gaussian noise of ``noise`` ticks; if the best ask
is at least ``edge`` ticks below that estimate it buys ``order_size`` lots with an
immediate-or-cancel limit at estimate - edge (taking every ask up to it), and symmetrically
sells when the best bid is ``edge`` above. Their orders pull the price towards ``V``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agents.looking import LookingTrader
from agents.queue_reactive import MAX_RATE
from lobsim.book.orders import Side, TimeInForce

if TYPE_CHECKING:
    from lobsim.sim.gateway import Session

BUY, SELL = Side.BUY, Side.SELL
#: the shared stream every follower of the fundamental value draws from
STREAM = "fundamental"


@dataclass(frozen=True)
class FundamentalParams:
    """The fundamental path's parameters (see the module docstring)."""

    volatility: float = field(default=1.0, metadata={
        "min": 0.0, "max": 1e6, "doc": "sigma: ticks per sqrt(second) of diffusion"})
    vol_of_vol: float = field(default=0.0, metadata={
        "min": 0.0, "max": 100.0, "doc": "xi: per sqrt(second), noise of log-volatility"})
    vol_reversion: float = field(default=0.01, metadata={
        "gt": 0.0, "max": 1e6, "doc": "kappa: per second, how fast log-volatility reverts"})
    jump_rate: float = field(default=0.0, metadata={
        "min": 0.0, "max": 1e3, "doc": "lambda: jumps of the value per second"})
    jump_size: float = field(default=10.0, metadata={
        "min": 0.0, "max": 1e9, "doc": "J: ticks, standard deviation of a jump"})
    step: float = field(default=0.1, metadata={
        "min": 1e-3, "max": 3600.0, "doc": "seconds between points of the path"})


class FundamentalPath:
    """The value path of ``params`` from ``rng`` (a ``shared_rng(STREAM)``), in ticks."""

    __slots__ = ("p", "rng", "value", "h", "k", "step_ns", "_decay", "_h_sd")

    def __init__(self, params: FundamentalParams, rng: Any, initial: float) -> None:
        self.p, self.rng = params, rng
        self.value, self.h, self.k = float(initial), 0.0, 0
        self.step_ns = max(round(params.step * 1e9), 1)
        kappa, dt = params.vol_reversion, params.step
        self._decay = math.exp(-kappa * dt)
        self._h_sd = params.vol_of_vol * math.sqrt(-math.expm1(-2 * kappa * dt) / (2 * kappa))

    def at(self, now_ns: int) -> float:
        """The value at the last grid point at or before ``now_ns`` (ticks). Amortized O(1)
        per grid step; ``now_ns`` must not go back."""
        p, rng = self.p, self.rng
        target = now_ns // self.step_ns
        while self.k < target:
            self.k += 1
            z1, z2 = rng.standard_normal(2)
            self.h = self.h * self._decay + self._h_sd * z1
            self.value += p.volatility * math.exp(self.h) * math.sqrt(p.step) * z2
            jumps = rng.poisson(p.jump_rate * p.step) if p.jump_rate > 0 else 0
            if jumps:
                self.value += p.jump_size * math.sqrt(jumps) * rng.standard_normal()
        return self.value


@dataclass(frozen=True)
class ValueParams(FundamentalParams):
    trade_rate: float = field(default=1.0, metadata={
        "min": 0.0, "max": MAX_RATE, "doc": "looks at the book per second (whole population)"})
    noise: float = field(default=0.0, metadata={
        "min": 0.0, "max": 1e9, "doc": "ticks: sd of the noise in each look at the value"})
    edge: float = field(default=1.0, metadata={
        "min": 0.0, "max": 1e9, "doc": "ticks: least mispricing traded on"})
    order_size: int = field(default=1, metadata={
        "min": 1, "max": 10**9, "doc": "lots per immediate-or-cancel order"})


class ValueTrader(LookingTrader):
    """Value traders following the shared fundamental (module docstring)."""

    kind = "value"
    Params = ValueParams

    def __init__(self, name: str, params: ValueParams, session: Session) -> None:
        super().__init__(name, params, session)
        self.params: ValueParams = params
        self.path = FundamentalPath(params, session.shared_rng(STREAM), session.initial_price)

    def look(self) -> None:
        """Trade against a best quote at least ``edge`` off the noisy value, if any."""
        p, top, session = self.params, self.top, self.session
        estimate = self.path.at(session.now)
        if p.noise > 0:
            estimate += p.noise * session.rng.standard_normal()
        if top.ask is not None and top.ask <= estimate - p.edge:
            session.limit(BUY, math.floor(estimate - p.edge), p.order_size, TimeInForce.IOC)
        elif top.bid is not None and top.bid >= estimate + p.edge:
            session.limit(SELL, math.ceil(estimate + p.edge), p.order_size, TimeInForce.IOC)
