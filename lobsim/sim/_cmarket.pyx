# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The compiled market engine: a whole run of compiled agents, in C.

:class:`lobsim.sim.market.Market` builds a run as Python objects (sessions, latency legs,
exchange, agents) and, when every agent has a compiled twin (``agents/_cflow.pyx``,
``agents/_cmaker.pyx``),
hands that object graph to :class:`Engine`, which runs it without SimPy or a Python call
per event. It is the Python engine restated, step for step:

* one queue of ``(time ns, sequence number)`` entries, the sequence number counting every
  entry ever scheduled, as SimPy's event id does, so equal times keep scheduling order;
  a run stops before the entries at its end time, as ``env.run(until=...)`` does;
* sessions: order ids from one counter at send time, the same latency legs
  (:class:`lobsim.sim.latency.Leg`: their batches are drawn by the Leg itself), one
  delivery per agent per request, opened in the order the exchange first addresses it;
* the exchange: the same order book object, its reports turned into ledger entries,
  event rows and agent items in the order ``lobsim.sim.exchange.Exchange`` makes them;
* the recorder: columns of integers instead of tuples (``lobsim.sim.recorder.EventColumns``),
  handed to the market's sink every ``sink.batch_rows`` rows, as the Python recorder's
  rows are; snapshot rows go to the market's ``lobsim.sim.recorder.Samples``, as in Python.

So a run gives byte-identical files on either engine; ``tests/test_cmarket.py`` checks
it scenario by scenario. What it does not do, the Python engine does: learners and any
other Python agent, rate limits, the trades and l2 feeds, several symbols
(:func:`lobsim.sim.market.compiled_engine_refusal` says which rule a scenario breaks).

