"""The Avellaneda & Stoikov (2008) market maker: inventory-aware reservation price and spread.

With mid ``s`` (price units), inventory ``q`` (lots) and time to the horizon ``tau =
T - t`` (seconds), the agent quotes around the reservation price

    r = s - q * gamma * sigma**2 * tau

a total spread of

    delta = gamma * sigma**2 * tau + (2 / gamma) * ln(1 + gamma / kappa)

i.e. bid ``r - delta / 2`` and ask ``r + delta / 2``. Units: ``sigma`` in price units per
sqrt(second) (the mid's volatility), ``kappa`` per price unit (fills arrive at
``A * exp(-kappa * depth)``), ``gamma`` per (price unit x lot) (risk aversion), ``tau``
in seconds. The prices are converted to ticks outward (bid down, ask up) and kept
strictly on their side of the mid and off the opposite best quote
(:func:`~agents.tracking.quote_ticks`): at least one tick from the mid when the mid is on
the tick grid, and never crossing.

The horizon. The paper has one terminal time T. With ``horizon_mode = "cyclic"`` (the
default) the run is cut into episodes of ``horizon`` seconds and ``tau = horizon -
(t mod horizon)``: the inventory penalty and the spread shrink towards each episode's
end, then start afresh, as if the maker had to be flat every ``horizon`` seconds. With
``"rolling"``, ``tau = horizon`` always: a stationary maker that always looks ``horizon``
seconds ahead.

Quotes are recomputed every ``requote_interval`` seconds (a timer), not on every market
data message; a live quote is moved with ``modify``. A side is not quoted when a full
fill would take ``|q|`` beyond ``max_inventory`` lots.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agents.maker import QuotingMaker
from agents.tracking import quote_ticks
from lobsim.scenario.config import MAX_COEFFICIENT, MAX_TICKS
from lobsim.units import ns_to_seconds

if TYPE_CHECKING:
    from lobsim.scenario.config import MarketConfig
    from lobsim.sim.gateway import Session
    from lobsim.sim.messages import MarketData, OrderReport

REQUOTE = "requote"  # timer tag


@dataclass(frozen=True)
class AvellanedaStoikovParams:
    gamma: float = field(metadata={
        "gt": 0.0, "max": MAX_COEFFICIENT, "doc": "risk aversion, per (price unit x lot)"})
    sigma: float = field(metadata={
        "min": 0.0, "max": MAX_COEFFICIENT, "doc": "mid volatility, price units per sqrt(second)"})
    kappa: float = field(metadata={
        "gt": 0.0, "max": MAX_COEFFICIENT, "doc": "fill-intensity decay, per price unit of depth"})
    horizon: float = field(default=60.0, metadata={"gt": 0.0, "unit": "s", "doc": "T, seconds"})
    horizon_mode: str = field(default="cyclic", metadata={
        "choices": ("cyclic", "rolling"),
        "doc": "cyclic: tau = horizon - (t mod horizon); rolling: tau = horizon"})
    quote_size: int = field(default=1, metadata={"min": 1, "unit": "lots", "doc": "lots per quote"})
    requote_interval: float = field(default=0.1, metadata={
        "gt": 0.0, "unit": "s", "doc": "seconds between quote updates"})
    max_inventory: int = field(default=100, metadata={
        "min": 1, "unit": "lots",
        "doc": "lots: never quote a side whose fill would take |inventory| beyond this"})

    def check_market(self, market: MarketConfig) -> None:
        """The model's widest spread and its largest inventory shift (tau = horizon,
        |q| = max_inventory) must be finite and at most ``MAX_TICKS`` ticks of ``market``,
        or its quotes cannot be ticks; else ValueError("KEY: why")."""
        limit = MAX_TICKS * market.tick_size
        try:
            risk = self.gamma * self.sigma ** 2 * self.horizon  # price units per lot held
            spread = risk + 2.0 / self.gamma * math.log1p(self.gamma / self.kappa)
        except OverflowError:
            risk = spread = math.inf
        if not spread <= limit:
            raise ValueError(f"gamma: expected a spread gamma sigma^2 horizon + (2 / gamma) "
                             f"ln(1 + gamma / kappa) of at most {limit:.6g} price units "
                             f"({MAX_TICKS:,} ticks), got {spread:.6g}")
        if not risk * self.max_inventory <= limit:
            raise ValueError(f"max_inventory: expected an inventory shift max_inventory gamma "
                             f"sigma^2 horizon of at most {limit:.6g} price units, got "
                             f"{risk * self.max_inventory:.6g}")

    def expected_messages(self, duration_s: float, market: MarketConfig) -> float:
        """Requests in ``duration_s`` seconds: both quotes moved at each requote."""
        return 2 * duration_s / self.requote_interval


class AvellanedaStoikovMaker(QuotingMaker):
    """The Avellaneda & Stoikov (2008) market maker: an inventory-aware reservation price and spread."""

    kind = "avellaneda_stoikov"
    Params = AvellanedaStoikovParams
    compiled = "agents._cmaker:AvellanedaStoikovMaker"

    def __init__(self, name: str, params: AvellanedaStoikovParams, session: Session) -> None:
        super().__init__(name, params, session)
        self.params: AvellanedaStoikovParams = params
        self._interval_ns = max(session.ns(params.requote_interval), 1)

    # ------------------------------------------------------------------ callbacks

    def on_start(self) -> None:
        self.requote()
        self.session.timer(self._interval_ns, REQUOTE)

    def on_market_data(self, data: MarketData) -> None:
        self.top.update(data)

    def on_report(self, report: OrderReport) -> None:
        self.orders.apply(report)

    def on_timer(self, tag: Hashable) -> None:
        if tag == REQUOTE:
            self.requote()
            self.session.timer(self._interval_ns, REQUOTE)

    # ------------------------------------------------------------------ the model

    def time_left(self) -> float:
        """tau = T - t, seconds (see the module docstring for the two modes)."""
        p = self.params
        if p.horizon_mode == "rolling":
            return p.horizon
        return p.horizon - math.fmod(ns_to_seconds(self.session.now), p.horizon)

    def reservation_price(self) -> float:
        """r = s - q * gamma * sigma^2 * tau, price units."""
        p = self.params
        s = self.top.mid * self.session.tick_size
        return s - self.inventory * p.gamma * p.sigma ** 2 * self.time_left()

    def spread(self) -> float:
        """delta = gamma * sigma^2 * tau + (2 / gamma) * ln(1 + gamma / kappa), price units."""
        p = self.params
        return (p.gamma * p.sigma ** 2 * self.time_left()
                + 2.0 / p.gamma * math.log1p(p.gamma / p.kappa))

    def prices(self) -> tuple[int | None, int | None]:
        """(bid, ask) ticks: half the optimal spread either side of the reservation price."""
        tick = self.session.tick_size
        r, half = self.reservation_price(), self.spread() / 2
        return quote_ticks(self.top.mid, (r - half) / tick, (r + half) / tick,
                           self.top.bid, self.top.ask)
