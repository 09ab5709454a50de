# Types lobsim/sim/recorder.py when Cython compiles it (pure-Python mode); see that module.

cimport cython
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t

from lobsim.sim.requests cimport Request

cpdef object _plain_int(object value)
cpdef Py_ssize_t _code(dict codes, list labels, str label) except -1

cdef class Recorder:
    cdef public object sink
    cdef public Py_ssize_t batch_rows, flushed, held
    cdef public list agents, _full, _flags
    cdef public dict _flag_codes
    # the current chunk: eight typed views, so that a row is eight C stores
    cdef int64_t[::1] _time, _order, _price, _qty
    cdef int8_t[::1] _kind, _side
    cdef int32_t[::1] _agent
    cdef int16_t[::1] _flag
    cdef Py_ssize_t _n
    cpdef flush(self)
    cpdef row(self, int64_t time_ns, int kind, int agent, object order_id, object side,
              object price, object qty, object flag)
    cpdef request(self, int64_t time_ns, int agent, Request request)
    @cython.locals(n=Py_ssize_t)
    cdef _store(self, int64_t time_ns, int kind, int agent, int64_t order_id, int side,
                int64_t price, int64_t qty, object flag)
