"""The exchange: one order book per symbol behind a gateway.

It receives agents' requests (already delayed by their inbound latency), checks rate
limits and ownership, runs the book, books fills in the ledger, records every message
and report, and sends each affected agent one batch of reports and market data, delayed
by that agent's outbound latency. It knows nothing of learning, and nothing of SimPy
beyond the scheduler's clock.

Per request: O(book operation + reports + subscribers that must be told). Memory: a
record per live order only (one leaving the book is checked for conservation and
forgotten: :meth:`Exchange._retire`), plus its owner, 4 B per accepted id
(:mod:`lobsim.sim.owners`), so a long run's memory stays flat (docs/streaming.md).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from lobsim.book.orderbook import OrderBook
from lobsim.scenario.config import MarketConfig
from lobsim.errors import LivelockError
from lobsim.sim.ledger import Ledger, in_range
from lobsim.sim.owners import Owners
from lobsim.sim.messages import (FEEDS, CancelRejected, Depth, OrderAccepted, OrderCancelled,
                                 OrderFilled, OrderModified, OrderRejected, Quote, TradePrint)
from lobsim.book.orders import CancelCause, RejectReason, Side
from lobsim.sim.recorder import (ACCEPTED, CANCEL_REJECTED, CANCELLED, FILL, MODIFIED, REJECTED,
                                 Recorder)
from lobsim.sim.requests import Request
from lobsim.book.reports import Cancelled, Modified, Rejected, Traded
from lobsim.sim.scheduler import Scheduler
from lobsim.units import NS_PER_SECOND, price_to_ticks

if TYPE_CHECKING:
    from lobsim.sim.gateway import Session

# The hot path builds each report with tuple.__new__, as a NamedTuple's own constructor
# runs a Python frame; and reads an enum's value or opposite from a dict, not a property.
_new = tuple.__new__
OPPOSITE = {Side.BUY: Side.SELL, Side.SELL: Side.BUY}
VALUE = {member: member.value for enum in (RejectReason, CancelCause) for member in enum}


class OrderRecord:
    """A live order as the exchange keeps it (one per accepted order, made by
    :func:`new_record`, dropped when the order leaves the book: see
    :meth:`Exchange._retire`): its session and symbol, and its lots submitted (a modify up
    adds to them), filled and cancelled (a modify down counts as cancelled). Conservation:
    submitted = filled + cancelled + what still rests."""

    session: Session
    symbol: str
    submitted: int
    filled: int
    cancelled: int

    def unaccounted(self) -> int:
        """Lots neither filled nor cancelled: what still rests, if conserved."""
        return self.submitted - self.filled - self.cancelled


def new_record(session: Session, symbol: str, submitted: int) -> OrderRecord:
    """The record of an order just accepted: ``submitted`` lots, none filled or cancelled.
    ``__new__`` and plain stores, not a constructor: compiled, this skips the argument
    parsing of a Python-level call, once per accepted order."""
    record = OrderRecord.__new__(OrderRecord)
    record.session, record.symbol = session, symbol
    record.submitted, record.filled, record.cancelled = submitted, 0, 0
    return record


class Venue:
    """One symbol's book and what the exchange tracks about it."""

    def __init__(self, symbol: str, initial_price: int) -> None:
        self.symbol = symbol
        self.book = OrderBook()
        self.l1: tuple = (None, 0, None, 0)  # (bid, bid lots, ask, ask lots)
        self.mid2 = 2 * initial_price  # twice the last two-sided mid, ticks (integer)
        self.l1_since_ns = 0  # when the current l1 began
        self.spread_ns_sum = 0  # sum of spread (ticks) x time (ns) while two-sided
        self.two_sided_ns = 0  # time with both sides quoted, ns
        self.trades = 0
        self.volume = 0  # lots


class Traffic:
    """What the exchange counts of one session's messages, for its rate limit and the
    runaway guard: its own state, never written into the session."""

    def __init__(self) -> None:
        self.arrivals: deque = deque()  #: arrival times within the last second, ns
        self.burst_ns = -1  #: the instant of the latest messages
        self.burst = 0  #: how many arrived at that instant (see Exchange.MAX_BURST)
        self.window = -1  #: the simulated millisecond of the latest messages
        self.window_messages = 0  #: how many arrived within it


