"""Queue-reactive order flow with self-exciting (Hawkes) timing: events come in bursts.

The model. Every event of the queue-reactive population (:mod:`agents.queue_reactive`:
limit orders by distance, inside-spread orders, market orders, cancels) happens at the
points of one univariate Hawkes process with an exponential kernel::

    lambda(t) = (1 - n) R(t) + sum over past events i of  n beta exp(-beta (t - t_i))

``R(t)`` is the queue-reactive total rate (events per second; it changes only with the
number of live orders), ``n`` = ``branching`` is the mean number of events each event
triggers (0 <= n < 1) and ``beta`` = ``decay`` per second how fast the excitement fades
(a burst lasts about 1/beta s). The long-run event rate stays ``R``: the baseline is
scaled by ``1 - n``, and a fraction ``n`` of all events are triggered ones. Which event a
point is, is drawn in proportion to the queue-reactive rates at that moment, so the mix of
events (and the cancels per resting order on average) is the queue-reactive one, while the
timing is bursty: the inter-arrival coefficient of variation grows above 1 with ``n``.
``branching = 0`` is the queue-reactive flow itself.

Exact simulation (Dassios & Zhao 2013, the exact method for the exponential kernel): with
excitement ``E`` now and baseline ``mu``, the next point is the earlier of an exponential
wait at rate ``mu`` and ``-ln(1 + beta ln(U) / E) / beta`` (never, when the log's argument
is not positive). The state ``(mu, E)`` is Markov, so when ``mu`` changes between points
(an order comes or goes, a best quote moves) the pending draw is replaced by a fresh one,
still exact.
Per event: O(1) plus the queue-reactive choice.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agents.poisson import EventClock, total_of
from agents.queue_reactive import MAX_RATE, QueueReactiveParams, QueueReactiveTrader

if TYPE_CHECKING:
    from lobsim.sim.gateway import Session


class HawkesClock(EventClock):
    """The next point of a self-exciting process, as one pending ``session.timer``.

    :meth:`schedule` takes the baseline rate (per second) and draws the next point from
    the excitement decayed to now; :meth:`excite` adds one point's jump (``jump`` per
    second) at the current time. Staleness works as in :class:`EventClock`.
    """

    __slots__ = ("decay", "jump", "_excitement", "_since_ns")

    def __init__(self, session: Session, decay: float, jump: float) -> None:
        super().__init__(session)
        self.decay = decay  #: per second
        self.jump = jump  #: events per second added by each point
        self._excitement = 0.0  #: events per second, as of _since_ns
        self._since_ns = 0

    def excitement(self) -> float:
        """The excess intensity now, events per second."""
        elapsed_s = (self.session.now - self._since_ns) / 1e9
        return self._excitement * math.exp(-self.decay * elapsed_s)

    def excite(self) -> None:
        """Register a point now: the excitement jumps by ``jump``."""
        self._excitement = self.excitement() + self.jump
        self._since_ns = self.session.now

    def schedule(self, total_rate: float) -> None:
        """Draw the next point from now with baseline ``total_rate`` events/s."""
        self._excitement, self._since_ns = self.excitement(), self.session.now
        self._generation += 1
        rng = self.session.rng
        wait_s = rng.exponential(1.0 / total_rate) if total_rate > 0 else math.inf
        if self._excitement > 0:
            d = 1.0 + self.decay * math.log1p(-rng.random()) / self._excitement
            if d > 0:
                wait_s = min(wait_s, -math.log(d) / self.decay)
        if wait_s < self.NEVER_S:
            self.session.timer(max(self.session.ns(wait_s), 1), ("event", self._generation))


@dataclass(frozen=True)
class HawkesParams(QueueReactiveParams):
    branching: float = field(default=0.7, metadata={
        "min": 0.0, "max": 0.99, "doc": "n: mean number of events each event triggers "
                                        "(0: Poisson timing; the closer to 1, the burstier)"})
    decay: float = field(default=10.0, metadata={
        "gt": 0.0, "max": MAX_RATE, "doc": "beta: per second; a burst fades in about 1/beta s"})


class HawkesTrader(QueueReactiveTrader):
    """Queue-reactive choices at the points of a Hawkes process (module docstring)."""

    kind = "hawkes"
    Params = HawkesParams

    def __init__(self, name: str, params: HawkesParams, session: Session) -> None:
        super().__init__(name, params, session)
        self.params: HawkesParams = params  # type: ignore[assignment]
        self.clock = HawkesClock(session, params.decay, params.branching * params.decay)

    def _schedule(self) -> None:
        self.clock.schedule((1.0 - self.params.branching) * total_of(self.rates()))

    def on_timer(self, tag: Hashable) -> None:
        if self.clock.is_due(tag):
            self.clock.excite()  # before the redraw that PoissonFlow.on_timer makes
        super().on_timer(tag)
