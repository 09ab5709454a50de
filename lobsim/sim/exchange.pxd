# Types lobsim/sim/exchange.py when Cython compiles it (pure-Python mode); see that module.

cimport cython
from libc.stdint cimport int64_t

from lobsim.sim.gateway cimport Session
from lobsim.sim.ledger cimport Ledger
from lobsim.sim.owners cimport Owners
from lobsim.sim.recorder cimport Recorder
from lobsim.sim.requests cimport Request
from lobsim.sim.scheduler cimport Scheduler

@cython.final
@cython.freelist(64)
cdef class OrderRecord:
    cdef public Session session
    cdef public object symbol
    cdef public int64_t submitted, filled, cancelled
    cpdef int64_t unaccounted(self)

@cython.locals(record=OrderRecord)
cpdef OrderRecord new_record(Session session, object symbol, int64_t submitted)

cdef class Venue:
    cdef public object symbol, book, l1, mid2, l1_since_ns, spread_ns_sum, two_sided_ns
    cdef public object trades, volume

cdef class Traffic:
    cdef public object arrivals
    cdef public int64_t burst_ns, window, burst, window_messages

@cython.final
cdef class Box:
    cdef public Session session
    cdef public int64_t arrival
    cdef public list items

cdef class Exchange:
    cdef public Scheduler scheduler
    cdef public object market
    cdef public Ledger ledger
    cdef public Recorder recorder
    cdef public object initial_price
    cdef public dict venues, subscribers, orders
    cdef public Owners owners
    cdef public Py_ssize_t orders_retired
    cdef public list unconserved
    cdef public Py_ssize_t messages
    cdef public int64_t max_burst, _max_per_ms, _window_ns
    cdef public object _last_id
    cdef public dict _traffic
    cdef public list _boxes, _filled
    cpdef object new_order_id(self)
    @cython.locals(session=Session)
    cpdef receive(self, Request request)
    @cython.locals(window=int64_t)
    cpdef _guard(self, str name, Traffic traffic, int64_t now)
    @cython.locals(box=Box)
    cpdef _new_order(self, Session session, Request request)
    cpdef _cancel(self, Session session, Request request)
    cpdef _modify(self, Session session, Request request)
    cpdef bint _owns(self, Session session, Request request) except -1
    @cython.locals(box=Box)
    cpdef _refuse(self, Session session, Request request, object reason)
    @cython.locals(order=OrderRecord)
    cpdef object _symbol_of(self, object order_id)
    cpdef _apply(self, Venue venue, list reports, Request request=*, object session=*)
    @cython.locals(orders=dict, order=OrderRecord)
    cpdef _retire(self, Venue venue, list reports)
    @cython.locals(maker=OrderRecord, taker=OrderRecord, box=Box, maker_session=Session, taker_session=Session,
                   ledger=Ledger)
    cpdef _trade(self, Venue venue, object trade)
    @cython.locals(order=OrderRecord, box=Box, session=Session)
    cpdef _cancelled(self, object report)
    @cython.locals(order=OrderRecord, box=Box, session=Session)
    cpdef _modified(self, object report)
    @cython.locals(box=Box)
    cpdef _quote_if_changed(self, Venue venue)
    @cython.locals(boxes=list, index=Py_ssize_t, box=Box)
    cpdef Box _box(self, Session session)
    @cython.locals(box=Box)
    cpdef _send(self)
