"""A market maker that quotes a fixed spread around the mid, skewed by its inventory.

Quotes: bid ``c - half_spread``, ask ``c + half_spread`` ticks, with the centre
``c = anchor - skew_per_lot * inventory`` (long: both quotes lower, to sell more and buy
less). ``anchor`` is the mid (ticks) at the last re-quote; it follows the market only
when the mid has moved by ``requote_ticks`` or more, which keeps queue priority (and
the message rate) while the market jitters, and never to a mid that one of its own
quotes made (:meth:`FixedSpreadMaker.at_touch` when that mid was quoted): chasing it is
a feedback loop, which a skew turns into a runaway (``docs/engine-edges.md``). Prices
round outward and never reach the mid or the opposite best
(:func:`~agents.tracking.quote_ticks`).

A live quote is moved with ``modify`` (price, and qty back to ``quote_size``); a quote
filled completely is replaced by a new one at once. Inventory (lots) comes from its own
fills. A side is not quoted when a full fill of it would take the inventory beyond
``max_inventory`` lots either way, so ``|inventory| <= max_inventory`` always holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agents.maker import QuotingMaker
from agents.tracking import quote_ticks
from lobsim.scenario.config import MAX_TICKS
from lobsim.sim.messages import OrderFilled
from lobsim.book.orders import Side

if TYPE_CHECKING:
    from lobsim.sim.gateway import Session
    from lobsim.sim.messages import MarketData, OrderReport


@dataclass(frozen=True)
class FixedSpreadParams:
    half_spread: int = field(default=1, metadata={
        "min": 1, "unit": "ticks", "doc": "ticks from the (skewed) mid to each quote"})
    quote_size: int = field(default=1, metadata={"min": 1, "unit": "lots", "doc": "lots per quote"})
    requote_ticks: int = field(default=1, metadata={
        "min": 1, "unit": "ticks", "doc": "re-quote when the mid has moved this many ticks since the last quote"})
    skew_per_lot: float = field(default=0.0, metadata={
        "min": 0.0, "unit": "ticks", "doc": "ticks the quotes move against the inventory, per lot held"})
    max_inventory: int = field(default=100, metadata={
        "min": 1, "unit": "lots",
        "doc": "lots: never quote a side whose fill would take |inventory| beyond this"})

    def __post_init__(self) -> None:
        if not self.skew_per_lot * self.max_inventory + self.half_spread <= MAX_TICKS:
            raise ValueError(f"skew_per_lot: expected skew_per_lot x max_inventory + half_spread "
                             f"of at most {MAX_TICKS:,} ticks, got "
                             f"{self.skew_per_lot * self.max_inventory + self.half_spread:.6g}")


class FixedSpreadMaker(QuotingMaker):
    """A market maker that quotes a fixed spread around the mid, skewed by its inventory."""

    kind = "fixed_spread"
    Params = FixedSpreadParams
    compiled = "agents._cmaker:FixedSpreadMaker"

    def __init__(self, name: str, params: FixedSpreadParams, session: Session) -> None:
        super().__init__(name, params, session)
        self.params: FixedSpreadParams = params
        self.anchor = float(session.initial_price)  #: ticks: the mid quoted around
        #: whether ``top.mid`` (the last two-sided mid) had one of its own quotes at the touch
        self.own_mid = False

    def on_start(self) -> None:
        self.requote()

    def on_market_data(self, data: MarketData) -> None:
        if not self.top.update(data):
            return
        if self.top.bid is not None and self.top.ask is not None:  # a new mid: whose is it?
            self.own_mid = self.at_touch()
        # A one-sided quote keeps the last mid, and with it whose it was.
        if abs(self.top.mid - self.anchor) >= self.params.requote_ticks and not self.own_mid:
            self.anchor = self.top.mid
        # Idempotent when nothing changed; re-posts a side refused earlier (post-only).
        self.requote()

    def at_touch(self) -> bool:
        """Whether one of its own quotes is the best bid or ask of the latest quote: the
        mid is then partly its own making, and following it would chase its own quotes.

        Compared at the price the exchange has confirmed (``price``, once accepted), which
        is what the quote shows: a quote's own reports arrive just before it, on the same
        ordered leg. Not at the price of modifies still in flight (``target_price``): the
        quote cannot show those yet, and a maker that looked there missed its own quotes
        at the touch whenever it had moved them, and chased them (``docs/engine-edges.md``)."""
        bid, ask = self.quotes.order(Side.BUY), self.quotes.order(Side.SELL)
        return ((bid is not None and bid.accepted and bid.price == self.top.bid)
                or (ask is not None and ask.accepted and ask.price == self.top.ask))

    def on_report(self, report: OrderReport) -> None:
        self.orders.apply(report)
        if type(report) is OrderFilled:
            self.requote()  # new skew, and a filled side needs a new quote

    def prices(self) -> tuple[int | None, int | None]:
        """(bid, ask) ticks: ``half_spread`` around the skewed anchor."""
        p = self.params
        centre = self.anchor - p.skew_per_lot * self.inventory
        return quote_ticks(self.anchor, centre - p.half_spread, centre + p.half_spread,
                           self.top.bid, self.top.ask)
