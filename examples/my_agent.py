"""A first agent of your own: a market maker that quotes one lot on each side.

Run it with:  lobsim run examples/my_agent.toml --agents examples/my_agent.py
"""

from dataclasses import dataclass, field

from lobsim import Side
from lobsim.sim.agent import Agent
from lobsim.sim.messages import OrderCancelled, OrderFilled, Quote, TradePrint


@dataclass(frozen=True)
class Params:
    """What a scenario may set for this kind; the loader checks each value."""

    half_spread: int = field(default=2, metadata={"min": 1, "unit": "ticks", "doc": "ticks from the mid to each quote"})
    requote: float = field(default=0.5, metadata={"gt": 0.0, "unit": "s", "doc": "seconds between quote checks"})


class MyMaker(Agent):
    """Quotes around the mid, moves its quotes when the mid moves, and pulls the quote on the
    side the last trade came from."""

    kind = "my_maker"  # the name a scenario uses: kind = "my_maker"
    Params = Params
    feeds = ("l1", "trades")  # best quotes on change, and every trade print

    def on_start(self) -> None:
        self.mid2 = 2 * self.session.initial_price  # twice the mid, in ticks (it may sit on a half tick)
        self.quotes = {Side.BUY: None, Side.SELL: None}  # side -> (our live order id, its price)
        self.session.timer(self.session.ns(self.params.requote), "requote")

    def on_market_data(self, data) -> None:
        if isinstance(data, Quote) and data.bid is not None and data.ask is not None:
            self.mid2 = data.bid + data.ask
        elif isinstance(data, TradePrint):  # buyers are lifting offers: pull our offer for now
            quote = self.quotes[Side.SELL if data.aggressor == Side.BUY else Side.BUY]
            if quote is not None:
                self.session.cancel(quote[0])

    def on_timer(self, tag) -> None:
        for side, sign in ((Side.BUY, -1), (Side.SELL, +1)):
            price = (self.mid2 + sign * 2 * self.params.half_spread) // 2
            quote = self.quotes[side]
            if quote is None:
                self.quotes[side] = (self.session.limit(side, price, 1), price)
            elif quote[1] != price:  # same id, new price: it moves, and loses its queue place
                self.session.modify(quote[0], price=price)
                self.quotes[side] = (quote[0], price)
        self.session.timer(self.session.ns(self.params.requote), "requote")

    def on_report(self, report) -> None:
        gone = (isinstance(report, OrderFilled) and report.left == 0) or isinstance(report, OrderCancelled)
        for side, quote in self.quotes.items():
            if gone and quote is not None and quote[0] == report.order_id:
                self.quotes[side] = None  # quote again at the next timer
