"""The shape shared by traders that look at the best quotes at Poisson times and may trade.

A :class:`LookingTrader` keeps the top of book from its ``l1`` feed and, at the events of a
Poisson stream of rate ``params.trade_rate`` per second (one :class:`~agents.poisson.EventClock`),
calls :meth:`LookingTrader.look`, which a subclass writes. The ``value`` and ``momentum``
kinds are such traders.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from agents.poisson import EventClock
from agents.tracking import TopOfBook
from lobsim.sim.agent import Agent

if TYPE_CHECKING:
    from lobsim.sim.gateway import Session
    from lobsim.sim.messages import MarketData


class LookingTrader(Agent):
    """Looks at the book at the events of a Poisson stream; see the module docstring.
    ``Params`` must have ``trade_rate`` (looks per second, the whole population)."""

    feeds = ("l1",)
    self_trade_prevention = False  # a population of independent traders

    def __init__(self, name: str, params: Any, session: Session) -> None:
        super().__init__(name, params, session)
        self.top = TopOfBook(session.symbol, session.initial_price)
        self.clock = EventClock(session)

    def on_start(self) -> None:
        self.clock.schedule(self.params.trade_rate)

    def on_market_data(self, data: MarketData) -> None:
        self.top.update(data)

    def on_timer(self, tag: Hashable) -> None:
        if self.clock.is_due(tag):
            self.look()
            self.clock.schedule(self.params.trade_rate)

    def look(self) -> None:
        """One look at the book: trade or not (the subclass's rule)."""
        raise NotImplementedError
