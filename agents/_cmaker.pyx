# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled twins of the baseline market makers, for lobsim's compiled engine.

:class:`FixedSpreadMaker` and :class:`AvellanedaStoikovMaker` are the classes of the same
names in :mod:`agents.fixed_spread` and :mod:`agents.avellaneda_stoikov`, and
:class:`QuotingMaker` is :class:`agents.maker.QuotingMaker` with the pieces of
:mod:`agents.tracking` it uses (``LiveOrders``, ``QuotePair``, ``TopOfBook``,
``quote_ticks``), restated in C for ``lobsim/sim/_cmarket.pyx``. Built from the Python agent,
they send the same requests at the same instants from the same float arithmetic,
operation for operation, so a run is byte-identical on either engine
(``tests/test_cmarket.py``). The Python classes stay the reference.

A maker tracks at most a few orders (its two quotes and those in flight), so its live
orders are a small array searched linearly.
"""

from libc.math cimport ceil, floor, fmod, isfinite, log1p, pow
from libc.stdint cimport int64_t
from libcpp.vector cimport vector

from agents._ctracking cimport TopOfBook, top_init, top_update
from lobsim.sim._cmarket cimport (ACCEPTED, CANCEL_REJECTED, CANCELLED, FILLED, K_MODIFY, MODIFIED,
                              NONE, REJECTED, FlowAgent, Item)

from lobsim.book.orders import MAX_PRICE as _MAX_PRICE

cdef extern from *:
    """
    typedef __int128 lobm_int128;
    """
    ctypedef long long int128 "lobm_int128"  # room for position + quote_size (see requote)

cdef double EPS = 1e-9  # agents.tracking._EPS
cdef int64_t REQUOTE = 1  # the Avellaneda-Stoikov maker's timer tag
cdef int64_t MAX_PRICE = _MAX_PRICE  # lobsim.book.orders.MAX_PRICE
cdef double MAX_QUOTE = <double>MAX_PRICE  # 2**62, exact: quote_ticks compares as Python does


cdef struct LiveOrder:  # agents.tracking.LiveOrder
    int64_t order_id
    int side
    int64_t price
    int64_t qty
    bint accepted
    int64_t pending_modifies
    int64_t pending_price


cdef inline int64_t target_price(const LiveOrder* order) noexcept:
    return order.pending_price if order.pending_modifies else order.price


cdef int64_t whole(double x) except? -1:
    """``math.floor``/``math.ceil``'s int of an already whole float (a mid: from the book,
    or the initial price); an error past 4e18 ticks, which no book price reaches."""
    if not (isfinite(x) and -4e18 < x < 4e18):
        raise OverflowError(f"a quote of {x!r} ticks")
    return <int64_t>x


cdef class QuotingMaker(FlowAgent):
    """``agents.maker.QuotingMaker``: a quote pair, the top of book, the inventory."""

    cdef vector[LiveOrder] orders  # LiveOrders
    cdef int64_t position  # lots, from every fill
    cdef int64_t quote_ids[2]  # QuotePair._ids: [buy, sell], NONE for none
    cdef TopOfBook top
    cdef int64_t quote_size, max_inventory

    def __init__(self, agent):
        self.position = 0
        self.quote_ids[0] = self.quote_ids[1] = NONE
        top_init(&self.top, agent.session.initial_price)
        self.quote_size = agent.params.quote_size
        self.max_inventory = agent.params.max_inventory
        if not agent.quotes.post_only:
            raise ValueError("the compiled makers quote post-only, as QuotePair does by default")

    cdef int prices(self, int64_t* bid, int64_t* ask) except -1:
        return 0

    # ------------------------------------------------------------------ LiveOrders

    cdef LiveOrder* get(self, int64_t order_id) noexcept:
        cdef size_t i
        if order_id == NONE:
            return NULL
        for i in range(self.orders.size()):
            if self.orders[i].order_id == order_id:
                return &self.orders[i]
        return NULL

    cdef int add(self, int64_t order_id, int side, int64_t price, int64_t qty) except -1:
        cdef LiveOrder order
        order.order_id = order_id
        order.side = side
        order.price = price
        order.qty = qty
        order.accepted = False
        order.pending_modifies = 0
        order.pending_price = 0
        self.orders.push_back(order)
        return 0

    cdef void remove(self, int64_t order_id) noexcept:
        cdef LiveOrder* order = self.get(order_id)
        if order != NULL:
            order[0] = self.orders.back()  # swap-remove, as LiveOrders.remove
            self.orders.pop_back()

    cdef void apply(self, const Item* item) noexcept:
        """``LiveOrders.apply``."""
        cdef LiveOrder* order
        if item.kind == FILLED:
            self.position += item.side * item.qty
        order = self.get(item.order_id)
        if order == NULL:
            return
        if item.kind == FILLED:
            order.accepted = True
            order.qty = item.left
            if item.left <= 0:
                self.remove(item.order_id)
        elif item.kind == ACCEPTED:
            order.accepted = True
        elif item.kind == CANCELLED or item.kind == REJECTED:
            self.remove(item.order_id)
        elif item.kind == MODIFIED:
            order.price, order.qty = item.price, item.qty
            order.pending_modifies = order.pending_modifies - 1 if order.pending_modifies > 1 else 0
        elif item.kind == CANCEL_REJECTED and item.request == K_MODIFY:
            order.pending_modifies = order.pending_modifies - 1 if order.pending_modifies > 1 else 0

    # ------------------------------------------------------------------ QuotePair

    cdef LiveOrder* quote_order(self, int side) noexcept:
        """``QuotePair.order``: the live quote on ``side`` (+1/-1), or NULL."""
        cdef int k = 0 if side > 0 else 1
        cdef LiveOrder* order = self.get(self.quote_ids[k])
        if order == NULL:
            self.quote_ids[k] = NONE
        return order

    cdef int update(self, int64_t bid, int64_t ask, int64_t qty) except -1:
        """``QuotePair.update``."""
        cdef LiveOrder* bid_order = self.quote_order(1)
        if bid != NONE and bid_order != NULL and bid > target_price(bid_order):
            self.set_quote(-1, ask, qty)
            self.set_quote(1, bid, qty)
        else:
            self.set_quote(1, bid, qty)
            self.set_quote(-1, ask, qty)
        return 0

    cdef int set_quote(self, int side, int64_t price, int64_t qty) except -1:
        """``QuotePair._set``."""
        cdef LiveOrder* order = self.quote_order(side)
        cdef int k = 0 if side > 0 else 1
        cdef int64_t order_id
        if price == NONE:
            if order != NULL:
                order_id = order.order_id
                self.engine.cancel(self.session, order_id)
                self.remove(order_id)
                self.quote_ids[k] = NONE
        elif order == NULL:
            order_id = self.engine.limit(self.session, side, price, qty, True)
            self.add(order_id, side, price, qty)
            self.quote_ids[k] = order_id
        elif target_price(order) != price:
            self.engine.modify(self.session, order.order_id, qty, price)
            order.pending_modifies += 1
            order.pending_price = price
        return 0

    # ------------------------------------------------------------------ QuotingMaker

    cdef int requote(self) except -1:
        """``QuotingMaker.requote``, with ``targets``."""
        cdef int64_t bid = NONE, ask = NONE
        self.prices(&bid, &ask)
        if <int128>self.position + self.quote_size > self.max_inventory:  # exact, as in Python
            bid = NONE
        if <int128>self.position - self.quote_size < -<int128>self.max_inventory:
            ask = NONE
        return self.update(bid, ask, self.quote_size)

    cdef int quote(self, const Item* item) except -1:
        top_update(&self.top, item)
        return 0

    cdef int quote_ticks(self, double mid, double bid, double ask, int64_t* bid_ticks,
                         int64_t* ask_ticks) except -1:
        """``agents.tracking.quote_ticks`` against the top of book; NONE for no quote."""
        cdef int64_t b = NONE, a = NONE
        if -MAX_QUOTE < bid < MAX_QUOTE:  # False for NaN
            b = min(<int64_t>floor(bid + EPS), whole(ceil(mid - EPS)) - 1)
            if self.top.ask != NONE:
                b = min(b, self.top.ask - 1)
            if b < 1:
                b = NONE
        if -MAX_QUOTE < ask < MAX_QUOTE:
            a = max(<int64_t>ceil(ask - EPS), whole(floor(mid + EPS)) + 1)
            if self.top.bid != NONE:
                a = max(a, self.top.bid + 1)
            if a >= MAX_PRICE:
                a = NONE
        bid_ticks[0] = b
        ask_ticks[0] = a
        return 0


cdef class FixedSpreadMaker(QuotingMaker):
    """``agents.fixed_spread.FixedSpreadMaker``."""

    cdef double anchor, skew_per_lot
    cdef int64_t half_spread, requote_ticks
    cdef bint own_mid

    def __init__(self, agent):
        super().__init__(agent)
        p = agent.params
        self.anchor = agent.anchor
        self.skew_per_lot = p.skew_per_lot
        self.half_spread = p.half_spread
        self.requote_ticks = p.requote_ticks
        self.own_mid = agent.own_mid

    cdef int start(self) except -1:
        return self.requote()

    cdef int quote(self, const Item* item) except -1:
        QuotingMaker.quote(self, item)
        if self.top.bid != NONE and self.top.ask != NONE:  # a new mid: whose is it?
            self.own_mid = self.at_touch()
        if abs(self.top.mid - self.anchor) >= self.requote_ticks and not self.own_mid:
            self.anchor = self.top.mid
        return self.requote()

    cdef bint at_touch(self) noexcept:
        cdef LiveOrder* bid = self.quote_order(1)
        cdef LiveOrder* ask = self.quote_order(-1)
        return ((bid != NULL and bid.accepted and self.top.bid != NONE and bid.price == self.top.bid)
                or (ask != NULL and ask.accepted and self.top.ask != NONE
                    and ask.price == self.top.ask))

    cdef int report(self, const Item* item) except -1:
        self.apply(item)
        if item.kind == FILLED:
            self.requote()
        return 0

    cdef int prices(self, int64_t* bid, int64_t* ask) except -1:
        cdef double centre = self.anchor - self.skew_per_lot * <double>self.position
        return self.quote_ticks(self.anchor, centre - <double>self.half_spread,
                                centre + <double>self.half_spread, bid, ask)


cdef class AvellanedaStoikovMaker(QuotingMaker):
    """``agents.avellaneda_stoikov.AvellanedaStoikovMaker``."""

    cdef double gamma, sigma, kappa, horizon, tick_size
    cdef bint rolling
    cdef int64_t interval_ns

    def __init__(self, agent):
        super().__init__(agent)
        p = agent.params
        self.gamma, self.sigma, self.kappa, self.horizon = p.gamma, p.sigma, p.kappa, p.horizon
        self.rolling = p.horizon_mode == "rolling"
        self.tick_size = agent.session.tick_size
        self.interval_ns = agent._interval_ns

    cdef int start(self) except -1:
        self.requote()
        return self.engine.timer(self.session, self.interval_ns, REQUOTE)

    cdef int report(self, const Item* item) except -1:
        self.apply(item)
        return 0

    cdef int timer(self, int64_t tag) except -1:
        if tag == REQUOTE:
            self.requote()
            self.engine.timer(self.session, self.interval_ns, REQUOTE)
        return 0

    cdef double time_left(self) noexcept:
        if self.rolling:
            return self.horizon
        return self.horizon - fmod(<double>self.engine.now / 1e9, self.horizon)

    cdef int prices(self, int64_t* bid, int64_t* ask) except -1:
        cdef double s = self.top.mid * self.tick_size
        cdef double r = s - <double>self.position * self.gamma * pow(self.sigma, 2) * self.time_left()
        cdef double spread = (self.gamma * pow(self.sigma, 2) * self.time_left()
                              + 2.0 / self.gamma * log1p(self.gamma / self.kappa))
        cdef double half = spread / 2
        return self.quote_ticks(self.top.mid, (r - half) / self.tick_size, (r + half) / self.tick_size,
                                bid, ask)
