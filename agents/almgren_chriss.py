"""Almgren-Chriss: the risk-averse optimal schedule of a parent order, on discrete slices.

Almgren & Chriss (2000), "Optimal execution of portfolio transactions", section 3 with
permanent impact set aside: over ``N = slices`` intervals of ``tau = horizon / N``
seconds, a trader with risk aversion ``lambda``, facing volatility ``sigma`` and a
temporary impact ``eta`` per unit of trading rate, holds

    x_j = X sinh(kappa (T - t_j)) / sinh(kappa T),   t_j = j tau,

where ``kappa`` solves ``2 (cosh(kappa tau) - 1) / tau**2 = lambda sigma**2 / eta``. The
larger ``lambda sigma**2 / eta``, the more front-loaded the schedule; at ``lambda = 0``
it is TWAP. Slices are rounded to whole lots and sent as market orders
(:mod:`agents.execution`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from agents.execution import ScheduledExecutor, ScheduleParams


@dataclass(frozen=True)
class AlmgrenChrissParams(ScheduleParams):
    risk_aversion: float = field(default=1e-3, metadata={
        "min": 0.0, "max": 1e6, "doc": "lambda, per price unit (x lot): weight of the cost variance"})
    sigma: float = field(default=0.01, metadata={
        "min": 0.0, "max": 1e6, "doc": "mid volatility, price units per sqrt(second)"})
    eta: float = field(default=0.001, metadata={
        "gt": 0.0, "max": 1e6, "doc": "temporary impact, price units per (lot per second) of trading rate"})


def ac_holdings(slices: int, horizon: float, risk_aversion: float, sigma: float,
                eta: float) -> list[float]:
    """Fractions of the parent held at the ``slices + 1`` boundaries (module docstring).

    Written with exponentials of ``-kappa t`` so that a steep schedule (``kappa T`` in the
    hundreds) neither overflows nor loses its last slices. O(slices).
    """
    tau = horizon / slices
    kt2 = risk_aversion * sigma * sigma / eta
    kappa = math.acosh(1.0 + kt2 * tau * tau / 2.0) / tau
    if kappa * horizon < 1e-9:  # no urgency: the straight line (the limit of the formula)
        return [1.0 - j / slices for j in range(slices + 1)]
    total = 1.0 - math.exp(-2.0 * kappa * horizon)
    out = []
    for j in range(slices + 1):
        t = j * tau
        out.append(math.exp(-kappa * t) * (1.0 - math.exp(-2.0 * kappa * (horizon - t))) / total)
    return out


class AlmgrenChrissExecutor(ScheduledExecutor):
    """Executes a parent order along the discrete Almgren-Chriss (2000) schedule of a
    risk-averse trader, one market order per slice (front-loaded; TWAP at no risk aversion)."""

    kind = "almgren_chriss"
    Params = AlmgrenChrissParams

    def holdings(self) -> list[float]:
        p = self.params
        return ac_holdings(p.slices, p.horizon, p.risk_aversion, p.sigma, p.eta)  # type: ignore[attr-defined]
