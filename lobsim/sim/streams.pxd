# Types lobsim/sim/streams.py when Cython compiles it (pure-Python mode); see that module.

cimport cython

cdef class BatchedRandom:
    cdef public object generator
    cdef public list _buffer
    cdef public Py_ssize_t _next
    @cython.locals(i=Py_ssize_t)
    cpdef double random(self) except? -1.0
    cpdef double exponential(self, double scale=*) except? -1.0
    cpdef object integers(self, object low, object high=*)
    cpdef object geometric(self, double p)
