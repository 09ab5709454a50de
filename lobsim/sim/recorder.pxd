# Types lobsim/sim/recorder.py when Cython compiles it (pure-Python mode); see that module.

from lobsim.sim.requests cimport Request

cpdef object _plain_int(object value)

cdef class Recorder:
    cdef public object sink
    cdef public Py_ssize_t batch_rows
    cdef public list rows
    cdef public Py_ssize_t flushed
    cpdef flush(self)
    cpdef row(self, object time_ns, str kind, str agent, object order_id, object side,
              object price, object qty, object flag)
    cpdef request(self, object time_ns, str agent, Request request)
