# Types lobsim/sim/owners.py when Cython compiles it (pure-Python mode); see that module.

cdef class Owners:
    cdef public list _blocks
    cpdef set(self, object order_id, object index)
    cpdef object get(self, object order_id)
