"""What every scripted market maker shares: a quote pair kept through the gateway, the
top of book, inventory from its own fills, and the inventory limit.

A subclass says where it wants to quote (:meth:`QuotingMaker.prices`, ticks, before the
limit); :meth:`QuotingMaker.requote` applies ``max_inventory`` and moves the live quotes
there (``modify`` when a quote is live, a new post-only order when not).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lobsim.sim.agent import Agent
from agents.tracking import LiveOrders, QuotePair, TopOfBook

if TYPE_CHECKING:
    from lobsim.sim.gateway import Session


class QuotingMaker(Agent):
    """Base of the baseline makers. Params must have ``quote_size`` and ``max_inventory``."""

    feeds = ("l1",)

    def __init__(self, name: str, params: object, session: Session) -> None:
        super().__init__(name, params, session)
        self.orders = LiveOrders()
        self.quotes = QuotePair(session, self.orders)
        self.top = TopOfBook(session.symbol, session.initial_price)

    @property
    def inventory(self) -> int:
        """Lots held (+ long, - short), from own fills."""
        return self.orders.position

    def prices(self) -> tuple[int | None, int | None]:
        """(bid, ask) ticks the model wants; None for a side it does not quote."""
        raise NotImplementedError

    def targets(self) -> tuple[int | None, int | None]:
        """(bid, ask) ticks to quote now: :meth:`prices` without any side whose full fill
        would take ``|inventory|`` beyond ``max_inventory``."""
        bid, ask = self.prices()
        q, size, limit = self.inventory, self.params.quote_size, self.params.max_inventory
        if q + size > limit:
            bid = None
        if q - size < -limit:
            ask = None
        return bid, ask

    def requote(self) -> None:
        bid, ask = self.targets()
        self.quotes.update(bid, ask, self.params.quote_size)
