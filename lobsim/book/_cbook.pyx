# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: binding=False, embedsignature=True, initializedcheck=False
# distutils: language = c++
"""The compiled order book: :class:`lobsim.book.orderbook.PyOrderBook`'s API and rules, in C++ structures.

Same methods, same reports (instances of :mod:`lobsim.book.reports`' NamedTuples), same
report order, same rejects, same invariants; ``tests/test_book_properties.py`` drives
both against one model. ``lobsim.OrderBook`` is this class when it is importable (see
:mod:`lobsim.book.orderbook`).

Layout (the structures are in ``_cbook.pxd``). Each side is a ``std::map`` from a rank
key to its level (asks: the price, bids: minus the price), so the best level of either
side is ``begin()`` and matching is one loop for both. The orders themselves live in the
order table, an open-addressing table keyed by the id's key, 32 bytes a slot; a level's
queue is an array of its orders' slots in time priority. An order id has an int64 key: a
plain ``int`` is its own key; any other id gets one from a dict, or its int's key if it
equals an int (``True``, ``1.0``), so ids compare exactly as in a Python dict. Besides the
order table, the used-id set keeps a bit per key ever accepted, in 64-key blocks.

Why so: past 10^4 resting orders the cost of a request is its cache misses, each a trip
to DRAM once the book outgrows the cache. A cancel finds its order in the slot its
lookup lands on (no separate index, no node behind it) and marks its queue entry dead
instead of unlinking it, so it reads one random cache line of the table, plus the level
and a queue entry (4 bytes an order: cache resident); it does not touch the orders
queued around it. Matching reads a level's queue sequentially and prefetches the orders
ahead; an insert of the next sequential id finds its slot already loaded. Before this
layout a cancel took three dependent misses (index slot, node, its neighbours).

Complexity, with L the levels on a side: insert O(log L) (the level lookup), cancel and
lookup O(1) amortised plus O(log L) when a level empties, matching O(1) per fill and per
dead queue entry passed plus O(log L) per level emptied; table growth, queue growth and
queue compaction are amortised O(1). Tombstones: a cancelled order's queue entry is
marked dead and stays until matching passes it or its level compacts its queue, which a
cancel or modify does when the level's dead entries outnumber its live orders by more
than ``COMPACT_SLACK`` (the compaction is O(entries), and at least half of them are dead
entries that each paid O(1) for it). The queries that walk a queue (``queue``,
``queue_position``, ``snapshot``, FOK's check) also step over its dead entries: O(queue
entries), which a cancel's compaction keeps to about twice the level's orders. Nothing
scans a level or the book except those queries, compaction and the table's rehash.

The book holds strong references to every live order's owner and to every id that is not
a plain int, and reports them to the garbage collector, so a cycle through an owner (an
owner that holds the book) is collected.
"""

from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_INCREF, Py_XDECREF
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cython.operator cimport dereference as deref, preincrement as inc
from libc.stdint cimport int64_t, uint32_t, INT64_MAX
from libc.stdlib cimport free, realloc
from libcpp.map cimport map as cmap
from libcpp.unordered_map cimport unordered_map
from libcpp.vector cimport vector

from lobsim.errors import InvariantError
from lobsim.book.orders import MAX_PRICE as _MAX_PRICE_PY, MAX_QTY as _MAX_QTY_PY
from lobsim.book.orders import CancelCause, RejectReason, Side, TimeInForce
from lobsim.book.reports import Cancelled, Modified, Rejected, Traded


# ---------------------------------------------------------------------- constants

cdef int64_t MAX_PRICE = _MAX_PRICE_PY
cdef int64_t MAX_QTY = _MAX_QTY_PY
#: Cached best prices of an empty side, as in the pure book: valid prices lie strictly
#: between them, so "does a buy at p cross?" is just ``p >= best_ask``.
cdef int64_t NO_BID = 0
cdef int64_t NO_ASK = MAX_PRICE
#: CPython hashes an int n with |n| < 2**61 - 1 to n itself (-1 excepted, to -2): such an
#: int is its own table key, and any id equal to it has a hash that names it.
cdef int64_t HASH_MODULUS = (1 << 61) - 1
#: Keys of ids that equal no such int are handed out from here up, past every int key.
cdef int64_t FIRST_OTHER_KEY = 1 << 62
# what _key says an id is
cdef enum:
    UNHASHABLE = -1
    NEW_ID = 0  # hashable, equal to no plain int, never used: no key yet
    OTHER_ID = 1  # has a key; a resting order keeps the object in OrderBook._ids
    PLAIN_INT = 2  # an int in (-2**61+1, 2**61-1): its own key, not kept as an object

cdef size_t FIRST_TABLE_SIZE = 64  # a power of two
cdef enum:
    #: matching loads the order this many queue entries ahead
    PREFETCH = 4
    #: dead entries a queue may hold beyond as many as its live orders before it compacts
    COMPACT_SLACK = 8

cdef object BUY = Side.BUY
cdef object SELL = Side.SELL
cdef object GTC = TimeInForce.GTC
cdef object IOC = TimeInForce.IOC
cdef object FOK = TimeInForce.FOK
cdef object INVALID = RejectReason.INVALID
cdef object UNKNOWN_ID = RejectReason.UNKNOWN_ID
cdef object DUPLICATE_ID = RejectReason.DUPLICATE_ID
cdef object WOULD_CROSS = RejectReason.WOULD_CROSS
cdef object REQUEST = CancelCause.REQUEST
cdef object UNFILLED = CancelCause.UNFILLED
cdef object SELF_TRADE = CancelCause.SELF_TRADE
cdef PyTypeObject* TRADED = <PyTypeObject*>Traded
cdef PyTypeObject* CANCELLED = <PyTypeObject*>Cancelled
cdef PyTypeObject* REJECTED = <PyTypeObject*>Rejected
cdef PyTypeObject* MODIFIED = <PyTypeObject*>Modified
cdef object _order_info = None  # lobsim.book.orderbook.OrderInfo, imported on first use (book imports us)


