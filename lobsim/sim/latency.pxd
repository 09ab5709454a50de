# Types lobsim/sim/latency.py when Cython compiles it (pure-Python mode); see that module.

cimport cython
from libc.stdint cimport int64_t

from lobsim.units cimport later

cdef class Leg:
    cdef public int64_t floor_ns
    cdef public object _jitter
    cdef public Py_ssize_t _next
    cdef public list _draws
    cdef public int64_t _last_ns
    cpdef list next_batch(self)
    @cython.locals(arrival=int64_t)
    cpdef int64_t arrival(self, int64_t now_ns) except? -1
