"""A Python-defined agent, written as a user would write one (docs/agents.md), for
``lobsim bench market --user-agent``: it measures what an agent the engine cannot compile
costs a market.

Every 3 ms of simulated time it keeps one one-lot quote on each side one tick outside the
best quotes it last heard of (``l1`` feed): where the price it wants moved, it cancels the
old quote and posts a new post-only limit (cancel and replace, as many agents do). In the standard scenario of
:mod:`lobsim.bench.market` it sends about 5% of the exchange messages.
"""

from __future__ import annotations

from collections.abc import Hashable

from lobsim.book.orders import Side
from lobsim.sim.agent import Agent
from lobsim.sim.messages import OrderCancelled, OrderFilled, OrderRejected, Quote

INTERVAL_S = 0.003


class EdgeQuoter(Agent):
    """One lot a side, one tick outside the best quotes, moved every 3 ms."""

    kind = "bench_edge_quoter"
    feeds = ("l1",)

    def on_start(self) -> None:
        self.best = {Side.BUY: None, Side.SELL: None}  # ticks, from the l1 feed
        self.quotes: dict[Side, list] = {}  # side -> [order id, price ticks]
        self.session.timer(self.session.ns(INTERVAL_S))

    def on_market_data(self, data: object) -> None:
        if type(data) is Quote:
            self.best = {Side.BUY: data.bid, Side.SELL: data.ask}

    def on_report(self, report: object) -> None:
        kind = type(report)
        done = kind is OrderCancelled or kind is OrderRejected or (kind is OrderFilled
                                                                     and report.left == 0)
        if done:
            for side, (order_id, _) in list(self.quotes.items()):
                if order_id == report.order_id:
                    del self.quotes[side]

    def on_timer(self, tag: Hashable) -> None:
        session = self.session
        for side in (Side.BUY, Side.SELL):
            best = self.best[side]
            if best is None:
                continue
            price = best - int(side)  # one tick outside: below the bid, above the ask
            quote = self.quotes.get(side)
            if quote is not None and quote[1] != price:
                session.cancel(quote[0])
                quote = None
            if quote is None:
                self.quotes[side] = [session.limit(side, price, 1, post_only=True), price]
        session.timer(session.ns(INTERVAL_S))