cdef inline int64_t _int_arg(object value, int64_t bound) noexcept:
    """``value`` if it is an ``int`` (not a bool) with 0 < value < bound, else -1."""
    cdef int overflow = 0
    cdef long long v
    if type(value) is not int:
        return -1
    v = PyLong_AsLongLongAndOverflow(value, &overflow)
    if overflow or v <= 0 or v >= bound:
        return -1
    return v


cdef inline bint _same_owner(PyObject* resting, object incoming) except -1:
    """``resting == incoming`` as Python would say it; identical str and int owners
    (the usual case) skip the comparison call."""
    if resting == <PyObject*>incoming and (type(incoming) is str or type(incoming) is int):
        return True
    return bool(<object>resting == incoming)


cdef object _int_equal_to(object value, Py_hash_t h):
    """The int in (-2**61+1, 2**61-1) that ``value`` equals, or None. Such an int hashes
    to itself (-1 to -2), and equal objects hash alike, so ``h`` names the candidates."""
    if not -HASH_MODULUS < h < HASH_MODULUS:
        return None
    if value == h:
        return h
    if h == -2 and value == -1:
        return -1
    return None


cdef inline object _rejected(object order_id, object owner, object reason):
    return lob_report3(REJECTED, <PyObject*>order_id, <PyObject*>owner, <PyObject*>reason)


cdef inline object _cancelled(object order_id, object owner, object qty, object cause):
    return lob_report4(CANCELLED, <PyObject*>order_id, <PyObject*>owner, <PyObject*>qty,
                       <PyObject*>cause)


cdef inline object _modified(object order_id, object owner, object side, object price,
                             object qty, object old_price, object old_qty):
    return lob_report7(MODIFIED, <PyObject*>order_id, <PyObject*>owner, <PyObject*>side,
                       <PyObject*>price, <PyObject*>qty, <PyObject*>old_price,
                       <PyObject*>old_qty)


cdef inline object _traded(object price, object qty, object maker, object taker,
                           object maker_owner, object taker_owner, object aggressor,
                           object maker_left):
    return lob_report8(TRADED, <PyObject*>price, <PyObject*>qty, <PyObject*>maker,
                       <PyObject*>taker, <PyObject*>maker_owner, <PyObject*>taker_owner,
                       <PyObject*>aggressor, <PyObject*>maker_left)


cdef inline object _side_of(int side):
    return BUY if side > 0 else SELL


# ---------------------------------------------------------------------- the book

