# Types lobsim/sim/owners.py when Cython compiles it (pure-Python mode); see that module.

cimport cython
from libc.stdint cimport int64_t

cdef class Owners:
    cdef public list _blocks
    @cython.locals(block=Py_ssize_t, blocks=list)
    cpdef set(self, int64_t order_id, int index)
    cpdef object get(self, object order_id)
