# Types lobsim/sim/gateway.py when Cython compiles it (pure-Python mode); see that module.

from lobsim.sim.latency cimport Leg
from lobsim.sim.requests cimport Request, new_request
from lobsim.sim.scheduler cimport Scheduler
from lobsim.sim.streams cimport BatchedRandom

cpdef object _plain(object value)

cdef class Session:
    cdef dict __dict__
    cdef public str name
    cdef public Py_ssize_t index
    cdef public object exchange
    cdef public Scheduler scheduler
    cdef public Leg inbound, outbound
    cdef public BatchedRandom rng  # typed: the flows' clocks draw through it in C
    cdef public object seed_root
    cdef public bint self_trade_prevention
    cdef public object rate_limit
    cdef public object on_report, on_market_data, on_timer
    cdef public object symbol, tick_size, initial_price
    cdef public object _to_exchange, _to_agent
    cdef public object _timers_ns
    cdef public Py_ssize_t _timers
    cpdef timer(self, object delay_ns, object tag=*)
    cpdef object limit(self, object side, object price, object qty, object tif=*,
                       object post_only=*, object symbol=*)
    cpdef object market(self, object side, object qty, object symbol=*)
    cpdef cancel(self, object order_id)
    cpdef modify(self, object order_id, object qty=*, object price=*)
    cpdef _send(self, Request request)
    cpdef deliver(self, object arrival_ns, list items)
    cpdef _receive(self, list items)