cdef class OrderBook:
    """A price-time priority limit order book for one instrument (compiled).

    Matching rules: a buy crosses resting sells priced <= its limit, a sell crosses resting
    buys priced >= its limit, a market order crosses any price; fills happen at the resting
    price, best price first, oldest first. An incoming order never trades with a resting
    order of the same owner: at the first such match its remainder is cancelled
    (self-trade prevention, cancel-newest). See :meth:`limit`, :meth:`market`,
    :meth:`cancel` and :meth:`modify` for the rest.
    """

    cdef cmap[int64_t, Level*] _bids  # key: -price, so begin() is the best bid
    cdef cmap[int64_t, Level*] _asks  # key: price
    cdef int64_t _best_bid
    cdef int64_t _best_ask
    cdef KeySet _used  # key of every accepted id, live or finished
    cdef OrderTable _orders  # every resting order, by key
    cdef Pool _levels
    cdef unordered_map[int64_t, int64_t] _big_qty  # key -> lots, of orders of >= 2**32 - 1 lots
    cdef dict _ids  # key -> id object, of resting orders whose id is not the plain int key
    cdef dict _other_keys  # id that equals no small int -> its key; every such id ever used
    cdef int64_t _next_other_key
    cdef bint _busy  # inside limit/market/cancel/modify (see _enter)

    def __cinit__(self):
        self._best_bid = NO_BID
        self._best_ask = NO_ASK
        _set_init(&self._used, FIRST_TABLE_SIZE)
        _table_init(&self._orders, FIRST_TABLE_SIZE)
        self._ids = {}
        self._other_keys = {}
        self._next_other_key = FIRST_OTHER_KEY

    def __dealloc__(self):
        self._release_orders()
        free(self._used.slots)
        free(self._orders.slots)
        _pool_release(&self._levels)

    # ------------------------------------------------------------------ requests

    cdef inline int _enter(self) except -1:
        """Refuse a call back into the book from inside one of its own operations.

        An operation may run Python code: an owner's ``__eq__`` (self-trade prevention) or
        an id's ``__hash__``/``__eq__`` (ids that are not plain ints). Were that code to
        place, cancel or modify an order of this same book, it would move or free the
        orders and levels the running operation holds by address, so it is refused with a
        RuntimeError instead, which the running operation then raises (as it raises any
        exception of an owner's ``__eq__``, with the book left valid).
        """
        if self._busy:
            raise RuntimeError("OrderBook: limit, market, cancel and modify cannot be called "
                               "from an owner's or id's __eq__ or __hash__ during another one")
        self._busy = True
        return 0

    def limit(self, order_id, owner, side, price, qty, tif=GTC, post_only=False):
        """Submit a limit order of ``qty`` lots at ``price`` ticks.

        GTC: what does not trade rests at the back of its level. IOC: the rest is
        cancelled. FOK: fills completely or is cancelled whole with no trade. Post-only
        (GTC only): rejected ``would_cross`` if it would trade on arrival.
        Checks, in order: ``duplicate_id``; ``invalid`` (side, positive int price and qty
        below ``MAX_PRICE``/``MAX_QTY``, tif, post-only with IOC/FOK); ``would_cross``. A
        rejected order changes nothing and leaves its id unused.

        O(log L) to rest; see the module docstring for matching.
        """
        self._enter()
        try:
            return self._limit(order_id, owner, side, price, qty, tif, post_only)
        finally:
            self._busy = False

    cdef object _limit(self, order_id, owner, side, price, qty, tif, post_only):
        cdef int64_t key = 0, p, q, remaining
        cdef size_t slot = 0
        cdef int s, kind = 0
        cdef bint crosses, po
        refused = self._refuse_id(order_id, owner, &kind, &key, &slot)
        if refused is not None:
            return [refused]
        s = 1 if side is BUY else (-1 if side is SELL else 0)
        p = _int_arg(price, MAX_PRICE)
        q = _int_arg(qty, MAX_QTY)
        po = post_only is True
        if (s == 0 or p < 0 or q < 0 or (tif is not GTC and tif is not IOC and tif is not FOK)
                or (post_only is not False and (not po or tif is not GTC))):
            return [_rejected(order_id, owner, INVALID)]
        crosses = p >= self._best_ask if s > 0 else p <= self._best_bid
        if not crosses:
            key = self._use(order_id, kind, key, slot)
            if tif is GTC:
                self._rest(order_id, kind, key, owner, s, p, q, po)
                return []
            return [_cancelled(order_id, owner, qty, UNFILLED)]
        if po:
            return [_rejected(order_id, owner, WOULD_CROSS)]
        key = self._use(order_id, kind, key, slot)
        if tif is FOK and self._fillable(owner, s, s * p, q) < q:
            return [_cancelled(order_id, owner, qty, UNFILLED)]
        reports = []
        remaining = self._match(order_id, owner, s, s * p, q, reports)
        if remaining:
            if tif is GTC:
                self._rest(order_id, kind, key, owner, s, p, remaining, False)
            else:
                reports.append(_cancelled(order_id, owner, remaining, UNFILLED))
        return reports

    def market(self, order_id, owner, side, qty):
        """Submit a market order of ``qty`` lots: it trades at any price and never rests;
        what does not trade is cancelled. Checks as :meth:`limit`. O(1) per fill plus
        O(log L) per level emptied."""
        self._enter()
        try:
            return self._market(order_id, owner, side, qty)
        finally:
            self._busy = False

    cdef object _market(self, order_id, owner, side, qty):
        cdef int64_t key = 0, q, remaining
        cdef size_t slot = 0
        cdef int s, kind = 0
        refused = self._refuse_id(order_id, owner, &kind, &key, &slot)
        if refused is not None:
            return [refused]
        s = 1 if side is BUY else (-1 if side is SELL else 0)
        q = _int_arg(qty, MAX_QTY)
        if s == 0 or q < 0:
            return [_rejected(order_id, owner, INVALID)]
        self._use(order_id, kind, key, slot)
        reports = []
        remaining = self._match(order_id, owner, s, INT64_MAX, q, reports)  # crosses every price
        if remaining:
            reports.append(_cancelled(order_id, owner, remaining, UNFILLED))
        return reports

    def cancel(self, order_id):
        """Cancel a live order; report its remaining qty, or reject ``unknown_id``. O(1)
        amortised, plus O(log L) if its level empties."""
        self._enter()
        try:
            return self._cancel(order_id)
        finally:
            self._busy = False

    cdef object _cancel(self, order_id):
        cdef Py_ssize_t slot = self._find(order_id, False)
        cdef Order* order
        if slot < 0:
            return [_rejected(order_id, None, UNKNOWN_ID)]
        order = &self._orders.slots[slot]
        reports = [_cancelled(order_id, <object>order.owner, self._qty(order), REQUEST)]
        self._remove(slot, order)
        return reports

    def modify(self, order_id, qty=None, price=None):
        """Change a live order's remaining ``qty`` (lots) and/or ``price`` (ticks).

        Same price: a lower qty keeps its queue priority, a higher qty sends it to the back,
        an equal qty changes nothing. A new price re-enters it as a GTC limit with the same
        id, owner and post-only flag: it loses priority and may trade as a taker; a
        post-only order whose new price would cross is rejected ``would_cross`` and stays as
        it was. Rejects: ``unknown_id``; ``invalid`` when neither field is given or one is
        not a positive int. Reports a :class:`Modified` first, then any fills.
        O(1) in place, as :meth:`limit` when the price changes.
        """
        self._enter()
        try:
            return self._modify(order_id, qty, price)
        finally:
            self._busy = False

    cdef object _modify(self, order_id, qty, price):
        cdef Py_ssize_t slot = self._find(order_id, False)
        cdef Order* order
        cdef Level* level
        cdef int64_t new_qty, new_price, old_qty, key, remaining
        cdef int s
        cdef bint crosses, po
        if slot < 0:
            return [_rejected(order_id, None, UNKNOWN_ID)]
        order = &self._orders.slots[slot]
        level = self._level_of(order)
        owner = <object>order.owner
        old_qty = self._qty(order)
        new_qty = old_qty if qty is None else _int_arg(qty, MAX_QTY)
        new_price = level.price if price is None else _int_arg(price, MAX_PRICE)
        if (qty is None and price is None) or new_qty < 0 or new_price < 0:
            return [_rejected(order_id, owner, INVALID)]
        s, key = level.side, order.key
        side = _side_of(s)
        old = <object>level.py_price
        if new_price == level.price:
            report = _modified(order_id, owner, side, old, new_qty, old, old_qty)
            self._requeue(slot, order, new_qty)
            return [report]
        crosses = new_price >= self._best_ask if s > 0 else new_price <= self._best_bid
        po = order.level & POST_ONLY != 0
        if crosses and po:
            return [_rejected(order_id, owner, WOULD_CROSS)]
        reports = [_modified(order_id, owner, side, new_price, new_qty, old, old_qty)]
        self._remove(slot, order)
        remaining = self._match(order_id, owner, s, s * new_price, new_qty, reports) \
            if crosses else new_qty
        if remaining:
            # the order keeps its key; its id object is now the one this request named
            self._rest(order_id, PLAIN_INT if _is_plain_int(order_id) else OTHER_ID, key,
                       owner, s, new_price, remaining, po)
        return reports

    # ------------------------------------------------------------------ queries

    def best_bid(self):
        """(price ticks, total lots) of the best bid, or None. O(1)."""
        if self._best_bid == NO_BID:
            return None
        return self._best_bid, deref(self._bids.begin()).second.qty

    def best_ask(self):
        """(price ticks, total lots) of the best ask, or None. O(1)."""
        if self._best_ask == NO_ASK:
            return None
        return self._best_ask, deref(self._asks.begin()).second.qty

    def top(self):
        """L1 in one call: (bid ticks or None, bid lots, ask ticks or None, ask lots). O(1)."""
        if self._best_bid == NO_BID:
            if self._best_ask == NO_ASK:
                return (None, 0, None, 0)
            return (None, 0, self._best_ask, deref(self._asks.begin()).second.qty)
        if self._best_ask == NO_ASK:
            return (self._best_bid, deref(self._bids.begin()).second.qty, None, 0)
        return (self._best_bid, deref(self._bids.begin()).second.qty,
                self._best_ask, deref(self._asks.begin()).second.qty)

    @property
    def bid_price(self):
        """Best bid in ticks, or None. O(1)."""
        return None if self._best_bid == NO_BID else self._best_bid

    @property
    def ask_price(self):
        """Best ask in ticks, or None. O(1)."""
        return None if self._best_ask == NO_ASK else self._best_ask

    def depth(self, levels):
        """L2: ``(bids, asks)``, each up to ``levels`` (price, total lots) pairs, best first.
        O(log L + levels)."""
        cdef Py_ssize_t n = min(max(levels, 0), self._bids.size() + self._asks.size())
        return _levels(&self._bids, n), _levels(&self._asks, n)

    def queue(self, side, price):
        """L3: the (order id, remaining lots) queue at ``price`` on ``side``, in priority
        order; empty if there is no such level. O(entries of the level's queue: its
        orders and the cancelled ones not yet compacted away, see the module docstring)."""
        cdef Level* level = self._level_at(side, price)
        cdef uint32_t i
        cdef Order* order
        out = []
        if level == NULL:
            return out
        i = level.head
        while i < level.end:
            if level.queue[i] != DEAD:
                order = &self._orders.slots[level.queue[i]]
                out.append((self._id_of(order), self._qty(order)))
            i += 1
        return out

    def get(self, order_id):
        """The live order with this id, or None. O(1)."""
        global _order_info
        cdef Py_ssize_t slot = self._find(order_id, True)
        cdef Order* order
        cdef Level* level
        cdef object side, qty, post_only
        if slot < 0:
            return None
        order = &self._orders.slots[slot]
        level = self._level_of(order)
        if _order_info is None:
            from lobsim.book.orderbook import OrderInfo
            _order_info = OrderInfo
        order_id = self._id_of(order)
        side = _side_of(level.side)
        qty = self._qty(order)
        post_only = True if order.level & POST_ONLY else False
        return lob_report6(<PyTypeObject*>_order_info, <PyObject*>order_id, order.owner,
                           <PyObject*>side, level.py_price, <PyObject*>qty, <PyObject*>post_only)

    def remaining(self, order_id):
        """Remaining lots of a live order; 0 if it is not live. O(1)."""
        cdef Py_ssize_t slot = self._find(order_id, True)
        return 0 if slot < 0 else self._qty(&self._orders.slots[slot])

    def queue_position(self, order_id):
        """(orders ahead, lots ahead) of a live order in its level, or None if not live.
        O(queue entries ahead of it: the orders ahead and the cancelled ones not yet
        compacted away)."""
        cdef Py_ssize_t slot = self._find(order_id, True)
        cdef int64_t count = 0, qty = 0
        cdef uint32_t i, pos
        cdef Level* level
        if slot < 0:
            return None
        level = self._level_of(&self._orders.slots[slot])
        pos = self._orders.slots[slot].pos
        i = level.head
        while i < pos:
            if level.queue[i] != DEAD:
                count += 1
                qty += self._qty(&self._orders.slots[level.queue[i]])
            i += 1
        return count, qty

    def is_used(self, order_id):
        """Whether an accepted order (live or finished) already has this id. O(1)."""
        cdef int64_t key = 0
        cdef int kind = self._key(order_id, &key)
        if kind == UNHASHABLE:
            hash(order_id)  # raises the TypeError a set would
        return kind != NEW_ID and _set_has(&self._used, key)

    def __len__(self):
        """Number of resting orders. O(1)."""
        return self._orders.count

    def level_count(self):
        """(bid levels, ask levels). O(1)."""
        return self._bids.size(), self._asks.size()

    def snapshot(self):
        """The whole book as ``{"bids": [{"price": P, "orders": [[id, qty], ...]}, ...],
        "asks": [...]}``, best level first, orders in priority order (``--book-out``).
        O(resting orders)."""
        return {"bids": self._snapshot_side(&self._bids), "asks": self._snapshot_side(&self._asks)}

    cdef list _snapshot_side(self, cmap[int64_t, Level*]* levels):
        cdef cmap[int64_t, Level*].iterator it = levels.begin()
        cdef Level* level
        cdef Order* order
        cdef uint32_t i
        out = []
        while it != levels.end():
            level = deref(it).second
            orders = []
            i = level.head
            while i < level.end:
                if level.queue[i] != DEAD:
                    order = &self._orders.slots[level.queue[i]]
                    orders.append([self._id_of(order), self._qty(order)])
                i += 1
            out.append({"price": <object>level.py_price, "orders": orders})
            inc(it)
        return out

    # ------------------------------------------------------------------ ids and fields

    cdef object _refuse_id(self, object order_id, object owner, int* kind, int64_t* key,
                           size_t* slot):
        """The reject a new order gets for its id alone (unhashable: ``invalid``; used
        before: ``duplicate_id``), or None; sets the id's kind, key and used-set slot,
        which :meth:`_use` takes once the order is accepted. O(1)."""
        kind[0] = self._key(order_id, key)
        if kind[0] == UNHASHABLE:
            return _rejected(order_id, owner, INVALID)
        if kind[0] != NEW_ID:
            slot[0] = _set_probe(&self._used, key[0])
            if _set_has_at(&self._used, slot[0], key[0]):
                return _rejected(order_id, owner, DUPLICATE_ID)
        return None

    cdef int _key(self, object order_id, int64_t* key) except -2:
        """Put ``order_id``'s key in ``key`` and say what kind of id it is: a plain int
        (its own key), another id with a key (one that equals a plain int has that int's
        key), an id never used that has no key yet, or an unhashable one. O(1)."""
        cdef int overflow = 0
        cdef long long v
        if type(order_id) is int:
            v = PyLong_AsLongLongAndOverflow(order_id, &overflow)
            if not overflow and -HASH_MODULUS < v < HASH_MODULUS:
                key[0] = v
                return PLAIN_INT
        return self._other_key(order_id, key)

    cdef int _other_key(self, object order_id, int64_t* key) except -2:
        cdef Py_hash_t h
        try:
            h = hash(order_id)
        except TypeError:
            return UNHASHABLE
        found = _int_equal_to(order_id, h)
        if found is None:
            found = self._other_keys.get(order_id)
            if found is None:
                return NEW_ID
        key[0] = found
        return OTHER_ID

    cdef int64_t _use(self, object order_id, int kind, int64_t key, size_t slot) except? -1:
        """Record ``order_id`` as used (``kind``, ``key``, ``slot``: what :meth:`_key` and
        the probe of the used set said); return its key. O(1) amortised."""
        if kind == NEW_ID:
            key = self._next_other_key
            self._next_other_key += 1
            self._other_keys[order_id] = key
            slot = _set_probe(&self._used, key)
        _set_add(&self._used, key, slot)
        return key

    cdef Py_ssize_t _find(self, object order_id, bint strict) except? -2:
        """The order-table slot of the live order ``order_id``, or -1. An unhashable id is
        not live, or with ``strict`` raises TypeError as a dict lookup would. O(1)."""
        cdef int64_t key = 0
        cdef int kind = self._key(order_id, &key)
        if kind == NEW_ID:
            return -1
        if kind == UNHASHABLE:
            if strict:
                hash(order_id)
            return -1
        return _table_find(&self._orders, key)

    cdef inline object _id_of(self, Order* order):
        """The order's id: the object it came with, or the plain int that is its key."""
        if order.level & ID_OBJECT:
            return self._ids[order.key]
        return order.key

    cdef inline int64_t _qty(self, Order* order) noexcept:
        return order.qty if order.qty != BIG_QTY else self._big_qty[order.key]

    cdef inline void _set_qty(self, Order* order, int64_t qty) noexcept:
        """Lots that do not fit the order's 32 bits go to a side table (rare: ~4e9 lots)."""
        if qty < BIG_QTY:
            if order.qty == BIG_QTY:
                self._big_qty.erase(order.key)
            order.qty = <uint32_t>qty
        else:
            order.qty = BIG_QTY
            self._big_qty[order.key] = qty

    cdef inline Level* _level_of(self, Order* order) noexcept:
        return _level(&self._levels, order.level & LEVEL_MASK)

    # ------------------------------------------------------------------ internals

    cdef int _rest(self, object order_id, int kind, int64_t key, object owner, int s,
                   int64_t price, int64_t qty, bint post_only) except -1:
        """Put a non-crossing order at the back of its level, opening the level if needed.
        A plain-int id is not kept as an object: its key is its value. O(log L)."""
        cdef Level* level = self._level_for(s, price)
        cdef Py_ssize_t slot
        cdef Order* order
        if level.end < level.cap:  # the entry it will take, last touched when the level last grew
            lob_prefetch(&level.queue[level.end])
        if kind != PLAIN_INT:
            self._ids[key] = order_id
        slot = _table_insert(&self._orders, &self._levels, key)
        # ids usually come in sequence, and the next ones' first slots follow this one:
        # start loading the next line now, as the insert of key + 1 or + 2 will read it
        lob_prefetch(&self._orders.slots[_first(key + 2, self._orders.mask)])
        self._push(level, <uint32_t>slot)
        order = &self._orders.slots[slot]
        order.level = level.num | (POST_ONLY if post_only else 0) | (ID_OBJECT if kind != PLAIN_INT else 0)
        order.qty = 0
        self._set_qty(order, qty)
        Py_INCREF(owner)
        order.owner = <PyObject*>owner
        level.qty += qty
        level.count += 1
        return 0

    cdef int _push(self, Level* level, uint32_t slot) except -1:
        """Put the order in ``slot`` at the back of ``level``'s queue. O(1) amortised: a
        full queue first drops its dead and passed entries if they are at least half of
        it (O(entries), paid for by the pushes since it was last this full), else doubles."""
        cdef uint32_t cap
        cdef uint32_t* queue
        if level.end == level.cap:
            if level.cap and level.count <= level.cap // 2:
                self._compact(level)
            else:
                cap = level.cap * 2 if level.cap else 4
                queue = <uint32_t*>realloc(level.queue, cap * sizeof(uint32_t))
                if queue == NULL:
                    raise MemoryError()
                level.queue = queue
                level.cap = cap
        level.queue[level.end] = slot
        self._orders.slots[slot].pos = level.end
        level.end += 1
        return 0

    cdef void _compact(self, Level* level) noexcept:
        """Drop the dead entries of ``level``'s queue and those matching passed: the live
        ones move to the front, in order, and their orders learn their new position (a
        write to each live order, none to the dead); a queue left mostly empty shrinks.
        O(entries); callers compact only when the entries dropped are at least as many
        as those kept, so each death or push pays O(1) for it."""
        cdef Order* slots = self._orders.slots
        cdef uint32_t* queue = level.queue
        cdef uint32_t i = level.head, kept = 0, slot, cap
        while i < level.end:
            slot = queue[i]
            if slot != DEAD:
                queue[kept] = slot
                slots[slot].pos = kept
                kept += 1
            i += 1
        level.head = 0
        level.end = kept
        if level.cap > 16 and kept * 4 < level.cap:
            cap = kept * 2 if kept > 8 else 16
            queue = <uint32_t*>realloc(level.queue, cap * sizeof(uint32_t))
            if queue != NULL:  # else keep the bigger block
                level.queue = queue
                level.cap = cap

    cdef void _after_death(self, Level* level) noexcept:
        """After an order of ``level`` left its queue entry dead (cancel, modify): drop
        the level if no live order is left, else compact its queue once the dead entries
        outnumber its live orders by COMPACT_SLACK (so that a small level does not
        compact at every cancel). O(1) amortised, plus O(log L) when the level empties."""
        if level.count == 0:
            self._drop_level(level)
        elif level.end - level.head > 2 * level.count + COMPACT_SLACK:
            self._compact(level)

    cdef Level* _level_for(self, int s, int64_t price) except NULL:
        """The level at ``price`` on side ``s``, opened (and the best price moved) if
        there is none. O(log L)."""
        cdef cmap[int64_t, Level*]* levels = &self._bids if s > 0 else &self._asks
        cdef int64_t rank = -price if s > 0 else price
        cdef cmap[int64_t, Level*].const_iterator it = levels.const_lower_bound(rank)
        cdef Level* level
        cdef object py_price
        if it != levels.end() and deref(it).first == rank:
            return deref(it).second
        py_price = price
        level = _new_level(&self._levels)
        levels.insert(it, LevelEntry(rank, level))
        Py_INCREF(py_price)
        level.py_price = <PyObject*>py_price
        level.price = price
        level.qty = 0
        level.side = s
        if s > 0:
            if price > self._best_bid:
                self._best_bid = price
        elif price < self._best_ask:
            self._best_ask = price
        return level

    cdef Level* _level_at(self, object side, object price) except? NULL:
        """The level at ``price`` on ``side`` (any side but BUY means the asks, as a dict
        lookup on the pure book), or NULL."""
        cdef int64_t key = 0
        cdef cmap[int64_t, Level*]* levels = &self._bids if side is BUY else &self._asks
        cdef cmap[int64_t, Level*].iterator it
        if type(price) is int and -HASH_MODULUS < price < HASH_MODULUS:
            key = price
        else:
            found = _int_equal_to(price, hash(price))
            if found is None:
                return NULL
            key = found
        it = levels.find(-key if side is BUY else key)
        if it == levels.end():
            return NULL
        return deref(it).second

    cdef int _remove(self, Py_ssize_t slot, Order* order) except -1:
        """Take a live order off the book, leaving its queue entry dead (a tombstone:
        nothing queued around it is touched); drop its level if now empty, or compact
        it (:meth:`_after_death`); forget the order (its id stays used). O(1) amortised,
        plus O(log L) when the level empties."""
        cdef Level* level = self._level_of(order)
        cdef PyObject* owner = order.owner
        cdef int64_t key = order.key
        cdef bint id_object = order.level & ID_OBJECT != 0
        level.qty -= self._qty(order)
        level.count -= 1
        level.queue[order.pos] = DEAD
        self._forget(slot, order)
        self._after_death(level)
        # last: a release may run arbitrary code (__del__), and the book is consistent now
        if id_object:
            self._ids.pop(key, None)
        Py_XDECREF(owner)
        return 0

    cdef void _drop_level(self, Level* level) noexcept:
        """Erase an empty level from its side and move the best price if it was there."""
        cdef PyObject* py_price = level.py_price
        if level.side > 0:
            self._bids.erase(-level.price)
            if level.price == self._best_bid:
                self._refresh_best(1)
        else:
            self._asks.erase(level.price)
            if level.price == self._best_ask:
                self._refresh_best(-1)
        _free_level(&self._levels, level)
        Py_XDECREF(py_price)

    cdef inline void _forget(self, Py_ssize_t slot, Order* order) noexcept:
        """Free an order's slot (its queue entry, if any, is dead from now on). O(1)."""
        if order.qty == BIG_QTY:
            self._big_qty.erase(order.key)
        _table_delete(&self._orders, slot)

    cdef void _finish(self, Py_ssize_t slot, Order* order) noexcept:
        """Forget a filled order, whose level the caller has updated. O(1)."""
        cdef PyObject* owner = order.owner
        cdef int64_t key = order.key
        cdef bint id_object = order.level & ID_OBJECT != 0
        self._forget(slot, order)
        # last: a release may run arbitrary code (__del__), and the book is consistent now
        if id_object:
            self._ids.pop(key, None)
        Py_XDECREF(owner)

    cdef void _refresh_best(self, int s) noexcept:
        if s > 0:
            self._best_bid = NO_BID if self._bids.empty() else -deref(self._bids.begin()).first
        else:
            self._best_ask = NO_ASK if self._asks.empty() else deref(self._asks.begin()).first

    cdef int _requeue(self, Py_ssize_t slot, Order* order, int64_t new_qty) except -1:
        """Same-price modify: shrink in place, or grow and go to the back, leaving the old
        queue entry dead. O(1) amortised."""
        cdef Level* level = self._level_of(order)
        cdef int64_t old_qty = self._qty(order)
        level.qty += new_qty - old_qty
        self._set_qty(order, new_qty)
        if new_qty > old_qty and order.pos != level.end - 1:
            level.queue[order.pos] = DEAD
            self._push(level, <uint32_t>slot)
            self._after_death(level)
        return 0

    cdef int64_t _fillable(self, object owner, int s, int64_t limit, int64_t wanted) except -1:
        """Lots an incoming order of side ``s`` could take up to rank ``limit`` before it
        meets its own owner's order, counting only until ``wanted``. O(queue entries it
        would pass: the orders it would fill and the dead entries among them)."""
        cdef cmap[int64_t, Level*]* levels = &self._asks if s > 0 else &self._bids
        cdef cmap[int64_t, Level*].iterator it = levels.begin()
        cdef int64_t total = 0
        cdef uint32_t i
        cdef Level* level
        cdef Order* order
        while it != levels.end() and deref(it).first <= limit:
            level = deref(it).second
            i = level.head
            while i < level.end:
                if level.queue[i] != DEAD:
                    order = &self._orders.slots[level.queue[i]]
                    if _same_owner(order.owner, owner):
                        return total
                    total += self._qty(order)
                    if total >= wanted:
                        return total
                i += 1
            inc(it)
        return total

    cdef int64_t _match(self, object taker, object owner, int s, int64_t limit, int64_t qty,
                        list reports) except -1:
        """Trade an incoming order of side ``s`` against the other side up to rank
        ``limit`` (``s * price``; the other side's keys are ``s * their price``); append
        the reports; return the qty left to rest or cancel (0 after self-trade prevention,
        whose cancel it reports itself). O(1) per fill and per dead queue entry passed
        (each entry is passed once), O(log L) per level emptied."""
        cdef cmap[int64_t, Level*]* levels = &self._asks if s > 0 else &self._bids
        cdef int64_t remaining = qty, fill, maker_qty
        cdef Level* level
        cdef uint32_t slot, i
        cdef Order* maker
        cdef PyObject* py_price
        side = _side_of(s)
        try:
            while remaining and not levels.empty():
                if deref(levels.begin()).first > limit:
                    break
                level = deref(levels.begin()).second
                # the queue is read in order: load the makers ahead while these trade
                i = level.head
                while i < level.end and i < level.head + PREFETCH:
                    if level.queue[i] != DEAD:
                        lob_prefetch(&self._orders.slots[level.queue[i]])
                    i += 1
                while True:  # level.count > 0, so a live entry lies ahead
                    slot = level.queue[level.head]
                    if level.head + PREFETCH < level.end and level.queue[level.head + PREFETCH] != DEAD:
                        lob_prefetch(&self._orders.slots[level.queue[level.head + PREFETCH]])
                    if slot == DEAD:
                        level.head += 1  # a tombstone
                        continue
                    maker = &self._orders.slots[slot]
                    if _same_owner(maker.owner, owner):  # self-trade prevention: cancel the newest
                        reports.append(_cancelled(taker, owner, remaining, SELF_TRADE))
                        remaining = 0
                        break
                    maker_qty = self._qty(maker)
                    fill = remaining if remaining < maker_qty else maker_qty
                    reports.append(_traded(<object>level.py_price, fill, self._id_of(maker), taker,
                                           <object>maker.owner, owner, side, maker_qty - fill))
                    remaining -= fill
                    level.qty -= fill
                    if maker_qty > fill:
                        self._set_qty(maker, maker_qty - fill)
                        break  # taker exhausted against a partially filled maker
                    level.head += 1
                    level.count -= 1
                    self._finish(slot, maker)
                    if not remaining or not level.count:
                        break
                if level.count:
                    break
                levels.erase(levels.begin())
                py_price = level.py_price
                _free_level(&self._levels, level)
                Py_XDECREF(py_price)
        finally:  # an owner's __eq__ may raise: leave the best price right whatever happens
            self._refresh_best(-s)
        return remaining

    # ------------------------------------------------------------------ memory

    cdef void _release_orders(self) noexcept:
        """Drop every resting order and level, releasing their references; the ids stay
        used. References are released after the structures are empty, because a release
        may run arbitrary code. O(resting orders + levels + order-table size)."""
        cdef vector[PyObject*] refs
        cdef PyObject* ref
        cdef size_t i
        if self._orders.slots == NULL:  # __cinit__ failed before the table was made
            return
        for i in range(self._orders.mask + 1):
            if _is_order(&self._orders.slots[i]):
                refs.push_back(self._orders.slots[i].owner)
        _table_clear(&self._orders)
        self._release_side(&self._bids, &refs)
        self._release_side(&self._asks, &refs)
        self._best_bid = NO_BID
        self._best_ask = NO_ASK
        self._big_qty.clear()
        ids, self._ids = self._ids, {}
        for ref in refs:
            Py_XDECREF(ref)
        del ids

    cdef void _release_side(self, cmap[int64_t, Level*]* levels, vector[PyObject*]* refs) noexcept:
        cdef cmap[int64_t, Level*].iterator it = levels.begin()
        cdef Level* level
        while it != levels.end():
            level = deref(it).second
            refs.push_back(level.py_price)
            _free_level(&self._levels, level)
            inc(it)
        levels.clear()

    # ------------------------------------------------------------------ invariants

    def check(self):
        """Assert every structural invariant; raise :class:`InvariantError` naming the first
        that fails. Tests call it after every step. O(resting orders + levels + queue
        entries + table sizes)."""
        cdef size_t counts[3]  # orders, orders with an id object, orders with a big qty
        cdef size_t i, occupied = 0
        cdef Order* order
        cdef Level* level
        counts[0] = counts[1] = counts[2] = 0
        self._check_side(1, counts)
        self._check_side(-1, counts)
        _require(counts[0] == self._orders.count
                 and self._bids.size() + self._asks.size() == self._levels.used,
                 "order table and levels disagree")
        for i in range(self._orders.mask + 1):
            order = &self._orders.slots[i]
            if not _is_order(order):
                continue
            occupied += 1
            level = self._level_of(order)
            _require(order.level & LEVEL_MASK != 0 and level.head <= order.pos < level.end
                     and level.queue[order.pos] == i, f"order {self._id_of(order)!r} not queued")
        _require(occupied == self._orders.count,
                 f"order table holds {occupied} orders, counted {self._orders.count}")
        used = _used_counts(&self._used)
        _require(used == (self._used.blocks, self._used.count),
                 f"used-id set holds {used} (blocks, ids), counted {self._used.blocks, self._used.count}")
        _require(counts[1] == <size_t>len(self._ids) and counts[2] == self._big_qty.size(),
                 "side tables hold finished orders")
        best_bid = NO_BID if self._bids.empty() else -deref(self._bids.begin()).first
        best_ask = NO_ASK if self._asks.empty() else deref(self._asks.begin()).first
        _require((self._best_bid, self._best_ask) == (best_bid, best_ask), "stale best prices")
        _require(best_bid < best_ask, f"book crossed at rest: {best_bid} >= {best_ask}")

    cdef int _check_side(self, int s, size_t* counts) except -1:
        cdef cmap[int64_t, Level*]* levels = &self._bids if s > 0 else &self._asks
        cdef cmap[int64_t, Level*].iterator it = levels.begin()
        cdef Level* level
        while it != levels.end():
            level = deref(it).second
            price = level.price
            _require(deref(it).first == (-level.price if s > 0 else level.price)
                     and level.side == s and 0 < level.price < MAX_PRICE
                     and <object>level.py_price == price
                     and _level(&self._levels, level.num) == level,
                     f"level {price} misfiled")
            _require(level.count > 0 and level.head < level.end <= level.cap, f"empty level {price}")
            self._check_level(level, counts)
            inc(it)
        return 0

    cdef int _check_level(self, Level* level, size_t* counts) except -1:
        cdef int64_t count = 0, qty = 0, key = 0
        cdef uint32_t i = level.head, slot
        cdef Order* order
        cdef int kind
        while i < level.end:
            slot = level.queue[i]
            if slot == DEAD:
                i += 1
                continue
            _require(slot <= self._orders.mask and _claims(&self._orders, slot, level.num, i),
                     f"level {level.price} queue entry {i} names slot {slot}, which is not its order")
            order = &self._orders.slots[slot]
            order_id = self._id_of(order)
            _require(0 < self._qty(order) < MAX_QTY and (order.qty == BIG_QTY) == (self._qty(order) >= BIG_QTY),
                     f"order {order_id!r} has qty {self._qty(order)!r}")
            kind = self._key(order_id, &key)
            _require(kind != UNHASHABLE and kind != NEW_ID and key == order.key
                     and (order.level & ID_OBJECT == 0) == (kind == PLAIN_INT)
                     and _table_find(&self._orders, key) == slot,
                     f"order {order_id!r} not indexed")
            _require(_set_has(&self._used, key), f"order {order_id!r} id not recorded")
            counts[1] += order.level & ID_OBJECT != 0
            counts[2] += order.qty == BIG_QTY
            count += 1
            qty += self._qty(order)
            i += 1
        _require(count == level.count and qty == level.qty,
                 f"level {level.price} totals {level.count}/{level.qty} != {count}/{qty}")
        counts[0] += count
        return 0

    def _corrupt_level_qty(self, side, price, int delta):
        """Tests only: add ``delta`` lots to a level's total, as a bookkeeping bug would."""
        cdef Level* level = self._level_at(side, price)
        if level == NULL:
            raise KeyError(price)
        level.qty += delta


