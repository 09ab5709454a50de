"""TWAP: a parent order cut into equal slices over its horizon (time-weighted average price).

The benchmark schedule of execution studies: hold ``1 - k / slices`` of the parent after
``k`` of the ``slices`` equal intervals, one market order per interval (see
:mod:`agents.execution`). It is the Almgren-Chriss schedule of a trader without risk
aversion (Almgren & Chriss 2000, "Optimal execution of portfolio transactions").
"""

from __future__ import annotations

from agents.execution import ScheduledExecutor, ScheduleParams


class TwapExecutor(ScheduledExecutor):
    """Executes a parent order in equal slices over its horizon, one market order per
    slice (catching up what earlier slices could not fill)."""

    kind = "twap"
    Params = ScheduleParams

    def holdings(self) -> list[float]:
        n = self.params.slices
        return [1.0 - k / n for k in range(n + 1)]
