# cython: language_level=3
"""The compiled market engine's interface (``_cmarket.pyx``), for compiled agents.

A compiled agent is a :class:`FlowAgent` subclass (``agents/_cflow.pyx``,
``agents/_cmaker.pyx``): it acts through its :class:`Engine`'s ``limit``/``market``/
``cancel``/``modify``/``timer`` and hears back through ``report``/``quote``, exactly as a
Python agent does through its session.
"""

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t
from libcpp.unordered_map cimport unordered_map
from libcpp.vector cimport vector

cdef extern from *:
    """
    #define LOBM_NONE INT64_MIN
    """
    #: an absent price, quote or qty (Python's None)
    const int64_t NONE "LOBM_NONE"

# Request ops (K_LIMIT ...) are the recorder's kind codes, below.
# What a delivery hands an agent, one Item per report or quote.
cdef enum ItemKind:
    ACCEPTED = 1
    REJECTED = 2
    FILLED = 3
    CANCELLED = 4
    CANCEL_REJECTED = 5
    MODIFIED = 6
    QUOTE = 7

cdef struct Item:
    int kind  # ItemKind
    int side  # +1 buy, -1 sell (FILLED)
    int request  # K_CANCEL or K_MODIFY: what a CANCEL_REJECTED refused
    int64_t order_id  # reports
    int64_t price  # ticks (MODIFIED)
    int64_t qty  # lots: FILLED, CANCELLED, MODIFIED (the new remaining qty)
    int64_t left  # lots the order still has (FILLED)
    int64_t bid  # ticks or NONE (QUOTE)
    int64_t ask  # ticks or NONE (QUOTE)


# Queue entry kinds.
cdef enum:
    EV_TIMER = 0
    EV_ARRIVAL = 1
    EV_DELIVERY = 2
    EV_SNAPSHOT = 3

# Request ops and event-row kinds share the recorder's codes (lobsim.sim.recorder.KINDS).
cdef enum:
    K_LIMIT = 0
    K_MARKET = 1
    K_CANCEL = 2
    K_MODIFY = 3
    K_ACCEPTED = 4
    K_REJECTED = 5
    K_CANCEL_REJECTED = 6
    K_FILL = 7
    K_CANCELLED = 8
    K_MODIFIED = 9

cdef struct Event:
    int64_t time
    int64_t seq
    int kind
    int session
    int op
    int side
    bint post_only
    int64_t a  # order id, timer tag or delivery number
    int64_t price
    int64_t qty

cdef struct Leg:
    int64_t floor_ns
    int64_t last_ns  # arrival of the previous message on this leg
    bint jitter
    Py_ssize_t next
    vector[int64_t] draws

cdef struct OrderRecord:  # one live order, as Exchange.orders keeps it
    int32_t session
    int64_t submitted
    int64_t filled
    int64_t cancelled

cdef struct Account:
    int64_t cash
    int64_t inventory
    int64_t fees
    int64_t spread_capture2
    int64_t fills
    int64_t volume


cdef class Random:
    """``lobsim.sim.streams.BatchedRandom`` in C: the same draws from the same generator."""
    cdef object generator
    cdef double[::1] buffer
    cdef Py_ssize_t next
    cdef double random(self) except? -1.0
    cdef double exponential(self, double scale) except? -1.0
    cdef int64_t integers(self, int64_t low, int64_t high) except? -1
    cdef int64_t geometric(self, double p) except? -1


cdef class FlowAgent:
    """Base of compiled agents: every callback does nothing."""
    cdef Engine engine
    cdef int session  # the agent's session (and ledger row) number
    cdef Random rng
    cdef int start(self) except -1
    cdef int timer(self, int64_t tag) except -1
    cdef int report(self, const Item* item) except -1
    cdef int quote(self, const Item* item) except -1


