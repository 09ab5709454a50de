# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled twins of the order-flow agents, for lobsim's compiled engine.

:class:`SantaFeTrader`, :class:`PoissonTrader` (and their base :class:`PoissonFlow`),
:class:`InformedTrader` and :class:`ScriptedTrader` are the classes of the same names in
:mod:`agents.santa_fe`, :mod:`agents.poisson`, :mod:`agents.informed` and
:mod:`agents.scripted`, restated in C for ``lobsim/sim/_cmarket.pyx``. Built from the Python
agent (its parameters as it derived them), they make the same draws from the same stream
in the same order, so a run is byte-identical on either engine (``tests/test_cmarket.py``).
The Python classes stay the reference: read them for the model; a change there must be
made here too, and the tests say when it was not.

What the Python agents keep in objects is kept here in C: the live orders as a dense
array of ids plus an id -> index map (swap-remove, as ``LiveOrders``), the L1 quote
(``agents/_ctracking.pxd``) and the ``EventClock`` generation.
"""

from cython.operator cimport dereference as deref
from libc.math cimport floor, log, log1p, nearbyint, pow
from libc.stdint cimport int64_t
from libcpp.unordered_map cimport unordered_map
from libcpp.vector cimport vector

from agents._ctracking cimport TopOfBook, top_init, top_update
from lobsim.sim._cmarket cimport CANCELLED, FILLED, NONE, REJECTED, FlowAgent, Item

from lobsim.book.orders import MAX_PRICE as _MAX_PRICE

# lobsim.book.orders.MAX_PRICE: the book refuses prices from here on
cdef int64_t MAX_PRICE = _MAX_PRICE
# agents.poisson.EventClock.NEVER_S: a wait this long is never scheduled
cdef double NEVER_S = 4e9


cdef double total_of(const double* x, int n) noexcept nogil:
    """``agents.poisson.total_of``: the rates added left to right."""
    cdef double total = 0.0
    cdef int i
    for i in range(n):
        total += x[i]
    return total


cdef class TrackingAgent(FlowAgent):
    """What the flow twins keep: their live limit orders (``LiveOrders``: a dense array of
    ids, swap-remove), the top of book (``TopOfBook``) and an ``EventClock``."""

    cdef vector[int64_t] ids  # live orders, in LiveOrders' list order
    cdef unordered_map[int64_t, size_t] index  # order id -> position in ids
    cdef int64_t generation  # the EventClock's
    cdef TopOfBook top
    cdef int64_t initial_price

    def __init__(self, agent):
        self.generation = 0
        self.initial_price = agent.session.initial_price
        top_init(&self.top, self.initial_price)

    cdef int quote(self, const Item* item) except -1:
        top_update(&self.top, item)
        return 0

    # ------------------------------------------------------------------ live orders

    cdef int add(self, int64_t order_id) except -1:
        self.index[order_id] = self.ids.size()
        self.ids.push_back(order_id)
        return 0

    cdef int remove(self, int64_t order_id) except -1:
        cdef unordered_map[int64_t, size_t].iterator found = self.index.find(order_id)
        cdef size_t i
        cdef int64_t last
        if found == self.index.end():
            return 0
        i = deref(found).second
        self.index.erase(found)
        last = self.ids.back()
        self.ids.pop_back()
        if last != order_id:
            self.ids[i] = last
            self.index[last] = i
        return 0

    cdef int apply(self, const Item* item) except -1:
        """``LiveOrders.apply``, as far as which orders are live."""
        if item.kind == FILLED:
            if item.left <= 0:
                self.remove(item.order_id)
        elif item.kind == CANCELLED or item.kind == REJECTED:
            self.remove(item.order_id)
        return 0

    # ------------------------------------------------------------------ the clock

    cdef int schedule(self, double total) except -1:
        """``EventClock.schedule(total)``."""
        cdef double wait_s
        cdef int64_t delay
        self.generation += 1
        if total > 0:
            wait_s = self.rng.exponential(1.0 / total)
            if not wait_s < NEVER_S:
                return 0
            delay = <int64_t>nearbyint(wait_s * 1e9)  # seconds_to_ns: round half to even
            self.engine.timer(self.session, delay if delay > 1 else 1, self.generation)
        return 0

    cdef int pick(self, const double* rates, int n, double total) except -1:
        """``EventClock.pick``: stream i with probability rates[i] / total."""
        cdef double u = self.rng.random() * total
        cdef int i
        for i in range(n):
            u -= rates[i]
            if u < 0:
                return i
        return n - 1  # u == total up to rounding


cdef class PoissonFlow(TrackingAgent):
    """``agents.poisson.PoissonFlow``: one Gillespie clock over competing streams."""

    cdef double cancel_rate
    cdef double rates[5]
    cdef int nrates

    def __init__(self, agent):
        super().__init__(agent)
        self.cancel_rate = agent.params.cancel_rate

    cdef void fill_rates(self) noexcept:
        pass

    cdef int act(self, int stream) except -1:
        return 0

    cdef int start(self) except -1:
        return self.reschedule()

    cdef int timer(self, int64_t tag) except -1:
        if tag != self.generation:
            return 0  # a stale draw
        self.fill_rates()
        self.act(self.pick(self.rates, self.nrates, total_of(self.rates, self.nrates)))
        return self.reschedule()

    cdef int report(self, const Item* item) except -1:
        cdef size_t before = self.ids.size()
        self.apply(item)
        if self.ids.size() != before and self.cancel_rate > 0:
            self.reschedule()  # the cancel rate changed: redraw
        return 0

    cdef int reschedule(self) except -1:
        """``self.clock.schedule(sum(self.rates()))``."""
        self.fill_rates()
        return self.schedule(total_of(self.rates, self.nrates))

    cdef int cancel_one(self) except -1:
        cdef int64_t order_id
        if self.ids.size():
            order_id = self.ids[self.rng.integers(0, self.ids.size())]
            self.engine.cancel(self.session, order_id)
            self.remove(order_id)
        return 0


cdef class SantaFeTrader(PoissonFlow):
    """``agents.santa_fe.SantaFeTrader``."""

    cdef int64_t band, order_size
    cdef double fixed[4]

    def __init__(self, agent):
        super().__init__(agent)
        self.band = agent.band
        self.order_size = agent.params.order_size
        for i in range(4):
            self.fixed[i] = agent._fixed_rates[i]
        self.nrates = 5

    cdef void fill_rates(self) noexcept:
        cdef int i
        for i in range(4):
            self.rates[i] = self.fixed[i]
        self.rates[4] = self.cancel_rate * <double>self.ids.size()

    cdef int act(self, int stream) except -1:
        if stream == 0:
            self.limit(1)
        elif stream == 1:
            self.limit(-1)
        elif stream == 2:
            self.engine.market(self.session, 1, self.order_size)
        elif stream == 3:
            self.engine.market(self.session, -1, self.order_size)
        else:
            self.cancel_one()
        return 0

    cdef int limit(self, int side) except -1:
        cdef int64_t k = self.rng.integers(1, self.band + 1)
        cdef int64_t ref, price
        if side == 1:
            ref = self.top.ask if self.top.ask != NONE else self.top.last_ask
        else:
            ref = self.top.bid if self.top.bid != NONE else self.top.last_bid
        if ref == NONE:
            ref = self.initial_price
        price = ref - side * k  # buys below the ask, sells above the bid
        if price >= 1:
            self.add(self.engine.limit(self.session, side, price, self.order_size, False))
        return 0


cdef class PoissonTrader(PoissonFlow):
    """``agents.poisson.PoissonTrader``."""

    cdef double order_rate, market_fraction, size_p, offset_p
    cdef int64_t max_offset
    cdef bint geometric_placement

    def __init__(self, agent):
        super().__init__(agent)
        p = agent.params
        self.order_rate = p.order_rate
        self.market_fraction = p.market_fraction
        self.size_p = 1.0 / p.mean_size
        self.offset_p = p.offset_p
        self.max_offset = p.max_offset
        self.geometric_placement = p.placement == "geometric"
        self.nrates = 2

    cdef void fill_rates(self) noexcept:
        self.rates[0] = self.order_rate
        self.rates[1] = self.cancel_rate * <double>self.ids.size()

    cdef int act(self, int stream) except -1:
        if stream == 0:
            return self.new_order()
        return self.cancel_one()

    cdef int new_order(self) except -1:
        cdef int side = 1 if self.rng.random() < 0.5 else -1
        cdef bint market = self.rng.random() < self.market_fraction
        cdef int64_t qty = self.rng.geometric(self.size_p)
        cdef int64_t offset, price
        if market:
            self.engine.market(self.session, side, qty)
            return 0
        if self.geometric_placement:
            offset = truncated_geometric(self.rng.random(), self.offset_p, self.max_offset)
        else:
            offset = self.rng.integers(0, self.max_offset + 1)
        price = self.limit_price(side, offset)
        if price != NONE:
            self.add(self.engine.limit(self.session, side, price, qty, False))
        return 0

    cdef int64_t limit_price(self, int side, int64_t offset) noexcept:
        """``PoissonTrader._limit_price``: ticks, or NONE for no valid price."""
        cdef int64_t touch, price
        if side == 1:
            touch = self.top.bid if self.top.bid != NONE else self.top.last_bid
            price = (touch if touch != NONE else self.initial_price - 1) - offset
            if self.top.ask != NONE and self.top.ask - 1 < price:
                price = self.top.ask - 1
            return price if price >= 1 else NONE
        touch = self.top.ask if self.top.ask != NONE else self.top.last_ask
        touch = touch if touch != NONE else self.initial_price + 1
        if offset >= MAX_PRICE - touch:  # the price would be MAX_PRICE or more (or wrap)
            return NONE
        price = touch + offset
        if self.top.bid != NONE and self.top.bid + 1 > price:
            price = self.top.bid + 1
        return price if price < MAX_PRICE else NONE


cdef int64_t truncated_geometric(double u, double p, int64_t top) noexcept:
    """``agents.poisson.truncated_geometric``."""
    cdef double q, k
    if p >= 1.0 or top == 0:
        return 0
    q = 1.0 - p
    k = floor(log1p(-u * (1.0 - pow(q, <double>(top + 1)))) / log(q))
    if k < 0:
        return 0
    return top if k > top else <int64_t>k


cdef class InformedTrader(TrackingAgent):
    """``agents.informed.InformedTrader``."""

    cdef int64_t value, jump_ticks, edge_ticks, order_size
    cdef double rates[3]
    cdef double total

    def __init__(self, agent):
        super().__init__(agent)
        self.value = agent.value
        self.jump_ticks = agent.jump_ticks
        self.edge_ticks = agent.edge_ticks
        self.order_size = agent.params.order_size
        for i in range(3):
            self.rates[i] = agent._rates[i]
        self.total = agent._total

    cdef int start(self) except -1:
        return self.schedule(self.total)

    cdef int timer(self, int64_t tag) except -1:
        cdef int stream
        if tag != self.generation:
            return 0
        stream = self.pick(self.rates, 3, self.total)
        if stream == 0:
            self.value += self.jump_ticks
        elif stream == 1:
            self.value = self.value - self.jump_ticks if self.value - self.jump_ticks > 1 else 1
        elif self.top.ask != NONE and self.top.ask <= self.value - self.edge_ticks:
            self.engine.market(self.session, 1, self.order_size)
        elif self.top.bid != NONE and self.top.bid >= self.value + self.edge_ticks:
            self.engine.market(self.session, -1, self.order_size)
        return self.schedule(self.total)


cdef class ScriptedTrader(TrackingAgent):
    """``agents.scripted.ScriptedTrader``: timer tags are ``line << 32 | n``."""

    cdef vector[int] kinds  # per schedule line: 0 market, 1 limit, 2 cancel_all
    cdef vector[int] sides
    cdef vector[int64_t] qtys, prices, repeats
    cdef vector[double] ats, everys

    def __init__(self, agent):
        # (typed locals: Cython 3 pushed 0 for ``push_back(1 if ... else -1)``)
        cdef int side
        cdef int64_t price
        super().__init__(agent)
        for entry in agent.params.schedule:
            self.kinds.push_back(("market", "limit", "cancel_all").index(entry.type))
            side = 1 if entry.side == "buy" else -1
            self.sides.push_back(side)
            self.qtys.push_back(entry.qty)
            price = agent.session.ticks(entry.price) if entry.type == "limit" else 0
            self.prices.push_back(price)
            self.repeats.push_back(entry.repeat)
            self.ats.push_back(entry.at)
            self.everys.push_back(entry.every)
            if entry.repeat >= 1 << 32:
                raise OverflowError("a schedule line repeats 2**32 times or more")

    cdef int start(self) except -1:
        cdef size_t line
        for line in range(self.kinds.size()):
            self.arm(line, 0)
        return 0

    cdef int report(self, const Item* item) except -1:
        self.apply(item)
        return 0

    cdef int timer(self, int64_t tag) except -1:
        cdef size_t line = <size_t>(tag >> 32)
        cdef int64_t n = tag & 0xFFFFFFFF, order_id
        cdef int kind = self.kinds[line]
        cdef size_t i
        if kind == 2:  # cancel_all: LiveOrders.pop_all, in list order
            for i in range(self.ids.size()):
                self.engine.cancel(self.session, self.ids[i])
            self.ids.clear()
            self.index.clear()
        elif kind == 0:
            self.engine.market(self.session, self.sides[line], self.qtys[line])
        else:
            order_id = self.engine.limit(self.session, self.sides[line], self.prices[line],
                                         self.qtys[line], False)
            self.add(order_id)
        if n + 1 < self.repeats[line]:
            self.arm(line, n + 1)
        return 0

    cdef int arm(self, size_t line, int64_t n) except -1:
        """``ScriptedTrader._arm``: the timer for send ``n`` of ``line``; none past the
        horizon (``lobsim.units.ns_or_never``: the same test of the same double)."""
        cdef double due = (self.ats[line] + <double>n * self.everys[line]) * 1e9
        cdef int64_t due_ns
        if not due < 9.223372036854775808e18:  # 2**63
            return 0
        due_ns = <int64_t>nearbyint(due)
        return self.engine.timer(self.session, due_ns - self.engine.now, (<int64_t>line << 32) | n)