class Box:
    """What one request (or L2 snapshot) sends one session: ``items`` (None between
    requests), stamped to arrive at ``arrival`` ns. One per session, kept by the exchange
    and reused: a request makes no dictionary of deliveries."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.arrival = 0
        self.items: list | None = None


class Exchange:
    """Matches requests for every symbol; see the module docstring."""

    #: Messages one agent may send at a single instant before the run stops with a
    #: LivelockError: far above any real burst, and what stops a zero-latency agent that
    #: answers its own quotes from freezing simulated time forever.
    MAX_BURST = 100_000
    #: ns per window of the rate guard (``MarketConfig.max_messages_per_ms``).
    RATE_WINDOW_NS = 1_000_000

    def __init__(self, scheduler: Scheduler, market: MarketConfig, ledger: Ledger,
                 recorder: Recorder) -> None:
        self.scheduler = scheduler
        self.market = market
        self.ledger = ledger
        self.recorder = recorder
        self.initial_price = price_to_ticks(market.initial_price, market.tick_size)
        self.venues = {market.symbol: Venue(market.symbol, self.initial_price)}
        self.subscribers: dict[str, list[Session]] = {feed: [] for feed in FEEDS}
        self.orders: dict[int, OrderRecord] = {}  #: live order id -> its record
        self.owners = Owners()  #: every accepted id's session index, for the whole run
        #: the audit's running totals: orders that left the book, their conservation
        #: checked as they left, and the ids of those that failed it (in the order they left)
        self.orders_retired = 0
        self.unconserved: list[int] = []
        self.messages = 0  # requests received
        self.max_burst = self.MAX_BURST  #: this exchange's (a test may lower it)
        # read once per message: kept here, where the compiled build holds them as int64
        self._max_per_ms, self._window_ns = market.max_messages_per_ms, self.RATE_WINDOW_NS
        self._last_id = 0
        self._traffic: dict[Session, Traffic] = {}
        self._boxes: list[Box | None] = []  #: by session index
        self._filled: list[Box] = []  #: the boxes given something since the last send

    def new_order_id(self) -> int:
        """A fresh exchange order id (a global counter: agents can never collide)."""
        self._last_id += 1
        return self._last_id

    def subscribe(self, session: Session, feed: str) -> None:
        self.subscribers[feed].append(session)

    # ------------------------------------------------------------------ requests

    def receive(self, request: Request) -> None:
        """A request reaches the exchange (scheduled by the sender's session)."""
        session = request.session
        now = self.scheduler.now
        self.messages += 1
        traffic = self._traffic.get(session)
        if traffic is None:
            traffic = self._traffic[session] = Traffic()
        self._guard(session.name, traffic, now)
        self.recorder.request(now, session.index, request)
        if session.rate_limit and self._over_rate(traffic, session.rate_limit, now):
            self._refuse(session, request, RejectReason.RATE_LIMITED)
        elif request.is_new_order():
            self._new_order(session, request)
        elif request.op == "cancel":
            self._cancel(session, request)
        else:
            self._modify(session, request)
        self._send()

    def _guard(self, name: str, traffic: Traffic, now: int) -> None:
        """Stop a runaway: :class:`LivelockError` when agent ``name``'s messages at this
        instant pass ``MAX_BURST``, or those within this simulated millisecond (windows
        from t=0) pass the market's ``max_messages_per_ms``. O(1)."""
        if now != traffic.burst_ns:
            traffic.burst_ns, traffic.burst = now, 1
        else:
            traffic.burst += 1
            if traffic.burst > self.max_burst:
                raise LivelockError.burst(name, traffic.burst, now)
        window = now // self._window_ns
        if window != traffic.window:
            traffic.window, traffic.window_messages = window, 1
        else:
            traffic.window_messages += 1
            if traffic.window_messages > self._max_per_ms:
                raise LivelockError.rate(name, traffic.window_messages, now, traffic.burst,
                                         self._max_per_ms)

    @staticmethod
    def _over_rate(traffic: Traffic, rate_limit: int, now: int) -> bool:
        """Sliding one-second window per agent. O(1) amortized."""
        arrivals = traffic.arrivals
        while arrivals and arrivals[0] <= now - NS_PER_SECOND:
            arrivals.popleft()
        if len(arrivals) >= rate_limit:
            return True
        arrivals.append(now)
        return False

    def _new_order(self, session: Session, request: Request) -> None:
        order_id, symbol, side, price, qty = (request.order_id, request.symbol, request.side,
                                              request.price, request.qty)
        venue = self.venues.get(symbol) if isinstance(symbol, str) else None
        if venue is None:
            self._refuse(session, request, RejectReason.UNKNOWN_SYMBOL)
            return
        owner = session if session.self_trade_prevention else order_id
        book = venue.book
        if request.op == "limit":
            reports = book.limit(order_id, owner, side, price, qty, request.tif, request.post_only)
        else:
            reports = book.market(order_id, owner, side, qty)
        if reports and type(reports[0]) is Rejected:
            self._refuse(session, request, reports[0].reason)
            return
        now = self.scheduler.now
        self.orders[order_id] = new_record(session, symbol, qty)
        self.owners.set(order_id, session.index)
        box = self._box(session)
        box.items.append(_new(OrderAccepted, (order_id, symbol, side, price, qty, now, box.arrival)))
        self.recorder.row(now, ACCEPTED, session.index, order_id, side, price, qty, None)
        self._apply(venue, reports)
        self._quote_if_changed(venue)

    def _cancel(self, session: Session, request: Request) -> None:
        if self._owns(session, request):
            venue = self.venues[self._symbol_of(request.order_id)]
            self._apply(venue, venue.book.cancel(request.order_id), request, session)
            self._quote_if_changed(venue)

    def _modify(self, session: Session, request: Request) -> None:
        if self._owns(session, request):
            venue = self.venues[self._symbol_of(request.order_id)]
            reports = venue.book.modify(request.order_id, qty=request.qty, price=request.price)
            self._apply(venue, reports, request, session)
            self._quote_if_changed(venue)

    def _owns(self, session: Session, request: Request) -> bool:
        """Whether the order a cancel/modify names was accepted from the sender, live or
        finished (the book then answers: a finished order is ``unknown_id`` to it); else
        refuse: ``unknown_id`` if no order was accepted under that id, else ``not_owner``."""
        owner = self.owners.get(request.order_id)
        if owner == session.index:
            return True
        reason = RejectReason.UNKNOWN_ID if owner < 0 else RejectReason.NOT_OWNER
        self._refuse(session, request, reason)
        return False

    def _refuse(self, session: Session, request: Request, reason: RejectReason) -> None:
        """Answer a request with a reject (new order) or cancel-reject (cancel/modify)."""
        now = self.scheduler.now
        op, order_id = request.op, request.order_id
        box = self._box(session)
        if request.is_new_order():
            item: Any = _new(OrderRejected, (order_id, request.symbol, VALUE[reason], now, box.arrival))
            kind = REJECTED
        else:
            item = _new(CancelRejected, (order_id, self._symbol_of(order_id), op, VALUE[reason],
                                         now, box.arrival))
            kind = CANCEL_REJECTED
        box.items.append(item)
        self.recorder.row(now, kind, session.index, order_id, None, None, None, VALUE[reason])

    def _symbol_of(self, order_id: Hashable) -> str:
        """A live order's symbol; else the market's (a finished order's too: one venue)."""
        try:
            order = self.orders.get(order_id)
        except TypeError:
            order = None
        return order.symbol if order is not None else self.market.symbol

    # ------------------------------------------------------------------ book reports

    def _apply(self, venue: Venue, reports: list, request: Request | None = None,
               session: Session | None = None) -> None:
        """Turn the book's reports into ledger entries, records and agent deliveries, then
        retire the orders they took out of the book. ``request``, ``session``: the
        cancel/modify and its sender, to whom a refusal by the book goes."""
        for report in reports:
            kind = type(report)
            if kind is Traded:
                self._trade(venue, report)
            elif kind is Cancelled:
                self._cancelled(report)
            elif kind is Modified:
                self._modified(report)
            else:  # Rejected: a cancel/modify the book refused (the order is no longer live)
                self._refuse(session, request, report.reason)  # type: ignore[arg-type]
        self._retire(venue, reports)

    def _retire(self, venue: Venue, reports: list) -> None:
        """Drop the record of every order these reports name that the book no longer
        holds, checking its conservation (submitted = filled + cancelled lots) as it goes:
        the audit's running totals (``orders_retired``, ``unconserved``). What stays of it
        is its owner in ``owners``. Asked about: the orders cancelled, each trade's taker,
        and its maker when the book says none is left (a modified order stays in the
        book; a fill after the change is its own report). O(reports)."""
        orders, remaining = self.orders, venue.book.remaining
        for report in reports:
            kind = type(report)
            if kind is Traded:
                ids: tuple = (report.taker,) if report.maker_left else (report.maker, report.taker)
            elif kind is Cancelled:
                ids = (report.order_id,)
            else:
                continue
            for order_id in ids:
                order = orders.get(order_id)
                if order is not None and not remaining(order_id):
                    del orders[order_id]
                    self.orders_retired += 1
                    if order.unaccounted() != 0:
                        self.unconserved.append(order_id)

    def _trade(self, venue: Venue, trade: Traded) -> None:
        now = self.scheduler.now
        maker, taker = self.orders[trade.maker], self.orders[trade.taker]
        price, qty, aggressor = trade.price, trade.qty, trade.aggressor
        maker.filled += qty
        taker.filled += qty
        venue.trades += 1
        venue.volume = in_range(venue.volume + qty, "the market's volume")
        ledger, symbol, mid2 = self.ledger, venue.symbol, venue.mid2
        maker_session, taker_session = maker.session, taker.session
        ledger.fill(maker_session.index, -aggressor, price, qty, mid2, self.market.maker_fee)
        ledger.fill(taker_session.index, aggressor, price, qty, mid2, self.market.taker_fee)
        box = self._box(maker_session)
        box.items.append(_new(OrderFilled, (trade.maker, symbol, OPPOSITE[aggressor], price, qty,
                                         trade.maker_left, True, now, box.arrival)))
        box = self._box(taker_session)
        box.items.append(_new(OrderFilled, (trade.taker, symbol, aggressor, price, qty,
                                         taker.unaccounted(),
                                         False, now, box.arrival)))
        record = self.recorder.row
        record(now, FILL, maker_session.index, trade.maker, OPPOSITE[aggressor], price, qty, "maker")
        record(now, FILL, taker_session.index, trade.taker, aggressor, price, qty, "taker")
        for subscriber in self.subscribers["trades"]:
            box = self._box(subscriber)
            box.items.append(_new(TradePrint, (symbol, price, qty, aggressor, now, box.arrival)))

    def _cancelled(self, report: Cancelled) -> None:
        now = self.scheduler.now
        order = self.orders[report.order_id]
        order.cancelled += report.qty
        session = order.session
        box = self._box(session)
        box.items.append(_new(OrderCancelled, (report.order_id, order.symbol, report.qty,
                                            VALUE[report.cause], now, box.arrival)))
        self.recorder.row(now, CANCELLED, session.index, report.order_id, None, None, report.qty,
                          VALUE[report.cause])

    def _modified(self, report: Modified) -> None:
        now = self.scheduler.now
        order = self.orders[report.order_id]
        change = report.qty - report.old_qty  # an increase is new qty, a decrease a cancel
        if change > 0:
            order.submitted = in_range(order.submitted + change,
                                        f"the lots submitted to order {report.order_id}")
        else:
            order.cancelled -= change
        session = order.session
        box = self._box(session)
        box.items.append(_new(OrderModified, (report.order_id, order.symbol, report.price,
                                           report.qty, now, box.arrival)))
        self.recorder.row(now, MODIFIED, session.index, report.order_id, report.side,
                          report.price, report.qty, None)

    # ------------------------------------------------------------------ market data

    def _quote_if_changed(self, venue: Venue) -> None:
        """Publish L1 to subscribers if the top of book changed; keep spread statistics."""
        l1 = venue.book.top()
        if l1 == venue.l1:
            return
        bid, ask = l1[0], l1[2]
        now = self.scheduler.now
        old = venue.l1
        if old[0] is not None and old[2] is not None:
            elapsed = now - venue.l1_since_ns
            venue.spread_ns_sum += (old[2] - old[0]) * elapsed
            venue.two_sided_ns += elapsed
        venue.l1 = l1
        venue.l1_since_ns = now
        if bid is not None and ask is not None:
            venue.mid2 = bid + ask
        for subscriber in self.subscribers["l1"]:
            box = self._box(subscriber)
            box.items.append(_new(Quote, (venue.symbol, l1[0], l1[1], l1[2], l1[3], now, box.arrival)))

    def publish_depth(self, levels: int) -> None:
        """Send an L2 snapshot of every book to the ``l2`` subscribers (called on a timer)."""
        now = self.scheduler.now
        for venue in self.venues.values():
            bids, asks = venue.book.depth(levels)
            for subscriber in self.subscribers["l2"]:
                box = self._box(subscriber)
                box.items.append(_new(Depth, (venue.symbol, tuple(bids), tuple(asks), now, box.arrival)))
        self._send()

    def close_statistics(self) -> None:
        """Account the time since the last L1 change (call once at the end of a run)."""
        now = self.scheduler.now
        for venue in self.venues.values():
            bid, _, ask, _ = venue.l1
            if bid is not None and ask is not None:
                venue.spread_ns_sum += (ask - bid) * (now - venue.l1_since_ns)
                venue.two_sided_ns += now - venue.l1_since_ns
            venue.l1_since_ns = now

    # ------------------------------------------------------------------ delivery

    def _box(self, session: Session) -> Box:
        """``session``'s :class:`Box` for this request (or snapshot), its arrival drawn on
        first use: one delivery per agent per request, sent by :meth:`_send` in the order
        the agents were first given something. O(1) amortized."""
        boxes, index = self._boxes, session.index
        while len(boxes) <= index:
            boxes.append(None)
        box = boxes[index]
        if box is None:
            box = boxes[index] = Box(session)
        if box.items is None:
            box.arrival = session.outbound.arrival(self.scheduler.now)
            box.items = []
            self._filled.append(box)
        return box

    def _send(self) -> None:
        """Deliver every box filled since the last send, and empty them."""
        for box in self._filled:
            box.session.deliver(box.arrival, box.items)
            box.items = None
        self._filled.clear()
