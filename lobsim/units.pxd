# Types lobsim/units.py when Cython compiles it (pure-Python mode): compiled modules that
# cimport these call them in C.

cpdef object seconds_to_ns(object seconds)

from libc.stdint cimport int64_t
cimport cython

@cython.locals(horizon=int64_t)
cpdef int64_t later(int64_t time_ns, int64_t delay_ns) except? -1