# ---------------------------------------------------------------------- helpers

cdef inline bint _is_plain_int(object order_id) noexcept:
    cdef int overflow = 0
    cdef long long v
    if type(order_id) is not int:
        return False
    v = PyLong_AsLongLongAndOverflow(order_id, &overflow)
    return not overflow and -HASH_MODULUS < v < HASH_MODULUS


cdef tuple _used_counts(const KeySet* s):
    """(blocks, keys) in the used-id set, counted."""
    cdef size_t blocks = 0, keys = 0, i
    for i in range(s.mask + 1):
        if s.slots[i].block != EMPTY:
            blocks += 1
            keys += bin(s.slots[i].bits).count("1")
    return blocks, keys


cdef list _levels(cmap[int64_t, Level*]* levels, Py_ssize_t n):
    cdef cmap[int64_t, Level*].iterator it = levels.begin()
    out = []
    while n > 0 and it != levels.end():
        out.append((<object>deref(it).second.py_price, deref(it).second.qty))
        inc(it)
        n -= 1
    return out


cdef int _visit_nodes(OrderBook book, visitproc visit, void* arg) noexcept:
    """tp_traverse for the references the order table holds (ids are in ``_ids``, a
    dict). O(order-table size)."""
    cdef size_t i
    cdef int r
    if book._orders.slots == NULL:
        return 0
    for i in range(book._orders.mask + 1):
        if _is_order(&book._orders.slots[i]):
            r = visit(book._orders.slots[i].owner, arg)
            if r:
                return r
    return 0


cdef int _clear_nodes(OrderBook book) noexcept:
    """tp_clear: drop the orders (and so the references) of a book in a garbage cycle."""
    book._release_orders()
    return 0


cdef inline int _require(bint condition, str message) except -1:
    if not condition:
        raise InvariantError(message)
    return 0


lob_install_gc(<PyTypeObject*>OrderBook, <void*>_visit_nodes, <void*>_clear_nodes)
