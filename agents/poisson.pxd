# Types agents/poisson.py when Cython compiles it (pure-Python mode); see that module.

from lobsim.sim.agent cimport Agent
from lobsim.sim.gateway cimport Session
from lobsim.units cimport seconds_to_ns
cimport cython
from agents.tracking cimport LiveOrder, LiveOrders, TopOfBook

@cython.locals(total=double, rate=double)
cpdef double total_of(object rates) except? -1.0

cdef class EventClock:
    cdef public Session session
    cdef public Py_ssize_t _generation
    cpdef schedule(self, double total_rate)
    cpdef bint is_due(self, object tag) except -1
    cpdef Py_ssize_t pick(self, object rates, double total) except -1

cdef class PoissonFlow(Agent):
    cdef public LiveOrders orders
    cdef public TopOfBook top
    cdef public EventClock clock
    cpdef tuple rates(self)
    cpdef act(self, Py_ssize_t stream)
    cpdef _schedule(self)
    @cython.locals(order=LiveOrder, session=Session)
    cpdef _cancel_one(self)

cdef class PoissonTrader(PoissonFlow):
    @cython.locals(session=Session)
    cpdef _new_order(self)
    cpdef object _offset(self)
    cpdef object _limit_price(self, object side, object offset)