cdef class Engine:
    cdef readonly int64_t now  # simulated time, ns
    cdef vector[Event] heap
    cdef int64_t seq
    cdef int64_t duration_ns, snapshot_ns
    cdef int depth_levels
    cdef int n
    cdef list names, agents, owners, py_inbound, py_outbound
    cdef vector[Leg] inbound, outbound
    cdef vector[int64_t] burst_ns, burst
    cdef vector[int] l1_subscribers
    cdef object book, traded, cancelled, rejected, modified, gtc, sides
    cdef int64_t last_id
    cdef int64_t max_burst  # Exchange.MAX_BURST
    cdef int64_t max_per_ms  # MarketConfig.max_messages_per_ms
    cdef vector[int64_t] window, window_messages  # Exchange._guard's, per session
    cdef readonly int64_t messages
    cdef unordered_map[int64_t, OrderRecord] orders  # live orders only (Exchange.orders)
    # every accepted id's session (-1: none), in blocks of OWNER_BLOCK (Exchange.owners)
    cdef vector[vector[int32_t]] owner_blocks
    cdef readonly int64_t accepted
    # the audit's running totals (Exchange.orders_retired, Exchange.unconserved)
    cdef int64_t retired
    cdef list unconserved
    cdef object l1
    cdef int64_t l1_since_ns
    cdef readonly object spread_ns_sum  # Python int: ticks x ns may outgrow 64 bits
    cdef readonly int64_t two_sided_ns, mid2, trades, volume
    cdef vector[Account] accounts
    cdef int64_t maker_fee, taker_fee
    cdef readonly int64_t fee_income
    # the event log's rows not yet handed to the sink, one vector per column (see
    # lobsim.sim.recorder.EventColumns), and how many rows were handed over before them
    cdef object sink
    cdef int64_t batch_rows, flushed
    cdef vector[int64_t] c_time, c_order, c_price, c_qty
    cdef vector[int8_t] c_kind, c_side
    cdef vector[int32_t] c_agent
    cdef vector[int16_t] c_flag
    cdef dict flag_codes
    cdef list flags
    # one request's outbox: per session a delivery number, or -1
    cdef vector[int] box_of, box_order
    cdef vector[int64_t] box_arrival
    cdef vector[vector[Item]] deliveries
    cdef vector[int] free_deliveries
    cdef object samples  # lobsim.sim.recorder.Samples

    # what agents call
    cdef int64_t limit(self, int session, int side, int64_t price, int64_t qty,
                       bint post_only) except -1
    cdef int64_t market(self, int session, int side, int64_t qty) except -1
    cdef int cancel(self, int session, int64_t order_id) except -1
    cdef int modify(self, int session, int64_t order_id, int64_t qty, int64_t price) except -1
    cdef int timer(self, int session, int64_t delay_ns, int64_t tag) except -1
    # the engine's own steps (_cmarket.pyx)
    cdef int _push(self, Event ev) except -1
    cdef Event _pop(self) noexcept
    cdef int64_t _send(self, int session, int op, int side, int64_t price, int64_t qty,
                       int64_t order_id, bint post_only) except -1
    cdef int64_t _arrival(self, Leg* leg, object py_leg) except? -1
    cdef int _receive(self, Event* ev) except -1
    cdef int _new_order(self, Event* ev) except -1
    cdef int _cancel(self, Event* ev) except -1
    cdef int _modify(self, Event* ev) except -1
    cdef int _owner(self, Event* ev) except -2
    cdef int _set_owner(self, int64_t order_id, int s) except -1
    cdef OrderRecord* _live(self, int64_t order_id) except NULL
    cdef int _retire(self, list reports) except -1
    cdef int _modified(self, tuple report) except -1
    cdef int _refuse(self, int s, int op, int64_t order_id, str reason) except -1
    cdef int _apply(self, list reports, Event* ev) except -1
    cdef int _trade(self, tuple trade) except -1
    cdef int _fill(self, int s, int sign, int64_t price, int64_t qty, int64_t fee) except -1
    cdef int _cancelled(self, tuple report) except -1
    cdef int _quote_if_changed(self) except -1
    cdef vector[Item]* _items(self, int s) except NULL
    cdef int _flush(self) except -1
    cdef int _deliver(self, int s, int d) except -1
    cdef int _record(self, int kind, int s, int64_t order_id, int side, int64_t price,
                     int64_t qty, int flag) except -1
    cdef int _flush_events(self, bint release=*) except -1
    cdef int _flag(self, str text) except -1
    cdef int _snapshot(self) except -1
    cdef int _snapshot_now(self) except -1
