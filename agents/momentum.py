"""Momentum traders: they buy after the price rose and sell after it fell (ABIDES family).

The model. A population (one agent) looks at the book at ``trade_rate`` per second and
keeps two exponential moving averages of the mid it sees there, with time constants
``short_window`` and ``long_window`` seconds (an average over irregular looks: the
weight of a new mid is ``1 - exp(-dt / window)``). At a look, if the short average is
more than ``threshold`` ticks above the long one it buys ``order_size`` lots at market,
if it is as far below it sells. Chasing trends feeds them: with value traders
(:mod:`agents.fundamental`) pulling the price back, it makes volatility cluster.

Units: seconds, ticks, lots. The mid comes from the ``l1`` feed; a look at a one-sided
book updates nothing and trades nothing. O(1) per look.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agents.looking import LookingTrader
from agents.queue_reactive import MAX_RATE
from lobsim.book.orders import Side

if TYPE_CHECKING:
    from lobsim.sim.gateway import Session


@dataclass(frozen=True)
class MomentumParams:
    trade_rate: float = field(default=1.0, metadata={
        "min": 0.0, "max": MAX_RATE, "doc": "looks at the book per second (whole population)"})
    short_window: float = field(default=5.0, metadata={
        "gt": 0.0, "max": 1e6, "doc": "seconds: time constant of the short moving average"})
    long_window: float = field(default=30.0, metadata={
        "gt": 0.0, "max": 1e6, "doc": "seconds: time constant of the long moving average"})
    threshold: float = field(default=2.0, metadata={
        "min": 0.0, "max": 1e9, "doc": "ticks: least gap between the averages traded on"})
    order_size: int = field(default=1, metadata={
        "min": 1, "max": 10**9, "doc": "lots per market order"})

    def __post_init__(self) -> None:
        if self.short_window >= self.long_window:
            raise ValueError(f"short_window must be below long_window, got "
                             f"{self.short_window!r} and {self.long_window!r}")


class MomentumTrader(LookingTrader):
    """Trend followers on two moving averages of the mid (module docstring)."""

    kind = "momentum"
    Params = MomentumParams

    def __init__(self, name: str, params: MomentumParams, session: Session) -> None:
        super().__init__(name, params, session)
        self.params: MomentumParams = params
        self.short = self.long = float(session.initial_price)  #: ticks
        self._last_ns = 0

    def look(self) -> None:
        """Update both averages with the current mid, then trade on their gap."""
        top, p, now = self.top, self.params, self.session.now
        if top.bid is None or top.ask is None:
            return
        dt = (now - self._last_ns) / 1e9
        self._last_ns = now
        mid = (top.bid + top.ask) / 2
        self.short += -math.expm1(-dt / p.short_window) * (mid - self.short)
        self.long += -math.expm1(-dt / p.long_window) * (mid - self.long)
        gap = self.short - self.long
        if gap > p.threshold:
            self.session.market(Side.BUY, p.order_size)
        elif gap < -p.threshold:
            self.session.market(Side.SELL, p.order_size)
