"""What the scheduled execution agents (``twap``, ``almgren_chriss``) share.

A :class:`ScheduledExecutor` works a parent order of ``parent_qty`` lots between
``start`` and ``start + horizon`` seconds in ``slices`` equal intervals: at the start of
interval ``k`` it sends one market order for what its schedule says should be done by the
end of that interval, less what it has executed and what is still in flight (so a slice
that found no liquidity is caught up by the next). A subclass gives the schedule as the
fraction of the parent still to hold at each slice boundary (:meth:`holdings`: ``slices +
1`` values from 1 down to 0); :func:`slice_lots` rounds it to whole lots. Integer lots and
nanoseconds inside; the parameters are floats at the edge.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lobsim.book.orders import Side
from lobsim.sim.agent import Agent
from lobsim.sim.messages import OrderCancelled, OrderFilled, OrderRejected

if TYPE_CHECKING:
    from lobsim.sim.gateway import Session
    from lobsim.sim.messages import OrderReport


@dataclass(frozen=True)
class ScheduleParams:
    side: str = field(default="buy", metadata={
        "choices": ("buy", "sell"), "doc": "direction of the parent order"})
    parent_qty: int = field(default=20, metadata={
        "min": 1, "max": 1_000_000, "doc": "lots to execute within the horizon"})
    start: float = field(default=0.0, metadata={
        "min": 0.0, "unit": "s", "doc": "seconds of simulated time when the horizon starts"})
    horizon: float = field(default=60.0, metadata={
        "gt": 0.0, "unit": "s", "doc": "seconds the parent order may take, from start"})
    slices: int = field(default=10, metadata={
        "min": 1, "max": 100_000, "doc": "equal intervals of the horizon; one market order at the start of each"})


def slice_lots(parent: int, holdings: Sequence[float]) -> list[int]:
    """Lots to trade in each interval, from the fractions of ``parent`` still held at the
    ``len(holdings)`` boundaries (first 1, last 0). The cumulative target is rounded half
    up at each boundary, so the lots sum to ``parent`` exactly and each slice is within one
    lot of its exact share. O(slices).

    >>> slice_lots(10, [1.0, 2 / 3, 1 / 3, 0.0])
    [3, 4, 3]
    """
    done = [math.floor(parent * (1.0 - h) + 0.5) for h in holdings]
    done[0], done[-1] = 0, parent
    return [b - a for a, b in zip(done, done[1:])]


class ScheduledExecutor(Agent):
    """Works a parent order along :meth:`holdings` with market orders (module docstring)."""

    Params = ScheduleParams
    feeds = ()

    def __init__(self, name: str, params: ScheduleParams, session: Session) -> None:
        super().__init__(name, params, session)
        self.params: ScheduleParams = params
        self.side = Side.BUY if params.side == "buy" else Side.SELL
        self.lots = slice_lots(params.parent_qty, self.holdings())
        self.executed = 0  #: lots filled, from reports
        self.working: dict[int, int] = {}  #: order id -> lots in flight
        self._start_ns = session.ns(params.start)
        self._target = 0  #: lots scheduled up to the current slice

    def holdings(self) -> list[float]:  # pragma: no cover - interface
        """Fractions of the parent held at the ``slices + 1`` boundaries, 1 down to 0."""
        raise NotImplementedError

    def on_start(self) -> None:
        self.session.timer(self._start_ns, 0)

    def on_timer(self, tag: Hashable) -> None:
        k = int(tag)  # type: ignore[arg-type]
        self._target += self.lots[k]
        qty = self._target - self.executed - sum(self.working.values())
        if qty > 0:
            self.working[self.session.market(self.side, qty)] = qty
        if k + 1 < len(self.lots):
            # absolute times: no drift over many slices
            due = self._start_ns + self.session.ns(self.params.horizon * (k + 1) / len(self.lots))
            self.session.timer(max(due - self.session.now, 0), k + 1)

    def on_report(self, report: OrderReport) -> None:
        kind, oid = type(report), report.order_id
        if kind is OrderFilled:
            self.executed += report.qty
        if oid not in self.working:
            return
        if kind is OrderFilled or kind is OrderCancelled:  # a market order's rest is cancelled
            self.working[oid] -= report.qty
        elif kind is OrderRejected:
            self.working[oid] = 0
        if self.working[oid] <= 0:
            del self.working[oid]
