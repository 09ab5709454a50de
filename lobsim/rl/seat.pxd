# Types lobsim/rl/seat.py when Cython compiles it (pure-Python mode); see that module.

cimport cython

@cython.locals(i=Py_ssize_t, value=double, clip=double, out=cython.float[:])
cpdef object clipped(list values)
