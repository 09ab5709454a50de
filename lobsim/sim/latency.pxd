# Types lobsim/sim/latency.py when Cython compiles it (pure-Python mode); see that module.

cdef class Leg:
    cdef public object floor_ns
    cdef public object _jitter
    cdef public Py_ssize_t _next
    cdef public list _draws
    cdef public object _last_ns
    cpdef list next_batch(self)
    cpdef object arrival(self, object now_ns)