Units as everywhere in the core: ticks, lots, ns. Costs: O(log pending entries) per
entry, plus the book's own costs. Range: every figure is int64 here, where Python's ints
have no bound, so both engines stop a run whose figures would leave int64 with the same
``RangeError`` (``lobsim.sim.ledger`` decides; fills are computed exactly in 128 bits here),
and times saturate at ``HORIZON_NS``, past every run's end, where SimPy's would grow on:
a message or timer due past it never happens on either engine. Every helper that can
fail (an allocation, a range) propagates its error: nothing is "ignored" (no ``noexcept``
but where nothing can fail). See ``docs/engine-edges.md``.
"""

from cpython.tuple cimport PyTuple_GET_ITEM
from cython.operator cimport dereference as deref
from libc.math cimport log1p
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t
from libc.string cimport memcpy
from libcpp.unordered_map cimport unordered_map
from libcpp.vector cimport vector

import numpy as np

cdef extern from *:
    """
    typedef __int128 lobm_int128;
    """
    # exact room for a fill's products (|price x qty| < 2**124): see _fill
    ctypedef long long int128 "lobm_int128"

from lobsim.errors import LivelockError
from lobsim.sim.exchange import Exchange
from lobsim.sim.owners import BLOCK_BITS as _OWNER_BLOCK_BITS
from lobsim.sim.ledger import after_fill, check_fill, in_range
from lobsim.book.orders import Side, TimeInForce
from lobsim.book.reports import Cancelled, Modified, Rejected, Traded

cdef int64_t INT64_MAX = 0x7FFFFFFFFFFFFFFF  # lobsim.units.HORIZON_NS, lobsim.sim.ledger.INT64_MAX
cdef int64_t RATE_WINDOW_NS = Exchange.RATE_WINDOW_NS  # the rate guard's window (Exchange._guard)
cdef int OWNER_BITS = _OWNER_BLOCK_BITS  # ids per block of the owner table: 2**OWNER_BITS
cdef int64_t OWNER_MASK = (<int64_t>1 << OWNER_BITS) - 1

cdef class Random:
    def __cinit__(self, generator):
        self.generator = generator
        self.buffer = np.empty(0)
        self.next = 0

    cdef double random(self) except? -1.0:
        cdef Py_ssize_t i = self.next
        if i == self.buffer.shape[0]:
            self.buffer = self.generator.random(4096)
            i = 0
        self.next = i + 1
        return self.buffer[i]

    cdef double exponential(self, double scale) except? -1.0:
        return -scale * log1p(-self.random())

    cdef int64_t integers(self, int64_t low, int64_t high) except? -1:
        cdef int64_t k = <int64_t>(self.random() * <double>(high - low))
        return low + (k if k < high - low - 1 else high - low - 1)

    cdef int64_t geometric(self, double p) except? -1:
        cdef double trials
        if p >= 1.0:
            return 1
        trials = log1p(-self.random()) / log1p(-p)
        if trials >= 9.2e18:  # past int64 (a mean above ~10^17): Python's int would not wrap
            raise OverflowError(f"a geometric draw of {trials:.3g} with p={p!r} exceeds int64")
        return 1 + <int64_t>trials


cdef class FlowAgent:
    def __cinit__(self, *args, **kwargs):
        self.session = -1

    def bind(self, Engine engine, int session, generator):
        """Attach to ``engine`` as session number ``session``, drawing from ``generator``
        (the agent's own stream, as its Python twin's ``session.rng`` would)."""
        self.engine = engine
        self.session = session
        self.rng = Random(generator)

    cdef int start(self) except -1:
        return 0

    cdef int timer(self, int64_t tag) except -1:
        return 0

    cdef int report(self, const Item* item) except -1:
        return 0

    cdef int quote(self, const Item* item) except -1:
        return 0


cdef class Engine:
    """Runs one market (see the module docstring). Built from a Python ``Market``."""

    def __init__(self, market, list agents):
        """``market``: a :class:`lobsim.sim.market.Market` whose run has not started;
        ``agents``: its agents' compiled twins, in the same order (not yet bound)."""
        cdef int i
        scenario = market.scenario
        exchange = market.exchange
        venue = exchange.venues[scenario.market.symbol]
        self.now = 0
        self.seq = 0
        self.duration_ns = market.duration_ns
        self.snapshot_ns = market.snapshot_ns
        self.depth_levels = scenario.market.depth_levels
        self.book = venue.book
        self.mid2 = venue.mid2
        self.l1 = venue.l1
        self.l1_since_ns = 0
        self.spread_ns_sum = 0
        self.two_sided_ns = self.trades = self.volume = 0
        self.traded, self.cancelled, self.rejected, self.modified = Traded, Cancelled, Rejected, Modified
        self.gtc = TimeInForce.GTC
        self.sides = {1: Side.BUY, -1: Side.SELL}
        self.maker_fee = scenario.market.maker_fee
        self.taker_fee = scenario.market.taker_fee
        self.fee_income = 0
        self.last_id = exchange._last_id
        self.max_burst = exchange.MAX_BURST
        self.max_per_ms = scenario.market.max_messages_per_ms
        self.messages = self.accepted = self.retired = 0
        self.unconserved = []
        sessions = market.sessions
        self.n = len(sessions)
        self.names = [s.name for s in sessions]
        self.owners = [s if s.self_trade_prevention else None for s in sessions]
        self.py_inbound = [s.inbound for s in sessions]
        self.py_outbound = [s.outbound for s in sessions]
        for i in range(self.n):
            self.inbound.push_back(_leg(self.py_inbound[i]))
            self.outbound.push_back(_leg(self.py_outbound[i]))
        self.burst_ns.assign(self.n, -1)
        self.burst.assign(self.n, 0)
        self.window.assign(self.n, -1)
        self.window_messages.assign(self.n, 0)
        for s in exchange.subscribers["l1"]:
            self.l1_subscribers.push_back(s.index)
        self.accounts.resize(self.n)
        self.box_of.assign(self.n, -1)
        self.flag_codes = {}
        self.flags = []
        self.sink = market.sink
        self.batch_rows = min(market.sink.batch_rows, 1 << 62)
        self.flushed = 0
        self.samples = market.samples
        self.agents = agents
        for i in range(self.n):
            (<FlowAgent>agents[i]).bind(self, i, sessions[i].rng.generator)

    # ------------------------------------------------------------------ the queue

    cdef int _push(self, Event ev) except -1:
        cdef vector[Event]* h = &self.heap
        cdef size_t i, parent
        ev.seq = self.seq
        self.seq += 1
        h.push_back(ev)
        i = h.size() - 1
        while i > 0:
            parent = (i - 1) >> 1
            if not _before(&ev, &h[0][parent]):
                break
            h[0][i] = h[0][parent]
            i = parent
        h[0][i] = ev
        return 0

    cdef Event _pop(self) noexcept:
        cdef vector[Event]* h = &self.heap
        cdef Event top = h[0][0]
        cdef Event last = h.back()
        cdef size_t i = 0, child, n
        h.pop_back()
        n = h.size()
        if n:
            while True:
                child = 2 * i + 1
                if child >= n:
                    break
                if child + 1 < n and _before(&h[0][child + 1], &h[0][child]):
                    child += 1
                if not _before(&h[0][child], &last):
                    break
                h[0][i] = h[0][child]
                i = child
            h[0][i] = last
        return top

    # ------------------------------------------------------------------ running

    def start(self):
        """Start every agent (in order), then the snapshot timer, at time 0."""
        cdef Event ev
        for agent in self.agents:
            (<FlowAgent>agent).start()
        ev.kind = EV_SNAPSHOT
        ev.time = self.now
        self._push(ev)

    def advance(self, int64_t until_ns):
        """Process every entry due before ``until_ns``; the clock then reads ``until_ns``."""
        cdef Event ev
        while self.heap.size() and self.heap[0].time < until_ns:
            ev = self._pop()
            self.now = ev.time
            if ev.kind == EV_TIMER:
                (<FlowAgent>self.agents[ev.session]).timer(ev.a)
            elif ev.kind == EV_ARRIVAL:
                self._receive(&ev)
            elif ev.kind == EV_DELIVERY:
                self._deliver(ev.session, <int>ev.a)
            else:
                self._snapshot()
        if until_ns > self.now:
            self.now = until_ns

    def finish(self):
        """The final snapshot and the spread statistics' last stretch, at the end time;
        then every row held goes to the sink."""
        self._snapshot_now()
        self._flush_events(True)
        self.samples.flush()
        bid, _, ask, _ = self.l1
        if bid is not None and ask is not None:
            self.spread_ns_sum += (ask - bid) * (self.now - self.l1_since_ns)
            self.two_sided_ns += self.now - self.l1_since_ns
        self.l1_since_ns = self.now

    # ------------------------------------------------------------------ agents' side

    cdef int64_t limit(self, int session, int side, int64_t price, int64_t qty,
                       bint post_only) except -1:
        """A GTC limit order; its id."""
        return self._send(session, K_LIMIT, side, price, qty, 0, post_only)

    cdef int64_t market(self, int session, int side, int64_t qty) except -1:
        return self._send(session, K_MARKET, side, NONE, qty, 0, False)

    cdef int cancel(self, int session, int64_t order_id) except -1:
        self._send(session, K_CANCEL, 0, NONE, NONE, order_id, False)
        return 0

    cdef int modify(self, int session, int64_t order_id, int64_t qty, int64_t price) except -1:
        """``qty`` lots and/or ``price`` ticks; NONE: unchanged."""
        self._send(session, K_MODIFY, 0, price, qty, order_id, False)
        return 0

    cdef int timer(self, int session, int64_t delay_ns, int64_t tag) except -1:
        cdef Event ev
        ev.kind = EV_TIMER
        ev.session = session
        ev.time = _later(self.now, delay_ns if delay_ns > 0 else 0)
        ev.a = tag
        self._push(ev)
        return 0

    cdef int64_t _send(self, int session, int op, int side, int64_t price, int64_t qty,
                       int64_t order_id, bint post_only) except -1:
        cdef Event ev
        ev.post_only = post_only
        if op == K_LIMIT or op == K_MARKET:
            self.last_id += 1
            order_id = self.last_id
        ev.kind = EV_ARRIVAL
        ev.session = session
        ev.op = op
        ev.side = side
        ev.a = order_id
        ev.price = price
        ev.qty = qty
        ev.time = self._arrival(&self.inbound[session], self.py_inbound[session])
        self._push(ev)
        return order_id

    cdef int64_t _arrival(self, Leg* leg, object py_leg) except? -1:
        """``lobsim.sim.latency.Leg.arrival`` of a message sent now (saturated at the horizon)."""
        cdef int64_t arrival = _later(self.now, leg.floor_ns)
        if leg.jitter:
            if leg.next == <Py_ssize_t>leg.draws.size():
                leg.draws.clear()
                for value in py_leg.next_batch():
                    leg.draws.push_back(value)
                leg.next = 0
            arrival = _later(arrival, leg.draws[leg.next])
            leg.next += 1
        if arrival < leg.last_ns:
            arrival = leg.last_ns
        leg.last_ns = arrival
        return arrival

    # ------------------------------------------------------------------ the exchange

    cdef int _receive(self, Event* ev) except -1:
        cdef int s = ev.session
        self.messages += 1
        if self.now != self.burst_ns[s]:
            self.burst_ns[s] = self.now
            self.burst[s] = 1
        else:
            self.burst[s] += 1
            if self.burst[s] > self.max_burst:
                raise LivelockError.burst(self.names[s], self.burst[s], self.now)
        if self.now // RATE_WINDOW_NS != self.window[s]:  # Exchange._guard
            self.window[s] = self.now // RATE_WINDOW_NS
            self.window_messages[s] = 1
        else:
            self.window_messages[s] += 1
            if self.window_messages[s] > self.max_per_ms:
                raise LivelockError.rate(self.names[s], self.window_messages[s], self.now,
                                         self.burst[s], self.max_per_ms)
        if ev.op == K_CANCEL:
            self._record(ev.op, s, ev.a, 0, NONE, NONE, -1)
            self._cancel(ev)
        elif ev.op == K_MODIFY:
            self._record(ev.op, s, ev.a, 0, ev.price, ev.qty, -1)
            self._modify(ev)
        else:
            self._record(ev.op, s, ev.a, ev.side, ev.price, ev.qty, -1)
            self._new_order(ev)
        self._flush()
        return 0

    cdef int _new_order(self, Event* ev) except -1:
        cdef int s = ev.session
        cdef int64_t order_id = ev.a
        cdef OrderRecord record
        cdef Item item
        owner = self.owners[s]
        if owner is None:
            owner = order_id
        side = self.sides[ev.side]
        if ev.op == K_LIMIT:
            reports = self.book.limit(order_id, owner, side, ev.price, ev.qty, self.gtc,
                                      ev.post_only)
        else:
            reports = self.book.market(order_id, owner, side, ev.qty)
        if reports and type(reports[0]) is self.rejected:
            self._refuse(s, ev.op, order_id, reports[0].reason.value)
            return 0
        record.session = s
        record.submitted = ev.qty
        record.filled = record.cancelled = 0
        self.orders[order_id] = record
        self._set_owner(order_id, s)
        self.accepted += 1
        item.kind = ACCEPTED
        item.order_id = order_id
        item.side = ev.side
        self._items(s).push_back(item)
        self._record(K_ACCEPTED, s, order_id, ev.side, ev.price, ev.qty, -1)
        self._apply(reports, ev)
        self._quote_if_changed()
        return 0

    cdef int _cancel(self, Event* ev) except -1:
        if self._owner(ev) >= 0:
            self._apply(self.book.cancel(ev.a), ev)
            self._quote_if_changed()
        return 0

    cdef int _modify(self, Event* ev) except -1:
        if self._owner(ev) >= 0:
            self._apply(self.book.modify(ev.a, qty=None if ev.qty == NONE else ev.qty,
                                         price=None if ev.price == NONE else ev.price), ev)
            self._quote_if_changed()
        return 0

    cdef int _owner(self, Event* ev) except -2:
        """The session of the order a cancel/modify names, if it is the sender's; else
        refuse the request and return -1 (``Exchange._owns``)."""
        cdef int64_t order_id = ev.a
        cdef size_t block = <size_t>(order_id >> OWNER_BITS)
        cdef int owner = self.owner_blocks[block][order_id & OWNER_MASK] \
            if order_id > 0 and block < self.owner_blocks.size() else -1
        if owner == -1:
            self._refuse(ev.session, ev.op, order_id, "unknown_id")
        elif owner != ev.session:
            self._refuse(ev.session, ev.op, order_id, "not_owner")
            owner = -1
        return owner

    cdef int _set_owner(self, int64_t order_id, int s) except -1:
        """Session ``s`` owns the accepted order ``order_id`` (> 0): ``Owners.set``. A new
        block says "no order" throughout: ids in it may still be in flight, or be refused."""
        cdef size_t block = <size_t>(order_id >> OWNER_BITS)
        while self.owner_blocks.size() <= block:
            self.owner_blocks.push_back(vector[int32_t](<size_t>1 << OWNER_BITS, -1))
        self.owner_blocks[block][order_id & OWNER_MASK] = s
        return 0

    cdef OrderRecord* _live(self, int64_t order_id) except NULL:
        """The record of live order ``order_id`` (a report names only live orders)."""
        cdef unordered_map[int64_t, OrderRecord].iterator it = self.orders.find(order_id)
        if it == self.orders.end():
            raise AssertionError(f"the book reported on order {order_id}, which is not live")
        return &deref(it).second

    cdef int _retire(self, list reports) except -1:
        """``Exchange._retire``: drop the record of every order these reports name that
        the book no longer holds, checking its conservation as it goes."""
        cdef int64_t order_id
        cdef int k, last
        cdef OrderRecord* o
        cdef unordered_map[int64_t, OrderRecord].iterator it
        for report in reports:
            kind = type(report)
            if kind is self.traded:  # the taker; the maker too if the book says none is left
                k = 2 if <int64_t><object>PyTuple_GET_ITEM(<tuple>report, 7) == 0 else 3
                last = 3
            elif kind is self.cancelled:
                k = last = 0
            else:
                continue
            while k <= last:
                item = <object>PyTuple_GET_ITEM(<tuple>report, k)
                k += 1
                order_id = item
                it = self.orders.find(order_id)
                if it == self.orders.end() or self.book.remaining(item):
                    continue
                o = &deref(it).second
                self.retired += 1
                if o.submitted != o.filled + o.cancelled:
                    self.unconserved.append(order_id)
                self.orders.erase(it)
        return 0

    cdef int _refuse(self, int s, int op, int64_t order_id, str reason) except -1:
        """A reject (new order) or cancel-reject (cancel, modify): ``Exchange._refuse``."""
        cdef Item item
        cdef bint new = op == K_LIMIT or op == K_MARKET
        item.kind = REJECTED if new else CANCEL_REJECTED
        item.request = op
        item.order_id = order_id
        self._items(s).push_back(item)
        self._record(K_REJECTED if new else K_CANCEL_REJECTED, s, order_id, 0,
                     NONE, NONE, self._flag(reason))
        return 0

    cdef int _apply(self, list reports, Event* ev) except -1:
        for report in reports:
            kind = type(report)
            if kind is self.traded:
                self._trade(<tuple>report)
            elif kind is self.cancelled:
                self._cancelled(<tuple>report)
            elif kind is self.modified:
                self._modified(<tuple>report)
            elif kind is self.rejected:  # a cancel or modify the book refused: to its sender
                self._refuse(ev.session, ev.op, ev.a, report.reason.value)
            else:
                raise AssertionError(f"the compiled engine got a {kind.__name__} report")
        self._retire(reports)
        return 0

    cdef int _trade(self, tuple trade) except -1:
        # Traded: price, qty, maker, taker, maker_owner, taker_owner, aggressor, maker_left
        cdef int64_t price = <object>PyTuple_GET_ITEM(trade, 0)
        cdef int64_t qty = <object>PyTuple_GET_ITEM(trade, 1)
        cdef int64_t maker_id = <object>PyTuple_GET_ITEM(trade, 2)
        cdef int64_t taker_id = <object>PyTuple_GET_ITEM(trade, 3)
        cdef int aggressor = <object>PyTuple_GET_ITEM(trade, 6)
        cdef int64_t maker_left = <object>PyTuple_GET_ITEM(trade, 7)
        cdef OrderRecord* maker = self._live(maker_id)
        cdef OrderRecord* taker = self._live(taker_id)
        cdef Item item
        maker.filled += qty
        taker.filled += qty
        self.trades += 1
        if qty > INT64_MAX - self.volume:
            in_range(self.volume + <object>qty, "the market's volume")
        self.volume += qty
        self._fill(maker.session, -aggressor, price, qty, self.maker_fee)
        self._fill(taker.session, aggressor, price, qty, self.taker_fee)
        item.kind = FILLED
        item.order_id = maker_id
        item.side = -aggressor
        item.qty = qty
        item.left = maker_left
        self._items(maker.session).push_back(item)
        item.order_id = taker_id
        item.side = aggressor
        item.left = taker.submitted - taker.filled - taker.cancelled
        self._items(taker.session).push_back(item)
        maker_flag, taker_flag = self._flag("maker"), self._flag("taker")
        self._record(K_FILL, maker.session, maker_id, -aggressor, price, qty, maker_flag)
        self._record(K_FILL, taker.session, taker_id, aggressor, price, qty, taker_flag)
        return 0

    cdef int _fill(self, int s, int sign, int64_t price, int64_t qty, int64_t fee) except -1:
        """``lobsim.sim.ledger.Ledger.fill``, exact in 128 bits (|price|, |qty| < 2**62, so no
        product or sum comes near 2**127); a figure past int64 is reported by
        ``lobsim.sim.ledger.check_fill``, from the same figures the Python engine checks."""
        cdef Account* a = &self.accounts[s]
        cdef int128 charge = <int128>fee * qty
        cdef int128 cash = a.cash - <int128>sign * price * qty - charge
        cdef int128 inventory = <int128>a.inventory + sign * qty
        cdef int128 fees = a.fees + charge
        cdef int128 capture = a.spread_capture2 + <int128>sign * (<int128>self.mid2 - 2 * <int128>price) * qty
        cdef int128 volume = <int128>a.volume + qty
        cdef int128 income = self.fee_income + charge
        if not (_fits(cash) and _fits(inventory) and _fits(fees) and _fits(capture)
                and _fits(volume) and _fits(income)):
            check_fill(after_fill(a.cash, a.inventory, a.fees, a.spread_capture2, a.volume,
                                  self.fee_income, sign, price, qty, self.mid2, fee),
                       self.names[s], price, qty, fee)
        a.cash = <int64_t>cash
        a.inventory = <int64_t>inventory
        a.fees = <int64_t>fees
        self.fee_income = <int64_t>income
        a.spread_capture2 = <int64_t>capture
        a.fills += 1
        a.volume = <int64_t>volume
        return 0

    cdef int _cancelled(self, tuple report) except -1:
        # Cancelled: order_id, owner, qty, cause
        cdef int64_t order_id = <object>PyTuple_GET_ITEM(report, 0)
        cdef int64_t qty = <object>PyTuple_GET_ITEM(report, 2)
        cdef OrderRecord* order = self._live(order_id)
        cdef Item item
        order.cancelled += qty
        item.kind = CANCELLED
        item.order_id = order_id
        item.qty = qty
        self._items(order.session).push_back(item)
        self._record(K_CANCELLED, order.session, order_id, 0, NONE, qty,
                     self._flag((<object>PyTuple_GET_ITEM(report, 3)).value))
        return 0

    cdef int _modified(self, tuple report) except -1:
        # Modified: order_id, owner, side, price, qty, old_price, old_qty
        cdef int64_t order_id = <object>PyTuple_GET_ITEM(report, 0)
        cdef int side = <object>PyTuple_GET_ITEM(report, 2)
        cdef int64_t price = <object>PyTuple_GET_ITEM(report, 3)
        cdef int64_t qty = <object>PyTuple_GET_ITEM(report, 4)
        cdef int64_t change = qty - <int64_t><object>PyTuple_GET_ITEM(report, 6)
        cdef OrderRecord* order = self._live(order_id)
        cdef Item item
        if change > 0:  # an increase is new quantity, a decrease a cancel
            if change > INT64_MAX - order.submitted:
                in_range(order.submitted + <object>change,
                         f"the lots submitted to order {order_id}")
            order.submitted += change
        else:
            order.cancelled -= change
        item.kind = MODIFIED
        item.order_id = order_id
        item.price = price
        item.qty = qty
        self._items(order.session).push_back(item)
        self._record(K_MODIFIED, order.session, order_id, side, price, qty, -1)
        return 0

    cdef int _quote_if_changed(self) except -1:
        cdef Item item
        cdef int s
        l1 = self.book.top()
        if l1 == self.l1:
            return 0
        bid, ask = l1[0], l1[2]
        old = self.l1
        if old[0] is not None and old[2] is not None:
            elapsed = self.now - self.l1_since_ns
            self.spread_ns_sum += (old[2] - old[0]) * elapsed
            self.two_sided_ns += elapsed
        self.l1 = l1
        self.l1_since_ns = self.now
        if bid is not None and ask is not None:
            self.mid2 = bid + ask
        item.kind = QUOTE
        item.bid = NONE if bid is None else <int64_t>bid
        item.ask = NONE if ask is None else <int64_t>ask
        for s in self.l1_subscribers:
            self._items(s).push_back(item)
        return 0

    # ------------------------------------------------------------------ deliveries

    cdef vector[Item]* _items(self, int s) except NULL:
        """Session ``s``'s delivery for this request, opened (and its outbound latency
        drawn) the first time the exchange addresses it: ``Exchange._box``."""
        cdef int d = self.box_of[s]
        if d < 0:
            if self.free_deliveries.size():
                d = self.free_deliveries.back()
                self.free_deliveries.pop_back()
            else:
                d = <int>self.deliveries.size()
                self.deliveries.resize(d + 1)
            self.box_of[s] = d
            self.box_order.push_back(s)
            self.box_arrival.push_back(self._arrival(&self.outbound[s], self.py_outbound[s]))
        return &self.deliveries[d]

    cdef int _flush(self) except -1:
        """Schedule this request's deliveries, in the order they were opened."""
        cdef Event ev
        cdef size_t k
        cdef int s
        ev.kind = EV_DELIVERY
        for k in range(self.box_order.size()):
            s = self.box_order[k]
            ev.session = s
            ev.time = self.box_arrival[k]
            ev.a = self.box_of[s]
            self.box_of[s] = -1
            self._push(ev)
        self.box_order.clear()
        self.box_arrival.clear()
        return 0

    cdef int _deliver(self, int s, int d) except -1:
        cdef FlowAgent agent = <FlowAgent>self.agents[s]
        cdef size_t k
        cdef Item item
        for k in range(self.deliveries[d].size()):
            item = self.deliveries[d][k]
            if item.kind == QUOTE:
                agent.quote(&item)
            else:
                agent.report(&item)
        self.deliveries[d].clear()
        self.free_deliveries.push_back(d)
        return 0

    # ------------------------------------------------------------------ records

    cdef int _record(self, int kind, int s, int64_t order_id, int side, int64_t price,
                     int64_t qty, int flag) except -1:
        self.c_time.push_back(self.now)
        self.c_kind.push_back(<int8_t>kind)
        self.c_agent.push_back(s)
        self.c_order.push_back(order_id)
        self.c_side.push_back(<int8_t>side)
        self.c_price.push_back(price)
        self.c_qty.push_back(qty)
        self.c_flag.push_back(<int16_t>flag)
        if <int64_t>self.c_time.size() >= self.batch_rows:
            self._flush_events()
        return 0

    cdef int _flush_events(self, bint release=False) except -1:
        """Hand the rows held to the sink as ``EventColumns``; keep the vectors' capacity
        for the next batch unless ``release``."""
        if self.c_time.size() or release:  # at the end even none: a memory sink's log is then columns
            columns = self.event_columns()
            self.flushed += len(columns)
            self.c_time.clear()
            self.c_order.clear()
            self.c_price.clear()
            self.c_qty.clear()
            self.c_kind.clear()
            self.c_side.clear()
            self.c_agent.clear()
            self.c_flag.clear()
            self.sink.events(columns)
        if release:  # the run is over: give the vectors' memory back
            self.c_time.shrink_to_fit()
            self.c_order.shrink_to_fit()
            self.c_price.shrink_to_fit()
            self.c_qty.shrink_to_fit()
            self.c_kind.shrink_to_fit()
            self.c_side.shrink_to_fit()
            self.c_agent.shrink_to_fit()
            self.c_flag.shrink_to_fit()
        return 0

    @property
    def recorded(self):
        """Event rows recorded so far (handed to the sink or held)."""
        return self.flushed + <int64_t>self.c_time.size()

    cdef int _flag(self, str text) except -1:
        code = self.flag_codes.get(text)
        if code is None:
            code = self.flag_codes[text] = len(self.flags)
            self.flags.append(text)
        return code

    def event_columns(self):
        """The event rows held (not yet handed to the sink), as ``lobsim.sim.recorder.EventColumns``."""
        from lobsim.sim.recorder import KINDS, EventColumns

        n = self.c_time.size()
        return EventColumns(
            time_ns=_array(self.c_time.data(), n, np.int64),
            kind=_array(self.c_kind.data(), n, np.int8), kinds=list(KINDS),
            agent=_array(self.c_agent.data(), n, np.int32), agents=list(self.names),
            order_id=_array(self.c_order.data(), n, np.int64),
            side=_array(self.c_side.data(), n, np.int8),
            price=_array(self.c_price.data(), n, np.int64),
            qty=_array(self.c_qty.data(), n, np.int64),
            flag=_array(self.c_flag.data(), n, np.int16), flags=list(self.flags),
            first_seq=self.flushed)

    # ------------------------------------------------------------------ snapshots

    cdef int _snapshot(self) except -1:
        cdef Event ev
        self._snapshot_now()  # no l2 subscribers: publish_depth sends nothing
        if _later(self.now, self.snapshot_ns) < self.duration_ns:
            ev.kind = EV_SNAPSHOT
            ev.time = self.now + self.snapshot_ns
            self._push(ev)
        return 0

    cdef int _snapshot_now(self) except -1:
        cdef int i
        cdef Account* a
        now = self.now
        bids, asks = self.book.depth(self.depth_levels)
        samples = self.samples
        book_rows, agent_rows = samples.book, samples.agents
        for level, (price, qty) in enumerate(bids):
            book_rows.append((now, 1, level, price, qty))
        for level, (price, qty) in enumerate(asks):
            book_rows.append((now, -1, level, price, qty))
        for i in range(self.n):
            a = &self.accounts[i]
            pnl2 = 2 * <object>a.cash + <object>a.inventory * self.mid2  # Python ints: no wrap
            if not -INT64_MAX - 1 <= pnl2 <= INT64_MAX:
                in_range(pnl2, f"the pnl2 of agent {self.names[i]!r}")
            agent_rows.append((now, self.names[i], a.cash, a.inventory, pnl2,
                               a.spread_capture2, a.fills))
        samples.taken(self.mid2)
        return 0

    # ------------------------------------------------------------------ the end

    def account_columns(self):
        """{field: [per session]} in ``lobsim.sim.ledger.Ledger``'s attribute names."""
        cdef int i
        fields = {"cash": [], "inventory": [], "fees": [], "spread_capture2": [], "fills": [],
                  "volume": []}
        for i in range(self.n):
            a = self.accounts[i]
            for name, value in zip(fields, (a.cash, a.inventory, a.fees, a.spread_capture2,
                                            a.fills, a.volume)):
                fields[name].append(value)
        return fields

    @property
    def live_orders(self):
        """Orders whose records are held: the live ones (``len(Exchange.orders)``)."""
        return self.orders.size()

    @property
    def orders_checked(self):
        """Accepted orders: those that left the book (checked then) and the live ones."""
        return self.retired + <int64_t>self.orders.size()

    def unconserved_orders(self):
        """Ids of accepted orders whose submitted lots are not filled + cancelled + resting,
        in id order: those found as they left the book, and the live ones checked now.
        O(live orders)."""
        bad = list(self.unconserved)
        remaining = self.book.remaining
        for entry in self.orders:
            if entry.second.submitted != entry.second.filled + entry.second.cancelled \
                    + <int64_t>remaining(entry.first):
                bad.append(entry.first)
        return sorted(bad)

    @property
    def l1_state(self):
        return self.l1, self.l1_since_ns


cdef Leg _leg(py_leg) except *:
    """A session leg's C state, from its :class:`lobsim.sim.latency.Leg` (no draws yet)."""
    cdef Leg leg
    leg.floor_ns = py_leg.floor_ns
    leg.last_ns = 0
    leg.jitter = py_leg.has_jitter
    leg.next = 0
    return leg


cdef inline int64_t _later(int64_t t, int64_t delay) noexcept nogil:
    """``t + delay`` (both >= 0) ns, or ``HORIZON_NS`` where that would pass it: a time
    that never comes, as a SimPy time past every run's end never does."""
    return INT64_MAX if delay > INT64_MAX - t else t + delay


cdef inline bint _fits(int128 value) noexcept nogil:
    return -<int128>INT64_MAX - 1 <= value <= INT64_MAX


cdef inline bint _before(const Event* a, const Event* b) noexcept nogil:
    return a.time < b.time or (a.time == b.time and a.seq < b.seq)


cdef object _array(const void* data, Py_ssize_t n, dtype):
    out = np.empty(n, dtype=dtype)
    cdef char[::1] view = out.view(np.int8)
    if n:
        memcpy(&view[0], data, n * out.itemsize)
    return out
